-- Take or keep the outbox relay lease: the holder extends it, anyone takes
-- it when free (or expired). One relay at a time; a dead holder's lease
-- expires and another node carries on (im/outbox.py).
--
-- KEYS: 1 the lease key (keys.RELAY_LEASE)
-- ARGV: 1 node id, 2 lease time (ms)
-- Returns one of
--   1                      this node holds the lease for the next ARGV[2] ms
--   0                      another node holds it
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) and 1 or 0
