"""`python -m stack up` without IM_ADMIN_PASSWORD: a first admin whose password is generated
once into the stack folder (0600), reused, accepted by the node and the console, named by
the printed line and never written to a log. Real processes: the CLI, a server node and
the console, on the session's Redis and Kafka."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from stack.manager import Stack
from tests.conftest import ROOT, TEST_DIR
from tests.ports import free_port

FOLDER = TEST_DIR / "first-admin"


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "stack", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180, check=False)  # fmt: skip


@pytest.fixture
def env(stack: Stack) -> Iterator[dict[str, str]]:
    shutil.rmtree(FOLDER, ignore_errors=True)
    s = stack.settings
    e = {k: v for k, v in os.environ.items() if not k.startswith("IM_")}
    e.update(IM_STACK_DIR=str(FOLDER), IM_REDIS_PORT=str(s.redis_port),
             IM_KAFKA_PORT=str(s.kafka_port), IM_KAFKA_CONTROLLER_PORT=str(free_port()),
             IM_HTTP_PORT=str(free_port()), IM_OPS_PORT=str(free_port()),
             IM_ANALYTICS_PORT=str(free_port()), IM_CONSOLE_PORT=str(free_port()),
             IM_MONITOR_PORT=str(free_port()), IM_ALERT_PORT=str(free_port()),
             IM_FLINK_REST_PORT=str(free_port()), IM_FLINK_RPC_PORT=str(free_port()),
             PYTHONPATH=str(ROOT))  # fmt: skip
    try:
        yield e
    finally:
        cli(e, "down")


def login(base: str, path: str, password: str, headers: dict[str, str] | None = None) -> int:
    body = {"username": "admin", "password": password}
    return httpx.post(f"{base}{path}", json=body, headers=headers, timeout=30).status_code


def test_a_generated_first_admin_signs_in_and_is_never_logged(env: dict[str, str]) -> None:
    up = cli(env, "up", "server-1", "console")
    assert up.returncode == 0, up.stdout + up.stderr
    secret = FOLDER / "secrets" / "admin-password"
    console = f"http://127.0.0.1:{env['IM_CONSOLE_PORT']}"
    assert f"  console: {console}  (sign in as admin; password: cat {secret})" in up.stdout
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    password = secret.read_text().strip()
    assert len(password) >= 32
    node = f"http://127.0.0.1:{env['IM_HTTP_PORT']}"
    assert login(node, "/api/login", password) == 200
    assert login(node, "/api/login", password + "x") == 401
    assert login(console, "/api/session", password, {"x-console": "1"}) == 200

    # Again, after a restart: the same password (not a new one), still accepted.
    assert cli(env, "down").returncode == 0
    again = cli(env, "up", "server-1", "console")
    assert again.returncode == 0, again.stdout + again.stderr
    assert secret.read_text().strip() == password
    assert login(node, "/api/login", password) == 200

    printed = up.stdout + up.stderr + again.stdout + again.stderr
    assert password not in printed
    logs = [p for p in (FOLDER / "logs").rglob("*") if p.is_file()]
    assert {p.name for p in logs} >= {"server-1.log", "console.log"}
    for p in logs:
        assert password not in p.read_text(errors="replace"), p


def test_a_password_from_the_environment_is_used_and_nothing_is_generated(
    env: dict[str, str],
) -> None:
    env = {**env, "IM_ADMIN_USERNAME": "admin", "IM_ADMIN_PASSWORD": "given password 1"}
    up = cli(env, "up", "console")
    assert up.returncode == 0, up.stdout + up.stderr
    assert "(sign in as admin; password: IM_ADMIN_PASSWORD of your environment)" in up.stdout
    assert not (FOLDER / "secrets" / "admin-password").exists()


def test_the_secret_file_is_made_once(tmp_path: Path) -> None:
    from stack.secrets import first_admin

    name, first, generated = first_admin(tmp_path, {})
    assert (name, generated) == ("admin", True)
    assert first_admin(tmp_path, {"IM_ADMIN_USERNAME": "root"})[:2] == ("root", first)
    assert first_admin(tmp_path, {"IM_ADMIN_PASSWORD": "p" * 12}) == ("admin", "p" * 12, False)
