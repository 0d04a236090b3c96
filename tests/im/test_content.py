"""The content filter masks exactly what matched, at original positions."""

from __future__ import annotations

import time
import unicodedata
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from im.content import (
    DEFAULT_ABUSIVE,
    DEFAULT_SENSITIVE,
    ContentFilter,
    FilterResult,
    _fold,
    _fold_clusters,
    load_words,
)

SENSITIVE = ["赌博", "代开发票", "gambling", "casino-bonus"]
ABUSIVE = ["傻逼", "操你", "idiot", "moron", "fuck"]
F = ContentFilter(SENSITIVE, ABUSIVE)


def test_masks_exact_positions() -> None:
    assert F.check("you idiot!") == FilterResult("you *****!", ("abusive",), 1)
    assert F.check("idiot moron") == FilterResult("***** *****", ("abusive",), 2)


def test_chinese_words() -> None:
    assert F.check("你这个傻逼。") == FilterResult("你这个**。", ("abusive",), 1)
    assert F.check("专业代开发票，赌博") == FilterResult("专业****，**", ("sensitive",), 2)


def test_case_and_full_width() -> None:
    assert F.check("Fuck off") == FilterResult("**** off", ("abusive",), 1)
    assert F.check("ＦＵＣＫ!") == FilterResult("****!", ("abusive",), 1)
    assert F.check("a ＦｕＣk b") == FilterResult("a **** b", ("abusive",), 1)


def test_length_changing_normalisation_maps_back() -> None:
    # "ﬁ" (one char) folds to "fi"; "Ⅸ" folds to "ix": masks cover whole originals.
    f = ContentFilter(abusive=["idiot", "fight"])
    assert f.check("ﬁght club") == FilterResult("**** club", ("abusive",), 1)
    assert f.check("Ⅸdiot?") == FilterResult("Ⅸ****?", ("abusive",), 1)
    # A combining accent stays with its letter: "e\u0301" matches the word "é".
    g = ContentFilter(sensitive=["café"])
    assert g.check("un cafe\u0301 noir") == FilterResult("un ***** noir", ("sensitive",), 1)


def test_overlapping_matches_all_masked() -> None:
    f = ContentFilter(abusive=["abc", "bcd", "cdef"])
    assert f.check("xabcdefx") == FilterResult("x******x", ("abusive",), 3)
    g = ContentFilter(abusive=["aa"])
    assert g.check("aaaa.") == FilterResult("****.", ("abusive",), 3)


def test_word_in_both_lists_sets_both_flags() -> None:
    f = ContentFilter(sensitive=["scam", "赌博"], abusive=["SCAM"])
    assert f.check("a scam") == FilterResult("a ****", ("abusive", "sensitive"), 1)
    assert F.check("idiot gambling") == FilterResult(
        "***** ********", ("abusive", "sensitive"), 2
    )


def test_clean_text_is_not_flagged() -> None:
    text = "Hello, 你好! Let's meet at 3pm. Casino night? no, bonus."
    assert F.check(text) == FilterResult(text, (), 0)
    assert F.check("") == FilterResult("", (), 0)


def test_empty_lists() -> None:
    f = ContentFilter([], [])
    assert f.size == 0
    assert f.check("fuck 傻逼") == FilterResult("fuck 傻逼", (), 0)
    assert ContentFilter(["", "  "]).check("a b") == FilterResult("a b", (), 0)


def test_large_text() -> None:
    unit = "这是一段正常的文字 plain text. "  # 25 characters
    text = (unit * (65536 // len(unit) + 1))[:65536 - 5] + "idiot"
    started = time.perf_counter()
    result = F.check(text)
    elapsed = time.perf_counter() - started
    assert result.text == text[:-5] + "*****"
    assert result.flags == ("abusive",)
    assert result.matched == 1
    assert elapsed < 1.0  # linear: a few ms in practice


def test_load_words(tmp_path: Path) -> None:
    path = tmp_path / "w.txt"
    path.write_text("\ufeff# header\n\n  idiot  \n傻逼\n   # indented comment\n\tmoron\n")
    assert load_words(path) == ["idiot", "傻逼", "moron"]


def test_default_lists_load() -> None:
    f = ContentFilter.from_files()
    assert load_words(DEFAULT_SENSITIVE) == SENSITIVE
    assert load_words(DEFAULT_ABUSIVE) == ABUSIVE
    assert f.check("赌博 idiot") == FilterResult("** *****", ("abusive", "sensitive"), 2)


@given(st.text())
def test_masking_keeps_length_and_unmatched_characters(text: str) -> None:
    result = F.check(text)
    assert len(result.text) == len(text)
    assert all(m == "*" or m == t for m, t in zip(result.text, text, strict=True))
    assert (result.matched == 0) == (result.text == text or "*" in text and not result.flags)


@given(st.text(), st.sampled_from(SENSITIVE + ABUSIVE), st.text())
def test_embedded_word_is_masked(before: str, word: str, after: str) -> None:
    text = before + word + after
    result = F.check(text)
    start = len(before)
    assert result.text[start : start + len(word)] == "*" * len(word)
    assert result.matched >= 1
    assert ("abusive" if word in ABUSIVE else "sensitive") in result.flags


@given(st.text())
def test_fast_path_agrees_with_per_cluster_folding(text: str) -> None:
    folded, starts, _ = _fold(text)
    assert folded == _fold_clusters(text)[0]
    if starts is None:  # identity map: only NFKC-stable, length-keeping text
        assert unicodedata.is_normalized("NFKC", text)
        assert len(folded) == len(text)
