"""Reading `/silence` commands (no Redis), and what the alert messages say."""

from __future__ import annotations

import pytest

from alerts.chatcommands import USAGE, Silence, is_command, parse
from alerts.chattext import alert_body, number, span, utc
from alerts.model import Kind, State
from tests.alerts.helpers import T0, alert, notification


@pytest.mark.parametrize(
    ("text", "silence"),
    [
        ("/silence 1h", Silence(None, 3600)),
        ("  /silence   45m ", Silence(None, 2700)),
        ("/silence 1h30m", Silence(None, 5400)),
        ("/silence 1d", Silence(None, 86400)),
        ("/silence 7d", Silence(None, 604800)),
        ("/silence 90s", Silence(None, 90)),
        ("/silence 1a2B 30m", Silence("1a2b", 1800)),
        ("/silence 0123456789abcdef 2h", Silence("0123456789abcdef", 7200)),
    ],
)
def test_a_silence_command(text: str, silence: Silence) -> None:
    assert is_command(text)
    assert parse(text) == silence


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("/silence", USAGE),
        ("/silence a b c", USAGE),
        ("/silence abcd please", "'please' is no duration (e.g. 45m, 2h, 1h30m, 1d); " + USAGE),
        ("/silence 1h 1h", "'1h' is no fingerprint (4-16 hex digits); " + USAGE),
        ("/silence abc 1h", "'abc' is no fingerprint (4-16 hex digits); " + USAGE),
        ("/silence 60", "'60' is no duration (e.g. 45m, 2h, 1h30m, 1d); " + USAGE),
        ("/silence 0m", "a silence lasts from 1s to 7d"),
        ("/silence 8d", "a silence lasts from 1s to 7d"),
        ("/silence 1w", "'1w' is no duration (e.g. 45m, 2h, 1h30m, 1d); " + USAGE),
    ],
)
def test_what_is_no_silence_says_why(text: str, why: str) -> None:
    assert parse(text) == why


def test_only_the_command_word_makes_a_command() -> None:
    assert not is_command("/silenced 1h") and not is_command("silence 1h")
    assert not is_command("") and not is_command("please /silence 1h")


def test_times_values_and_spans_as_people_read_them() -> None:
    assert utc(T0) == "2023-11-14 22:13:20 UTC"
    assert [span(ms) for ms in (0, 45_000, 240_000, 7_500_000, 266_400_000)] == [
        "0s", "45s", "4m 0s", "2h 5m", "3d 2h"]  # fmt: skip
    assert [number(v) for v in (0.0, 3.0, 0.912345, 12345678.9, float("nan"))] == [
        "0", "3", "0.9123", "1.235e+07", "nan"]  # fmt: skip


def test_a_repeat_and_a_message_without_links() -> None:
    a = alert("QueueLong", team="cs", severity="warning", value=31)
    del a.annotations["runbook_url"], a.annotations["dashboard"]
    body = alert_body(notification(a, Kind.REPEAT, T0 + 3_600_000), "http://x")
    assert body["text"].split("\n") == [
        "STILL FIRING · warning · QueueLong", "QueueLong on the stack",
        "value 31 · since 2023-11-14 22:14:20 UTC",
        f"fingerprint {a.fingerprint} · reply /silence 1h to silence it"]  # fmt: skip
    assert (body["alert"]["kind"], body["alert"]["runbook_url"], body["alert"]["dashboard"]) == (
        "repeat", None, None)  # fmt: skip
    a.state = State.RESOLVED
    gone = alert_body(notification(a, Kind.RESOLVED, T0 + 120_000), "http://x")
    assert gone["alert"]["resolved_at"] == T0 + 120_000  # no resolved_at: the notification's time
