-- A user blocks another, in one atomic step: pending friend requests
-- between the two (either way) and group invitations from the other are
-- dropped with it (from now on member_add.lua and befriend.lua drop new ones, and
-- send.lua refuses their direct messages).
--
-- KEYS: none (built from the K_* prefixes of im/keys.py, one Redis instance).
-- ARGV: 1 user, 2 the user to block, 3 most blocks per user
-- Returns one of
--   1                      blocked now
--   0                      blocked already
--   -1                     the user's block list is full
local me, other = ARGV[1], ARGV[2]
local key = K_BLOCKS .. me
if redis.call('SISMEMBER', key, other) == 1 then return 0 end
if redis.call('SCARD', key) >= tonumber(ARGV[3]) then return -1 end
redis.call('SADD', key, other)
redis.call('SREM', K_FRIEND_REQUESTS .. me, other)
redis.call('SREM', K_FRIEND_REQUESTS .. other, me)
local inv = redis.call('HGETALL', K_INVITATIONS .. me)
for i = 1, #inv, 2 do
  if string.match(inv[i + 1], '^%S+ (%S+)') == other then
    redis.call('HDEL', K_INVITATIONS .. me, inv[i])
  end
end
return 1
