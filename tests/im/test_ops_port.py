"""/metrics and /readyz are for operators: only on the ops port (a real node)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import websockets

from stack.manager import Stack
from tests.client import Device
from tests.metrics import scrape
from tests.ports import free_port
from tests.servers import server_node

PORT, OPS = free_port(), free_port()
CLIENT, OPERATOR = f"http://127.0.0.1:{PORT}", f"http://127.0.0.1:{OPS}"
NOT_FOUND = {"error": {"code": "not_found", "message": "Not Found"}}


@pytest.fixture(scope="module")
def node(stack: Stack) -> Iterator[None]:
    with server_node(stack, "edge-ops", PORT, ops_port=OPS):
        yield


@pytest.mark.usefixtures("node")
async def test_the_client_port_does_not_answer_metrics_or_readiness() -> None:
    async with httpx.AsyncClient(base_url=CLIENT) as http:
        for path in ("/metrics", "/readyz"):
            r = await http.get(path)
            assert (r.status_code, r.json()) == (404, NOT_FOUND), path
        r = await http.get("/healthz")  # liveness stays public, without detail
        assert r.json() == {"status": "ok", "node": "edge-ops"}


@pytest.mark.usefixtures("node")
async def test_the_ops_port_answers_them_and_nothing_else() -> None:
    async with httpx.AsyncClient(base_url=OPERATOR) as http:
        metrics = await scrape(OPERATOR)
        assert "im_connections" in metrics and "im_signed_in" in metrics
        assert (await http.get("/readyz")).json()["status"] == "ok"
        assert (await http.get("/healthz")).status_code == 200
        for path in ("/api/me", "/api/conversations", "/nothing"):
            r = await http.get(path)
            assert (r.status_code, r.json()) == (404, NOT_FOUND), path
        r = await http.post("/api/login", json={"username": "someone", "password": "whatever1"})
        assert r.status_code == 404
    with pytest.raises(websockets.InvalidStatus) as refused:
        await Device.open(OPERATOR)
    assert refused.value.response.status_code == 404
