"""What `python -m bench` and `python -m bench.stream` share.

- `config`: options as typed fields of one frozen dataclass, each naming its flag
  (`option`), parsed in one place (`parse`); paths and the stack's ports.
- `stats`: nearest-rank percentiles.
- `machine`: the machine line, CPU by role and by everybody else, RSS, rlimit.
"""
