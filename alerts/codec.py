"""An Alert as JSON, the way `al:state` holds it (fingerprint -> this JSON).

The fields are the dataclass's own names (`state` as its string); reading
ignores fields it does not know, so a newer writer does not break a reader.
"""

from __future__ import annotations

import dataclasses

import orjson

from alerts.model import Alert, State

_FIELDS = frozenset(f.name for f in dataclasses.fields(Alert))


def dumps(alert: Alert) -> bytes:
    return orjson.dumps(dataclasses.asdict(alert))


def loads(raw: str | bytes) -> Alert:
    data = orjson.loads(raw)
    known = {k: v for k, v in data.items() if k in _FIELDS}
    known["state"] = State(known["state"])
    return Alert(**known)
