"""The records every generator writes: `chat.message` and `tick` events of the contract."""

from __future__ import annotations

from typing import Any

from contract import events
from contract.content import content_hash

Event = dict[str, Any]


class ChatLog:
    """Per conversation, the next seq and a ts that never goes back (as the send
    step stores them: one Lua step allocates both on Redis' clock)."""

    def __init__(self, checked: bool = True) -> None:
        self.checked = checked  # check each record against the contract (see events.record)
        self._seq: dict[str, int] = {}
        self._last_ts: dict[str, int] = {}

    def next_seq(self, conv: str) -> int:
        """The seq `message()` gives the next message of `conv`."""
        return self._seq.get(conv, 0) + 1

    def message(
        self,
        conv: str,
        conv_kind: str,
        ts: int,
        node: str,
        sender: str,
        role: str,
        kind: str,
        cmid: str,
        text: str | None = None,
        *,
        text_hash: tuple[str, int] | None = None,
        flags: list[str] | tuple[str, ...] = (),
        session: str | None = None,
        agent: str | None = None,
    ) -> Event:
        """The next message of `conv` (ts moved up to its last one if earlier).

        Either `text` (hashed here) or `text_hash` = (content_hash, text_len)
        for a text that is never materialised."""
        ts = max(ts, self._last_ts.get(conv, 0))
        self._last_ts[conv] = ts
        seq = self._seq[conv] = self._seq.get(conv, 0) + 1
        if text_hash is None:
            assert text is not None, "a text or its hash"
            text_hash = (content_hash(text), len(text))
        extra: Event = {}
        if session is not None:  # cs conversations: the session, and the agent if any
            extra["session"] = session
            if agent is not None:
                extra["agent"] = agent
        return events.record(
            events.CHAT_MESSAGE, id=events.message_id(conv, seq), ts=ts, node=node,
            checked=self.checked, conv=conv, conv_kind=conv_kind, seq=seq, sender=sender,
            sender_role=role, kind=kind, cmid=cmid, text_len=text_hash[1],
            content_hash=text_hash[0], flags=list(flags), **extra,
        )  # fmt: skip


def tick(ts: int, node: str, id: str) -> Event:
    return events.record(events.TICK, id=id, ts=ts, node=node)
