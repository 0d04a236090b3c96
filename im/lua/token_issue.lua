-- Issue a login token: the token's hash with the user and role, the user's
-- token index `utok:{uid}` (a sorted set: token hash -> expiry ms), in one
-- step that also refuses a disabled user, so a login that verified the
-- password while an admin disabled the account cannot leave a live token.
-- The index drops expired hashes, keeps at most `max` live tokens (the ones
-- that expire first are revoked) and expires with its last token.
--
-- KEYS: none (built from the K_* prefixes of im/keys.py, one Redis instance).
-- ARGV: 1 uid, 2 token hash, 3 lifetime (s), 4 max live tokens per user
-- COUNTS: K_USER_TOKENS 1 (keys from ARGV, for the hot-key counter)
-- Returns one of
--   {1, expires_at_ms, revoked hashes...}   issued
--   {0}                                     no such user, or disabled
local uid, digest, ttl, max = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local u = redis.call('HMGET', K_USER .. uid, 'role', 'disabled')
if not u[1] or u[2] == '1' then return {0} end
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local exp = now_ms + ttl * 1000
local index = K_USER_TOKENS .. uid
-- Written as a plain set before it had expiries: convert it once.
if redis.call('TYPE', index).ok == 'set' then
  local old = redis.call('SMEMBERS', index)
  redis.call('DEL', index)
  for _, d in ipairs(old) do
    local left = redis.call('PTTL', K_TOKEN .. d)
    if left > 0 then redis.call('ZADD', index, now_ms + left, d) end
  end
end
redis.call('HSET', K_TOKEN .. digest, 'uid', uid, 'role', u[1], 'exp', exp)
redis.call('EXPIRE', K_TOKEN .. digest, ttl)
redis.call('ZREMRANGEBYSCORE', index, '-inf', now_ms)
redis.call('ZADD', index, exp, digest)
local out = {1, exp}
local extra = redis.call('ZCARD', index) - max
if extra > 0 then
  for _, d in ipairs(redis.call('ZRANGE', index, 0, extra - 1)) do
    redis.call('DEL', K_TOKEN .. d)
    out[#out + 1] = d
  end
  redis.call('ZREMRANGEBYRANK', index, 0, extra - 1)
end
local last = redis.call('ZRANGE', index, -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', index, last[2])
return out
