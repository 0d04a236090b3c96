-- Store one chat message atomically (one round trip per message):
-- dedup check, membership check, seq allocation, the message itself, the
-- dedup record, unread counters of every other member, and the Kafka event
-- into the outbox stream. Either all of it happens or none.
--
-- ARGV: 1 conv, 2 sender, 3 cmid, 4 msg frame template, 5 event template,
--       6 dedup ttl (s), 7 topic
-- Templates hold NUL-prefixed placeholders that JSON text can never contain
-- (an encoder escapes NUL): \0S seq, \0T ts (ms, Redis clock), \0K conv kind,
-- \0R sender role.
-- Returns {0, "conv seq ts"} for a retry of a stored cmid, {-2} unknown conv,
-- {-1} sender not a member, else {1, seq, ts, members...}.
-- Keys are computed here (single Redis instance; see im/keys.py).
local conv, sender, cmid = ARGV[1], ARGV[2], ARGV[3]
local dd = 'dd:' .. sender .. ':' .. cmid
local prev = redis.call('GET', dd)
if prev then
  return {0, prev}
end
local ckey = 'c:' .. conv
local kind = redis.call('HGET', ckey, 'kind')
if not kind then
  return {-2}
end
if redis.call('SISMEMBER', 'cm:' .. conv, sender) == 0 then
  return {-1}
end
local role = redis.call('HGET', 'u:' .. sender, 'role') or 'user'
local seq = redis.call('HINCRBY', ckey, 'max_seq', 1)
local now = redis.call('TIME')
local ts = string.format('%.0f', tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000))
local subst = {S = tostring(seq), T = ts, K = kind, R = role}
local msg = string.gsub(ARGV[4], '%z(%u)', subst)
redis.call('HSET', 'msg:' .. conv, seq, msg)
redis.call('SET', dd, conv .. ' ' .. seq .. ' ' .. ts, 'EX', tonumber(ARGV[6]))
-- The sender's own seqs, so a read can tell others' messages from its own.
redis.call('ZADD', 'own:' .. conv .. ':' .. sender, seq, seq)
local members = redis.call('SMEMBERS', 'cm:' .. conv)
for _, m in ipairs(members) do
  if m ~= sender then
    redis.call('HINCRBY', 'unr:' .. m, conv, 1)
    redis.call('HINCRBY', 'unr:' .. m, 'total', 1)
  end
end
local event = string.gsub(ARGV[5], '%z(%u)', subst)
redis.call('XADD', 'outbox', '*', 't', ARGV[7], 'k', conv, 'v', event)
local out = {1, seq, ts}
for _, m in ipairs(members) do
  out[#out + 1] = m
end
return out
