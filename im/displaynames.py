"""Display names: one visible form, no hidden characters, no system names.

A name is NFKC-normalised (full-width and other compatibility forms fold to
their plain letters), trimmed, and every run of spaces becomes one space;
then cut to 64 characters. Refused: control characters (tabs and line breaks too), format
characters (bidi overrides and isolates, zero-width joiners and spaces, the
BOM, ...), line and paragraph separators, private-use, surrogate and
unassigned code points, and the letters that render as nothing (Hangul
fillers, the braille blank). Also refused: a name that, case-folded with
everything but letters and digits removed, is one of RESERVED, so nobody
looks like the account that speaks for the server ("System", "S Y S T E M",
"Ｓｙｓｔｅｍ", "[system]"). Look-alike letters of other scripts (a Cyrillic
"ѕуѕtем") are not caught: that needs a confusables table.
"""

from __future__ import annotations

import unicodedata

from im import errors as E

MAX_LENGTH = 64
RESERVED = frozenset({"system", "admin", "administrator", "root", "moderator", "server"})
# Categories that never belong in a name: Cc control, Cf format (bidi,
# zero-width), Cs surrogate, Co private use, Cn unassigned, Zl/Zp separators.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
# Code points of other categories that render as blank.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def skeleton(name: str) -> str:
    """Case-folded letters and digits only: what a reader takes the name for."""
    return "".join(ch for ch in name.casefold() if ch.isalnum())


def normalised(raw: str) -> str:
    """The stored form of a display name; 400 `invalid` if it cannot be one."""
    folded = unicodedata.normalize("NFKC", raw)
    for ch in folded:
        if unicodedata.category(ch) in _REFUSED_CATEGORIES or ch in _BLANK_LETTERS:
            raise E.ApiError(
                E.INVALID, "display_name must not hold control or invisible characters", 400
            )
    name = " ".join(folded.split())[:MAX_LENGTH].rstrip()
    if not name:
        raise E.ApiError(E.INVALID, "display_name must not be empty", 400)
    return name


def checked(raw: str, reserved_ok: bool = False) -> str:
    """`normalised`, and refused when it reads as a reserved (system) name."""
    name = normalised(raw)
    if not reserved_ok and skeleton(name) in RESERVED:
        raise E.ApiError(E.INVALID, "this display name is reserved", 400)
    return name
