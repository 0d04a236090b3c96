CREATE TEMPORARY VIEW rr_steps AS
-- 5-minute reply rate (EVENTS.md: Wait, 5-minute reply rate): per tumbling
-- window of wait start times, per agent assigned at the start ('unassigned'
-- if none) and for '*' (all agents). Comments sit inside the statements: a
-- view statement begins with CREATE TEMPORARY VIEW <name>.
--
-- Relevant messages: chat messages of cs conversations from the customer
-- (sender_role 'user') or a human agent (sender_role 'agent'). Bots, the
-- system and event/system kinds neither start nor end a wait.
--
-- Step 1: the relevant messages of a conversation collapsed per millisecond
-- (a 1 ms tumbling window per conversation), for two reasons.
-- (a) A duplicate event (same id, same ts) lands in the same step and every
-- aggregate here ignores repeats, so duplicates change nothing.
-- (b) The LAG below must see one row per conversation and ms. Flink computes
-- LAG over a RANGE frame, so rows with the same time are peers and all get
-- the LAG of the last peer, which would hide the wait started by a customer
-- message sharing its ms with another relevant message of the conversation.
-- Within one ms, agent messages count first: they end a wait started before
-- that ms (a reply counts strictly after the start), then a customer message
-- starts a wait if none is open. The wait's agent is the smallest non-null
-- `agent` of the step's customer messages (there is one in practice).
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

CREATE TEMPORARY VIEW rr_flagged AS
-- Step 2: after a step the customer is waiting exactly when the step has a
-- customer message. So a step starts a wait when it has a customer message
-- and either the step before had none (or there is none) or the step has an
-- agent message, which ended the wait open before it.
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

CREATE TEMPORARY VIEW rr_answers AS
-- Step 3: the agent messages of the conversation in (start, start +
-- reply_within_s] answer the wait, the first of them ends it. A wait with
-- none comes out once, reply_ms NULL, when event time passes start + within.
-- The bound is N * INTERVAL '1' SECOND: a literal INTERVAL 'N' SECOND is
-- SECOND(2) (at most 99) and a wider SECOND(p) fails in the join.
SELECT w.conv, w.start_ms, w.start_time, w.agent, r.reply_ms
FROM rr_waits AS w
LEFT JOIN rr_agent_steps AS r
  ON r.conv = w.conv
  AND r.reply_time > w.start_time
  AND r.reply_time <= w.start_time + ${reply_within_s} * INTERVAL '1' SECOND;

CREATE TEMPORARY VIEW rr_per_wait AS
-- Step 4: one row per wait, its first answer, in the window of its start.
-- The interval join holds its output watermark back by the join bound, so
-- its rows are never late here.
SELECT
  window_time AS wait_window_time,
  agent,
  conv,
  start_ms,
  MIN(reply_ms - start_ms) AS reply_ms
FROM TABLE(
  TUMBLE(TABLE rr_answers, DESCRIPTOR(start_time), INTERVAL '${reply_window_s}' SECOND(6)))
GROUP BY window_start, window_end, window_time, agent, conv, start_ms;

-- Step 5: per agent and for '*', a window of the same length over the first
-- level's window time, so the same windows. Answered = reply_ms not NULL.
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
