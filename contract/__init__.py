"""The event contract: topics, event types and their fields, the jobs' result rows.

One home for every fact about what flows through Kafka. The producers'
envelopes (im/messages.py, im/conn_events.py, the cs Lua steps, the relay's
ticks), the Flink connector DDL (streaming/ddl.py), the ClickHouse tables and
row converters (analytics/schema.py), the compose topic list and the traffic
generators are derived from it or tested against it (tests/contract/).
No imports from the server: the streaming job and analytics use it too.
"""
