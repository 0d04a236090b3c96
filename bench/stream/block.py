"""The streaming benchmark's block of bench/RESULTS.md, between two markers.

`python -m bench` rewrites RESULTS.md and keeps this block (bench/report.py);
`python -m bench.stream` replaces it, or appends it when absent.
"""

from __future__ import annotations

from pathlib import Path

BEGIN = "<!-- streaming:begin -->"
END = "<!-- streaming:end -->"


def extract(text: str) -> str | None:
    """The block (markers included) of `text`, or None."""
    a = text.find(BEGIN)
    b = text.find(END, a + len(BEGIN)) if a >= 0 else -1
    return text[a : b + len(END)] if b >= 0 else None


def extract_from(path: Path) -> str | None:
    try:
        return extract(path.read_text())
    except OSError:
        return None


def replace(text: str, body: str) -> str:
    """`text` with its block replaced by `body` (between new markers), or appended."""
    block = f"{BEGIN}\n{body.strip()}\n{END}"
    old = extract(text)
    if old is not None:
        return text.replace(old, block, 1)
    return f"{text.rstrip()}\n\n{block}\n" if text.strip() else f"{block}\n"


def write(path: Path, body: str) -> None:
    try:
        text = path.read_text()
    except FileNotFoundError:
        text = ""
    path.write_text(replace(text, body))
