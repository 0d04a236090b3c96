-- One cs.close_inactive command per ended activity session (view cs_sessions
-- of sessions.sql). ts = the window end (last message + gap), the command's
-- event time: the server closes the cs session only if the conversation had
-- no message after it. The mute columns of the shared `control` table are NULL.
-- A session window whose rows carry no cs session id gives no command.
SELECT
  CAST('cs.close_inactive' AS STRING) AS `type`,
  `session`,
  closed_at AS ts,
  CAST(NULL AS STRING) AS `user`,
  CAST(NULL AS BIGINT) AS until,
  CAST(NULL AS STRING) AS rule
FROM cs_sessions
WHERE `session` IS NOT NULL
