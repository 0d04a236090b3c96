"""The state engine alone (pure): Prometheus' for / keep_firing_for, Alertmanager's
repeat interval, silences, inhibition, errors, and its state as JSON across a restart."""

from __future__ import annotations

from collections.abc import Sequence

from alerts.engine import Engine
from alerts.evaluate import Results, RuleResult, Series
from alerts.model import Alert, Notification, State, fingerprint
from alerts.rules import Rule

T = 1_795_000_000_000
S = 1000  # ms
NOTES = {"summary": "at {{ $value }}", "description": "node {{ $labels.node }}",
         "runbook_url": "alerts/runbooks/X.md", "dashboard": "/d/x"}  # fmt: skip


def rule(name: str = "Hot", for_s: int = 0, keep_s: int = 0, sql: str = "ops_samples",
         inhibits: Sequence[str] = ()) -> Rule:  # fmt: skip
    labels = {"severity": "warning", "team": "sre"}
    return Rule(name=name, area="t", for_ms=for_s * S, keep_firing_for_ms=keep_s * S,
                labels=labels, annotations=NOTES, source="test",
                sql=f"SELECT 1 FROM {sql}", inhibits=frozenset(inhibits))  # fmt: skip


def res(**rules: float | dict[str, float] | str | None) -> Results:
    """Hot=2.0: one series {} of value 2; Hot={"a": 1}: series node=a; Hot=None: no
    series; Hot="boom": an error."""
    out = Results()
    for name, v in rules.items():
        if isinstance(v, str):
            out[name] = RuleResult(error=v)
        elif v is None:
            out[name] = RuleResult()
        elif isinstance(v, dict):
            out[name] = RuleResult(tuple(Series({"node": n}, x) for n, x in v.items()))
        else:
            out[name] = RuleResult((Series({}, float(v)),))
    return out


def fp(name: str = "Hot", **labels: str) -> str:
    return fingerprint({"alertname": name, "severity": "warning", "team": "sre", **labels})


def run(e: Engine, steps: dict[int, Results]) -> list[tuple[int, str, str]]:
    """Step at T + t s for each t; (t, kind, key) of every notification."""
    out = []
    for t, results in steps.items():
        out += [(t, n.kind.value, n.key) for n in e.step(T + t * S, results)]
    return out


def state(e: Engine, f: str | None = None) -> str:
    alerts = {a.fingerprint: a for a in e.active() + e.recent()}
    a = alerts.get(f or fp())
    return a.state.value if a else "inactive"


def test_pending_from_the_first_true_evaluation_firing_once_for_has_passed() -> None:
    e = Engine([rule(for_s=60)])
    seen = []
    for t in range(0, 76, 15):
        e.step(T + t * S, res(Hot=2.0))
        seen.append((t, state(e)))
    assert seen == [(0, "pending"), (15, "pending"), (30, "pending"), (45, "pending"),
                    (60, "firing"), (75, "firing")]  # fmt: skip
    a = e.active()[0]
    assert (a.active_since_ms, a.fired_at_ms, a.value) == (T, T + 60 * S, 2.0)
    assert a.annotations["summary"] == "at 2"


def test_one_evaluation_short_of_for_never_fires_and_a_cleared_pending_alert_is_dropped() -> None:
    e = Engine([rule(for_s=60)])
    notes = run(e, {0: res(Hot=1.0), 30: res(Hot=1.0), 59: res(Hot=1.0), 60: res(Hot=None)})
    assert notes == []
    assert state(e) == "inactive"
    assert e.dump() == {}


def test_for_zero_fires_at_the_first_evaluation_and_resolves_at_the_first_without() -> None:
    e = Engine([rule()])
    notes = run(e, {0: res(Hot=1.0), 15: res(Hot=1.0), 30: res(Hot=None)})
    assert notes == [
        (0, "firing", f"{fp()}:{T}:firing:0"),
        (30, "resolved", f"{fp()}:{T}:resolved:0"),
    ]
    (a,) = e.recent()
    assert (a.state, a.fired_at_ms, a.resolved_at_ms) == (State.RESOLVED, T, T + 30 * S)


def test_resolved_alerts_are_recent_for_keep_resolved_then_dropped() -> None:
    e = Engine([rule()], keep_resolved_ms=600 * S)
    run(e, {0: res(Hot=1.0), 10: res(Hot=None), 609: res(Hot=None)})
    assert [a.fingerprint for a in e.recent()] == [fp()]
    run(e, {610: res(Hot=None)})
    assert e.recent() == [] and e.dump() == {}


def test_keep_firing_for_counts_from_the_first_evaluation_without_the_series() -> None:
    e = Engine([rule(keep_s=60)])
    notes = run(e, {0: res(Hot=1.0), 10: res(Hot=None), 40: res(Hot=None), 69: res(Hot=None)})
    assert [n[1] for n in notes] == ["firing"] and state(e) == "firing"
    assert run(e, {70: res(Hot=None)}) == [(70, "resolved", f"{fp()}:{T}:resolved:0")]


