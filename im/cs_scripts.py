"""Lua steps of the customer-service session life cycle.

Each one changes the session and appends its `im.session` event to the
outbox in the same atomic step (transactional outbox). Events are built with
Redis' cjson; `ARGV[#ARGV]` is always the node id for the event envelope.
"""

from __future__ import annotations

_COMMON = """
local node = ARGV[#ARGV]
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local function emit(etype, sid, fields)
  fields.v = 1
  fields.id = 's:' .. sid .. ':' .. etype .. ':' .. redis.call('HINCRBY', 'cs:' .. sid, 'events', 1)
  fields.type = etype
  fields.ts = now_ms
  fields.node = node
  fields.session = sid
  redis.call('XADD', 'outbox', '*', 't', 'im.session', 'k', sid, 'v', cjson.encode(fields))
end
local function join(conv, user)
  -- A new member of a cs conversation: everything so far from others is unread.
  redis.call('SADD', 'cm:' .. conv, user)
  redis.call('SADD', 'uc:' .. user, conv)
  redis.call('HDEL', 'cf:' .. conv, user)
  local max_seq = tonumber(redis.call('HGET', 'c:' .. conv, 'max_seq') or '0')
  local own = redis.call('ZCOUNT', 'own:' .. conv .. ':' .. user, 1, max_seq)
  redis.call('HSET', 'rd:' .. user, conv, 0)
  local old = tonumber(redis.call('HGET', 'unr:' .. user, conv) or '0')
  local n = max_seq - own
  redis.call('HSET', 'unr:' .. user, conv, n)
  redis.call('HINCRBY', 'unr:' .. user, 'total', n - old)
end
local function leave(conv, user)
  -- A former member keeps read access to what existed when they left.
  redis.call('SREM', 'cm:' .. conv, user)
  redis.call('SREM', 'uc:' .. user, conv)
  redis.call('HSET', 'cf:' .. conv, user, redis.call('HGET', 'c:' .. conv, 'max_seq') or 0)
  local n = tonumber(redis.call('HGET', 'unr:' .. user, conv) or '0')
  redis.call('HDEL', 'unr:' .. user, conv)
  if n > 0 then redis.call('HINCRBY', 'unr:' .. user, 'total', -n) end
end
"""

# ARGV: sid, conv, customer, topic, node -> {1, waiting_since} | {-1, open sid}
CREATE = (
    _COMMON
    + """
local sid, conv, customer, topic = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local open = redis.call('GET', 'cs:open:' .. customer)
if open then return {-1, open} end
redis.call('SET', 'cs:open:' .. customer, sid)
redis.call('HSET', 'c:' .. conv, 'kind', 'cs', 'title', topic, 'owner', customer,
           'max_seq', 0, 'session', sid, 'agent', '')
redis.call('SADD', 'cm:' .. conv, customer)
redis.call('SADD', 'uc:' .. customer, conv)
redis.call('HSET', 'cs:' .. sid, 'conv', conv, 'customer', customer, 'state', 'queued',
           'agent', '', 'topic', topic, 'waiting_since', now_ms, 'created_at', now_ms)
redis.call('ZADD', 'csq', now_ms, sid)
emit('cs.created', sid, {conv = conv, customer = customer})
return {1, now_ms}
"""
)

# ARGV: sid, agent, node -> {1} | {-1} no such | {-2, agent} taken | {-3} closed
ACCEPT = (
    _COMMON
    + """
local sid, agent = ARGV[1], ARGV[2]
local s = redis.call('HMGET', 'cs:' .. sid, 'state', 'conv', 'customer', 'agent')
if not s[1] then return {-1} end
if s[1] == 'closed' then return {-3} end
if s[1] == 'active' then return {-2, s[4]} end
redis.call('HSET', 'cs:' .. sid, 'state', 'active', 'agent', agent, 'accepted_at', now_ms)
redis.call('ZREM', 'csq', sid)
redis.call('HSET', 'c:' .. s[2], 'agent', agent)
redis.call('INCR', 'ag:load:' .. agent)
join(s[2], agent)
emit('cs.accepted', sid, {conv = s[2], customer = s[3], agent = agent})
return {1}
"""
)

# ARGV: sid, caller, to, caller_is_admin, node
# -> {1, from} | {-1} no such | {-3} closed | {-4} not the session's agent | {-5} not active
TRANSFER = (
    _COMMON
    + """
local sid, caller, to, admin = ARGV[1], ARGV[2], ARGV[3], ARGV[4] == '1'
local s = redis.call('HMGET', 'cs:' .. sid, 'state', 'conv', 'customer', 'agent')
if not s[1] then return {-1} end
if s[1] == 'closed' then return {-3} end
if s[1] ~= 'active' then return {-5} end
if s[4] ~= caller and not admin then return {-4} end
local from = s[4]
if from == to then return {1, from} end
redis.call('HSET', 'cs:' .. sid, 'agent', to)
redis.call('HSET', 'c:' .. s[2], 'agent', to)
redis.call('DECR', 'ag:load:' .. from)
redis.call('INCR', 'ag:load:' .. to)
leave(s[2], from)
join(s[2], to)
emit('cs.transferred', sid, {conv = s[2], customer = s[3], agent = to,
                             from_agent = from, to_agent = to})
return {1, from}
"""
)

# ARGV: sid, caller ('' for the pipeline), reason, not_after_ts (0 = none), node
# -> {1, conv, agent} | {-1} no such | {-3} closed already | {-4} not a party
#    | {-6} a message came after the command's event time
CLOSE = (
    _COMMON
    + """
local sid, caller, reason, not_after = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local s = redis.call('HMGET', 'cs:' .. sid, 'state', 'conv', 'customer', 'agent')
if not s[1] then return {-1} end
if s[1] == 'closed' then return {-3} end
if caller ~= '' and caller ~= s[3] and caller ~= s[4] then return {-4} end
if not_after > 0 then
  local last = tonumber(redis.call('HGET', 'c:' .. s[2], 'last_ts') or '0')
  if last > not_after then return {-6} end
end
redis.call('HSET', 'cs:' .. sid, 'state', 'closed', 'closed_reason', reason, 'closed_at', now_ms)
redis.call('HSET', 'c:' .. s[2], 'closed', '1')
redis.call('ZREM', 'csq', sid)
if redis.call('GET', 'cs:open:' .. s[3]) == sid then redis.call('DEL', 'cs:open:' .. s[3]) end
if s[4] ~= '' then redis.call('DECR', 'ag:load:' .. s[4]) end
local ev = {conv = s[2], customer = s[3], reason = reason}
if s[4] ~= '' then ev.agent = s[4] end
emit('cs.closed', sid, ev)
return {1, s[2], s[4]}
"""
)
