"""The caddy binary the set-up builds (stack.install.ensure_caddy: the compose file's version).

Tests that run it skip where it is missing on a developer's machine without Go;
under CI (`CI` set) a missing binary fails them instead, so the proxy is never
left untested unnoticed.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from im.envconfig import load
from stack.install import caddy_path
from stack.settings import StackSettings


def caddy_binary() -> Path:
    path = caddy_path(Path(load(StackSettings).cache_dir))
    if not path.exists():
        why = f"no caddy at {path}: `make setup` builds it (needs Go)"
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    return path
