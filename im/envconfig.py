"""The one place that reads the environment.

Every setting of every process is a field of a frozen dataclass declared with
`setting(...)`, which names its environment variable. `load(cls, env)` builds
the object from a mapping (normally `os.environ`), converting by the field's
type and naming the variable in the error when one is missing or malformed.
Because the declarations are data, tests can list every variable the code
reads (docker-compose.yml must set the same names).
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

T = TypeVar("T")

_MISSING = dataclasses.MISSING


class ConfigError(ValueError):
    """A setting is missing or malformed. Not retriable: fix the environment."""


def setting(env: str, default: Any = _MISSING, doc: str = "", secret: bool = False) -> Any:
    """Declare a dataclass field read from environment variable `env`."""
    meta = {"env": env, "doc": doc, "secret": secret}
    if default is _MISSING:
        return dataclasses.field(metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def _convert(name: str, raw: str, typ: Any) -> Any:
    origin = typing.get_origin(typ)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(typ) if a is not type(None)]
        if raw == "":
            return None
        return _convert(name, raw, inner[0])
    try:
        if typ is bool:
            low = raw.strip().lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off", ""):
                return False
            raise ValueError(raw)
        if typ is int:
            return int(raw)
        if typ is float:
            return float(raw)
        if typ is str:
            return raw
        if origin is tuple:
            return tuple(p.strip() for p in raw.split(",") if p.strip())
    except ValueError:
        raise ConfigError(
            f"{name}={raw!r} is not a valid {getattr(typ, '__name__', typ)}"
        ) from None
    raise ConfigError(f"{name}: unsupported setting type {typ!r}")


def load(cls: type[T], env: Mapping[str, str] | None = None, **overrides: Any) -> T:
    """Build settings object `cls` from `env` (default: the process environment)."""
    source = os.environ if env is None else env
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name in overrides:
            values[f.name] = overrides[f.name]
            continue
        name = f.metadata.get("env")
        if name is None:
            continue
        if name in source:
            values[f.name] = _convert(name, source[name], hints[f.name])
        elif f.default is _MISSING and f.default_factory is _MISSING:
            raise ConfigError(f"missing required setting {name} ({f.metadata.get('doc', '')})")
    return cls(**values)


def env_names(cls: type) -> Iterator[tuple[str, bool]]:
    """(variable name, required?) for each setting of `cls`."""
    for f in dataclasses.fields(cls):
        if "env" in f.metadata:
            required = f.default is _MISSING and f.default_factory is _MISSING
            yield f.metadata["env"], required
