"""Benchmark harness for the IM server: `python -m bench` (see bench/README.md)."""
