"""What `python -m bench` and `python -m bench.stream` share.

- `stats`: nearest-rank percentiles.
- `machine`: the machine line, CPU by role and by everybody else, RSS, rlimit.
"""
