"""What `python -m bench` and `python -m bench.stream` share.

- `config`: options as typed fields of one frozen dataclass, each naming its flag
  (`option`), parsed in one place (`parse`); paths and the stack's ports.
- `cli`: one command per benchmark (`Benchmark`, `run`): parse, measure, report.
- `report`: the Markdown a run writes into bench/RESULTS.md: the run, the machine and
  its other load, tables, ratios against a baseline of the same run, marked blocks.
- `stats`: nearest-rank percentiles.
- `machine`: the machine line, CPU by role and by everybody else, RSS, rlimit.
"""
