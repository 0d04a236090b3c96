"""Cross-check with a load tool made by others: artillery's WebSocket engine.

Installed from the npm registry into bench/node_modules (bench/package.json
pins the version). Each virtual user signs in as one of the benchmark's
users, alone in a conversation of its own, then loops: send, wait for
`sent` and for its own `msg` echo (acked), think (bench/artillery_processor.cjs). artillery's engine
waits for each answer (closed loop), so this is a latency check at light
load, not a throughput test; the histograms are artillery's own
(processor: bench/artillery_processor.cjs, percentiles by artillery).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import yaml

from bench.base.cli import Say
from bench.base.config import BENCH_DIR, ROOT
from bench.config import BenchConfig

BIN = BENCH_DIR / "node_modules" / ".bin" / "artillery"
RAMP_S = 10
THINK_S = 0.6  # < 2 msg/s per user: under the IM server's per-user rate limit
METRICS = ("im.send_to_sent_ms", "im.send_to_msg_ms")


@dataclass
class ArtilleryResult:
    ok: bool
    detail: str  # what was run, or why it could not run
    summaries: dict[str, dict[str, float]] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    vusers: int = 0
    loops: int = 0


def ensure_installed(say: Say) -> str | None:
    """None when artillery is ready, else why not."""
    if BIN.exists():
        return None
    npm = shutil.which("npm")
    if npm is None:
        return "npm is not on PATH"
    say("installing artillery into bench/node_modules (npm install; ~1 min)")
    env = dict(os.environ, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD="1", NO_UPDATE_NOTIFIER="1")
    try:
        r = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund"],
            cwd=BENCH_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return "npm install did not finish within 900 s"
    if r.returncode != 0 or not BIN.exists():
        return f"npm install failed ({r.returncode}): {(r.stderr or r.stdout)[-1500:]}"
    return None


def script(cfg: BenchConfig, users_csv: Path) -> dict[str, Any]:
    auth = '{"type":"auth","token":"{{ token }}","device":"artillery"}'
    return {
        "config": {
            "target": f"ws://127.0.0.1:{cfg.ports.http}/ws",
            "processor": str(BENCH_DIR / "artillery_processor.cjs"),
            "phases": [{"duration": RAMP_S, "arrivalCount": cfg.artillery_vusers}],
            "payload": {"path": str(users_csv), "fields": ["token", "conv"], "order": "sequence"},
            "ws": {"perMessageDeflate": False},
            "timeout": 10,
        },
        "scenarios": [
            {
                "engine": "ws",
                "flow": [
                    {"send": {"payload": auth, "match": {"json": "$.type", "value": "auth_ok"}}},
                    {
                        "loop": [{"function": "chat"}, {"think": THINK_S}],
                        "count": cfg.artillery_loops,
                    },
                ],
            }
        ],
    }


def run(cfg: BenchConfig, users: list[tuple[str, str]], say: Say) -> ArtilleryResult:
    """Run the scenario against the IM server; `users` are (token, conv), one per vuser."""
    why = ensure_installed(say)
    if why is not None:
        return ArtilleryResult(False, why)
    work = cfg.out_dir / "artillery"
    work.mkdir(parents=True, exist_ok=True)
    csv = work / "users.csv"
    csv.write_text("".join(f"{t},{c}\n" for t, c in users))
    path, report = work / "scenario.yml", work / "report.json"
    path.write_text(yaml.safe_dump(script(cfg, csv), sort_keys=False))
    report.unlink(missing_ok=True)
    env = dict(os.environ, ARTILLERY_DISABLE_TELEMETRY="1", NO_UPDATE_NOTIFIER="1")
    timeout = RAMP_S + cfg.artillery_loops * (THINK_S + 10) + 120
    say(f"artillery: {len(users)} vusers x {cfg.artillery_loops} messages against the IM server")
    try:
        r = subprocess.run(
            [str(BIN), "run", "--output", str(report), str(path)],
            cwd=BENCH_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return ArtilleryResult(False, f"artillery did not finish within {timeout:.0f}s")
    (work / "stdout.log").write_text(r.stdout + r.stderr)
    if r.returncode != 0 or not report.exists():
        tail = (r.stderr or r.stdout)[-1500:]
        return ArtilleryResult(False, f"artillery exited {r.returncode}: {tail}")
    agg = orjson.loads(report.read_bytes()).get("aggregate", {})
    summaries = {m: agg.get("summaries", {}).get(m, {}) for m in METRICS}
    return ArtilleryResult(
        True,
        f"artillery {artillery_version()} ws engine, report {report.relative_to(ROOT)}",
        summaries,
        {k: int(v) for k, v in agg.get("counters", {}).items()},
        len(users),
        cfg.artillery_loops,
    )


def artillery_version() -> str:
    pkg = BENCH_DIR / "node_modules" / "artillery" / "package.json"
    try:
        return str(orjson.loads(pkg.read_bytes())["version"])
    except (OSError, KeyError, orjson.JSONDecodeError):
        return "?"
