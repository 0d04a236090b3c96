"""docs/protocol.md and docs/events.md say what the code does.

Only what is cheap and exact to hold against the code: routes, error and
close codes, frame types and their required fields, topics, the streaming
job's columns, ClickHouse tables, setting names. Event fields are checked
against real events in tests/im/test_events.py. No service is started.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import orjson
import pytest
from starlette.applications import Starlette
from starlette.routing import Route, WebSocketRoute

from alerts.settings import AlertSettings
from analytics import schema
from analytics.app import create_app as create_analytics_app
from analytics.settings import AnalyticsSettings
from contract import results, topics
from im import errors as E
from im.app import create_app
from im.envconfig import env_names
from im.protocol import ClientProtocol, Limits
from im.settings import ServerSettings
from monitor.settings import MonitorSettings
from stack.settings import StackSettings
from streaming import ddl, queries
from streaming.settings import StreamSettings
from tests.doctables import (
    EVENTS,
    PROTOCOL,
    codes,
    doc_fields,
    fields,
    find,
    headings,
    one,
    plain,
)

ROOT = Path(__file__).resolve().parent.parent
IM = ROOT / "im"


def _routes(app: Starlette) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for r in app.routes:
        if isinstance(r, WebSocketRoute):
            out.add(("GET", r.path))
        elif isinstance(r, Route):
            out |= {(m, r.path) for m in (r.methods or {"GET"}) - {"HEAD"}}
    return out


def _documented_routes(table_rows: list[dict[str, str]]) -> set[tuple[str, str]]:
    return {(plain(r["method"]), plain(r["path"])) for r in table_rows}


# -- protocol.md: HTTP --------------------------------------------------------------


def server_routes() -> set[tuple[str, str]]:
    # Building the app opens nothing (Redis and Kafka connect in its lifespan).
    return _routes(create_app(ServerSettings(argon2_time_cost=1, argon2_memory_kib=1024)))


def test_every_route_of_the_server_is_documented_and_no_other() -> None:
    table = one(PROTOCOL, "HTTP API", "Routes")
    assert _documented_routes(list(table.rows)) == server_routes()


def test_every_http_route_has_its_own_section() -> None:
    sections = {h[-1] for h in headings(PROTOCOL) if len(h) >= 2 and h[-2] == "HTTP API"}
    missing = sorted(
        f"{m} {p}" for m, p in server_routes() if p != "/ws" and f"{m} {p}" not in sections
    )
    assert missing == []


def _error_code_rows() -> dict[str, dict[str, str]]:
    table = one(PROTOCOL, "Error codes")
    return {plain(r["code"]): r for r in table.rows}


def test_every_error_code_is_documented_and_no_other() -> None:
    constants = {v for k, v in vars(E).items() if k.isupper() and isinstance(v, str)}
    assert set(_error_code_rows()) == constants


def test_route_errors_use_documented_codes_with_their_status() -> None:
    statuses = {
        code: {int(s) for s in re.findall(r"\d{3}", row["HTTP status"])}
        for code, row in _error_code_rows().items()
    }
    tables = find(PROTOCOL, header=("status", "code", "when"))
    assert len(tables) > 10
    for table in tables:
        for row in table.rows:
            code, status = plain(row["code"]), int(row["status"])
            assert code in statuses, (table.headings, code)
            assert status in statuses[code], (table.headings, code, status)


def test_every_extra_error_field_the_code_sets_is_documented() -> None:
    extras: set[str] = set()
    for path in IM.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "ApiError":
                extras |= {k.arg for k in node.keywords if k.arg and k.arg != "status"}
    assert extras  # retry_after, until, session
    documented = set(fields(one(PROTOCOL, "HTTP API", "Error body")))
    assert extras <= documented, extras - documented


# -- protocol.md: WebSocket -----------------------------------------------------------


def test_every_close_code_is_documented_and_no_other() -> None:
    used = {v for k, v in vars(E).items() if k.startswith("CLOSE_")}
    for path in IM.glob("*.py"):  # codes written as literals (im/hub.py)
        used |= {int(c) for c in re.findall(r"\.close\(\s*(\d{4})\b", path.read_text())}
    documented = {int(plain(r["code"])) for r in one(PROTOCOL, "Close codes").rows}
    assert documented == used


def _compared_with_kind(path: Path, function: str) -> set[str]:
    """String constants that `kind == ...` compares with inside `function`."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.FunctionDef) and node.name == function:
            for n in ast.walk(node):
                if isinstance(n, ast.Compare) and getattr(n.left, "id", None) == "kind":
                    for op, right in zip(n.ops, n.comparators, strict=True):
                        if isinstance(op, ast.Eq) and isinstance(right, ast.Constant):
                            out.add(str(right.value))
    return out


