"""`python -m bench.profile`: where the IM server's CPU goes under fan-out load.

Runs one step of the benchmark against the IM server alone (`python -m bench
--servers im`, one rate), samples the server process with py-spy in
non-blocking mode (it never pauses the server) while the step is measured,
and writes bench/PROFILE.md: the step's numbers, then the functions where
the server's main thread spends its time, by own time and by time including
callees. Sampling adds a little load of its own; the numbers of the step are
reported only to say what load was profiled.
"""

from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.base import machine
from bench.base.config import ROOT

OUT = ROOT / "bench" / "out"
PID_FILE = OUT / "stack" / "run" / "server-1.pid"


def frame_name(frame: str) -> str:
    """'func (path/to/file.py:12)' -> 'func (file.py)'."""
    func, _, where = frame.partition(" (")
    return f"{func} ({Path(where.rstrip(')').split(':')[0]).name})" if where else func


def aggregate(raw: str) -> tuple[int, collections.Counter[str], collections.Counter[str]]:
    """py-spy's raw (collapsed) stacks -> total samples, own time and inclusive time."""
    own: collections.Counter[str] = collections.Counter()
    incl: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n, frames = int(count), [frame_name(f) for f in stack.split(";")]
        total += n
        own[frames[-1]] += n
        for name in set(frames):
            incl[name] += n
    return total, own, incl


def render(cmd: str, step: str, total: int, own: collections.Counter[str],
           incl: collections.Counter[str], seconds: float) -> str:  # fmt: skip
    def table(counter: collections.Counter[str], n: int) -> list[str]:
        rows = ["| % of samples | function (file) |", "|---|---|"]
        rows += [f"| {100 * v / total:.1f} | `{k}` |" for k, v in counter.most_common(n)]
        return rows

    lines = [
        "# Where the IM server's time goes (py-spy)",
        "",
        f"- Command: `{cmd}`",
        f"- Run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        f"- Machine: {machine.describe()}",
        f"- Step profiled: {step}",
        f"- {total:,} samples of the server's busy threads over {seconds:g} s "
        "(py-spy --nonblocking; `EpollSelector.select` is the event loop waiting for "
        "sockets, i.e. time with nothing to do)",
        "",
        "## Own time (the function itself, not its callees)",
        "",
        *table(own, 30),
        "",
        "## Inclusive time (the function and everything it calls)",
        "",
        *table(incl, 45),
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("--kind", choices=("group", "direct"), default="group")
    ap.add_argument("--rate", type=float, default=0.6, help="msgs/s per client")
    ap.add_argument("--seconds", type=float, default=20, help="sampling time")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "PROFILE.md")
    a = ap.parse_args(argv)
    spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if spy is None:
        print("py-spy is not installed (make setup installs it)", file=sys.stderr)
        return 2
    duration = a.seconds + 10
    bench_cmd = [sys.executable, "-m", "bench", "--servers", "im", "--kinds", a.kind,
                 "--clients", str(a.clients), "--rate", f"{a.rate:g}", "--direct-rate",
                 f"{a.rate:g}", "--duration",
                 f"{duration:g}", "--warmup", "3", "--grace", "3", "--no-artillery",
                 "--keep-going", "--results", str(OUT / "profile-step.md")]  # fmt: skip
    OUT.mkdir(parents=True, exist_ok=True)
    log_path = OUT / "profile-bench.log"
    with open(log_path, "w") as log:
        bench = subprocess.Popen(bench_cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        while "connected" not in log_path.read_text():
            if bench.poll() is not None:
                print(log_path.read_text(), file=sys.stderr)
                return 1
            time.sleep(0.5)
        time.sleep(3 + 1 + 4)  # settle, warm-up, then a few seconds into the measured window
        raw_path = OUT / "profile.raw"
        subprocess.run([spy, "record", "--nonblocking", "--pid", PID_FILE.read_text().strip(),
                        "--duration", f"{a.seconds:g}", "--rate", "200", "--format", "raw",
                        "--output", str(raw_path)], check=True, capture_output=True)  # fmt: skip
        bench.wait()
    steps = [ln.split("]", 1)[1].strip() for ln in log_path.read_text().splitlines()
             if "rate " in ln and "/client:" in ln]  # fmt: skip
    total, own, incl = aggregate(raw_path.read_text())
    cmd = "python -m bench.profile " + " ".join(argv if argv is not None else sys.argv[1:])
    a.out.write_text(render(cmd.strip(), steps[-1] if steps else "?", total, own, incl,
                            a.seconds))  # fmt: skip
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
