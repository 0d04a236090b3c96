"""`python -m bench.stream`: throughput and freshness of the streaming job (README.md here)."""
