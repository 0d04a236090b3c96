"""Alert routes of the HTTP API: the alerts of `al:state` (written by the alert
evaluator, python -m alerts), silences, and who is in the alert conversations.

Who sees and silences which team's alerts: alerts.access (`sre`, `admin`:
all; `manager`: `cs`), by the role read on every call.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from alerts.access import may_silence, team_of, teams_of
from alerts.chat import AlertChat
from alerts.model import Alert, State
from alerts.silences import MAX_SILENCE_S, Silences
from im import errors as E
from im import ids, keys
from im.http_api import HttpApi, field, json_response, path_id, read_json
from im.tokens import Identity

FINGERPRINT = re.compile(r"[0-9a-f]{16}")
_STATE_ORDER = {State.FIRING: 0, State.PENDING: 1, State.RESOLVED: 2}
_SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}


def row(a: Alert, silenced_until: int | None) -> dict[str, Any]:
    """An alert as `GET /api/alerts` lists it."""
    return {
        "fingerprint": a.fingerprint, "name": a.name, "state": a.state.value,
        "severity": a.severity, "team": team_of(a.team), "value": a.value,
        "labels": a.labels, "annotations": a.annotations, "since": a.active_since_ms,
        "fired_at": a.fired_at_ms, "resolved_at": a.resolved_at_ms,
        "silenced_until": silenced_until,
    }  # fmt: skip


def _order(a: Alert) -> tuple[int, int, int, str]:
    return (_STATE_ORDER[a.state], _SEVERITY_ORDER.get(a.severity, 3), -a.active_since_ms,
            a.fingerprint)  # fmt: skip


class AlertsApi:
    def __init__(self, api: HttpApi) -> None:
        self.api = api
        node = api.node
        self.redis = node.redis
        self.silences = Silences(node.redis)
        self.chat = AlertChat(node.redis, node.settings.node_id, publish=node.bus.publish_msg)

    async def _viewer(self, request: Request) -> Identity:
        ident = await self.api.identity(request)
        if not teams_of(ident.role):
            raise E.ApiError(E.FORBIDDEN, "alerts are for sre, manager and admin", 403)
        return ident

    async def _now(self) -> int:
        secs, micros = await self.redis.time()
        return int(secs) * 1000 + int(micros) // 1000

    async def list_alerts(self, request: Request) -> Response:
        teams = teams_of((await self._viewer(request)).role)
        now = await self._now()
        silenced = await self.silences.current(now)
        alerts = [Alert.from_json(raw) for raw in (await self.redis.hvals(keys.ALERT_STATE))]
        rows = []
        for a in sorted((a for a in alerts if a.state in _STATE_ORDER), key=_order):
            if team_of(a.team) in teams:
                until = max(a.silenced_until_ms or 0, silenced.get(a.fingerprint, 0))
                rows.append(row(a, until if until > now else None))
        return json_response({"alerts": rows})

    async def silence(self, request: Request) -> Response:
        ident = await self._viewer(request)
        for_s = field(await read_json(request), "for_s", int)
        if not 0 <= for_s <= MAX_SILENCE_S:
            raise E.ApiError(E.INVALID, f"'for_s' must be 0-{MAX_SILENCE_S}", 400)
        fp = request.path_params["fingerprint"]
        raw = await self.redis.hget(keys.ALERT_STATE, fp) if FINGERPRINT.fullmatch(fp) else None
        if raw is None:
            raise E.ApiError(E.NOT_FOUND, "no such alert", 404)
        a = Alert.from_json(raw)
        team = team_of(a.team)
        if not may_silence(ident.role, team):
            raise E.ApiError(E.FORBIDDEN, "managers silence customer-service alerts only", 403)
        if for_s == 0:
            await self.silences.lift(fp)
            return json_response({"fingerprint": fp, "silenced_until": None,
                                  "by": ident.user_id})  # fmt: skip
        until = await self._now() + for_s * 1000
        await self.silences.set(fp, until, ident.user_id)
        await self.chat.silenced(team, fp, a.name, until, ident.user_id)
        return json_response({"fingerprint": fp, "silenced_until": until, "by": ident.user_id})

    async def _admin(self, request: Request) -> None:
        if (await self.api.identity(request)).role != "admin":
            raise E.ApiError(E.FORBIDDEN, "admins only", 403)

    async def add_member(self, request: Request) -> Response:
        await self._admin(request)
        user = field(await read_json(request), "user_id", str)
        await self.chat.convs.add(request.path_params["team"], user)
        return Response(status_code=204)

    async def remove_member(self, request: Request) -> Response:
        await self._admin(request)
        user = path_id(request, "user_id", ids.USER, "user")
        await self.chat.convs.remove(request.path_params["team"], user)
        return Response(status_code=204)

    def routes(self) -> list[Route]:
        members = "/api/alerts/conversations/{team}/members"
        return [
            Route("/api/alerts", self.list_alerts, methods=["GET"]),
            Route("/api/alerts/{fingerprint}/silence", self.silence, methods=["POST"]),
            Route(members, self.add_member, methods=["POST"]),
            Route(members + "/{user_id}", self.remove_member, methods=["DELETE"]),
        ]
