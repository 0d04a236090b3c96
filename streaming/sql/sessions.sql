-- Conversation session end (EVENTS.md): one row per activity session of a cs
-- conversation, i.e. a session window per conversation that closes after
-- ${session_gap_s} s of event time without a message.
--
-- Window bounds (Flink's session windows, measured): a row's window is
-- [ts, ts + gap) and two windows merge when they touch, so a message exactly
-- gap ms after the previous one still belongs to the same session and one
-- gap + 1 ms after it starts a new session. A window is emitted when the
-- watermark passes its end (last message + gap).
--
-- Only chat.message rows of cs conversations enter the window: ticks and other
-- event types never open or extend a window, yet they move the watermark (it
-- is assigned at the source, before this filter), which is what closes a
-- quiet conversation's window on time.
CREATE TEMPORARY VIEW cs_messages AS
SELECT *
FROM chat_events
WHERE `type` = 'chat.message' AND conv_kind = 'cs';

-- "Last message" = the greatest (ts, seq). Flink SQL has no MAX_BY, so the
-- sort key is encoded as a fixed-width string (15 digits of ts, 20 of seq)
-- in front of the value, MAX taken, and the value cut out from character 36.
-- Duplicate events (same id, same fields) change no count (COUNT DISTINCT id)
-- and no MIN, MAX or last value.
-- `session` is the cs session id of the last message that carries one,
-- closed_at is the window end in ms (last message + gap).
CREATE TEMPORARY VIEW cs_sessions AS
SELECT
  conv,
  SUBSTRING(
    MAX(LPAD(CAST(ts AS STRING), 15, '0') || LPAD(CAST(COALESCE(seq, 0) AS STRING), 20, '0')
        || `session`)
    FROM 36) AS `session`,
  MIN(ts) AS `start`,
  MAX(ts) AS `end`,
  MAX(ts) + CAST(${session_gap_s} AS BIGINT) * 1000 AS closed_at,
  COUNT(DISTINCT id) AS messages,
  COUNT(DISTINCT id) FILTER (WHERE sender_role = 'user' AND kind = 'chat') AS customer_messages,
  COUNT(DISTINCT id) FILTER (WHERE sender_role = 'agent' AND kind = 'chat') AS agent_messages,
  SUBSTRING(
    MAX(LPAD(CAST(ts AS STRING), 15, '0') || LPAD(CAST(COALESCE(seq, 0) AS STRING), 20, '0')
        || sender_role)
    FROM 36) AS ended_by
FROM TABLE(
  SESSION(TABLE cs_messages PARTITION BY conv, DESCRIPTOR(event_time),
          INTERVAL '${session_gap_s}' SECOND(9)))
GROUP BY conv, window_start, window_end;

SELECT conv, `session`, `start`, `end`, messages, customer_messages, agent_messages, ended_by
FROM cs_sessions
