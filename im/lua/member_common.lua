-- Shared start of the group membership steps (member_*.lua): the loader puts
-- this file between the K_* locals and the step's own text, so the helper
-- exists once.
--
-- KEYS: none (built from the K_* prefixes of im/keys.py, one Redis instance).
-- ARGV: the step's own.
-- Returns nothing itself; defines for the step:
--   join(conv, user)   add a member at the current end: the read position
--                      starts at max_seq, so unread (others' messages after
--                      read_seq) starts at 0 and stays true. 1 added, 0 was
--                      a member already.
local function join(conv, user)
  if redis.call('SADD', K_MEMBERS .. conv, user) == 0 then return 0 end
  redis.call('SADD', K_USER_CONVS .. user, conv)
  redis.call('HSET', K_READ_POS .. user, conv, redis.call('HGET', K_CONV .. conv, 'max_seq') or 0)
  redis.call('HDEL', K_UNREAD .. user, conv)
  return 1
end
