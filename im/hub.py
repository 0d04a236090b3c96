"""Live connections of this node, fan-out to them, and the wait-ACK queues.

A push writes a frame encoded once for all recipients (im.wire) straight to
each device's transport: the sender never waits for a slow reader, and a
reader whose unsent bytes pass `MAX_BUFFERED_BYTES` is disconnected (it
catches up by sync after reconnecting).

Every pushed `msg` also waits in the device's wait-ACK queue until a
cumulative `ack` covers it; `retransmit()` sends overdue ones again, at most
`retries` times, then gives up on them (the device catches up by sync).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from im import errors as E
from im.wire import FrameWriter, encode

# ~4,000 chat messages waiting in the kernel and transport buffers of one device.
MAX_BUFFERED_BYTES = 1 << 20


# A push waiting for its ack: (wire frame, resend due at, sends so far). A
# tuple of atoms, not an object: the garbage collector stops tracking it at
# its first pass, so ~15,000 of them a second never reach the old generations
# (whose collections were 100+ ms pauses with 1,000 connections).
_Pending = tuple[bytes, float, int]


@dataclass
class _Order:
    """Per conversation on one device: the next seq to push, and pushes held back."""

    next: int
    held: dict[int, bytes] = field(default_factory=dict)
    since: float = 0.0  # when the oldest gap appeared


@dataclass(eq=False)
class Link:
    """One signed-in device's outgoing side."""

    user: str
    device: str
    writer: FrameWriter
    token_digest: str = ""
    # Called once when the link closes: the connection sends the close frame.
    on_close: Callable[[int, str], None] | None = None
    close_code: int | None = None
    close_reason: str = ""
    pending: dict[str, dict[int, _Pending]] = field(default_factory=dict)
    order: dict[str, _Order] = field(default_factory=dict)
    # Until `open()`, pushes wait here, so `auth_ok` is always the first frame.
    early: list[bytes] | None = field(default_factory=list)

    def open(self, first: list[bytes]) -> None:
        early, self.early = self.early or [], None
        for frame in [*first, *early]:
            self.push(frame)

    def expect(self, conv: str, next_seq: int) -> None:
        """Baseline of a conversation: pushes start after what the client already knows."""
        self.order.setdefault(conv, _Order(next_seq))

    def push(self, frame: bytes) -> bool:
        """Write one wire frame (im.wire) to the device now."""
        if self.close_code is not None:
            return False
        if self.early is not None:
            self.early.append(frame)
            return True
        waiting = self.writer.write(frame)
        if waiting < 0:
            return False
        if waiting > MAX_BUFFERED_BYTES:
            self.close(E.CLOSE_TOO_SLOW, "too slow to keep up")
        return True

    def push_msg(self, frame: bytes, conv: str, seq: int, due: float, now: float = 0.0) -> bool:
        """Push in seq order (server-side rectification, 服务端整流).

        Pushes of one conversation can overtake each other (two senders, two
        nodes); a push past a gap waits until the gap fills or the gap healer
        (im.upkeep) fetches the missing messages, so every device sees seq 1,
        2, 3, ... in order.
        """
        o = self.order.get(conv)
        if o is None:
            o = self.order[conv] = _Order(seq)
        if seq > o.next:
            if not o.held:
                o.since = now
            o.held[seq] = frame
            return True
        if seq < o.next:  # older than the baseline: the client knows of it already
            return self._send_msg(frame, conv, seq, due)
        ok = self._send_msg(frame, conv, seq, due)
        o.next = seq + 1
        while o.next in o.held:
            ok = self._send_msg(o.held.pop(o.next), conv, o.next, due) and ok
            o.next += 1
        return ok

    def skip_to(self, conv: str, seq: int, due: float) -> None:
        """Give up waiting for seqs below `seq`; push what was held from there on."""
        o = self.order.get(conv)
        if o is None or o.next >= seq:
            return
        o.next = seq
        while o.next in o.held:
            self._send_msg(o.held.pop(o.next), conv, o.next, due)
            o.next += 1

    def _send_msg(self, frame: bytes, conv: str, seq: int, due: float) -> bool:
        if not self.push(frame):
            return False
        self.pending.setdefault(conv, {})[seq] = (frame, due, 1)
        return True

    def gaps(self, older_than: float) -> list[tuple[str, int, int]]:
        """(conv, first missing seq, first held seq) for gaps open since before `older_than`."""
        return [
            (conv, o.next, min(o.held))
            for conv, o in self.order.items()
            if o.held and o.since <= older_than
        ]

    def ack(self, conv: str, seq: int) -> int:
        """Cumulative: everything of `conv` up to `seq` arrived. Returns how many cleared."""
        waiting = self.pending.get(conv)
        if not waiting:
            return 0
        done = [s for s in waiting if s <= seq]
        for s in done:
            del waiting[s]
        if not waiting:
            del self.pending[conv]
        return len(done)

    def close(self, code: int, reason: str) -> None:
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason
            if self.on_close is not None:
                self.on_close(code, reason)


