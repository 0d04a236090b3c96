-- An agent takes a queued session: the session becomes active with that
-- agent, leaves the queue, the agent's load goes up and the agent joins the
-- conversation; the `cs.accepted` event in the same atomic step. Two agents
-- accepting at once: one wins, the other gets {-2, winner}. The agent's role
-- is read here, in the step: one demoted or disabled a moment ago (automatic
-- assignment read the online agents before) is refused.
--
-- KEYS: none (built from the K_* prefixes of im/keys.py, one Redis instance).
-- ARGV: 1 sid, 2 agent, 3 node id
-- COUNTS: K_SESSION 1 (keys from ARGV, for the hot-key counter)
-- Returns one of
--   {1}                    accepted
--   {-1}                   no such session
--   {-2, agent}            already active, taken by `agent`
--   {-3}                   the session is closed
--   {-7}                   `agent` is not an enabled agent
local sid, agent = ARGV[1], ARGV[2]
local s = redis.call('HMGET', K_SESSION .. sid, 'state', 'conv', 'customer', 'agent')
if not s[1] then return {-1} end
if s[1] == 'closed' then return {-3} end
if s[1] == 'active' then return {-2, s[4]} end
if not is_agent(agent) then return {-7} end
redis.call('HSET', K_SESSION .. sid, 'state', 'active', 'agent', agent, 'accepted_at', now_ms)
redis.call('ZREM', K_CS_QUEUE, sid)
redis.call('HSET', K_CONV .. s[2], 'agent', agent)
redis.call('INCR', K_AGENT_LOAD .. agent)
join(s[2], agent)
emit('cs.accepted', sid, {conv = s[2], customer = s[3], agent = agent})
return {1}
