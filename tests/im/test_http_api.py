"""HTTP API and health endpoints on a real server process with real Redis/Kafka."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from stack.manager import Stack
from tests.client import User
from tests.metrics import scrape
from tests.ports import free_port
from tests.servers import server_node

PORT, OPS = free_port(), free_port()
OPS_BASE = f"http://127.0.0.1:{OPS}"  # /metrics and /readyz


@pytest.fixture(scope="module")
def base(stack: Stack) -> Iterator[str]:
    with server_node(stack, "http-node", PORT, ops_port=OPS):
        yield f"http://127.0.0.1:{PORT}"


async def test_healthz_and_readyz(base: str) -> None:
    async with httpx.AsyncClient(base_url=base) as http:
        assert (await http.get("/healthz")).json() == {"status": "ok", "node": "http-node"}
    async with httpx.AsyncClient(base_url=OPS_BASE) as http:
        r = await http.get("/readyz")
        assert r.status_code == 200
        assert r.json() == {"status": "ok", "checks": {"redis": "ok", "kafka": "ok"}}


async def test_metrics_report_the_outbox_and_gc_pauses(base: str) -> None:
    m = await scrape(OPS_BASE)
    assert m["im_outbox_length"] >= 0 and m["im_relay_lag_seconds"] >= 0
    gens = [m[f'im_gc_collections_total{{generation="{g}"}}'] for g in range(3)]
    assert all(n >= 0 for n in gens)
    assert [k for k in m if k.startswith("im_gc_pause_seconds_total")] == [
        f'im_gc_pause_seconds_total{{generation="{g}"}}' for g in range(3)
    ]
    assert m["im_gc_pause_max_seconds"] >= 0 and m["im_gc_pauses_over_10ms_total"] >= 0


def test_readyz_names_the_dependency_that_is_down(stack: Stack) -> None:
    # Redis URL pointing at a closed port: alive, not ready, says why.
    ops = free_port()
    with server_node(stack, "no-redis", PORT + 1, ready_path="/healthz", ops_port=ops,
                     IM_REDIS_URL="redis://127.0.0.1:1/0"):  # fmt: skip
        r = httpx.get(f"http://127.0.0.1:{ops}/readyz")
        assert r.status_code == 503
        body = r.json()
        assert body["status"] == "unavailable"
        assert body["checks"]["kafka"] == "ok"
        assert body["checks"]["redis"].startswith("down")
        # A request that needs Redis is refused cleanly, without internals.
        r = httpx.post(
            f"http://127.0.0.1:{PORT + 1}/api/login",
            json={"username": "someone", "password": "whatever1"},
        )
        assert r.status_code == 503
        assert r.json()["error"]["code"] == "unavailable"
        assert "Traceback" not in r.text and "redis" not in r.text.lower()


async def test_register_login_me_logout(base: str) -> None:
    user = await User.create(base, "reg")
    r = await user.get("/api/me")
    assert r.status_code == 200
    assert r.json() == {
        "user_id": user.user_id,
        "username": user.username,
        "display_name": user.username,
        "role": "user",
    }
    assert (await user.post("/api/logout")).status_code == 204
    r = await user.get("/api/me")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"username": "ab", "password": "longenough"}, 400, "invalid"),
        ({"username": "UPPER", "password": "longenough"}, 400, "invalid"),
        ({"username": "x' OR '1'='1", "password": "longenough"}, 400, "invalid"),
        ({"username": "okname", "password": "short"}, 400, "invalid"),
        ({"username": 5, "password": "longenough"}, 400, "invalid"),
        ([1, 2], 400, "invalid"),
    ],
)
async def test_register_refusals(base: str, body: object, status: int, code: str) -> None:
    async with httpx.AsyncClient(base_url=base) as http:
        r = await http.post("/api/register", json=body)
    assert r.status_code == status
    assert r.json() == {"error": {"code": code, "message": r.json()["error"]["message"]}}


async def test_register_taken_and_login_failures_look_the_same(base: str) -> None:
    user = await User.create(base, "dup")
    async with httpx.AsyncClient(base_url=base) as http:
        r = await http.post(
            "/api/register", json={"username": user.username, "password": "another password"}
        )
        assert r.status_code == 409
        wrong_pw = await http.post(
            "/api/login", json={"username": user.username, "password": "wrong password"}
        )
        no_user = await http.post(
            "/api/login", json={"username": "nobody-here", "password": "wrong password"}
        )
    assert wrong_pw.status_code == no_user.status_code == 401
    assert wrong_pw.json() == no_user.json()


async def test_malformed_bodies_and_unknown_paths(base: str) -> None:
    async with httpx.AsyncClient(base_url=base) as http:
        r = await http.post("/api/login", content=b"\xff\xfe not json")
        assert r.status_code == 400 and r.json()["error"]["code"] == "invalid"
        r = await http.post("/api/login", content=b"{" * 100_000)
        assert r.status_code == 413
        r = await http.get("/api/nothing-here")
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
        r = await http.get("/api/me", headers={"authorization": "Bearer forged"})
        assert r.status_code == 401
