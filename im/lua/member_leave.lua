-- Remove a member of a group: membership, the user's conversation list and
-- their unread count of it (total lowered by the same amount), in one step,
-- so the counters never disagree; the send step then no longer counts or
-- pushes to them. When the group's owner leaves, ownership passes to the
-- remaining member with the smallest user id (none left: no owner).
--
-- KEYS: none (built from the K_* prefixes of im/keys.py, one Redis instance).
-- ARGV: 1 conv, 2 user, 3 group id
-- COUNTS: K_CONV 1 (keys from ARGV, for the hot-key counter)
-- Returns one of
--   1                      removed
--   0                      was not a member
local conv, user, gid = ARGV[1], ARGV[2], ARGV[3]
if redis.call('SREM', K_MEMBERS .. conv, user) == 0 then return 0 end
redis.call('SREM', K_USER_CONVS .. user, conv)
local n = tonumber(redis.call('HGET', K_UNREAD .. user, conv) or '0')
redis.call('HDEL', K_UNREAD .. user, conv)
if n > 0 then redis.call('HINCRBY', K_UNREAD .. user, 'total', -n) end
if redis.call('HGET', K_GROUP .. gid, 'owner') == user then
  local rest = redis.call('SMEMBERS', K_MEMBERS .. conv)
  table.sort(rest)
  local heir = rest[1] or ''
  redis.call('HSET', K_GROUP .. gid, 'owner', heir)
  redis.call('HSET', K_CONV .. conv, 'owner', heir)
end
return 1
