"""`content_hash`: what lets the jobs see repeated messages without their text."""

from __future__ import annotations

import hashlib


def content_hash(text: str) -> str:
    """16 hex digits of SHA-256 over the text with white space and case folded,
    so trivially varied repeats still match. Lone surrogates (which JSON may
    carry) are hashed as they are instead of failing."""
    norm = " ".join(text.split()).casefold()
    return hashlib.sha256(norm.encode("utf-8", "surrogatepass")).hexdigest()[:16]
