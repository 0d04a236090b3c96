"""Sensitive and abusive word filtering (Aho-Corasick, one pass over the text).

Normalisation: text and words are both folded the same way before matching,
NFKC (full-width `ＦＵＣＫ` -> `FUCK`, ligatures, ...) then `casefold()` (Latin
case). Both can change the length, so the text is folded per *cluster* (a
character with the combining marks that follow it) and every folded character
remembers the span of original characters it came from; a match masks the
original span, never a shifted one. The masked text therefore always has the
length of the input, and only matched characters differ (they become `*`).
Text that is already NFKC and whose case folding keeps the length (ASCII,
most Chinese) skips the per-cluster loop: its folding is the identity map.

Matching is by substring (no word boundaries, so `idiot` also masks the start
of `idiotic`); that is the usual choice for Chinese and is what the lists
should be written for. Separators inserted between letters (`f.u.c.k`) are
not removed.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import ahocorasick

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


def _fold(text: str) -> tuple[str, list[int] | None, list[int] | None]:
    """Folded text and, per folded character, its original [start, end) span.

    The maps are None when folding is one-to-one (folded[i] comes from text[i]).
    """
    if unicodedata.is_normalized("NFKC", text):
        folded = text.casefold()
        if len(folded) == len(text):  # casefold never maps a character to ""
            return folded, None, None
    return _fold_clusters(text)


def _fold_clusters(text: str) -> tuple[str, list[int], list[int]]:
    """The general case of `_fold`: NFKC + casefold of each cluster on its own."""
    parts: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        while j < n and unicodedata.combining(text[j]):
            j += 1
        piece = unicodedata.normalize("NFKC", text[i:j]).casefold()
        parts.append(piece)
        starts.extend([i] * len(piece))
        ends.extend([j] * len(piece))
        i = j
    return "".join(parts), starts, ends


class ContentFilter:
    """Built once from the two lists; `check` is one pass over the text."""

    def __init__(self, sensitive: Iterable[str] = (), abusive: Iterable[str] = ()) -> None:
        bits: dict[str, int] = {}
        for words, bit in ((abusive, _ABUSIVE_BIT), (sensitive, _SENSITIVE_BIT)):
            for word in words:
                folded = _fold(word.strip())[0]
                if folded:
                    bits[folded] = bits.get(folded, 0) | bit
        self.size = len(bits)
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
    ) -> ContentFilter:
        return cls(load_words(sensitive), load_words(abusive))

    def check(self, text: str) -> FilterResult:
        if self._automaton is None or not text:
            return FilterResult(text, (), 0)
        folded, starts, ends = _fold(text)
        spans: list[tuple[int, int]] = []
        bits = 0
        for last, (length, bit) in self._automaton.iter(folded):
            first = last - length + 1
            start = starts[first] if starts is not None else first
            end = ends[last] if ends is not None else last + 1
            spans.append((start, end))
            bits |= bit
        if not spans:
            return FilterResult(text, (), 0)
        depth = [0] * (len(text) + 1)  # difference array: overlaps cost O(1) each
        for start, end in spans:
            depth[start] += 1
            depth[end] -= 1
        out: list[str] = []
        open_ = 0
        for i, ch in enumerate(text):
            open_ += depth[i]
            out.append("*" if open_ else ch)
        flags = tuple(name for name, bit in _BITS if bits & bit)
        return FilterResult("".join(out), flags, len(spans))
