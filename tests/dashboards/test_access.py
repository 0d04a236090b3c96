"""dashboards/access.py on the built dashboards: who sees which board and page."""

from __future__ import annotations

from dashboards import access, catalog

BOARDS = catalog.load()


def uids(role: str) -> list[str]:
    return [d["uid"] for d in access.visible(role, BOARDS)]


def test_each_role_sees_its_dashboards() -> None:
    assert uids("admin") == [d["uid"] for d in BOARDS] and len(BOARDS) == 7
    assert uids("manager") == ["im-cs-reply-rate", "im-cs-sessions", "im-moderation"]
    assert uids("sre") == ["im-gateway", "im-host", "im-kafka-pipeline", "im-redis"]
    for role in ("agent", "user", "bot", "system", ""):
        assert uids(role) == [] and access.pages(role) == () and not access.is_staff(role)


def test_every_dashboard_has_a_team_besides_admins() -> None:
    """A new dashboard without the cs or sre tag would be the admins' alone: caught here."""
    for d in BOARDS:
        assert access.may_see("manager", d) != access.may_see("sre", d), d["uid"]


def test_pages() -> None:
    assert access.pages("admin") == ("live", "alerts", "admin")
    assert access.pages("manager") == ("live", "alerts")
    assert access.pages("sre") == ("alerts",)
    assert access.may_open("manager", "live") and not access.may_open("sre", "live")
    assert not access.may_open("manager", "admin") and access.may_open("admin", "admin")
