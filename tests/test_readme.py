"""README.md documents every setting the code reads, and the two commands."""

from __future__ import annotations

from pathlib import Path

from alerts.settings import AlertSettings
from analytics.settings import AnalyticsSettings
from console.settings import ConsoleSettings
from im.envconfig import env_names
from im.settings import ServerSettings
from monitor.settings import MonitorSettings
from stack.settings import StackSettings
from streaming.settings import StreamSettings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_every_setting_is_documented() -> None:
    names = {
        n
        for cls in (
            ServerSettings,
            StreamSettings,
            AnalyticsSettings,
            StackSettings,
            MonitorSettings,
            AlertSettings,
            ConsoleSettings,
        )
        for n, _ in env_names(cls)
    }
    missing = sorted(n for n in names if f"`{n}`" not in README)
    assert missing == []


def test_the_two_commands_and_ci() -> None:
    assert "`make run`" in README and "`make test`" in README
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()
    assert ci.strip().endswith("make test")
