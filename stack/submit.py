"""python -m stack.submit: the stack's `stream` service on its Flink cluster.

Submits the streaming job (`flink run -d -pym streaming`, the CLI shipped with
PyFlink; `-s` the newest retained checkpoint, if any, after pruning the
checkpoint folders of earlier runs: streaming/checkpoints.py) or adopts the job named
im-streaming that already runs there, writes the job id to the ready file,
then watches it: the process lives as long as the job, so a job that ends
(failed, cancelled elsewhere) shows as a dead service. SIGTERM (`make down`)
cancels the job; its checkpoints are retained for the next submission.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import FrameType

from stack import flink
from streaming import checkpoints

POLL_S = 2.0
UNREACHABLE_S = 30.0  # the cluster's REST silent this long: give up (the service dies)


def say(message: str) -> None:
    print(f"[submit] {message}", flush=True)


def submit(rest: str, folder: str, ready: Path) -> str | None:
    """Run `flink run -d`; the job (streaming.job) writes its id to `ready`. No run of the
    job is live (the caller checked), so the folders of earlier runs are pruned first: all
    but the one holding the newest checkpoint, which the job resumes from."""
    for gone in checkpoints.prune(folder):
        say(f"pruned the checkpoints of an earlier run: {gone}")
    argv = [str(flink.flink_home() / "bin" / "flink"), "run", "-d", "-m",
            rest.removeprefix("http://"), "-pyclientexec", sys.executable]  # fmt: skip
    resume = checkpoints.newest(folder)
    if resume:
        # -n: a query added since that checkpoint starts empty; a removed one is dropped.
        argv += ["-s", resume, "-n"]
        say(f"resuming from {resume}")
    argv += ["-pym", "streaming"]
    say(" ".join(argv))
    env = dict(os.environ, IM_STREAM_READY_FILE=str(ready))
    done = subprocess.run(argv, stdin=subprocess.DEVNULL, env=env, check=False)
    jid = ready.read_text().strip() if ready.exists() else ""
    if done.returncode != 0 or not jid:
        say(f"flink run failed (exit {done.returncode})")
        return None
    return jid


def watch(rest: str, jid: str, stop: threading.Event) -> int:
    """Until the job ends (exit 1) or SIGTERM (cancel it, exit 0)."""
    last_seen = time.monotonic()
    while not stop.wait(POLL_S):
        try:
            state = flink.job_state(rest, jid)
        except flink.RestError as e:
            if time.monotonic() - last_seen > UNREACHABLE_S:
                say(f"cluster unreachable for {UNREACHABLE_S:.0f}s: {e}")
                return 1
            continue
        last_seen = time.monotonic()
        if state in flink.TERMINAL:
            say(f"job {jid} is {state}")
            return 1
    return stop_job(rest, jid)


def stop_job(rest: str, jid: str) -> int:
    try:
        if flink.job_state(rest, jid) not in flink.TERMINAL:
            say(f"cancelling job {jid} (checkpoints are retained)")
            flink.cancel(rest, jid)
        deadline = time.monotonic() + 15
        while flink.job_state(rest, jid) not in flink.TERMINAL:
            if time.monotonic() > deadline:
                say(f"job {jid} not cancelled after 15s")
                return 1
            time.sleep(0.2)
    except flink.RestError as e:
        say(f"could not cancel job {jid}: {e}")
        return 1
    say(f"job {jid} cancelled")
    return 0


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m stack.submit")
    p.add_argument("--rest", required=True, help="the cluster's REST URL")
    p.add_argument("--checkpoints", required=True, help="checkpoint folder URL")
    p.add_argument("--ready", required=True, type=Path, help="file for the job id")
    args = p.parse_args(argv)
    stop = threading.Event()

    def on_term(_sig: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    ready: Path = args.ready
    ready.unlink(missing_ok=True)
    try:
        jid = flink.live_job(args.rest)
    except flink.RestError as e:
        say(f"the Flink cluster does not answer: {e}")
        return 1
    if jid:
        say(f"job {jid} already runs on {args.rest}: adopting it")
        ready.write_text(jid)
    else:
        jid = submit(args.rest, args.checkpoints, ready)
        if jid is None:
            return 1
        say(f"job {jid} submitted")
    try:
        return watch(args.rest, jid, stop) if not stop.is_set() else stop_job(args.rest, jid)
    finally:
        ready.unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
