"""The content filter on the wire: an abusive word is masked in what is
stored and what is pushed, once."""

from __future__ import annotations

import pytest

from im.content import DEFAULT_ABUSIVE, load_words
from tests.client import User, send_frame

ABUSIVE_WORDS = set(load_words(DEFAULT_ABUSIVE))  # the default list the node uses


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("you idiot!", "you *****!"),
        ("what a MORONIC idea", "what a *****IC idea"),
        ("ＦＵＣＫ off", "**** off"),
        ("你这个傻逼", "你这个**"),
    ],
    ids=["ascii", "case", "full-width", "chinese"],
)
async def test_an_abusive_word_is_masked_when_stored_and_pushed(
    rules: str, text: str, masked: str
) -> None:
    assert {"idiot", "moron", "fuck", "傻逼"} <= ABUSIVE_WORDS
    assert len(masked) == len(text)
    owner = await User.create(rules, "gwcfo")
    member = await User.create(rules, "gwcfm")
    _, conv = await owner.create_group("words", [member])
    ows = await owner.connect("d1")
    mws = await member.connect("d1")
    try:
        await ows.send_json(send_frame(conv, text, "rude"))
        sent, echo = await ows.recv(), await ows.recv()  # `sent` before the own echo
        assert (sent["type"], sent["cmid"], echo["type"]) == ("sent", "rude", "msg"), sent
        assert echo["body"] == {"text": masked} and echo["seq"] == sent["seq"]
        msg = await mws.recv_type("msg")
        assert (msg["seq"], msg["cmid"], msg["from"]) == (sent["seq"], "rude", owner.user_id)
        assert msg["body"] == {"text": masked}
        await mws.send_json({"type": "ack", "conv": conv, "seq": msg["seq"]})
        await ows.send_json({"type": "ack", "conv": conv, "seq": msg["seq"]})

        # A retry: the same `sent`, nothing stored or pushed twice.
        again = await ows.send_text(conv, text, "rude")
        assert (again["seq"], again["ts"]) == (sent["seq"], sent["ts"])
        late = await mws.quiet(0.7)  # the subject: nothing pushed again in this while
        assert not any(f["type"] == "msg" for f in late), late
    finally:
        await ows.close()
        await mws.close()
    r = await member.get(f"/api/conversations/{conv}/messages")
    messages = r.json()["messages"]
    assert [(m["seq"], m["body"]["text"]) for m in messages] == [(1, masked)]
