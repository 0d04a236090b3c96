"""The dashboards as Grafana JSON: built from the modules, written to dashboards/build/.

`python -m dashboards build` writes one `<uid>.json` per dashboard (keys
sorted, two-space indent, so a change reads well in a diff) and removes
files of dashboards that no longer exist; `python -m dashboards check`
fails when the committed files differ from a fresh build. docker-compose
mounts the folder into Grafana (dashboards/provisioning/).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.builders.dashboard import Dashboard
from grafana_foundation_sdk.cog.encoder import JSONEncoder

from dashboards import (
    alerting,
    cs_moderation,
    cs_reply_rate,
    cs_sessions,
    sre_gateway,
    sre_host,
    sre_kafka,
    sre_redis,
)  # fmt: skip
from dashboards.catalog import BUILD_DIR

BOARDS: list[Callable[[], Dashboard]] = [
    cs_reply_rate.build,
    cs_sessions.build,
    cs_moderation.build,
    sre_gateway.build,
    sre_redis.build,
    sre_kafka.build,
    sre_host.build,
]


def dashboards() -> list[dict[str, Any]]:
    """Every dashboard as Grafana's JSON model, its alert rules' state panel last
    (dashboards/alerting.py)."""
    out: list[dict[str, Any]] = []
    for make in BOARDS:
        d = make()
        model = _json(d)
        assert max(p["id"] for p in model["panels"]) < alerting.STATE_PANEL_ID, model["uid"]
        panel = alerting.state_panel(alerting.STATE_PANEL_ID, model["uid"])
        out.append(model if panel is None else _json(d.with_panel(panel)))
    return out


def _json(d: Dashboard) -> dict[str, Any]:
    return dict(json.loads(json.dumps(d.build(), cls=JSONEncoder)))


def files() -> dict[str, str]:
    """File name -> text of each dashboard's JSON."""
    return {
        f"{d['uid']}.json": json.dumps(d, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        for d in dashboards()
    }


def differences(folder: Path = BUILD_DIR) -> list[str]:
    """How `folder` differs from a fresh build: files missing, changed or extra."""
    fresh = files()
    there = {p.name: p.read_text() for p in folder.glob("*.json")} if folder.is_dir() else {}
    out = [f"{n}: missing" for n in sorted(set(fresh) - set(there))]
    out += [f"{n}: differs from a fresh build" for n in sorted(fresh) if n in there
            and there[n] != fresh[n]]  # fmt: skip
    return out + [f"{n}: no such dashboard" for n in sorted(set(there) - set(fresh))]


def write(folder: Path = BUILD_DIR) -> list[str]:
    """Write a fresh build into `folder`; the names written."""
    folder.mkdir(parents=True, exist_ok=True)
    fresh = files()
    for old in folder.glob("*.json"):
        if old.name not in fresh:
            old.unlink()
    for name, text in fresh.items():
        (folder / name).write_text(text)
    return sorted(fresh)