def client_frame_types() -> set[str]:
    return _compared_with_kind(IM / "frames.py", "parse_request") | _compared_with_kind(
        IM / "protocol.py", "receive_frame"
    )


def test_every_client_frame_the_protocol_accepts_is_documented_and_no_other() -> None:
    accepted = client_frame_types()
    assert {"auth", "send", "ping"} <= accepted
    documented = {plain(r["type"]) for r in one(PROTOCOL, "Client frames").rows}
    assert documented == accepted


SAMPLES: dict[str, Any] = {"string": "x", "integer": 1, "object": {"text": "hi"}}
SPECIAL: dict[str, Any] = {"status": "online"}


def _client_frame(kind: str, drop: str | None = None) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": kind}
    for name, (typ, _) in fields(one(PROTOCOL, "Client frames", kind)).items():
        if name not in ("type", drop):
            frame[name] = SPECIAL.get(name, SAMPLES[typ])
    return frame


def _feed(frame: dict[str, Any]) -> list[dict[str, Any]]:
    """The frames the protocol answers `frame` with (signed in first, unless it is auth)."""
    proto = ClientProtocol(Limits(), 0.0)
    if frame["type"] != "auth":
        proto.receive_frame(orjson.dumps({"type": "auth", "token": "t", "device": "d"}), 0.0)
        proto.events_received()
        proto.auth_succeeded("u", "d", {"convs": [], "unread_total": 0})
        proto.data_to_send()
    proto.receive_frame(orjson.dumps(frame), 1.0)
    return [orjson.loads(b) for b in proto.data_to_send()]


@pytest.mark.parametrize("kind", sorted(client_frame_types()))
def test_a_client_frame_with_its_documented_fields_is_accepted(kind: str) -> None:
    answers = _feed(_client_frame(kind))
    assert [a for a in answers if a["type"] == "error"] == []


@pytest.mark.parametrize("kind", sorted(client_frame_types()))
def test_every_field_documented_as_required_is_required(kind: str) -> None:
    for name, (_, optional) in fields(one(PROTOCOL, "Client frames", kind)).items():
        if name == "type" or optional:
            continue
        answers = _feed(_client_frame(kind, drop=name))
        assert any(a.get("code") == E.BAD_FRAME for a in answers), (kind, name, answers)


def server_frame_types() -> set[str]:
    """Every `"type": "<name>"` the server builds (frames as dicts or as bytes)."""
    found: set[str] = set()
    for path in IM.glob("*.py"):
        found |= set(re.findall(r'"type"\s*:\s*"([a-z_]+)"', path.read_text()))
    return found - {"tick"}  # a Kafka event (docs/events.md), not a frame


def test_every_server_frame_is_documented_and_no_other() -> None:
    built = server_frame_types()
    assert {"auth_ok", "msg", "sent", "error"} <= built
    documented = {plain(r["type"]) for r in one(PROTOCOL, "Server frames").rows}
    assert documented == built
    for kind in built:
        assert "type" in fields(one(PROTOCOL, "Server frames", kind))


def test_fields_of_server_frames_built_as_dicts_are_documented() -> None:
    frames = server_frame_types()
    checked = set()
    for path in IM.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Dict):
                continue
            keys = {k.value for k in node.keys if isinstance(k, ast.Constant)}
            kind = next(
                (v.value for k, v in zip(node.keys, node.values, strict=True)
                 if isinstance(k, ast.Constant) and k.value == "type"
                 and isinstance(v, ast.Constant) and v.value in frames),
                None,
            )  # fmt: skip
            if kind is not None:
                documented = set(fields(one(PROTOCOL, "Server frames", kind)))
                assert keys <= documented, (kind, keys - documented)
                checked.add(kind)
    assert {"auth_ok", "sent", "unread", "error", "cs_queued"} <= checked


# -- events.md ------------------------------------------------------------------------


def test_every_topic_is_documented_and_no_other() -> None:
    documented = {plain(r["topic"]) for r in one(EVENTS, "Topics").rows}
    assert documented == set(topics.ALL)


def test_ticks_are_documented_on_the_ticked_topics() -> None:
    rows = {plain(r["type"]): r for r in one(EVENTS, "Event types").rows}
    assert set(codes(rows["tick"]["topic"])) == set(topics.TICKED)


_FLINK_TYPES = {
    "STRING": "string",
    "BIGINT": "integer",
    "INT": "integer",
    "DOUBLE": "number",
    "ARRAY<STRING>": "string[]",
}


def _flink_columns(text: str) -> dict[str, str]:
    pairs = re.findall(r"`?(\w+)`?\s+(ARRAY<STRING>|BIGINT|INT|STRING|DOUBLE)(?![\w<])", text)
    return {name: _FLINK_TYPES[typ] for name, typ in pairs}


