"""Only members see a conversation (PROTOCOL.md): over WebSocket and HTTP."""

from __future__ import annotations

from urllib.parse import quote

import orjson
import pytest

from tests.client import Frame, User
from tests.im.gateway.helpers import assert_clean, send_refused


async def test_a_non_member_gets_forbidden_and_never_the_groups_data(rules: str) -> None:
    owner = await User.create(rules, "gwown")
    outsider = await User.create(rules, "gwout")
    _, conv = await owner.create_group("private", [])
    own = await owner.connect("d1")
    out = await outsider.connect("d1")
    try:
        assert conv not in {c["conv"] for c in out.welcome["convs"]}
        await own.send_text(conv, "secret one")
        await own.send_text(conv, "secret two")
        err = await send_refused(out, conv, "let me in")
        assert err["code"] == "forbidden"
        seen: list[Frame] = []
        for frame in (
            {"type": "sync", "conv": conv, "after": 0, "limit": 200},
            {"type": "read", "conv": conv, "seq": 2},
        ):
            await out.send_json(frame)
            err = await out.recv_type("error", seen=seen)
            assert err["code"] == "forbidden" and "ref" not in err, err
            assert_clean(err)
        await out.send_json({"type": "ack", "conv": conv, "seq": 2})  # harmless, no answer
        seen += await out.quiet(0.5)  # the subject: nothing may come in this while
        assert not any(f["type"] in ("msg", "history", "unread") for f in seen), seen
        assert "secret" not in orjson.dumps(seen).decode()

        r = await outsider.get(f"/api/conversations/{conv}/messages")
        assert r.status_code == 403
        assert r.json()["error"]["code"] == "forbidden"
        assert "secret" not in r.text
        r = await owner.get(f"/api/conversations/{conv}/messages")
        assert [m["body"]["text"] for m in r.json()["messages"]] == ["secret one", "secret two"]
        r = await outsider.get("/api/conversations")
        assert conv not in {c["conv"] for c in r.json()}
    finally:
        await own.close()
        await out.close()


@pytest.mark.parametrize("conv", ["c_0000000000000000", "' OR 1=1 --", "*"])
async def test_history_of_an_unknown_conversation_is_403(rules: str, conv: str) -> None:
    user = await User.create(rules, "gwunk")
    r = await user.get(f"/api/conversations/{quote(conv, safe='')}/messages")
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "forbidden"
    assert_clean({"type": "error", **r.json()["error"]})


async def test_refused_syncs_and_reads_count_toward_the_bad_frame_close(rules: str) -> None:
    # PROTOCOL.md "Close codes" 4400: a sync or read of a conversation the user
    # may not see counts as a bad frame; 20 within a minute close the socket.
    owner, outsider = await User.create(rules, "gwbo"), await User.create(rules, "gwbx")
    _, conv = await owner.create_group("closed door", [])
    out = await outsider.connect("prober")
    for i in range(20):
        if i % 2:
            await out.send_json({"type": "read", "conv": conv, "seq": 1})
        else:
            await out.send_json({"type": "sync", "conv": f"c_{i:016x}", "after": 0})
    frames, code = await out.until_closed(5)
    assert code == 4400
    assert [f["code"] for f in frames] == ["forbidden"] * 20
