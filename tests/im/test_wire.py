"""Frames encoded once (im.wire) are exactly what the websockets library would send."""

from __future__ import annotations

import pytest
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from im.wire import encode, text_frame


def reference(payload: bytes) -> bytes:
    return Frame(Opcode.TEXT, payload).serialize(mask=False)


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 70000])
def test_text_frame_matches_websockets_at_every_length_boundary(size: int) -> None:
    payload = ("é" * size).encode()[:size]
    payload = payload.decode(errors="ignore").encode()  # whole UTF-8 characters only
    assert text_frame(payload) == reference(payload)


def test_a_frame_parses_back_to_its_text() -> None:
    reader = StreamReader()
    reader.feed_data(encode('{"type":"msg","body":{"text":"你好"}}'))
    parser = Frame.parse(reader.read_exact, mask=False)
    try:
        next(parser)
    except StopIteration as done:
        frame = done.value
    else:
        raise AssertionError("frame incomplete")
    assert frame.opcode is Opcode.TEXT and frame.fin
    assert frame.data.decode() == '{"type":"msg","body":{"text":"你好"}}'


def test_encode_takes_text_or_bytes() -> None:
    assert encode("ab") == encode(b"ab") == b"\x81\x02ab"
