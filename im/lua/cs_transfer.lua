-- Hand an active session to another agent: the old agent leaves the
-- conversation (keeping read access up to now), the new one joins with
-- everything from others unread, both loads move; the `cs.transferred`
-- event in the same atomic step. Only the session's agent or an admin may,
-- and only to an enabled agent (its role read here, in the step).
--
-- KEYS: none (built from the K_* prefixes of im/keys.py, one Redis instance).
-- ARGV: 1 sid, 2 caller, 3 to (the new agent), 4 caller is admin ('1'/'0'),
--       5 node id
-- COUNTS: K_SESSION 1 (keys from ARGV, for the hot-key counter)
-- Returns one of
--   {1, from}              transferred from agent `from` (from == to: nothing changed)
--   {-1}                   no such session
--   {-3}                   the session is closed
--   {-4}                   the caller is neither the session's agent nor an admin
--   {-5}                   the session is not active (still queued)
--   {-7}                   `to` is not an enabled agent
local sid, caller, to, admin = ARGV[1], ARGV[2], ARGV[3], ARGV[4] == '1'
local s = redis.call('HMGET', K_SESSION .. sid, 'state', 'conv', 'customer', 'agent')
if not s[1] then return {-1} end
if s[1] == 'closed' then return {-3} end
if s[1] ~= 'active' then return {-5} end
if s[4] ~= caller and not admin then return {-4} end
local from = s[4]
if from == to then return {1, from} end
if not is_agent(to) then return {-7} end
redis.call('HSET', K_SESSION .. sid, 'agent', to)
redis.call('HSET', K_CONV .. s[2], 'agent', to)
redis.call('DECR', K_AGENT_LOAD .. from)
redis.call('INCR', K_AGENT_LOAD .. to)
leave(s[2], from)
join(s[2], to)
emit('cs.transferred', sid, {conv = s[2], customer = s[3], agent = to,
                             from_agent = from, to_agent = to})
return {1, from}
