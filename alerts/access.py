"""Who sees and silences which alerts, by role (read from Redis on every call,
so a role change takes effect at once).

`sre` and `admin`: every alert. `manager`: the customer-service team's
(`cs`). Everyone else: none. Seeing an alert is being allowed to silence it,
by `POST /api/alerts/{fingerprint}/silence` or `/silence` in the chat.
"""

from __future__ import annotations

from alerts.model import TEAMS

_TEAMS_OF_ROLE: dict[str, tuple[str, ...]] = {"admin": TEAMS, "sre": TEAMS, "manager": ("cs",)}


def teams_of(role: str) -> tuple[str, ...]:
    """The teams whose alerts `role` sees (and may silence)."""
    return _TEAMS_OF_ROLE.get(role, ())


def may_silence(role: str, team: str) -> bool:
    return team in teams_of(role)


def silencers(team: str) -> tuple[str, ...]:
    """The roles that may silence the team's alerts."""
    return tuple(role for role, teams in _TEAMS_OF_ROLE.items() if team in teams)


def team_of(labels_team: str) -> str:
    """Where an alert belongs: its `team` label, `sre` for any other."""
    return labels_team if labels_team in TEAMS else "sre"
