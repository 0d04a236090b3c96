"""The content filter masks exactly what matched, at original positions."""

from __future__ import annotations

import time
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from im import errors as E
from im.content import (
    DEFAULT_ABUSIVE,
    DEFAULT_SENSITIVE,
    ContentFilter,
    FilterResult,
    _fold,
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
    # "ﬁ" (one char) folds to "fi", "Ⅱ" to "ii", "ß" to "ss": whole originals are masked.
    f = ContentFilter(abusive=["idiot", "fight", "strasse"])
    assert f.check("ﬁght club") == FilterResult("**** club", ("abusive",), 1)
    assert f.check("Ⅱdiot?") == FilterResult("*****?", ("abusive",), 1)
    assert f.check("ßß Straße ß") == FilterResult("ßß ****** ß", ("abusive",), 1)
    assert f.check("ＳＴＲＡＳＳＥ") == FilterResult("*******", ("abusive",), 1)


def test_combining_marks() -> None:
    # Decomposed input matches a precomposed word, and the other way round.
    f = ContentFilter(sensitive=["café"], abusive=["cafe\u0301s"])
    assert f.check("un cafe\u0301 noir") == FilterResult("un ***** noir", ("sensitive",), 1)
    assert f.check("des cafés") == FilterResult("des *****", ("abusive", "sensitive"), 2)
    # A mark right after a match goes with its letter.
    g = ContentFilter(abusive=["idiot"])
    assert g.check("idiot\u0301\u0302!") == FilterResult("*******!", ("abusive",), 1)


def test_overlapping_matches_all_masked() -> None:
    f = ContentFilter(abusive=["abc", "bcd", "cdef"])
    assert f.check("xabcdefx") == FilterResult("x******x", ("abusive",), 3)
    g = ContentFilter(abusive=["aa"])
    assert g.check("aaaa.") == FilterResult("****.", ("abusive",), 3)


def test_word_in_both_lists_sets_both_flags() -> None:
    f = ContentFilter(sensitive=["scam", "赌博"], abusive=["SCAM"])
    assert f.check("a scam") == FilterResult("a ****", ("abusive", "sensitive"), 1)
    assert F.check("idiot gambling") == FilterResult("***** ********", ("abusive", "sensitive"), 2)


def test_clean_text_is_not_flagged() -> None:
    text = "Hello, 你好! Let's meet at 3pm. Casino night? no, bonus."
    assert F.check(text) == FilterResult(text, (), 0)
    assert F.check("") == FilterResult("", (), 0)


def test_empty_lists() -> None:
    f = ContentFilter([], [])
    assert f.size == 0
    assert f.check("fuck 傻逼") == FilterResult("fuck 傻逼", (), 0)
    assert ContentFilter(["", "  "]).check("a b") == FilterResult("a b", (), 0)


@pytest.mark.parametrize(
    "unit", ["这是一段正常的文字 plain text. ", "ｆｕｌｌ－ｗｉｄｔｈ ﬁne ｔｅｘｔ "]
)
def test_large_text(unit: str) -> None:
    # 64 Ki characters; the second unit is not NFKC, so it takes the per-cluster path.
    text = (unit * (65536 // len(unit) + 1))[: 65536 - 5] + "ＩＤｉot"
    started = time.perf_counter()
    result = F.check(text)
    elapsed = time.perf_counter() - started
    assert result == FilterResult(text[:-5] + "*****", ("abusive",), 1)
    assert elapsed < 2.0  # linear: well under 100 ms in practice


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
    if result.matched == 0:
        assert result == FilterResult(text, (), 0)
    else:
        assert result.flags and "*" in result.text


@given(st.text(), st.sampled_from(SENSITIVE + ABUSIVE), st.text())
def test_embedded_word_is_masked(before: str, word: str, after: str) -> None:
    text = before + word + after
    result = F.check(text)
    start = len(before)
    assert result.text[start : start + len(word)] == "*" * len(word)
    assert result.matched >= 1
    assert ("abusive" if word in ABUSIVE else "sensitive") in result.flags


@given(st.text())
def test_folding_is_per_character_nfkc_casefold(text: str) -> None:
    pieces = [unicodedata.normalize("NFKC", ch).casefold() for ch in text]
    folded, origin = _fold(text)
    assert folded == "".join(pieces)
    expected = [i for i, piece in enumerate(pieces) for _ in piece]
    assert (origin if origin is not None else list(range(len(text)))) == expected


def test_screen_masks_and_flags_and_leaves_clean_text_alone() -> None:
    assert F.screen("hello") == ("hello", ())
    assert F.screen("you idiot") == ("you *****", ("abusive", "masked"))
    assert F.screen("gambling") == ("********", ("sensitive", "masked"))


def test_screen_in_block_mode_refuses_sensitive_words_only() -> None:
    block = ContentFilter(SENSITIVE, ABUSIVE, mode="block")
    with pytest.raises(E.ApiError) as refused:
        block.screen("idiot gambling")
    assert (refused.value.code, refused.value.status) == (E.CONTENT_BLOCKED, 422)
    assert block.screen("you idiot") == ("you *****", ("abusive", "masked"))
    assert block.screen("hello") == ("hello", ())
