-- Move a user's read position in a conversation forward, atomically with
-- the unread counters (one round trip).
--
-- The position never moves backwards and never past max_seq. Unread counts
-- only other people's messages: those in (old, new] are (new - old) minus
-- the user's own seqs there (zset own:{conv}:{user}).
--
-- KEYS: none (built here from the K_* prefixes of im/keys.py, like send.lua).
-- ARGV: 1 conv, 2 user, 3 seq (the position asked for)
-- COUNTS: K_CONV 1 (keys from ARGV, for the hot-key counter)
-- Returns one of
--   {-1}                         not a member
--   {read_seq, unread, total}    the position now, the conversation's unread
--                                count and the user's unread total
local conv, user, want = ARGV[1], ARGV[2], tonumber(ARGV[3])
if redis.call('SISMEMBER', K_MEMBERS .. conv, user) == 0 then
  return {-1}
end
local max_seq = tonumber(redis.call('HGET', K_CONV .. conv, 'max_seq') or '0')
local old = tonumber(redis.call('HGET', K_READ_POS .. user, conv) or '0')
local new = math.min(want, max_seq)
local ukey = K_UNREAD .. user
if new > old then
  local own_key = K_OWN_SEQS .. conv .. ':' .. user
  local own = redis.call('ZCOUNT', own_key, old + 1, new)
  local others = (new - old) - own
  local unread = tonumber(redis.call('HGET', ukey, conv) or '0')
  local dec = math.min(others, unread)
  redis.call('HSET', K_READ_POS .. user, conv, new)
  if dec > 0 then
    redis.call('HINCRBY', ukey, conv, -dec)
    redis.call('HINCRBY', ukey, 'total', -dec)
  end
  -- Own seqs at or below the read position are never needed again.
  redis.call('ZREMRANGEBYSCORE', own_key, '-inf', new)
else
  new = old
end
return {new, tonumber(redis.call('HGET', ukey, conv) or '0'),
        tonumber(redis.call('HGET', ukey, 'total') or '0')}
