-- An admin puts a user into a conversation the system account owns (a team's
-- alert conversation, alerts/convs.py) at once, without an invitation: staff
-- are put on call, not asked. join() of member_common.lua: the read position
-- starts at the current end.
--
-- KEYS: none (built from the K_* prefixes of im/keys.py, one Redis instance).
-- ARGV: 1 conv, 2 user, 3 most members per group
-- Returns one of
--   1            joined                      0     a member already
--   -1           the group is full
local conv, user = ARGV[1], ARGV[2]
if redis.call('SISMEMBER', K_MEMBERS .. conv, user) == 1 then return 0 end
if redis.call('SCARD', K_MEMBERS .. conv) >= tonumber(ARGV[3]) then return -1 end
return join(conv, user)
