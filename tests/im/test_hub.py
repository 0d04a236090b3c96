"""Link and Hub fan-out logic with a recording writer (no sockets)."""

from __future__ import annotations

from im.hub import MAX_BUFFERED_BYTES, Hub, Link
from im.wire import encode
from tests.im.sansio import Recorder


def test_pushes_wait_for_open_so_the_welcome_is_first() -> None:
    rec = Recorder()
    lk = Link("u", "d", rec)
    assert lk.push(b"early")
    assert rec.frames == []
    lk.open([b"welcome"])
    assert rec.frames == [b"welcome", b"early"]


def test_one_encoding_is_written_to_every_device_of_every_member() -> None:
    hub = Hub()
    recs = [Recorder() for _ in range(3)]
    hub.attach(Link("a", "phone", recs[0], early=None))
    hub.attach(Link("a", "laptop", recs[1], early=None))
    hub.attach(Link("b", "phone", recs[2], early=None))
    assert hub.deliver_msg(["a", "b", "nobody"], b'{"type":"msg"}', "c1", 1, 0.0) == 3
    assert [r.frames for r in recs] == [[encode(b'{"type":"msg"}')]] * 3
    assert recs[0].frames[0] is recs[2].frames[0]  # the same bytes object, encoded once


def test_pushes_are_rectified_into_seq_order() -> None:
    rec = Recorder()
    lk = Link("u", "d", rec, early=None)
    lk.expect("c", 1)
    for seq in (2, 3, 1, 4):
        lk.push_msg(f"m{seq}".encode(), "c", seq, due=5.0)
    assert rec.frames == [b"m1", b"m2", b"m3", b"m4"]


def test_a_reader_past_the_backlog_limit_is_closed_once_with_1008() -> None:
    rec, closes = Recorder(), list[tuple[int, str]]()
    lk = Link("u", "d", rec, early=None, on_close=lambda c, r: closes.append((c, r)))
    rec.backlog = MAX_BUFFERED_BYTES
    assert lk.push(b"at the limit")
    assert closes == []
    rec.backlog = MAX_BUFFERED_BYTES + 1
    assert lk.push(b"over it")
    assert closes == [(1008, "too slow to keep up")]
    assert not lk.push(b"after the close")
    assert rec.frames == [b"at the limit", b"over it"]
    lk.close(1000, "again")
    assert closes == [(1008, "too slow to keep up")]  # on_close runs once


def test_a_gone_connection_counts_no_delivery_and_keeps_nothing_pending() -> None:
    rec = Recorder()
    lk = Link("u", "d", rec, early=None)
    rec.gone = True
    assert not lk.push_msg(b"m1", "c", 1, due=5.0)
    assert lk.pending == {}


def test_unacked_pushes_are_resent_then_given_up() -> None:
    hub = Hub(ack_timeout_s=1.0, retries=2)
    rec = Recorder()
    lk = Link("u", "d", rec, early=None)
    hub.attach(lk)
    hub.deliver_msg(["u"], b"m1", "c", 1, now=0.0)
    hub.deliver_msg(["u"], b"m2", "c", 2, now=0.0)
    lk.ack("c", 1)
    for t in (1.0, 2.0, 3.0):
        hub.retransmit(t)
    assert rec.frames == [encode(b"m1"), encode(b"m2"), encode(b"m2"), encode(b"m2")]
    assert (hub.stats.resent, hub.stats.dropped) == (2, 1)
    assert lk.pending == {}
