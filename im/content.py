"""Sensitive and abusive word filtering (Aho-Corasick, one pass over the text).

Normalisation is per character: each character is replaced by
`NFKC(ch).casefold()` (full-width `ＦＵＣＫ` -> `fuck`, `ﬁ` -> `fi`, Latin case),
both in the word lists and in the text. Some characters fold to several, so
every folded character remembers the original character it came from, and a
match masks the original characters, never shifted ones: the masked text
always has the length of the input and only matched characters differ (they
become `*`). A match that covers part of a character's folding masks the
whole character, and combining marks right after a match are masked with it.

Why per character and not NFKC of the whole text: whole-text NFKC composes
across characters, which breaks the position map. The one thing it would add,
matching a decomposed accent (`e` + U+0301) against a precomposed word
(`é`) and back, is covered by listing each word in both its NFC and its NFD
spelling.

The fold table (about 6,300 characters whose folding is not themselves) is
built once per process, in about 0.25 s, by the first ContentFilter. After
that `check` is C-speed translation plus one automaton pass; only text with
characters that fold to several (`ß`, `ﬁ`, ...) pays a Python step per such
character.

Matching is by substring (no word boundaries: `idiot` also masks the start
of `idiotic`), the usual choice for Chinese, and what the lists should be
written for. Separators inserted between letters (`f.u.c.k`) are not removed.
"""

from __future__ import annotations

import functools
import os
import re
import sys
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import ahocorasick

from im import errors as E

ABUSIVE = "abusive"
SENSITIVE = "sensitive"
_ABUSIVE_BIT, _SENSITIVE_BIT = 1, 2
_BITS = ((ABUSIVE, _ABUSIVE_BIT), (SENSITIVE, _SENSITIVE_BIT))  # sorted by flag name

WORDS_DIR = Path(__file__).resolve().parent / "words"
DEFAULT_SENSITIVE = WORDS_DIR / "sensitive.txt"
DEFAULT_ABUSIVE = WORDS_DIR / "abusive.txt"


@dataclass(frozen=True)
class FilterResult:
    text: str  # the input with every matched character replaced by "*"
    flags: tuple[str, ...]  # sorted subset of ("abusive", "sensitive")
    matched: int  # number of matches (overlapping ones included)


def load_words(path: str | os.PathLike[str]) -> list[str]:
    """Words of a list file: one a line, UTF-8, `#` comment lines and blanks skipped."""
    words: list[str] = []
    with open(path, encoding="utf-8-sig") as f:
        for line in f:
            word = line.strip()
            if word and not word.startswith("#"):
                words.append(word)
    return words


@functools.cache
def _fold_table() -> tuple[dict[int, str], re.Pattern[str]]:
    """ord -> folding of every character that does not fold to itself, and a
    pattern finding the characters that fold to more than one."""
    table: dict[int, str] = {}
    for cp in range(sys.maxunicode + 1):
        folded = unicodedata.normalize("NFKC", chr(cp)).casefold()
        if folded != chr(cp):
            table[cp] = folded
    longer = "".join(re.escape(chr(cp)) for cp, f in table.items() if len(f) > 1)
    return table, re.compile(f"[{longer}]")


def _fold(text: str) -> tuple[str, list[int] | None]:
    """Folded text and the original index of each folded character
    (None when folding is one-to-one: folded[i] comes from text[i])."""
    if text.isascii():
        return text.lower(), None
    table, longer = _fold_table()
    folded = text.translate(table)
    if len(folded) == len(text):  # no character folds to "" (NFKC, casefold)
        return folded, None
    origin: list[int] = []
    done = 0
    for m in longer.finditer(text):
        i = m.start()
        origin.extend(range(done, i))
        origin.extend([i] * len(table[ord(text[i])]))
        done = i + 1
    origin.extend(range(done, len(text)))
    return folded, origin


class ContentFilter:
    """Built once from the two lists; `check` is one pass over the text."""

    def __init__(
        self, sensitive: Iterable[str] = (), abusive: Iterable[str] = (), mode: str = "mask"
    ) -> None:
        self.mode = mode  # "block": a sensitive word refuses the message (screen)
        bits: dict[str, int] = {}
        for words, bit in ((abusive, _ABUSIVE_BIT), (sensitive, _SENSITIVE_BIT)):
            for word in map(str.strip, words):
                for form in ("NFC", "NFD"):  # composed and decomposed accents
                    spelling = unicodedata.normalize(form, word)
                    if folded := _fold(spelling)[0]:
                        bits[folded] = bits.get(folded, 0) | bit
        self.size = len(bits)  # distinct folded spellings
        self._automaton: ahocorasick.Automaton | None = None
        if bits:
            automaton = ahocorasick.Automaton()
            for folded, bit in bits.items():
                automaton.add_word(folded, (len(folded), bit))
            automaton.make_automaton()
            self._automaton = automaton

    @classmethod
    def from_files(
        cls,
        sensitive: str | os.PathLike[str] = DEFAULT_SENSITIVE,
        abusive: str | os.PathLike[str] = DEFAULT_ABUSIVE,
        mode: str = "mask",
    ) -> ContentFilter:
        return cls(load_words(sensitive), load_words(abusive), mode)

    def check(self, text: str) -> FilterResult:
        if self._automaton is None or not text:
            return FilterResult(text, (), 0)
        folded, origin = _fold(text)
        spans: list[tuple[int, int]] = []
        bits = 0
        for last, (length, bit) in self._automaton.iter(folded):
            first = last - length + 1
            start, end = (
                (origin[first], origin[last] + 1) if origin is not None else (first, last + 1)
            )
            while end < len(text) and unicodedata.combining(text[end]):
                end += 1
            spans.append((start, end))
            bits |= bit
        if not spans:
            return FilterResult(text, (), 0)
        pieces: list[str] = []
        done = 0  # text[:done] is in pieces
        for start, end in sorted(spans):
            if end > done:
                start = max(start, done)
                pieces += (text[done:start], "*" * (end - start))
                done = end
        pieces.append(text[done:])
        flags = tuple(name for name, bit in _BITS if bits & bit)
        return FilterResult("".join(pieces), flags, len(spans))

    def screen(self, text: str) -> tuple[str, tuple[str, ...]]:
        """Word filtering of a message: (text to store, flags for the event).

        Matches are masked; in `block` mode a sensitive word refuses the
        message instead. Abusive words are always masked and flagged, never
        refused: the abusive-user rule downstream counts them.
        """
        result = self.check(text)
        if not result.matched:
            return text, ()
        if self.mode == "block" and SENSITIVE in result.flags:
            raise E.ApiError(E.CONTENT_BLOCKED, "the message contains blocked words", 422)
        return result.text, (*result.flags, "masked")
