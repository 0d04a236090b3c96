-- Disable or enable an account. Disabling sets `disabled`, revokes every
-- token of the user (token hashes and the index) and takes the user out of
-- the enabled admins, in one step; it is refused for the last enabled
-- admin. Enabling clears the flag (an admin counts as enabled again); the
-- user signs in anew. Repeating either changes nothing.
--
-- KEYS: none (built from the K_* prefixes of im/keys.py, one Redis instance).
-- ARGV: 1 uid, 2 '1' disable / '0' enable
-- COUNTS: K_USER 1 (keys from ARGV, for the hot-key counter)
-- Returns one of
--   {1, role}              done
--   {0, role}              it was so already
--   {-1}                   no such user
--   {-2}                   the user is the last enabled admin
local uid, disable = ARGV[1], ARGV[2] == '1'
local u = redis.call('HMGET', K_USER .. uid, 'role', 'disabled')
if not u[1] then return {-1} end
local was = u[2] == '1'
if disable then
  if was then return {0, u[1]} end
  if last_admin(uid) then return {-2} end
  redis.call('HSET', K_USER .. uid, 'disabled', '1')
  redis.call('SREM', K_ADMINS, uid)
  revoke_all(uid)
  return {1, u[1]}
end
if not was then return {0, u[1]} end
redis.call('HDEL', K_USER .. uid, 'disabled')
if u[1] == 'admin' then redis.call('SADD', K_ADMINS, uid) end
return {1, u[1]}
