-- Change a user's role; refused when it would leave no enabled admin. The
-- set of enabled admins changes in the same step, so two admins demoting
-- each other at once cannot both succeed.
--
-- KEYS: none (built from the K_* prefixes of im/keys.py, one Redis instance).
-- ARGV: 1 uid, 2 the new role
-- COUNTS: K_USER 1 (keys from ARGV, for the hot-key counter)
-- Returns one of
--   {1, old_role}          changed (or it was that role already)
--   {-1}                   no such user
--   {-2}                   the user is the last enabled admin
local uid, role = ARGV[1], ARGV[2]
local u = redis.call('HMGET', K_USER .. uid, 'role', 'disabled')
if not u[1] then return {-1} end
if role ~= 'admin' and last_admin(uid) then return {-2} end
redis.call('HSET', K_USER .. uid, 'role', role)
if role == 'admin' and u[2] ~= '1' then
  redis.call('SADD', K_ADMINS, uid)
else
  redis.call('SREM', K_ADMINS, uid)
end
return {1, u[1]}
