-- A group's owner adds a user, in one atomic step (consent): a friend of the
-- owner joins at once (join() of member_common.lua); anyone else gets an
-- invitation to accept or decline. A user who blocked the owner gets
-- nothing, answered like an invitation, so a block is not revealed; so is an
-- invitation past the invitee's most pending ones.
--
-- KEYS: none (built from the K_* prefixes of im/keys.py, one Redis instance).
-- ARGV: 1 group id, 2 conv, 3 owner, 4 user, 5 invitation id,
--       6 most pending invitations per user, 7 most members per group
-- COUNTS: K_CONV 2 (keys from ARGV, for the hot-key counter)
-- Returns one of
--   {1}          joined (a friend)           {0}    a member already
--   {2, ts}      invited now, at ts (ms, Redis clock): tell the user
--   {3}          invited already, or dropped (blocked, too many pending)
--   {-1}         the group is full
local gid, conv, owner, user, iid = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
if redis.call('SISMEMBER', K_MEMBERS .. conv, user) == 1 then return {0} end
if redis.call('SCARD', K_MEMBERS .. conv) >= tonumber(ARGV[7]) then return {-1} end
if redis.call('SISMEMBER', K_BLOCKS .. user, owner) == 1 then return {3} end
if redis.call('HEXISTS', K_FRIENDS .. owner, user) == 1 then return {join(conv, user)} end
local inv = K_INVITATIONS .. user
if redis.call('HEXISTS', inv, iid) == 1 or redis.call('HLEN', inv) >= tonumber(ARGV[6]) then
  return {3}
end
local now = redis.call('TIME')
local ts = string.format('%.0f', tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000))
redis.call('HSET', inv, iid, gid .. ' ' .. owner .. ' ' .. ts)
return {2, ts}
