-- 5-minute reply rate of customer-service conversations (EVENTS.md: Wait,
-- 5-minute reply rate), per agent assigned at the start of the wait and for
-- '*' (all agents), per tumbling window of the waits' start times.
--
-- Relevant messages: chat messages of cs conversations from the customer
-- (sender_role 'user') or from a human agent (sender_role 'agent').
--
-- Step 1, rr_steps: the relevant messages of one conversation collapsed per
-- millisecond (a 1 ms tumbling window per conversation). This does two jobs.
-- (a) Duplicate events (same id, same ts) fall into the same step, and every
-- aggregate of a step ignores repeats, so duplicates change nothing.
-- (b) LAG below then sees one row per conversation and ms. Flink runs LAG
-- over a RANGE frame: rows with the same time are peers and all get the same
-- LAG value, which would hide a wait started by a customer message that
-- shares its ms with another relevant message.
-- Within one ms the agent messages come first: an agent message ends a wait
-- that started before that ms (never one starting in the same ms, replies
-- count strictly after the start), then a customer message starts a wait if
-- none is open. The wait's agent is the smallest non-null `agent` field of
-- the step's customer messages (one message in practice).
CREATE TEMPORARY VIEW rr_steps AS
SELECT
  conv,
  MIN(ts) AS ms,
  window_time AS step_time,
  MAX(sender_role = 'user') AS has_customer,
  MAX(sender_role = 'agent') AS has_agent,
  MIN(CASE WHEN sender_role = 'user' THEN agent END) AS assigned
FROM TABLE(
  TUMBLE(TABLE chat_events, DESCRIPTOR(event_time), INTERVAL '0.001' SECOND))
WHERE `type` = 'chat.message'
  AND conv_kind = 'cs'
  AND kind = 'chat'
  AND sender_role IN ('user', 'agent')
GROUP BY window_start, window_end, window_time, conv;

-- Step 2: after any step the customer is waiting exactly when the step has a
-- customer message. So a step starts a wait when it has a customer message
-- and the previous step had none (or there is none) or this step has an
-- agent message (which ended the wait open before it).
CREATE TEMPORARY VIEW rr_flagged AS
SELECT
  conv,
  ms,
  step_time,
  has_customer,
  has_agent,
  assigned,
  LAG(has_customer) OVER (PARTITION BY conv ORDER BY step_time) AS customer_before
FROM rr_steps;

CREATE TEMPORARY VIEW rr_waits AS
SELECT
  conv,
  ms AS start_ms,
  step_time AS start_time,
  COALESCE(assigned, 'unassigned') AS agent
FROM rr_flagged
WHERE has_customer AND (customer_before IS NULL OR NOT customer_before OR has_agent);

CREATE TEMPORARY VIEW rr_agent_steps AS
SELECT conv, ms AS reply_ms, step_time AS reply_time
FROM rr_flagged
WHERE has_agent;

-- Step 3: every agent message of the conversation within (start, start +
-- reply_within_s] answers the wait, the first one ends it. A wait without one
-- comes out once with reply_ms NULL when event time passes start + within.
-- Written as N * INTERVAL '1' SECOND: INTERVAL 'N' SECOND is SECOND(2), at
-- most 99, and a wider SECOND(p) fails in the join's code generation.
CREATE TEMPORARY VIEW rr_answers AS
SELECT w.conv, w.start_ms, w.start_time, w.agent, r.reply_ms
FROM rr_waits AS w
LEFT JOIN rr_agent_steps AS r
  ON r.conv = w.conv
  AND r.reply_time > w.start_time
  AND r.reply_time <= w.start_time + ${reply_within_s} * INTERVAL '1' SECOND;

-- Step 4: one row per wait (the first answer), in the window of its start.
CREATE TEMPORARY VIEW rr_per_wait AS
SELECT
  window_time AS wait_window_time,
  agent,
  conv,
  start_ms,
  MIN(reply_ms - start_ms) AS reply_ms
FROM TABLE(
  TUMBLE(TABLE rr_answers, DESCRIPTOR(start_time), INTERVAL '${reply_window_s}' SECOND(6)))
GROUP BY window_start, window_end, window_time, agent, conv, start_ms;

-- Step 5: per agent and for '*', cascading on the first level's window time
-- (same window length, so the same windows).
SELECT
  EXTRACT(EPOCH FROM window_start) * 1000 AS window_start,
  EXTRACT(EPOCH FROM window_end) * 1000 AS window_end,
  COALESCE(agent, '*') AS agent,
  COUNT(*) AS waits,
  COUNT(reply_ms) AS replied_5m,
  CAST(COUNT(reply_ms) AS DOUBLE) / COUNT(*) AS reply_rate,
  AVG(CAST(reply_ms AS DOUBLE) / 1000) AS avg_reply_s,
  PERCENTILE(CAST(reply_ms AS DOUBLE) / 1000, 0.9) AS p90_reply_s
FROM TABLE(
  TUMBLE(TABLE rr_per_wait, DESCRIPTOR(wait_window_time),
    INTERVAL '${reply_window_s}' SECOND(6)))
GROUP BY window_start, window_end, GROUPING SETS ((agent), ())