@dataclass
class RetransmitStats:
    """Plain counts (read by /metrics when scraped: im.gwmetrics); a fan-out adds once."""

    resent: int = 0
    dropped: int = 0
    delivered: int = 0  # msg frames pushed (first sends)
    pushed: int = 0  # other frames pushed


class Hub:
    def __init__(self, ack_timeout_s: float = 5.0, retries: int = 3) -> None:
        self._users: dict[str, dict[str, Link]] = {}
        self.ack_timeout_s = ack_timeout_s
        self.retries = retries
        self.stats = RetransmitStats()

    def attach(self, link: Link) -> Link | None:
        """Register a device; returns the older link of the same device, if any."""
        devices = self._users.setdefault(link.user, {})
        old = devices.get(link.device)
        devices[link.device] = link
        return old

    def detach(self, link: Link) -> bool:
        """Forget a device; True if that was the user's last device on this node."""
        devices = self._users.get(link.user)
        if devices and devices.get(link.device) is link:
            del devices[link.device]
            if not devices:
                del self._users[link.user]
                return True
        return False

    def replace(self, user: str, device: str) -> None:
        """Another node signed this device in again: close ours (4409)."""
        link = self._users.get(user, {}).get(device)
        if link is not None:
            link.close(E.CLOSE_REPLACED, "replaced by a newer connection")

    def revoke(self, user: str, token_digest: str) -> None:
        """The token was logged out: close every socket signed in with it (4401)."""
        for link in self.links(user):
            if link.token_digest == token_digest:
                link.close(E.CLOSE_UNAUTHORIZED, "signed out")

    def sign_out(self, user: str) -> None:
        """The account was disabled: close every socket of the user (4401)."""
        for link in self.links(user):
            link.close(E.CLOSE_UNAUTHORIZED, "account disabled")

    def other_devices(self, user: str, device: str) -> int:
        """How many devices of `user` other than `device` are signed in here."""
        devices = self._users.get(user, {})
        return len(devices) - (device in devices)

    def links(self, user: str) -> list[Link]:
        return list(self._users.get(user, {}).values())

    def users(self) -> list[str]:
        return list(self._users)

    def deliver(self, users: Iterable[str], frame: str | bytes) -> int:
        """A JSON frame for every device of `users`, encoded once."""
        wire = encode(frame)
        n = 0
        for u in users:
            for link in self._users.get(u, {}).values():
                n += link.push(wire)
        self.stats.pushed += n
        return n

    def deliver_msg(
        self, users: Iterable[str], frame: str | bytes, conv: str, seq: int, now: float
    ) -> int:
        """A stored message (JSON `msg` frame) for every device of `users`, encoded once."""
        wire = encode(frame)
        due = now + self.ack_timeout_s
        n = 0
        for u in users:
            for link in self._users.get(u, {}).values():
                n += link.push_msg(wire, conv, seq, due, now)
        self.stats.delivered += n
        return n

    def retransmit(self, now: float) -> None:
        for devices in list(self._users.values()):
            for link in list(devices.values()):
                for conv, waiting in list(link.pending.items()):
                    for seq, (frame, due, sends) in sorted(waiting.items()):
                        if due > now:
                            continue
                        if sends > self.retries:
                            del waiting[seq]
                            self.stats.dropped += 1
                            continue
                        waiting[seq] = (frame, now + self.ack_timeout_s, sends + 1)
                        link.push(frame)
                        self.stats.resent += 1
                    if not waiting:
                        link.pending.pop(conv, None)

    def all_links(self) -> list[Link]:
        return [link for devs in self._users.values() for link in devs.values()]

    def __len__(self) -> int:
        return sum(len(d) for d in self._users.values())
