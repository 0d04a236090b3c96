-- Add a member to a group at the current end: their read position starts at
-- max_seq, so unread (= others' messages after read_seq) starts at 0 and
-- stays true.
--
-- KEYS: none (built from the K_* prefixes of im/keys.py, one Redis instance).
-- ARGV: 1 conv, 2 user
-- Returns one of
--   1                      added
--   0                      was a member already
local conv, user = ARGV[1], ARGV[2]
if redis.call('SADD', K_MEMBERS .. conv, user) == 0 then return 0 end
redis.call('SADD', K_USER_CONVS .. user, conv)
redis.call('HSET', K_READ_POS .. user, conv, redis.call('HGET', K_CONV .. conv, 'max_seq') or 0)
redis.call('HDEL', K_UNREAD .. user, conv)
return 1