def _sinks() -> dict[str, tuple[str, str | None, dict[str, str]]]:
    """sink table -> (topic, key field, {column: type})."""
    out = {}
    for result in results.RESULTS:
        table, text = result.table, ddl.sink(StreamSettings(), result)
        topic = re.search(r"'topic' = '([^']+)'", text)
        key = re.search(r"'key.fields' = '([^']+)'", text)
        assert topic is not None
        out[table] = (topic.group(1), key.group(1) if key else None,
                      _flink_columns(text.split(" WITH (")[0]))  # fmt: skip
    return out


def test_every_output_topic_of_the_streaming_job_has_its_columns() -> None:
    for topic, _, columns in _sinks().values():
        doc = fields(one(EVENTS, "Streaming job", topic))
        assert {name: typ for name, (typ, _) in doc.items()} == columns, topic
    for result in results.RESULTS:  # and what may be absent, as the contract says
        assert fields(one(EVENTS, "Streaming job", result.topic)) == doc_fields(result.fields)


def test_the_source_columns_of_the_streaming_job() -> None:
    doc = fields(one(EVENTS, "Streaming job", "Source columns (chat_events)"))
    assert {name: typ for name, (typ, _) in doc.items()} == _flink_columns(ddl.CHAT_COLUMNS)


def test_the_queries_table_names_each_query_its_topic_and_key() -> None:
    sinks = _sinks()
    table = one(EVENTS, "Streaming job", header=("query", "reads", "writes", "key"))
    rows = {plain(r["query"]): r for r in table.rows}
    assert set(rows) == set(queries.QUERY_ORDER)
    for name, sink in queries.SINKS.items():
        topic, key, _ = sinks[sink]
        assert plain(rows[name]["writes"]) == topic, name
        assert plain(rows[name]["key"]) == (key or "none"), name


def _clickhouse_columns(ddl_text: str) -> dict[str, str]:
    body = ddl_text.split("(", 1)[1].rsplit(") ENGINE", 1)[0]
    out = {}
    for line in body.strip().splitlines():
        name, typ = line.strip().rstrip(",").split(" ", 1)
        out[name] = typ.split(" DEFAULT ")[0]
    return out


def test_every_clickhouse_table_is_documented_with_its_columns() -> None:
    summary = {plain(r["table"]): plain(r["topic"]) for r in one(EVENTS, "ClickHouse tables").rows}
    assert summary == {t.name: t.topic or "–" for t in schema.TABLES}  # –: a rollup
    for t in schema.TABLES:
        columns = _clickhouse_columns(t.ddl)
        versioned = t in schema.RESULT_TABLES  # the raw tables collapse by event id alone
        assert set(columns) == {*t.columns, *(["inserted_at"] if versioned else [])}, t.name
        doc = fields(one(EVENTS, t.name))  # under "ClickHouse tables" (raw: "Raw events")
        assert {name: typ for name, (typ, _) in doc.items()} == columns, t.name


def test_the_analytics_query_api_routes() -> None:
    documented = _documented_routes(list(one(EVENTS, "Query API").rows))
    assert documented == _routes(create_analytics_app(AnalyticsSettings()))


# -- settings named in the docs -------------------------------------------------------

ALL_SETTINGS = {
    name
    for cls in (
        ServerSettings,
        StreamSettings,
        AnalyticsSettings,
        StackSettings,
        MonitorSettings,
        AlertSettings,
    )
    for name, _ in env_names(cls)
}
# Server settings about deployment, not about what a client sees.
SERVER_DEPLOYMENT = {
    "IM_NODE_ID", "IM_HTTP_HOST", "IM_HTTP_PORT", "IM_REDIS_URL", "IM_REDIS_MAX_CONNECTIONS",
    "IM_KAFKA_BOOTSTRAP", "IM_TLS_CERT", "IM_TLS_KEY", "IM_ARGON2_TIME_COST",
    "IM_ARGON2_MEMORY_KIB", "IM_TICK_INTERVAL_S", "IM_RELAY_BATCH", "IM_RELAY_HOLD_MS",
    "IM_ADMIN_USERNAME", "IM_ADMIN_PASSWORD", "IM_OPS_HOST", "IM_OPS_PORT",
    "IM_HOTKEY_SAMPLE_RATE", "IM_HOTKEY_WINDOW_S", "IM_HOTKEY_MAX_KEYS",
}  # fmt: skip
STREAM_DEPLOYMENT = {"IM_KAFKA_BOOTSTRAP", "IM_FLINK_JARS", "IM_STREAM_PARALLELISM",
                     "IM_STREAM_READY_FILE"}  # fmt: skip


