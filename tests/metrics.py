"""Reading a node's `GET /metrics` (Prometheus text) in tests."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families


def sample_key(name: str, labels: dict[str, str]) -> str:
    """`name` or `name{a="x",b="y"}` (labels sorted)."""
    if not labels:
        return name
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"


def parse(text: str) -> dict[str, float]:
    """Every sample of the exposition text, by `sample_key`; the parser reads all of it."""
    return {
        sample_key(s.name, s.labels): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def scrape(ops_base: str) -> dict[str, float]:
    """The node's samples (its ops port, e.g. http://127.0.0.1:9080)."""
    async with httpx.AsyncClient(base_url=ops_base) as http:
        r = await http.get("/metrics")
        r.raise_for_status()
        assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
        return parse(r.text)