def test_a_series_back_within_keep_firing_for_restarts_its_count() -> None:
    e = Engine([rule(keep_s=60)])
    run(e, {0: res(Hot=1.0), 10: res(Hot=None), 50: res(Hot=3.0), 60: res(Hot=None)})
    assert run(e, {110: res(Hot=None)}) == []  # 50 s since the series left again at 60
    assert state(e) == "firing" and e.active()[0].value == 3.0
    assert [n[1] for n in run(e, {120: res(Hot=None)})] == ["resolved"]


def test_pending_alerts_are_not_kept_firing() -> None:
    e = Engine([rule(for_s=30, keep_s=60)])
    run(e, {0: res(Hot=1.0), 10: res(Hot=None)})
    assert state(e) == "inactive"


def test_repeat_every_interval_while_firing_each_with_its_own_key() -> None:
    e = Engine([rule()], repeat_interval_ms=100 * S)
    steps = {t: res(Hot=1.0) for t in range(0, 301, 50)} | {350: res(Hot=None)}
    assert run(e, steps) == [
        (0, "firing", f"{fp()}:{T}:firing:0"),
        (100, "repeat", f"{fp()}:{T}:repeat:1"),
        (200, "repeat", f"{fp()}:{T}:repeat:2"),
        (300, "repeat", f"{fp()}:{T}:repeat:3"),
        (350, "resolved", f"{fp()}:{T}:resolved:0"),
    ]


def test_back_after_resolving_it_is_pending_again_and_fires_under_a_new_key() -> None:
    e = Engine([rule(for_s=20)])
    notes = run(e, {0: res(Hot=1.0), 20: res(Hot=1.0), 30: res(Hot=None), 40: res(Hot=1.0),
                    50: res(Hot=1.0), 60: res(Hot=1.0)})  # fmt: skip
    assert notes == [(20, "firing", f"{fp()}:{T + 20 * S}:firing:0"),
                     (30, "resolved", f"{fp()}:{T + 20 * S}:resolved:0"),
                     (60, "firing", f"{fp()}:{T + 60 * S}:firing:0")]  # fmt: skip


def test_series_are_alerts_of_their_own() -> None:
    e = Engine([rule()])
    run(e, {0: res(Hot={"a": 1, "b": 2}), 10: res(Hot={"b": 5})})
    assert state(e, fp(node="a")) == "resolved" and state(e, fp(node="b")) == "firing"
    b = next(a for a in e.active() if a.fingerprint == fp(node="b"))
    assert (b.value, b.annotations["description"], b.labels["node"]) == (5.0, "node b", "b")


def test_a_silence_holds_firing_and_repeats_back_but_not_the_state() -> None:
    e = Engine([rule()], repeat_interval_ms=100 * S)
    run(e, {0: res(Hot=None)})
    assert e.silence(fp(), T) is False  # no such alert yet
    e.step(T, res(Hot=1.0))
    assert e.silence(fp(), T + 150 * S) is True
    notes = run(e, {t: res(Hot=1.0) for t in (10, 100, 149, 150, 200, 250)})
    assert state(e) == "firing"
    # The FIRING went out at 0, before the silence; the repeat due at 100 waits for its end.
    assert notes == [
        (150, "repeat", f"{fp()}:{T}:repeat:1"),
        (250, "repeat", f"{fp()}:{T}:repeat:2"),
    ]


def test_an_alert_that_fired_under_a_silence_is_told_when_it_ends_if_still_firing() -> None:
    e = Engine([rule(for_s=10)])  # silenced while pending, so it fires under the silence
    run(e, {0: res(Hot=1.0)})
    e.silence(fp(), T + 60 * S)
    assert run(e, {10: res(Hot=1.0), 50: res(Hot=1.0)}) == []
    assert run(e, {60: res(Hot=1.0)}) == [(60, "firing", f"{fp()}:{T + 10 * S}:firing:0")]


def test_resolved_is_sent_only_for_alerts_that_were_told_silence_or_not() -> None:
    told = Engine([rule()])
    run(told, {0: res(Hot=1.0)})
    told.silence(fp(), T + 999 * S)
    assert run(told, {10: res(Hot=None)}) == [(10, "resolved", f"{fp()}:{T}:resolved:0")]
    untold = Engine([rule(for_s=10)])
    run(untold, {0: res(Hot=1.0)})
    untold.silence(fp(), T + 999 * S)
    assert run(untold, {10: res(Hot=1.0), 20: res(Hot=None)}) == []
    assert state(untold) == "resolved"


def test_a_silence_survives_the_alert_resolving_and_coming_back() -> None:
    e = Engine([rule()])
    run(e, {0: res(Hot=1.0)})
    e.silence(fp(), T + 100 * S)
    assert run(e, {10: res(Hot=None), 20: res(Hot=1.0)}) == [
        (10, "resolved", f"{fp()}:{T}:resolved:0")
    ]
    assert run(e, {100: res(Hot=1.0)}) == [(100, "firing", f"{fp()}:{T + 20 * S}:firing:0")]


