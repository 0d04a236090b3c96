-- An agent's availability for customer service: `ag:state` and the set of
-- online agents. With the role check on (a presence frame, a sign-in) only
-- an enabled agent may set it; the role is read here, so a presence frame
-- racing a demotion cannot put a former agent back among the online agents.
-- Without it (sign-out, a release: always 'offline') it is just set.
--
-- KEYS: none (built from the K_* prefixes of im/keys.py, one Redis instance).
-- ARGV: 1 user, 2 state ('online', 'away', 'offline'), 3 check the role ('1'/'0'),
--       4 node id
-- Returns one of
--   1                      set
--   0                      refused: the user is not an enabled agent
local user, state = ARGV[1], ARGV[2]
if ARGV[3] == '1' and not is_agent(user) then return 0 end
redis.call('HSET', K_AGENT_STATES, user, state)
if state == 'online' then
  redis.call('SADD', K_AGENTS_ONLINE, user)
else
  redis.call('SREM', K_AGENTS_ONLINE, user)
end
return 1
