-- Shared start of every customer-service step (cs_*.lua): the loader puts
-- this file between the K_*/T_*/I_* locals and the step's own text, so the
-- helpers exist once.
--
-- Each step changes the session and appends its session event to the outbox
-- in the same atomic step (transactional outbox). Events are built with
-- Redis' cjson; their id `s:<session>:<event>:<n>` counts the session's
-- events (field `events` of cs:{sid}), so a re-sent event keeps its id.
--
-- KEYS: none (built from the K_* prefixes of im/keys.py, one Redis instance).
-- ARGV: the step's own, then, always last: ARGV[#ARGV] node id (event envelope).
-- Returns nothing itself; defines for the step:
--   node, now_ms           the node id and Redis' clock (ms)
--   emit(etype, sid, fields)  append event `etype` of session sid (topic T_SESSION)
--   join(conv, user)       add a member, with everything so far from others unread
--   leave(conv, user)      remove a member, who may still read up to now
--   is_agent(user)         user's role is agent now and the account is enabled
local node = ARGV[#ARGV]
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local function emit(etype, sid, fields)
  fields.v = 1
  fields.id = I_SESSION_EVENT .. sid .. ':' .. etype .. ':' .. redis.call('HINCRBY', K_SESSION .. sid, 'events', 1)
  fields.type = etype
  fields.ts = now_ms
  fields.node = node
  fields.session = sid
  redis.call('XADD', K_OUTBOX, '*', 't', T_SESSION, 'k', sid, 'v', cjson.encode(fields))
end
local function join(conv, user)
  -- A new member of a cs conversation: everything so far from others is unread.
  redis.call('SADD', K_MEMBERS .. conv, user)
  redis.call('SADD', K_USER_CONVS .. user, conv)
  redis.call('HDEL', K_FORMER_MEMBERS .. conv, user)
  local max_seq = tonumber(redis.call('HGET', K_CONV .. conv, 'max_seq') or '0')
  local own = redis.call('ZCOUNT', K_OWN_SEQS .. conv .. ':' .. user, 1, max_seq)
  redis.call('HSET', K_READ_POS .. user, conv, 0)
  local old = tonumber(redis.call('HGET', K_UNREAD .. user, conv) or '0')
  local n = max_seq - own
  redis.call('HSET', K_UNREAD .. user, conv, n)
  redis.call('HINCRBY', K_UNREAD .. user, 'total', n - old)
end
local function leave(conv, user)
  -- A former member keeps read access to what existed when they left.
  redis.call('SREM', K_MEMBERS .. conv, user)
  redis.call('SREM', K_USER_CONVS .. user, conv)
  redis.call('HSET', K_FORMER_MEMBERS .. conv, user, redis.call('HGET', K_CONV .. conv, 'max_seq') or 0)
  local n = tonumber(redis.call('HGET', K_UNREAD .. user, conv) or '0')
  redis.call('HDEL', K_UNREAD .. user, conv)
  if n > 0 then redis.call('HINCRBY', K_UNREAD .. user, 'total', -n) end
end
local function is_agent(user)
  local u = redis.call('HMGET', K_USER .. user, 'role', 'disabled')
  return u[1] == 'agent' and u[2] ~= '1'
end
