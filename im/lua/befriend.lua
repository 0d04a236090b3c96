-- Ask for or accept a friendship, in one atomic step: whoever asks second
-- (or accepts) creates the direct conversation, exactly once, with both as
-- members, and both friend lists point at it. A request to someone who
-- blocked the asker is dropped, answered like a recorded one ({0}), so the
-- block is not revealed.
--
-- KEYS: none (built from the K_* prefixes of im/keys.py, one Redis instance).
-- ARGV: 1 me, 2 other, 3 conv id (of the pair), 4 mode ('ask' | 'accept')
-- Returns one of
--   {0}                    request recorded (other has not asked me), or dropped
--   {1, conv}              friends now, direct conversation conv
--   {-1}                   already friends
--   {-2}                   accept without a pending request
local me, other, conv, mode = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if redis.call('HEXISTS', K_FRIENDS .. me, other) == 1 then return {-1} end
if redis.call('SISMEMBER', K_BLOCKS .. other, me) == 1 then
  return mode == 'accept' and {-2} or {0}
end
local asked = redis.call('SISMEMBER', K_FRIEND_REQUESTS .. me, other) == 1
if not asked then
  if mode == 'accept' then return {-2} end
  redis.call('SADD', K_FRIEND_REQUESTS .. other, me)
  return {0}
end
redis.call('SREM', K_FRIEND_REQUESTS .. me, other)
redis.call('SREM', K_FRIEND_REQUESTS .. other, me)
redis.call('HSET', K_CONV .. conv, 'kind', 'direct', 'title', '', 'owner', '', 'max_seq', 0)
redis.call('SADD', K_MEMBERS .. conv, me, other)
redis.call('SADD', K_USER_CONVS .. me, conv)
redis.call('SADD', K_USER_CONVS .. other, conv)
redis.call('HSET', K_FRIENDS .. me, other, conv)
redis.call('HSET', K_FRIENDS .. other, me, conv)
return {1, conv}
