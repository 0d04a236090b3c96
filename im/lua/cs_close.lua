-- Close a session: state closed, the conversation takes no more chat, the
-- session leaves the queue, the customer may open a new one and the agent's
-- load goes down; the `cs.closed` event in the same atomic step. The
-- pipeline's inactivity close carries the event time it judged by, and is
-- refused when a message came after it (the session is not inactive).
--
-- KEYS: none (built from the K_* prefixes of im/keys.py, one Redis instance).
-- ARGV: 1 sid, 2 caller ('' = the pipeline: no party check), 3 reason,
--       4 not_after ts (ms; 0 = none), 5 node id
-- COUNTS: K_SESSION 1 (keys from ARGV, for the hot-key counter)
-- Returns one of
--   {1, conv, agent}       closed (agent '' if none had accepted)
--   {-1}                   no such session
--   {-3}                   closed already
--   {-4}                   the caller is neither the customer nor the agent
--   {-6}                   a message came after not_after
local sid, caller, reason, not_after = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local s = redis.call('HMGET', K_SESSION .. sid, 'state', 'conv', 'customer', 'agent')
if not s[1] then return {-1} end
if s[1] == 'closed' then return {-3} end
if caller ~= '' and caller ~= s[3] and caller ~= s[4] then return {-4} end
if not_after > 0 then
  local last = tonumber(redis.call('HGET', K_CONV .. s[2], 'last_ts') or '0')
  if last > not_after then return {-6} end
end
redis.call('HSET', K_SESSION .. sid, 'state', 'closed', 'closed_reason', reason, 'closed_at', now_ms)
redis.call('HSET', K_CONV .. s[2], 'closed', '1')
redis.call('ZREM', K_CS_QUEUE, sid)
if redis.call('GET', K_OPEN_SESSION .. s[3]) == sid then redis.call('DEL', K_OPEN_SESSION .. s[3]) end
if s[4] ~= '' then redis.call('DECR', K_AGENT_LOAD .. s[4]) end
local ev = {conv = s[2], customer = s[3], reason = reason}
if s[4] ~= '' then ev.agent = s[4] end
emit('cs.closed', sid, ev)
return {1, s[2], s[4]}
