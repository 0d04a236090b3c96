"""Who is in which conversation, and what a benchmark message carries.

Client `i` of a scenario with N clients is user `i`. Groups are consecutive
chunks of `group_size` users, direct chats consecutive pairs, so the
conversations of a 1,000-client scenario are a prefix of a 5,000-client
one's and can be reused. Every client sends into its one conversation.

A message's text starts with the time its send was scheduled
(CLOCK_MONOTONIC ns, one clock for every process of the machine) and the
sender's index, so any receiver in any worker process computes the delivery
latency from the scheduled time, and recognises its own echo.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ClientSpec:
    """One simulated device, as handed to a load worker (picklable)."""

    index: int  # 0..N-1, also its phase in the send schedule
    user: str
    token: str
    conv: str  # conversation id (Centrifugo: channel)
    members: int  # members of `conv`, sender included


@dataclass(frozen=True)
class Scenario:
    kind: str  # "group" or "direct"
    clients: int
    group_size: int

    @property
    def size(self) -> int:
        return self.group_size if self.kind == "group" else 2

    @property
    def title(self) -> str:
        what = f"groups of {self.size}" if self.kind == "group" else "direct (2-person) chats"
        return f"{self.clients} clients, {what}"

    def chunks(self) -> list[range]:
        """Member indices of each conversation (a short last chunk if N is not a multiple)."""
        n, k = self.clients, self.size
        out = [range(s, min(s + k, n)) for s in range(0, n, k)]
        if len(out) > 1 and len(out[-1]) < 2:  # a lone member would talk to nobody
            out[-2] = range(out[-2].start, n)
            out.pop()
        return out


def encode_text(sched_ns: int, index: int, size: int) -> str:
    head = f"{sched_ns:x} {index:x} "
    return head + "x" * max(0, size - len(head))


def decode_text(text: str) -> tuple[int, int]:
    """(scheduled ns, sender index) from a benchmark message text."""
    sched, index, _ = text.split(" ", 2)
    return int(sched, 16), int(index, 16)
