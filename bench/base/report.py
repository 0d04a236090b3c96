"""The parts of a benchmark's Markdown report that every benchmark writes the same way.

A report opens with the run (`preamble`: the command, when, which commit, the
machine and its load average, a smoke or interruption warning, notes) and a
**Disturbed** line when other processes took CPU during a measurement
(`disturbed`); numbers are compared only with a baseline measured in the same run
(`ratio`, `standing`); `table` and `num` format. A benchmark that shares
bench/RESULTS.md with another writes its part between markers (`Block`), and the
other keeps that block when it rewrites the file.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.base.machine import CpuDelta

NOISY_CORES = 0.25  # others' CPU above this during a measurement: the machine was not quiet


@dataclass
class RunInfo:
    """The run a report is of (also the "info" of its raw results.json)."""

    command: str
    started: str  # UTC
    minutes: float
    commit: str
    machine: str
    load_end: tuple[float, float, float]
    versions: dict[str, str] = field(default_factory=dict)  # what ran -> its description
    notes: list[str] = field(default_factory=list)
    interrupted: bool = False


def num(v: float, digits: int = 0) -> str:
    """`v` with thousands separators and `digits` decimals; `–` for NaN."""
    return "–" if math.isnan(v) else f"{v:,.{digits}f}"


def table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return out + ["| " + " | ".join(r) + " |" for r in rows]


def cores(cpu: CpuDelta, cpu_s: float) -> str:
    """CPU seconds over a measurement as cores."""
    return num(cpu_s / cpu.wall_s, 2) if cpu.wall_s > 0 else "–"


def ratio(value: float, baseline: float) -> float:
    """`value` / `baseline` (measured in the same run); NaN when either is unknown."""
    return value / baseline if baseline > 0 and not math.isnan(value) else math.nan


def standing(r: float, even: float = 0.02) -> str:
    """A ratio against a peer in words: ahead, even (within `even`), behind."""
    if math.isnan(r):
        return "–"
    return "ahead" if r > 1 + even else ("even" if r >= 1 - even else "**behind**")


def preamble(
    title: str, info: RunInfo, *, smoke: str | None, about: Sequence[str], disturbed: Sequence[str]
) -> list[str]:
    """The title, the warnings, and one line each: the command, the run, the machine, then
    `about` (what ran), the versions, the notes and the `disturbed` line."""
    out = [title, ""]
    if smoke is not None:
        out += [f"> **SMOKE RUN — not the benchmark.** {smoke}", ""]
    if info.interrupted:
        out += ["> **Interrupted** before the end: partial results.", ""]
    la = " ".join(f"{x:.2f}" for x in info.load_end)
    out += [
        f"- Command: `{info.command}`",
        f"- Run: {info.started} UTC, {info.minutes:.1f} min, commit {info.commit}",
        f"- Machine: {info.machine}; loadavg {la} (at end)",
        *about,
    ]
    out += [f"- `{name}`: {desc}" for name, desc in info.versions.items()]
    out += [f"- Note: {n}" for n in info.notes]
    return [*out, *disturbed]


def disturbed(
    others: Sequence[tuple[str, float]], what: str, consequence: str, *, by_name: bool
) -> list[str]:
    """The **Disturbed** line when other processes used more than NOISY_CORES cores during
    any of the measurements (name, others' cores); they are named (`by_name`) or only the
    worst is given."""
    noisy = [(name, c) for name, c in others if c > NOISY_CORES]
    if not noisy:
        return []
    if by_name:
        said = ", ".join(f"{name} {c:.2f}" for name, c in noisy)
    else:
        said = f"up to {max(c for _, c in noisy):.2f}"
    return [
        f"- **Disturbed**: other processes used more than {NOISY_CORES} cores during "
        f"{len(noisy)} of {len(others)} {what} ({said} of the machine's cores; column "
        f"`others' cores`): {consequence}"
    ]


@dataclass(frozen=True)
class Block:
    """A benchmark's block of a shared Markdown file, between two markers."""

    name: str

    @property
    def begin(self) -> str:
        return f"<!-- {self.name}:begin -->"

    @property
    def end(self) -> str:
        return f"<!-- {self.name}:end -->"

    def extract(self, text: str) -> str | None:
        """The block (markers included) of `text`, or None."""
        a = text.find(self.begin)
        b = text.find(self.end, a + len(self.begin)) if a >= 0 else -1
        return text[a : b + len(self.end)] if b >= 0 else None

    def extract_from(self, path: Path) -> str | None:
        try:
            return self.extract(path.read_text())
        except OSError:
            return None

    def replace(self, text: str, body: str) -> str:
        """`text` with its block replaced by `body` (between new markers), or appended."""
        block = f"{self.begin}\n{body.strip()}\n{self.end}"
        old = self.extract(text)
        if old is not None:
            return text.replace(old, block, 1)
        return f"{text.rstrip()}\n\n{block}\n" if text.strip() else f"{block}\n"

    def write(self, path: Path, body: str) -> None:
        try:
            text = path.read_text()
        except FileNotFoundError:
            text = ""
        path.write_text(self.replace(text, body))


# `python -m bench.stream` writes this block of bench/RESULTS.md; `python -m bench` keeps it.
STREAMING = Block("streaming")
# Checks run by hand (e.g. one scenario before and after a change), written
# into bench/RESULTS.md by whoever ran them; every benchmark keeps the block.
CHECKS = Block("checks")


def write_check(results: Path, section: Block, text: str) -> None:
    """`text` as `section` inside the checks block of `results` (other checks stay)."""
    body = CHECKS.extract_from(results) or ""
    inner = body.removeprefix(CHECKS.begin).removesuffix(CHECKS.end).strip()
    CHECKS.write(results, section.replace(inner, text))
