-- The conversation a team's alerts are posted in, created once (alerts/convs.py):
-- a group owned by the system account, found through al:convs. Evaluators
-- and server nodes call this at once, across restarts: the first creates the
-- conversation, its group record and the /silence cursor in one step; every
-- caller gets the same conversation.
--
-- KEYS: none (built from the K_* names of im/keys.py, one Redis instance).
-- ARGV: 1 team, 2 a fresh conv id (used only if the team has none), 3 the
--       group id that goes with it, 4 the title
-- Returns the team's conv
local conv = redis.call('HGET', K_ALERT_CONVS, ARGV[1])
if conv then return conv end
conv = ARGV[2]
redis.call('HSET', K_CONV .. conv, 'kind', 'group', 'title', ARGV[4], 'owner', 'system',
           'max_seq', 0)
redis.call('HSET', K_GROUP .. ARGV[3], 'conv', conv, 'owner', 'system', 'name', ARGV[4])
redis.call('HSET', K_ALERT_CURSOR, conv, 0)
redis.call('HSET', K_ALERT_CONVS, ARGV[1], conv)
return conv
