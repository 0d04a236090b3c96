-- Moderation CEP (EVENTS.md): flood, repeat and abusive, one row per detection.
--
-- Decisions:
-- * Input: chat.message rows of kind 'chat' (people writing, not the
--   system or event messages), with a sender.
-- * Duplicates: an at-least-once relay may deliver an event twice (same id,
--   same ts). They are dropped first, keep-first by id on event time. Flink
--   plans this as Deduplicate(keep=FirstRow, order=ROWTIME,
--   outputInsertOnly=true): append-only and the event time stays a time
--   attribute, so MATCH_RECOGNIZE can read it. Its state is one entry per id.
-- * "N messages within T s" means last - first <= T (inclusive). WITHIN is
--   strict (last - first < interval), so the interval is T s + 1 ms, written
--   '<T>.001' SECOND(9, 3) (the thresholds are whole seconds). A plain
--   INTERVAL '300' SECOND fails: its default precision SECOND(2) holds < 100 s.
-- * The pattern is exactly N consecutive rows of the partition (in order of
--   event time, then id), so a detection fires on the N-th message and
--   `count` is N. AFTER MATCH SKIP PAST LAST ROW: the next detection of the
--   same rule needs N fresh messages (each detection mutes the sender anyway).
-- * conv is the conversation of the last message of the match.
-- * Only users (role 'user') are moderated: agents and bots repeat canned
--   replies by design, and muting staff would stop customer service.
CREATE TEMPORARY VIEW moderation_messages AS
SELECT id, ts, conv, sender, content_hash, flags, event_time
FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY id ORDER BY event_time ASC) AS rn
  FROM chat_events
  WHERE `type` = 'chat.message' AND kind = 'chat' AND sender IS NOT NULL
    AND sender_role = 'user' 
)
WHERE rn = 1;

-- Flood: >= ${flood_count} messages from one sender within ${flood_within_s} s,
-- any conversation. Repeat: the same content_hash from one sender
-- >= ${repeat_count} times within ${repeat_within_s} s. Abusive: >= ${abusive_count}
-- messages flagged 'abusive' from one sender within ${abusive_within_s} s.
CREATE TEMPORARY VIEW moderation_hits AS
SELECT sender AS `user`, CAST('flood' AS STRING) AS rule, first_ts, last_ts, `count`, conv
FROM moderation_messages
MATCH_RECOGNIZE (
  PARTITION BY sender
  ORDER BY event_time, id
  MEASURES
    FIRST(M.ts) AS first_ts,
    LAST(M.ts) AS last_ts,
    COUNT(M.id) AS `count`,
    LAST(M.conv) AS conv
  ONE ROW PER MATCH
  AFTER MATCH SKIP PAST LAST ROW
  PATTERN (M{${flood_count}}) WITHIN INTERVAL '${flood_within_s}.001' SECOND(9, 3)
  DEFINE M AS TRUE
)
UNION ALL
SELECT sender AS `user`, CAST('repeat' AS STRING) AS rule, first_ts, last_ts, `count`, conv
FROM (SELECT * FROM moderation_messages WHERE content_hash IS NOT NULL)
MATCH_RECOGNIZE (
  PARTITION BY sender, content_hash
  ORDER BY event_time, id
  MEASURES
    FIRST(M.ts) AS first_ts,
    LAST(M.ts) AS last_ts,
    COUNT(M.id) AS `count`,
    LAST(M.conv) AS conv
  ONE ROW PER MATCH
  AFTER MATCH SKIP PAST LAST ROW
  PATTERN (M{${repeat_count}}) WITHIN INTERVAL '${repeat_within_s}.001' SECOND(9, 3)
  DEFINE M AS TRUE
)
UNION ALL
SELECT sender AS `user`, CAST('abusive' AS STRING) AS rule, first_ts, last_ts, `count`, conv
FROM (SELECT * FROM moderation_messages WHERE ARRAY_CONTAINS(flags, 'abusive'))
MATCH_RECOGNIZE (
  PARTITION BY sender
  ORDER BY event_time, id
  MEASURES
    FIRST(M.ts) AS first_ts,
    LAST(M.ts) AS last_ts,
    COUNT(M.id) AS `count`,
    LAST(M.conv) AS conv
  ONE ROW PER MATCH
  AFTER MATCH SKIP PAST LAST ROW
  PATTERN (M{${abusive_count}}) WITHIN INTERVAL '${abusive_within_s}.001' SECOND(9, 3)
  DEFINE M AS TRUE
);

SELECT `user`, rule, first_ts, last_ts, `count`, conv
FROM moderation_hits
