"""Secrets of the local stack: from the environment when set, else made once per stack.

Production (docker-compose) takes every secret from the environment. The
local stack needs one more between its own processes — the token the alert
evaluator shows the analytics query API — and nobody should have to invent
it: it is generated on first use into the stack folder (mode 0600) and
reused, unless IM_ANALYTICS_SERVICE_TOKEN is set. The same for the first
admin's password (IM_ADMIN_PASSWORD), so a newcomer can sign in at once:
`stack up` prints where to read it, and it is never written to a log.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

SERVICE_TOKEN_ENV = "IM_ANALYTICS_SERVICE_TOKEN"  # noqa: S105 - the name, not a secret
ADMIN_USERNAME_ENV = "IM_ADMIN_USERNAME"
ADMIN_PASSWORD_ENV = "IM_ADMIN_PASSWORD"  # noqa: S105 - the name, not a secret
ADMIN_PASSWORD_FILE = "admin-password"  # noqa: S105 - a file name
DEFAULT_ADMIN = "admin"


def _made_once(path: Path) -> str:
    """The secret in `path`, generated (mode 0600) on first use."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(32))
    return path.read_text().strip()


def service_token(root: Path) -> str:
    if os.environ.get(SERVICE_TOKEN_ENV):
        return os.environ[SERVICE_TOKEN_ENV]
    return _made_once(root / "secrets" / "analytics-service-token")


def admin_password_path(root: Path) -> Path:
    return root / "secrets" / ADMIN_PASSWORD_FILE


def first_admin(root: Path, env: Mapping[str, str]) -> tuple[str, str, bool]:
    """(username, password, generated) of the stack's first admin: IM_ADMIN_USERNAME
    (default "admin") and IM_ADMIN_PASSWORD from `env` (the stack's programs'
    environment), else a password generated once into <stack>/secrets/admin-password."""
    username = env.get(ADMIN_USERNAME_ENV) or DEFAULT_ADMIN
    if env.get(ADMIN_PASSWORD_ENV):
        return username, env[ADMIN_PASSWORD_ENV], False
    return username, _made_once(admin_password_path(root)), True
