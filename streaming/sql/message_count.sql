-- Messages per conversation per tumbling window of event time.
-- Pure SQL over table `chat_events`; COUNT(DISTINCT id) drops the duplicate
-- events an at-least-once relay may deliver (they keep their id and ts).
SELECT
  EXTRACT(EPOCH FROM window_start) * 1000 AS window_start,
  EXTRACT(EPOCH FROM window_end) * 1000 AS window_end,
  conv,
  COUNT(DISTINCT id) AS messages
FROM TABLE(
  TUMBLE(TABLE chat_events, DESCRIPTOR(event_time), INTERVAL '${count_window_s}' SECOND(9)))
WHERE `type` = 'chat.message'
GROUP BY window_start, window_end, conv
