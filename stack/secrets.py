"""Secrets of the local stack: from the environment when set, else made once per stack.

Production (docker-compose) takes every secret from the environment. The
local stack needs one more between its own processes — the token the alert
evaluator shows the analytics query API — and nobody should have to invent
it: it is generated on first use into the stack folder (mode 0600) and
reused, unless IM_ANALYTICS_SERVICE_TOKEN is set.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

SERVICE_TOKEN_ENV = "IM_ANALYTICS_SERVICE_TOKEN"  # noqa: S105 - the name, not a secret


def service_token(root: Path) -> str:
    if os.environ.get(SERVICE_TOKEN_ENV):
        return os.environ[SERVICE_TOKEN_ENV]
    path = root / "secrets" / "analytics-service-token"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(32))
    return path.read_text().strip()