def test_a_rule_in_error_keeps_its_alerts_as_they_were_and_says_nothing() -> None:
    e = Engine([rule(for_s=10)], repeat_interval_ms=50 * S)
    run(e, {0: res(Hot=1.0), 10: res(Hot=1.0)})
    assert run(e, {t: res(Hot="ClickHouse down") for t in range(20, 200, 10)}) == []
    a = e.active()[0]
    assert (a.state, a.fired_at_ms, a.last_true_ms) == (State.FIRING, T + 10 * S, T + 10 * S)
    assert run(e, {200: res(Hot=None)}) == [(200, "resolved", f"{fp()}:{T + 10 * S}:resolved:0")]


def test_missing_results_count_as_an_error_not_as_no_series() -> None:
    e = Engine([rule()])
    run(e, {0: res(Hot=1.0), 10: Results()})
    assert state(e) == "firing"


def test_an_inhibiting_rule_holds_the_rules_over_its_tables_while_pending_or_firing() -> None:
    stale = rule("Stale", for_s=30, sql="ops_samples", inhibits=["ops_samples"])
    ops, cs = rule("Ops", sql="ops_samples"), rule("Cs", sql="reply_rates")
    e = Engine([ops, cs, stale])  # the inhibiting rule goes first whatever the order
    run(e, {0: res(Ops=1.0, Cs=1.0, Stale=None)})
    # Telemetry stops: Stale goes pending; Ops' series is gone but it is held, not resolved.
    assert run(e, {10: res(Ops=None, Cs=None, Stale=40.0)}) == [
        (10, "resolved", f"{fp('Cs')}:{T}:resolved:0")
    ]
    assert e.inhibited == {"Ops"}
    assert state(e, fp("Ops")) == "firing" and state(e, fp("Stale")) == "pending"
    notes = run(e, {40: res(Ops=None, Stale=70.0), 100: res(Ops=2.0, Stale=None)})
    assert notes == [(40, "firing", f"{fp('Stale')}:{T + 40 * S}:firing:0"),
                     (100, "resolved", f"{fp('Stale')}:{T + 40 * S}:resolved:0")]  # fmt: skip
    assert e.inhibited == set() and e.active()[0].value == 2.0  # evaluated again
    assert [n[1] for n in run(e, {110: res(Ops=None, Stale=None)})] == ["resolved"]


def test_alerts_of_a_rule_that_is_gone_resolve() -> None:
    e = Engine([rule("Old"), rule()])
    run(e, {0: res(Old=1.0, Hot=1.0)})
    later = Engine([rule()])
    later.load(e.dump())
    assert run(later, {10: res(Hot=1.0)}) == [(10, "resolved", f"{fp('Old')}:{T}:resolved:0")]


def test_state_round_trips_through_json_across_a_restart() -> None:
    """kill -9 after a persisted step: the restarted engine says nothing twice and the
    later RESOLVED still comes; a step repeated after a crash before the persist makes
    the same keys (delivery de-duplicates them)."""
    e = Engine([rule(for_s=10)], repeat_interval_ms=100 * S)
    run(e, {0: res(Hot=1.0)})
    e.silence(fp(), T + 5 * S)
    fired = run(e, {10: res(Hot=1.0)})
    saved = {k.encode(): v.encode() for k, v in e.dump().items()}  # as HGETALL gives them
    assert set(saved) == {fp().encode()}
    again = Engine([rule(for_s=10)], repeat_interval_ms=100 * S)
    again.load(saved)
    assert again.dump() == e.dump()
    assert run(again, {20: res(Hot=1.0), 60: res(Hot=1.0)}) == []  # no second FIRING
    assert run(again, {110: res(Hot=1.0), 120: res(Hot=None)}) == [
        (110, "repeat", f"{fp()}:{T + 10 * S}:repeat:1"),
        (120, "resolved", f"{fp()}:{T + 10 * S}:resolved:0"),
    ]
    crashed = Engine([rule(for_s=10)], repeat_interval_ms=100 * S)
    crashed.load(saved)  # the FIRING of step 10 was delivered, its state not yet saved
    crashed.load({k: v.replace(b'"last_notified_ms":' + str(T + 10 * S).encode(),
                               b'"last_notified_ms":null') for k, v in saved.items()})  # fmt: skip
    assert run(crashed, {20: res(Hot=1.0)}) == [(20, fired[0][1], fired[0][2])]


def test_alert_json_keeps_every_field_and_ignores_unknown_ones() -> None:
    a = Alert({"alertname": "Hot", "node": "a"}, {"summary": "s"}, State.FIRING, 0.5, T,
              fired_at_ms=T + 1, last_true_ms=T + 2, last_notified_ms=T + 3,
              silenced_until_ms=T + 4, keep_firing_since_ms=T + 5, repeats=2)  # fmt: skip
    assert Alert.from_json(a.to_json()) == a
    assert Alert.from_json(a.to_json()[:-1] + ',"later_field":1}') == a


def test_notifications_carry_a_snapshot_of_the_alert() -> None:
    e = Engine([rule()])
    (n,) = e.step(T, res(Hot=1.0))
    e.step(T + S, res(Hot=7.0))
    assert isinstance(n, Notification) and n.alert.value == 1.0 and n.at_ms == T
