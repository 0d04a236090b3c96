"""Per-worker recording of one step: only sends scheduled inside the window count."""

from __future__ import annotations

from array import array

from bench.stats import WorkerStep, new_samples


class Recorder:
    def __init__(self) -> None:
        self.active = False
        self.win_start = 0
        self.win_end = 0
        self.step = WorkerStep()
        self.sent_us: array[int] = new_samples()
        self.msg_us: array[int] = new_samples()
        self.lag_us: array[int] = new_samples()

    def start(self, win_start_ns: int, win_end_ns: int) -> None:
        self.step = WorkerStep()
        self.sent_us, self.msg_us, self.lag_us = new_samples(), new_samples(), new_samples()
        self.win_start, self.win_end, self.active = win_start_ns, win_end_ns, True

    def finish(self) -> WorkerStep:
        self.active = False
        s = self.step
        s.sent_us, s.msg_us, s.lag_us = (
            self.sent_us.tobytes(),
            self.msg_us.tobytes(),
            self.lag_us.tobytes(),
        )
        return s

    def _in(self, sched_ns: int) -> bool:
        return self.active and self.win_start <= sched_ns < self.win_end

    def sending(self, sched_ns: int, members: int, now_ns: int) -> None:
        if self._in(sched_ns):
            self.step.sends += 1
            self.step.expected += members - 1
            self.lag_us.append(max(0, now_ns - sched_ns) // 1000)

    def sent(self, sched_ns: int, now_ns: int) -> None:
        if self._in(sched_ns):
            self.step.sent_ok += 1
            self.sent_us.append(max(0, now_ns - sched_ns) // 1000)

    def msg(self, sched_ns: int, now_ns: int) -> None:
        if self._in(sched_ns):
            self.step.delivered += 1
            self.msg_us.append(max(0, now_ns - sched_ns) // 1000)

    def echo(self, sched_ns: int) -> None:
        if self._in(sched_ns):
            self.step.echoes += 1

    def duplicate(self, sched_ns: int) -> None:
        if self._in(sched_ns):
            self.step.duplicates += 1

    def error(self, code: str) -> None:
        if self.active:
            self.step.errors[code] += 1

    def refused(self, sched_ns: int, members: int, code: str) -> None:
        """A send the server refused: counted as an error, its deliveries not expected."""
        if self._in(sched_ns):
            self.step.errors[code] += 1
            self.step.refused += 1
            self.step.expected -= members - 1

    def closed(self, code: int | None) -> None:
        if self.active:
            self.step.closed += 1
            self.step.errors[f"close {code}"] += 1
