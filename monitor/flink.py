"""The flink sampler: the streaming job as Flink's REST API sees it (IM_FLINK_REST_URL).

The job is found by name (IM_FLINK_JOB_NAME, `pipeline.name` of
streaming/job.py): the one that is not finished, else the newest.
- `pipeline_job_up` 1 while RUNNING (label `state`), `pipeline_job_uptime_seconds`
  (since the job started); while it runs also `pipeline_job_restarts_total`
  (numRestarts) and:
- checkpoints: completed and failed counts, the age of the last completed
  one (now - its last acknowledgement) and its end-to-end duration;
- records in: what the source vertices passed on (their `write-records`);
  records out: what the sink vertices received (`read-records`). Both are
  Flink's network counters: a sink chained into its source's task counts 0.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from monitor.sample import Maker, Sample, Skipped

S = Maker("pipeline")
DONE = ("FINISHED", "FAILED", "CANCELED")


def pick_job(jobs: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    """The job named `name` that still runs (else the newest of that name)."""
    mine = [j for j in jobs if j.get("name") == name]
    live = [j for j in mine if j.get("state") not in DONE]
    return max(live or mine, key=lambda j: int(j.get("start-time", 0)), default=None)


def io_records(job: dict[str, Any]) -> tuple[int, int]:
    """(records the sources wrote, records the sinks read) of a /jobs/{id} answer."""
    nodes = job.get("plan", {}).get("nodes", [])
    fed = {i["id"] for n in nodes for i in n.get("inputs", [])}  # vertices something reads
    sources = {n["id"] for n in nodes if not n.get("inputs")}
    sinks = {n["id"] for n in nodes} - fed
    vin = vout = 0
    for v in job.get("vertices", []):
        metrics = v.get("metrics", {})
        if v["id"] in sources:
            vin += int(metrics.get("write-records", 0))
        if v["id"] in sinks:
            vout += int(metrics.get("read-records", 0))
    return vin, vout


class FlinkSampler:
    """Skips without a URL (`unset`), an answer (`unreachable`) or while Flink starts
    (`unavailable`, 503); the collector counts skips by reason."""

    name = "flink"

    def __init__(self, url: str | None, job_name: str, timeout_s: float = 5.0) -> None:
        self.job_name = job_name
        self.http = httpx.AsyncClient(base_url=url.rstrip("/"), timeout=timeout_s) if url else None

    async def close(self) -> None:
        if self.http is not None:
            await self.http.aclose()

    async def _get(self, path: str) -> Any:
        assert self.http is not None
        resp = await self.http.get(path)
        resp.raise_for_status()
        return resp.json()

    async def sample(self) -> list[Sample]:
        if self.http is None:
            raise Skipped("unset")
        try:
            overview = await self._get("/jobs/overview")
        except httpx.TransportError as e:
            raise Skipped("unreachable") from e
        except httpx.HTTPStatusError as e:
            if e.response.status_code == 503:  # starting: the dispatcher is not up yet
                raise Skipped("unavailable") from e
            raise
        job = pick_job(overview.get("jobs", []), self.job_name)
        if job is None:
            return [S("pipeline_job_up", 0, state="MISSING")]
        jid, state = job["jid"], str(job["state"])
        out = [
            S("pipeline_job_up", 1 if state == "RUNNING" else 0, state=state),
            S("pipeline_job_uptime_seconds", int(job.get("duration", 0)) / 1000),
        ]
        if state != "RUNNING":  # starting, restarting or over: no checkpoint statistics
            return out
        detail = await self._get(f"/jobs/{jid}")
        records_in, records_out = io_records(detail)
        out += [
            S("pipeline_records_in_total", records_in),
            S("pipeline_records_out_total", records_out),
        ]
        metrics = await self._get(f"/jobs/{jid}/metrics?get=numRestarts")
        for m in metrics:
            if m.get("id") == "numRestarts" and "value" in m:
                out.append(S("pipeline_job_restarts_total", float(m["value"])))
        return out + checkpoint_samples(await self._get(f"/jobs/{jid}/checkpoints"))


def checkpoint_samples(ckpt: dict[str, Any], now_ms: float | None = None) -> list[Sample]:
    counts = ckpt.get("counts", {})
    out = [
        S("pipeline_checkpoints_completed_total", counts.get("completed", 0)),
        S("pipeline_checkpoints_failed_total", counts.get("failed", 0)),
    ]
    last = (ckpt.get("latest") or {}).get("completed")
    if last:
        now = time.time() * 1000 if now_ms is None else now_ms
        age = max(0.0, now - int(last["latest_ack_timestamp"])) / 1000
        out.append(S("pipeline_checkpoint_age_seconds", age))
        out.append(S("pipeline_checkpoint_duration_seconds", last["end_to_end_duration"] / 1000))
    return out
