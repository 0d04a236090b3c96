"""Decoding Redis replies (the client decodes already; these also satisfy the types)."""

from __future__ import annotations


def decoded(value: object) -> str:
    """A Redis reply as str."""
    return value.decode() if isinstance(value, bytes) else str(value)


def opt_decoded(value: object) -> str | None:
    """A Redis reply as str, None staying None (a missing key or field)."""
    return None if value is None else decoded(value)
