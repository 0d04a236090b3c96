-- The identity behind a token, read live on every call (logout and role
-- changes act at once), in one round trip: the token's user and that
-- user's current role.
--
-- KEYS: 1 the token key (keys.token(sha256 of the token))
-- ARGV: none
-- Returns one of
--   {uid, role}            a live token; role false if the user has none
--   false (nil reply)      no such token (never issued, logged out or expired)
local uid = redis.call('HGET', KEYS[1], 'uid')
if not uid then return false end
return {uid, redis.call('HGET', K_USER .. uid, 'role') or false}
