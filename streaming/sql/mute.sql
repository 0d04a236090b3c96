-- One user.mute command per moderation detection (view moderation_hits of
-- moderation.sql): the sender is muted for ${mute_s} s from the detection's
-- last message. The cs columns of the shared `control` table are NULL.
SELECT
  CAST('user.mute' AS STRING) AS `type`,
  CAST(NULL AS STRING) AS `session`,
  last_ts AS ts,
  `user`,
  last_ts + CAST(${mute_s} AS BIGINT) * 1000 AS until,
  rule
FROM moderation_hits
