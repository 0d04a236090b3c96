"""The ops collector (python -m monitor): Redis, Kafka, host and pipeline samples
written as `ops.sample` events through the outbox (docs/events.md, "What SREs watch")."""
