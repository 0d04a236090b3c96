-- Take one unit from each of several fixed-window quotas, all or none.
-- A quota's key counts units taken in its window; the first unit starts the
-- window (SET NX PX) and later ones do not extend it, so no key outlives its
-- window. When any quota is used up nothing is taken, so a caller refused by
-- one quota (its own address) does not use up another (the shared total).
--
-- KEYS: the quota keys
-- ARGV: for each key, in order: its maximum, its window (ms)
-- Returns one of
--   0                      taken from every quota
--   retry_after_ms         (> 0) refused: the longest wait until a used-up window ends
local wait = 0
for i, key in ipairs(KEYS) do
  local used = tonumber(redis.call('GET', key) or '0')
  if used >= tonumber(ARGV[2 * i - 1]) then
    local left = redis.call('PTTL', key)
    if left < 0 then left = tonumber(ARGV[2 * i]) end
    if left > wait then wait = left end
  end
end
if wait > 0 then return wait end
for i, key in ipairs(KEYS) do
  redis.call('SET', key, 0, 'PX', tonumber(ARGV[2 * i]), 'NX')
  redis.call('INCR', key)
end
return 0
