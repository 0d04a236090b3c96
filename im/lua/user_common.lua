-- Shared start of the account steps (user_*.lua): the loader puts this file
-- between the K_* locals and the step's own text.
--
-- KEYS: none (built from the K_* prefixes of im/keys.py, one Redis instance).
-- ARGV: the step's own.
-- Returns nothing itself; defines for the step:
--   last_admin(uid)        uid is the only enabled admin (K_ADMINS holds them)
--   revoke_all(uid)        delete every token of uid and its token index
local function last_admin(uid)
  return redis.call('SISMEMBER', K_ADMINS, uid) == 1 and redis.call('SCARD', K_ADMINS) <= 1
end
local function revoke_all(uid)
  local index = K_USER_TOKENS .. uid
  local kind = redis.call('TYPE', index).ok
  local digests = {}
  if kind == 'zset' then digests = redis.call('ZRANGE', index, 0, -1) end
  if kind == 'set' then digests = redis.call('SMEMBERS', index) end
  for _, d in ipairs(digests) do redis.call('DEL', K_TOKEN .. d) end
  redis.call('DEL', index)
end
