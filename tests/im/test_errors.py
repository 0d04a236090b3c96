"""Close codes are named: every close in im/ uses a constant of im.errors."""

from __future__ import annotations

import re
from pathlib import Path

from im import errors as E

IM = Path(E.__file__).resolve().parent
# A close (of a link, protocol or socket) given a number instead of a name.
LITERAL_CLOSE = re.compile(r"\bclose\(\s*\d")


def test_no_close_in_im_takes_a_literal_code() -> None:
    found = [
        f"{path.name}:{n}"
        for path in sorted(IM.glob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if LITERAL_CLOSE.search(line)
    ]
    assert found == []


def test_close_codes_are_distinct_and_websocket_codes() -> None:
    codes = {name: v for name, v in vars(E).items() if name.startswith("CLOSE_")}
    assert len(set(codes.values())) == len(codes)
    assert all(1000 <= v <= 1011 or 4000 <= v <= 4999 for v in codes.values())
    assert codes["CLOSE_NORMAL"] == 1000 and codes["CLOSE_TOO_SLOW"] == 1008