@pytest.mark.parametrize("doc", [PROTOCOL, EVENTS], ids=lambda p: p.name)
def test_every_setting_the_docs_name_exists(doc: Path) -> None:
    named = set(re.findall(r"\bIM_[A-Z0-9_]*[A-Z0-9]\b", doc.read_text()))
    assert named - ALL_SETTINGS == set()


def test_every_setting_a_client_notices_is_in_the_limits_table() -> None:
    table = one(PROTOCOL, "Limits and settings")
    named = {c for cell in table.column("setting") for c in codes(cell)}
    wanted = {n for n, _ in env_names(ServerSettings)} - SERVER_DEPLOYMENT
    assert sorted(wanted - named) == []


def test_every_threshold_of_the_streaming_job_is_in_events_md() -> None:
    text = EVENTS.read_text()
    wanted = {n for n, _ in env_names(StreamSettings)} - STREAM_DEPLOYMENT
    assert sorted(n for n in wanted if f"`{n}`" not in text) == []


# -- the collector's metrics (events.md "What SREs watch") ------------------------------

MONITOR = ROOT / "monitor"


def emitted_metrics() -> set[tuple[str, str]]:
    """(metric, source) of every sample the collector's modules make: the module's
    `S = Maker("<source>")`, then each `S("<metric>", ...)`, `S.at(ts, "<metric>", ...)`
    and each value of a `GAUGES` table of metric names."""
    found: set[tuple[str, str]] = set()
    for path in MONITOR.glob("*.py"):
        tree = ast.parse(path.read_text())
        source = None
        for node in tree.body:
            if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                    and getattr(node.value.func, "id", None) == "Maker"):  # fmt: skip
                arg = node.value.args[0]
                assert isinstance(arg, ast.Constant), path
                source = str(arg.value)
        names: list[ast.expr] = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                if getattr(node.func, "id", None) == "S" and node.args:
                    names.append(node.args[0])
                elif isinstance(node.func, ast.Attribute) and node.func.attr == "at":
                    names.append(node.args[1])
            if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict)
                    and getattr(node.targets[0], "id", None) == "GAUGES"):  # fmt: skip
                names += [v for v in node.value.values if v is not None]
        for name in names:
            assert isinstance(name, ast.Constant), (path, ast.dump(name))
            assert source is not None, path
            found.add((str(name.value), source))
    return found


def metric_rows() -> list[dict[str, str]]:
    """The rows of the metric tables (one per source) under "What SREs watch"."""
    header = ("metric", "source", "unit", "labels", "meaning")
    tables = [t for t in find(EVENTS, header=header) if "What SREs watch" in t.headings]
    assert len(tables) >= 5
    return [row for t in tables for row in t.rows]


def test_every_metric_the_collector_emits_is_documented_and_no_other() -> None:
    emitted = emitted_metrics()
    assert len(emitted) > 60
    documented = [(plain(r["metric"]), plain(r["source"])) for r in metric_rows()]
    assert len(documented) == len(set(documented))
    assert set(documented) == emitted


def test_metric_names_carry_their_unit() -> None:
    suffix = {"bytes": "_bytes", "seconds": "_seconds", "ratio (0-1)": "_ratio",
              "records/s": "_per_second", "commands/s": "_per_second"}  # fmt: skip
    for row in metric_rows():
        metric, unit = plain(row["metric"]), plain(row["unit"])
        if unit in suffix:
            assert metric.endswith(suffix[unit]) or metric.endswith("_total"), metric
        if metric.endswith("_total"):
            assert "since" in row["meaning"] or "so far" in row["meaning"], metric


# -- events.md: the gateway's /metrics ------------------------------------------------


def test_every_gateway_metric_is_in_the_table_with_its_type_and_labels() -> None:
    from prometheus_client.parser import text_string_to_metric_families

    app = create_app(ServerSettings(argon2_time_cost=1, argon2_memory_kib=1024))
    rendered = app.state.node.metrics.render().decode()
    exposed: dict[str, tuple[str, set[str]]] = {}
    for f in text_string_to_metric_families(rendered):
        name = f.name + ("_total" if f.type == "counter" else "")
        labels = {k for s in f.samples for k in s.labels} - {"le"}
        exposed[name] = (f.type, labels)
    rows = {plain(r["metric"]): r for r in one(EVENTS, "Gateway metrics").rows}
    documented = {n for n in rows if not n.endswith("*")}
    prefixes = [n[:-1] for n in rows if n.endswith("*")]
    assert documented == {n for n in exposed if not any(n.startswith(p) for p in prefixes)}
    for name in documented:
        kind, labels = exposed[name]
        assert plain(rows[name]["type"]) == kind, name
        cell = rows[name]["labels"]
        named = {c.rstrip(":") for c in re.findall(r"`([a-z_]+)`:", cell)}
        assert named == labels, name
