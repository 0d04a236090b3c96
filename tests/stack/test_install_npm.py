"""stack/install.py's `npm ci` for the console page: run when node_modules is missing or its
lock changed, not otherwise (real npm, on a package with no dependencies: no download)."""

from __future__ import annotations

import json
from pathlib import Path

from stack.install import CONSOLE_WEB, ensure_npm


def _package(folder: Path, version: str) -> None:
    folder.mkdir(exist_ok=True)
    (folder / "package.json").write_text(json.dumps({"name": "p", "version": version}))
    lock = {"name": "p", "version": version, "lockfileVersion": 3, "requires": True,
            "packages": {"": {"name": "p", "version": version}}}  # fmt: skip
    (folder / "package-lock.json").write_text(json.dumps(lock))


def test_npm_ci_runs_once_per_lock(tmp_path: Path) -> None:
    said: list[str] = []
    web = tmp_path / "web"
    _package(web, "1.0.0")
    ensure_npm(web, said.append)
    assert len(said) == 1 and "npm ci" in said[0]
    assert (web / "node_modules" / ".installed-lock").exists()
    ensure_npm(web, said.append)
    assert len(said) == 1  # same lock: nothing to do
    _package(web, "1.0.1")
    ensure_npm(web, said.append)
    assert len(said) == 2  # the lock changed
    ensure_npm(tmp_path / "no-package-here", said.append)
    assert len(said) == 2


def test_the_console_page_lock_pins_its_charting_library() -> None:
    lock = json.loads((CONSOLE_WEB / "package-lock.json").read_text())
    deps = json.loads((CONSOLE_WEB / "package.json").read_text())["dependencies"]
    assert set(deps) == {"uplot"}
    assert lock["packages"]["node_modules/uplot"]["version"] == deps["uplot"]
    assert lock["packages"]["node_modules/uplot"]["integrity"].startswith("sha512-")
