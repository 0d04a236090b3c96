-- Hand the outbox relay lease back on stop, so another node relays at once
-- instead of after the lease expired; only the holder's own lease is
-- deleted (a lease taken over meanwhile stays).
--
-- KEYS: 1 the lease key (keys.RELAY_LEASE)
-- ARGV: 1 node id
-- Returns one of
--   1                      released
--   0                      this node did not hold it
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
