CREATE TABLE chat_events (
  `type` STRING,
  `id` STRING,
  ts BIGINT,
  node STRING,
  conv STRING,
  conv_kind STRING,
  seq BIGINT,
  sender STRING,
  sender_role STRING,
  kind STRING,
  cmid STRING,
  text_len INT,
  content_hash STRING,
  flags ARRAY<STRING>,
  `session` STRING,
  agent STRING
,
  event_time AS TO_TIMESTAMP_LTZ(ts, 3),
  WATERMARK FOR event_time AS event_time - INTERVAL '5' SECOND
) WITH (
  'connector' = 'kafka',
  'topic' = 'im.chat',
  'properties.bootstrap.servers' = '127.0.0.1:19092',
  'properties.group.id' = 'im-stream',
  'properties.isolation.level' = 'read_committed',
  'properties.auto.offset.reset' = 'earliest',
  'scan.startup.mode' = 'group-offsets',
  'format' = 'json',
  'json.ignore-parse-errors' = 'true',
  'json.fail-on-missing-field' = 'false'
);

CREATE TABLE message_counts (
  window_start BIGINT, window_end BIGINT, conv STRING, messages BIGINT
) WITH (
  'connector' = 'kafka',
  'topic' = 'im.metrics.message_count',
  'properties.bootstrap.servers' = '127.0.0.1:19092',
  'key.format' = 'raw',
  'key.fields' = 'conv',
  'value.fields-include' = 'ALL',
  'value.format' = 'json',
  'value.json.encode.ignore-null-fields' = 'true',
  'sink.delivery-guarantee' = 'exactly-once',
  'sink.transactional-id-prefix' = 'im-stream-message_counts',
  'properties.transaction.timeout.ms' = '900000'
);

CREATE TABLE reply_rates (
  window_start BIGINT, window_end BIGINT, agent STRING, waits BIGINT,
  replied_5m BIGINT, reply_rate DOUBLE, avg_reply_s DOUBLE, p90_reply_s DOUBLE
) WITH (
  'connector' = 'kafka',
  'topic' = 'im.metrics.reply_rate',
  'properties.bootstrap.servers' = '127.0.0.1:19092',
  'key.format' = 'raw',
  'key.fields' = 'agent',
  'value.fields-include' = 'ALL',
  'value.format' = 'json',
  'value.json.encode.ignore-null-fields' = 'true',
  'sink.delivery-guarantee' = 'exactly-once',
  'sink.transactional-id-prefix' = 'im-stream-reply_rates',
  'properties.transaction.timeout.ms' = '900000'
);

CREATE TABLE conversation_sessions (
  conv STRING, `session` STRING, `start` BIGINT, `end` BIGINT, messages BIGINT,
  customer_messages BIGINT, agent_messages BIGINT, ended_by STRING
) WITH (
  'connector' = 'kafka',
  'topic' = 'im.metrics.sessions',
  'properties.bootstrap.servers' = '127.0.0.1:19092',
  'key.format' = 'raw',
  'key.fields' = 'conv',
  'value.fields-include' = 'ALL',
  'value.format' = 'json',
  'value.json.encode.ignore-null-fields' = 'true',
  'sink.delivery-guarantee' = 'exactly-once',
  'sink.transactional-id-prefix' = 'im-stream-conversation_sessions',
  'properties.transaction.timeout.ms' = '900000'
);

CREATE TABLE moderation (
  `user` STRING, rule STRING, first_ts BIGINT, last_ts BIGINT, `count` BIGINT,
  conv STRING
) WITH (
  'connector' = 'kafka',
  'topic' = 'im.moderation',
  'properties.bootstrap.servers' = '127.0.0.1:19092',
  'key.format' = 'raw',
  'key.fields' = 'user',
  'value.fields-include' = 'ALL',
  'value.format' = 'json',
  'value.json.encode.ignore-null-fields' = 'true',
  'sink.delivery-guarantee' = 'exactly-once',
  'sink.transactional-id-prefix' = 'im-stream-moderation',
  'properties.transaction.timeout.ms' = '900000'
);

CREATE TABLE control (
  `type` STRING, `session` STRING, ts BIGINT, `user` STRING, until BIGINT,
  rule STRING
) WITH (
  'connector' = 'kafka',
  'topic' = 'im.control',
  'properties.bootstrap.servers' = '127.0.0.1:19092',
  'value.format' = 'json',
  'value.json.encode.ignore-null-fields' = 'true',
  'sink.delivery-guarantee' = 'exactly-once',
  'sink.transactional-id-prefix' = 'im-stream-control',
  'properties.transaction.timeout.ms' = '900000'
);
