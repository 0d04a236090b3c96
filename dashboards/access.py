"""Who sees which dashboard and which console page, by role: one home, used by the
console (python -m console) and by analytics' panel queries (POST /panels/query).

admin: every dashboard and page; manager: the dashboards tagged `cs` (reply rate,
sessions, moderation), the pages `live` and `alerts`; sre: the dashboards tagged
`sre`, the page `alerts`; any other role (agent, user, system): nothing.
The role is read from Redis on every request (im/tokens.py), so a change acts at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

PAGES: Final = ("live", "alerts", "admin")  # the console's pages besides home and dashboards
_TAGS: Final[Mapping[str, str]] = {"manager": "cs", "sre": "sre"}
_PAGES: Final[Mapping[str, tuple[str, ...]]] = {
    "admin": PAGES,
    "manager": ("live", "alerts"),
    "sre": ("alerts",),
}


def may_see(role: str, dashboard: Mapping[str, Any]) -> bool:
    """`dashboard`: a built dashboard (its `tags`)."""
    if role == "admin":
        return True
    tag = _TAGS.get(role)
    return tag is not None and tag in dashboard.get("tags", [])


def visible(role: str, dashboards: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [d for d in dashboards if may_see(role, d)]


def pages(role: str) -> tuple[str, ...]:
    return _PAGES.get(role, ())


def may_open(role: str, page: str) -> bool:
    return page in pages(role)


def is_staff(role: str) -> bool:
    """A role that may sign in to the console at all."""
    return role in _PAGES
