-- message_counts <- im.metrics.message_count: window_start, window_end, conv, messages
CREATE TABLE IF NOT EXISTS message_counts (
  window_start DateTime64(3, 'UTC'),
  window_end DateTime64(3, 'UTC'),
  conv String,
  messages UInt64,
  inserted_at DateTime64(3, 'UTC') DEFAULT now64(3)
) ENGINE = ReplacingMergeTree(inserted_at)
ORDER BY (conv, window_start);

-- reply_rates <- im.metrics.reply_rate: window_start, window_end, agent, waits, replied_5m, reply_rate, avg_reply_s, p90_reply_s
CREATE TABLE IF NOT EXISTS reply_rates (
  window_start DateTime64(3, 'UTC'),
  window_end DateTime64(3, 'UTC'),
  agent String,
  waits UInt64,
  replied_5m UInt64,
  reply_rate Float64,
  avg_reply_s Nullable(Float64),
  p90_reply_s Nullable(Float64),
  inserted_at DateTime64(3, 'UTC') DEFAULT now64(3)
) ENGINE = ReplacingMergeTree(inserted_at)
ORDER BY (agent, window_start);

-- conversation_sessions <- im.metrics.sessions: conv, session, start, end, messages, customer_messages, agent_messages, ended_by
CREATE TABLE IF NOT EXISTS conversation_sessions (
  conv String,
  session String,
  start DateTime64(3, 'UTC'),
  end DateTime64(3, 'UTC'),
  messages UInt64,
  customer_messages UInt64,
  agent_messages UInt64,
  ended_by String,
  inserted_at DateTime64(3, 'UTC') DEFAULT now64(3)
) ENGINE = ReplacingMergeTree(inserted_at)
ORDER BY (conv, start);

-- moderation <- im.moderation: user, rule, first_ts, last_ts, count, conv
CREATE TABLE IF NOT EXISTS moderation (
  user String,
  rule LowCardinality(String),
  first_ts DateTime64(3, 'UTC'),
  last_ts DateTime64(3, 'UTC'),
  count UInt64,
  conv String,
  inserted_at DateTime64(3, 'UTC') DEFAULT now64(3)
) ENGINE = ReplacingMergeTree(inserted_at)
ORDER BY (user, rule, first_ts);

