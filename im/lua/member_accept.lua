-- The invited user accepts an invitation: it is used up and the user joins
-- the group at the current end (join() of member_common.lua), in one atomic
-- step, so a double accept joins once.
--
-- KEYS: none (built from the K_* prefixes of im/keys.py, one Redis instance).
-- ARGV: 1 user, 2 invitation id, 3 most members per group
-- Returns one of
--   {1, group, conv}       joined (or was a member already)
--   {-1}                   no such invitation
--   {-2}                   the group is full (the invitation stays)
local user, iid = ARGV[1], ARGV[2]
local inv = K_INVITATIONS .. user
local record = redis.call('HGET', inv, iid)
if not record then return {-1} end
local gid = string.match(record, '^(%S+)')
local conv = redis.call('HGET', K_GROUP .. gid, 'conv')
if not conv then
  redis.call('HDEL', inv, iid)
  return {-1}
end
if redis.call('SISMEMBER', K_MEMBERS .. conv, user) == 0
    and redis.call('SCARD', K_MEMBERS .. conv) >= tonumber(ARGV[3]) then
  return {-2}
end
redis.call('HDEL', inv, iid)
join(conv, user)
return {1, gid, conv}
