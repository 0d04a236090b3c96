"""Settings come from the environment in one place, with clear errors."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from im.envconfig import ConfigError, env_names, load, setting
from im.settings import ServerSettings


@dataclass(frozen=True)
class Example:
    secret: str = setting("EX_SECRET", doc="a secret with no default", secret=True)
    port: int = setting("EX_PORT", 80)
    ratio: float = setting("EX_RATIO", 0.5)
    flag: bool = setting("EX_FLAG", False)
    cert: str | None = setting("EX_CERT", None)


def test_missing_required_setting_is_named() -> None:
    with pytest.raises(ConfigError, match="missing required setting EX_SECRET"):
        load(Example, {})


def test_values_are_converted_by_type() -> None:
    ex = load(
        Example,
        {
            "EX_SECRET": "s",
            "EX_PORT": "8443",
            "EX_RATIO": "0.25",
            "EX_FLAG": "yes",
            "EX_CERT": "/c.pem",
        },
    )
    assert ex == Example("s", 8443, 0.25, True, "/c.pem")
    assert load(Example, {"EX_SECRET": "s", "EX_CERT": ""}).cert is None


@pytest.mark.parametrize(
    ("key", "raw"), [("EX_PORT", "eighty"), ("EX_RATIO", "x"), ("EX_FLAG", "maybe")]
)
def test_malformed_value_names_the_variable(key: str, raw: str) -> None:
    with pytest.raises(ConfigError, match=key):
        load(Example, {"EX_SECRET": "s", key: raw})


def test_env_names_lists_every_setting() -> None:
    assert list(env_names(Example)) == [
        ("EX_SECRET", True),
        ("EX_PORT", False),
        ("EX_RATIO", False),
        ("EX_FLAG", False),
        ("EX_CERT", False),
    ]


def test_server_defaults_listen_on_loopback_only() -> None:
    s = load(ServerSettings, {})
    assert s.http_host == "127.0.0.1"
    assert s.redis_url.startswith("redis://127.0.0.1:")
