-- Open a customer-service session: the customer's cs conversation, the
-- session hash, its place in the queue and the `cs.created` event, in one
-- atomic step. A customer has at most one open session (cs:open:{customer}),
-- so two racing requests open one session, not two.
--
-- KEYS: none (built from the K_* prefixes of im/keys.py, one Redis instance).
-- ARGV: 1 sid (new), 2 conv (new), 3 customer, 4 topic (the session's subject,
--       not a Kafka topic), 5 node id
-- Returns one of
--   {1, waiting_since}     created and queued; waiting_since = Redis' clock (ms)
--   {-1, open_sid}         the customer already has this open session
local sid, conv, customer, topic = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local open = redis.call('GET', K_OPEN_SESSION .. customer)
if open then return {-1, open} end
redis.call('SET', K_OPEN_SESSION .. customer, sid)
redis.call('HSET', K_CONV .. conv, 'kind', 'cs', 'title', topic, 'owner', customer,
           'max_seq', 0, 'session', sid, 'agent', '')
redis.call('SADD', K_MEMBERS .. conv, customer)
redis.call('SADD', K_USER_CONVS .. customer, conv)
redis.call('HSET', K_SESSION .. sid, 'conv', conv, 'customer', customer, 'state', 'queued',
           'agent', '', 'topic', topic, 'waiting_since', now_ms, 'created_at', now_ms)
redis.call('ZADD', K_CS_QUEUE, now_ms, sid)
emit('cs.created', sid, {conv = conv, customer = customer})
return {1, now_ms}
