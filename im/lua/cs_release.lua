-- Take one customer-service conversation away from a user who is no longer
-- an agent (demoted or disabled): if its session is active with that agent,
-- the session goes back to the queue at its first place (its original
-- waiting_since), the agent's load goes down and `cs.requeued` is written;
-- then the user leaves the conversation. A former member's read access
-- (`cf:{conv}`) only counts while the reader is an agent (im/messages.py),
-- so the user reads nothing of it while not one.
--
-- KEYS: none (built from the K_* prefixes of im/keys.py, one Redis instance).
-- ARGV: 1 conv, 2 user (the former agent), 3 reason ('role_changed',
--       'disabled'), 4 node id
-- COUNTS: K_CONV 1 (keys from ARGV, for the hot-key counter)
-- Returns one of
--   {1, sid, customer, waiting_since}   the session went back to the queue
--   {0}                    left the conversation, or nothing to do (not a cs
--                          conversation, or the user's own as a customer)
local conv, user, reason = ARGV[1], ARGV[2], ARGV[3]
local c = redis.call('HMGET', K_CONV .. conv, 'kind', 'owner', 'session')
if c[1] ~= 'cs' or c[2] == user then return {0} end
local out = {0}
local sid = c[3]
if sid then
  local s = redis.call('HMGET', K_SESSION .. sid, 'state', 'customer', 'agent', 'waiting_since')
  if s[1] == 'active' and s[3] == user then
    redis.call('HSET', K_SESSION .. sid, 'state', 'queued', 'agent', '', 'requeued_at', now_ms)
    redis.call('HSET', K_CONV .. conv, 'agent', '')
    redis.call('DECR', K_AGENT_LOAD .. user)
    redis.call('ZADD', K_CS_QUEUE, s[4], sid)
    emit('cs.requeued', sid, {conv = conv, customer = s[2], from_agent = user, reason = reason})
    out = {1, sid, s[2], s[4]}
  end
end
if redis.call('SISMEMBER', K_MEMBERS .. conv, user) == 1 then leave(conv, user) end
return out
