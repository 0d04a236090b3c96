-- Store one chat message atomically (one round trip per message).
--
-- In order: the token is still live (logout acts at once), a retried cmid
-- (same sender and conversation) returns its first result, the sender is a
-- member, not blocked by the other member of a direct conversation and not
-- muted, the per-user token bucket and the conversation's slow mode allow
-- it; then seq allocation, the message, the dedup record, unread counters of
-- every other member, and the Kafka event into the outbox. Either all of it
-- or none.
--
-- KEYS: none. Which keys a message touches (members, their unread counters
--       and presence) is only known inside the step, so keys are built here
--       from the K_* prefixes of im/keys.py (one Redis instance, no cluster).
-- ARGV: 1 conv, 2 sender, 3 cmid, 4 msg frame template, 5 event template,
--       6 dedup ttl (s), 7 topic, 8 token digest ('' = no token check),
--       9 bucket rate (tokens/s), 10 bucket burst, 11 enforce limits (1/0)
-- Templates hold NUL-prefixed placeholders that JSON text never contains
-- (an encoder escapes NUL): \0S seq, \0T ts (ms, Redis clock), \0K conv kind,
-- \0R sender role.
-- COUNTS: K_CONV 1, K_MEMBERS 1, K_MESSAGES 1 (keys from ARGV, for the hot-key counter)
-- Returns one of
--   {0, "conv seq ts"}      retry of a cmid stored in this conv
--   {-1}                    not a member          {-2} unknown conv
--   {-3}                    token no longer valid
--   {-4, until_ms}          muted                 {-5, retry_after_ms} rate limited
--   {-6}                    the cs session of the conversation is closed
--   {-7}                    direct conversation: the other member blocked the sender
--   {1, seq, ts, n_members, members..., nodes...} stored; nodes = where members are online
local conv, sender, cmid = ARGV[1], ARGV[2], ARGV[3]
if ARGV[8] ~= '' and redis.call('EXISTS', K_TOKEN .. ARGV[8]) == 0 then
  return {-3}
end
local dd = K_DEDUP .. sender .. ':' .. conv .. ':' .. cmid
local prev = redis.call('GET', dd)
if prev then
  return {0, prev}
end
local ckey = K_CONV .. conv
local kind = redis.call('HGET', ckey, 'kind')
if not kind then
  return {-2}
end
-- The system account speaks in every conversation without being a member.
if sender ~= 'system' and redis.call('SISMEMBER', K_MEMBERS .. conv, sender) == 0 then
  return {-1}
end
-- A closed customer-service session takes no more chat.
if kind == 'cs' and sender ~= 'system' and redis.call('HGET', ckey, 'closed') == '1' then
  return {-6}
end
-- A direct conversation takes nothing from someone the other member blocked
-- (the member list, read here, is the one used below).
local members
if kind == 'direct' and sender ~= 'system' then
  members = redis.call('SMEMBERS', K_MEMBERS .. conv)
  for _, m in ipairs(members) do
    if m ~= sender and redis.call('SISMEMBER', K_BLOCKS .. m, sender) == 1 then
      return {-7}
    end
  end
end
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
if ARGV[11] == '1' then
  local until_ms = tonumber(redis.call('GET', K_MUTE .. sender) or '0')
  if until_ms > now_ms then
    return {-4, string.format('%.0f', until_ms)}
  end
  -- Slow mode of the conversation: one message per member per interval.
  local slow = tonumber(redis.call('HGET', ckey, 'slow_ms') or '0')
  local slow_key = K_SLOW .. conv .. ':' .. sender
  if slow > 0 then
    local left = redis.call('PTTL', slow_key)
    if left > 0 then
      return {-5, left}
    end
  end
  -- Token bucket per sender: `burst` tokens, refilled at `rate` per second.
  local rate, burst = tonumber(ARGV[9]), tonumber(ARGV[10])
  local bkey = K_RATE .. sender
  local b = redis.call('HMGET', bkey, 'tokens', 'at')
  local tokens = tonumber(b[1] or burst)
  local at = tonumber(b[2] or now_ms)
  tokens = math.min(burst, tokens + (now_ms - at) * rate / 1000)
  if tokens < 1 then
    return {-5, math.ceil((1 - tokens) * 1000 / rate)}
  end
  redis.call('HSET', bkey, 'tokens', tostring(tokens - 1), 'at', string.format('%.0f', now_ms))
  redis.call('PEXPIRE', bkey, math.ceil(burst * 1000 / rate) + 1000)
  if slow > 0 then
    redis.call('SET', slow_key, '1', 'PX', slow)
  end
end
local role = redis.call('HGET', K_USER .. sender, 'role') or 'user'
local seq = redis.call('HINCRBY', ckey, 'max_seq', 1)
local ts = string.format('%.0f', now_ms)
local subst = {S = tostring(seq), T = ts, K = kind, R = role}
local msg = string.gsub(ARGV[4], '%z(%u)', subst)
redis.call('HSET', K_MESSAGES .. conv, seq, msg)
redis.call('SET', dd, conv .. ' ' .. seq .. ' ' .. ts, 'EX', tonumber(ARGV[6]))
-- The sender's own seqs, so a read can tell others' messages from its own.
redis.call('ZADD', K_OWN_SEQS .. conv .. ':' .. sender, seq, seq)
members = members or redis.call('SMEMBERS', K_MEMBERS .. conv)
local out = {1, seq, ts, #members}
local nodes = {}
for _, m in ipairs(members) do
  if m ~= sender then
    redis.call('HINCRBY', K_UNREAD .. m, conv, 1)
    redis.call('HINCRBY', K_UNREAD .. m, 'total', 1)
  end
  out[#out + 1] = m
  -- Presence: node -> expiry (ms); only live entries route a push.
  local pr = redis.call('HGETALL', K_PRESENCE .. m)
  for i = 1, #pr, 2 do
    if tonumber(pr[i + 1]) > now_ms then
      nodes[pr[i]] = true
    end
  end
end
redis.call('HSET', ckey, 'last_ts', ts)
local event = string.gsub(ARGV[5], '%z(%u)', subst)
if kind == 'cs' then
  -- The session and the agent assigned at this moment (ids are [a-z0-9_]).
  local cs = redis.call('HMGET', ckey, 'session', 'agent')
  local extra = ''
  if cs[1] then extra = extra .. ',"session":"' .. cs[1] .. '"' end
  if cs[2] and cs[2] ~= '' then extra = extra .. ',"agent":"' .. cs[2] .. '"' end
  event = string.sub(event, 1, -2) .. extra .. '}'
end
redis.call('XADD', K_OUTBOX, '*', 't', ARGV[7], 'k', conv, 'v', event)
for node, _ in pairs(nodes) do
  out[#out + 1] = node
end
return out
