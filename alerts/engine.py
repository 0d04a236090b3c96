"""The alert state machine: pure (no I/O), stepped with each evaluation's results.

Per fingerprint (alerts.model.fingerprint of the rule's and the series' labels
with alertname), as Prometheus' rules/alerting.go does it:
- a series seen for the first time, or again after it resolved, is PENDING
  from that evaluation (`active_since_ms`); it goes FIRING at the first
  evaluation at least `for` later (at once with `for: 0s`); a pending series
  that disappears is dropped (INACTIVE, nothing said);
- a firing series that disappears stays firing while `keep_firing_for` has not
  passed since the first evaluation without it, then RESOLVED; it comes back
  as PENDING if it returns, and resolved alerts are dropped after
  `keep_resolved_ms` (the "recent" list).
Notifications: FIRING when it goes firing, REPEAT every `repeat_interval_ms`
while it still fires (Alertmanager's repeat_interval), RESOLVED when it
resolves, only if something was said about it. A silence (fingerprint → until)
holds FIRING and REPEAT back, not the state: an alert that fired under a
silence is announced when the silence ends if it still fires, and its RESOLVED
is sent only if its FIRING was. Each key (fingerprint, fired_at, kind, repeat
number) is unique per transition and the same when a step is repeated after a
crash, so delivery de-duplicates by it: deliver, then `dump()` the state.

Rules whose result is an error, or whose SQL reads a table that a pending or
firing rule `inhibits` (the telemetry-stopped rule over ops_samples), are not
evaluated this step: their alerts keep their state and say nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from alerts import template
from alerts.evaluate import Results, Series
from alerts.model import Alert, Kind, Notification, State, fingerprint
from alerts.rules import Rule

HOUR_MS = 3_600_000
LIVE = (State.PENDING, State.FIRING)


class Engine:
    def __init__(
        self,
        rules: Sequence[Rule],
        repeat_interval_ms: int = 4 * HOUR_MS,
        keep_resolved_ms: int = HOUR_MS,
    ) -> None:
        self.rules = {r.name: r for r in rules}
        # Inhibiting rules first: their state this step decides who is inhibited.
        self._order = sorted(rules, key=lambda r: not r.inhibits)
        self.repeat_interval_ms, self.keep_resolved_ms = repeat_interval_ms, keep_resolved_ms
        self._alerts: dict[str, Alert] = {}
        self.inhibited: frozenset[str] = frozenset()  # rules held back in the last step

    def step(self, now_ms: int, results: Results) -> list[Notification]:
        """Advance every alert to `now_ms` with this evaluation's results."""
        out: list[Notification] = []
        held: set[str] = set()  # rules not evaluated: inhibited or in error
        inhibited: set[str] = set()
        blocked: set[str] = set()  # tables inhibited by a pending or firing rule
        for rule in self._order:
            result = results.get(rule.name)
            if not rule.inhibits and rule.tables & blocked:
                inhibited.add(rule.name)
            elif result is not None and result.error is None:
                out += self._update(rule, result.series, now_ms)
                if rule.inhibits and any(a.state in LIVE for a in self._of(rule.name)):
                    blocked |= rule.inhibits
                continue
            held.add(rule.name)
        for name in {a.name for a in self._alerts.values()} - set(self.rules):
            out += self._update(None, (), now_ms, name)  # its rule is gone: its series too
        out += self._notify(now_ms, held)
        for fp, a in list(self._alerts.items()):
            if (
                a.state is State.RESOLVED
                and now_ms - (a.resolved_at_ms or 0) >= self.keep_resolved_ms
            ):
                del self._alerts[fp]
            elif a.silenced_until_ms is not None and now_ms >= a.silenced_until_ms:
                a.silenced_until_ms = None
        self.inhibited = frozenset(inhibited)
        return out

    def _of(self, name: str) -> list[Alert]:
        return [a for a in self._alerts.values() if a.name == name]

    def _update(
        self, rule: Rule | None, series: Sequence[Series], now: int, name: str = ""
    ) -> list[Notification]:
        """One rule's alerts after an evaluation that returned `series` (Prometheus' Eval)."""
        seen: set[str] = set()
        for s in series:
            assert rule is not None
            labels = rule.alert_labels(s.labels)
            notes = {k: template.render(v, labels, s.value) for k, v in rule.annotations.items()}
            fp = fingerprint(labels)
            seen.add(fp)
            a = self._alerts.get(fp)
            if a is not None and a.state in LIVE:
                a.value, a.annotations, a.last_true_ms = s.value, notes, now
                a.keep_firing_since_ms = None
            else:  # new, or back after it resolved: pending again (a silence carries over)
                silenced = a.silenced_until_ms if a is not None else None
                self._alerts[fp] = Alert(labels, notes, State.PENDING, s.value, now,
                                         last_true_ms=now, silenced_until_ms=silenced)  # fmt: skip
        out: list[Notification] = []
        for fp, a in list(self._alerts.items()):
            if a.name != (rule.name if rule else name) or a.state not in LIVE:
                continue
            if fp not in seen:
                keep = rule.keep_firing_for_ms if rule else 0
                if a.state is State.FIRING and keep > 0:
                    if a.keep_firing_since_ms is None:
                        a.keep_firing_since_ms = now
                    if now - a.keep_firing_since_ms < keep:
                        continue
                if a.state is State.PENDING:
                    del self._alerts[fp]
                    continue
                a.state, a.resolved_at_ms = State.RESOLVED, now
                if a.last_notified_ms is not None:
                    out.append(_note(Kind.RESOLVED, a, now, 0))
            elif a.state is State.PENDING and rule and now - a.active_since_ms >= rule.for_ms:
                a.state, a.fired_at_ms = State.FIRING, now
        return out

    def _notify(self, now: int, held: set[str]) -> list[Notification]:
        """FIRING for firing alerts nothing was said of yet, REPEAT when the interval passed."""
        out: list[Notification] = []
        for a in self._alerts.values():
            if a.state is not State.FIRING or a.name in held or a.name not in self.rules:
                continue
            if a.silenced_until_ms is not None and now < a.silenced_until_ms:
                continue
            if a.last_notified_ms is None:
                out.append(_note(Kind.FIRING, a, now, 0))
            elif now - a.last_notified_ms >= self.repeat_interval_ms:
                a.repeats += 1
                out.append(_note(Kind.REPEAT, a, now, a.repeats))
            else:
                continue
            a.last_notified_ms = now
        return out

    def silence(self, fingerprint: str, until_ms: int) -> bool:
        """Hold the alert's notifications back until `until_ms`; False if no such alert."""
        a = self._alerts.get(fingerprint)
        if a is None:
            return False
        a.silenced_until_ms = until_ms
        return True

    def active(self) -> list[Alert]:
        """Pending and firing alerts, oldest first."""
        return sorted((a for a in self._alerts.values() if a.state in LIVE),
                      key=lambda a: (a.active_since_ms, a.fingerprint))  # fmt: skip

    def recent(self) -> list[Alert]:
        """Resolved alerts kept for `keep_resolved_ms`, newest first."""
        done = [a for a in self._alerts.values() if a.state is State.RESOLVED]
        return sorted(done, key=lambda a: (-(a.resolved_at_ms or 0), a.fingerprint))

    def dump(self) -> dict[str, str]:
        """Fingerprint -> JSON alert, every alert kept (the evaluator's `al:state` hash;
        fingerprints missing from it since the last dump are gone)."""
        return {fp: a.to_json() for fp, a in self._alerts.items()}

    def load(self, state: Mapping[Any, str | bytes]) -> None:
        """Replace the alerts with a `dump()` (e.g. HGETALL al:state after a restart)."""
        alerts = (Alert.from_json(v) for v in state.values())
        self._alerts = {a.fingerprint: a for a in alerts}


def _note(kind: Kind, a: Alert, now: int, n: int) -> Notification:
    snapshot = dataclasses.replace(a, labels=dict(a.labels), annotations=dict(a.annotations))
    return Notification(kind, snapshot, now, f"{a.fingerprint}:{a.fired_at_ms}:{kind.value}:{n}")
