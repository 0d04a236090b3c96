"""A benchmark's settings: typed fields of one frozen dataclass, read in one place.

A field declared with `option(default, "--flag", parse, help)` is set by that
flag; `parse(cls, argv, ...)` builds the parser from the declarations (in field
order, so --help lists them as declared), sets only what the command line gave
(the rest keeps the field's default) and hands the object to the benchmark's
`settle` for derived values and checks across options (`OptionError`: argparse
prints usage and the message and exits 2). The ports of the stack a benchmark
starts are its own (`StackPorts`), away from the developer's and the tests'.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
C = TypeVar("C")
BENCH_DIR = Path(__file__).resolve().parent.parent
ROOT = BENCH_DIR.parent
OUT_DIR = BENCH_DIR / "out"
RESULTS = BENCH_DIR / "RESULTS.md"

Settle = Callable[[C, frozenset[str]], C]


class OptionError(ValueError):
    """Options that do not go together; the message names them."""


def option(
    default: Any,
    flag: str,
    parse: Callable[[str], Any] | None = None,
    help: str | None = None,
    *,
    action: str | None = None,
    choices: Sequence[str] | None = None,
) -> Any:
    """A dataclass field with `default`, set by command-line `flag` (argparse's words)."""
    cli: dict[str, Any] = {"help": help}
    if action is not None:
        cli["action"] = action
    if parse is not None:
        cli["type"] = parse
    if choices is not None:
        cli["choices"] = choices
    return dataclasses.field(default=default, metadata={"flag": flag, "cli": cli})


def csv(conv: Callable[[str], T]) -> Callable[[str], tuple[T, ...]]:
    """A parser of comma-separated values, each converted by `conv`."""

    def parse(raw: str) -> tuple[T, ...]:
        try:
            return tuple(conv(p.strip()) for p in raw.split(",") if p.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a comma-separated list: {raw!r}") from None

    return parse


def parse(
    cls: type[C],
    argv: Sequence[str],
    *,
    prog: str,
    description: str,
    settle: Settle[C] | None = None,
) -> C:
    """`cls` with the fields the command line sets, then `settle(obj, names given)`."""
    p = argparse.ArgumentParser(prog=prog, description=description)
    field_of: dict[str, str] = {}  # argparse dest -> field name
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if "flag" in f.metadata:
            act = p.add_argument(f.metadata["flag"], default=argparse.SUPPRESS, **f.metadata["cli"])
            field_of[act.dest] = f.name
    given = {field_of[dest]: value for dest, value in vars(p.parse_args(argv)).items()}
    try:
        obj = cls(**given)
        return settle(obj, frozenset(given)) if settle is not None else obj
    except OptionError as e:
        p.error(str(e))


@dataclass(frozen=True)
class StackPorts:
    """The ports of a benchmark's own stack (stack.manager.Stack): Redis, Kafka, the HTTP
    server and its ops port, analytics. Set even for what it does not start, so no setting
    points at the developer's (.stack) or the tests' (.stack-test) stack."""

    redis: int
    kafka: int
    kafka_controller: int
    http: int
    analytics: int
    ops: int
    monitor: int  # the ops collector's /healthz (bench --servers im-monitor)

    def stack_env(self, stack_dir: Path) -> dict[str, str]:
        """The IM_* variables of a stack in `stack_dir` on these ports."""
        env = {
            "IM_STACK_DIR": str(stack_dir),
            "IM_REDIS_PORT": str(self.redis),
            "IM_KAFKA_PORT": str(self.kafka),
            "IM_KAFKA_CONTROLLER_PORT": str(self.kafka_controller),
            "IM_HTTP_PORT": str(self.http),
            "IM_ANALYTICS_PORT": str(self.analytics),
            "IM_OPS_PORT": str(self.ops),
            "IM_MONITOR_PORT": str(self.monitor),
        }
        if "IM_CACHE_DIR" in os.environ:  # where the Kafka and Flink jars already are
            env["IM_CACHE_DIR"] = os.environ["IM_CACHE_DIR"]
        return env
