"""Generated `im.chat` traffic, shaped by the event contract (contract.events).

One package for every generator, so tests and benchmarks send the same
events the server writes: `chat` builds the records (seq and ts per
conversation, the contract's fields, `content_hash`), `scenario` is the fixed,
seeded traffic the streaming tests check exact answers on, `rate` the
endless rate-paced traffic the streaming benchmark sends.
"""
