"""Key prefixes have one home, im/keys.py: nobody else writes one literally.

Every string literal of the Python packages and of the Lua scripts is read
(Python through `tokenize`, Lua with a small scanner that skips comments); a
literal that starts with a declared prefix, is a fixed key, or starts like
an undeclared prefix (`word:` then the end or an f-string `{`) fails the
test, unless it is one of the few ids below that only look like keys.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterator
from pathlib import Path

import pytest

from im import keys

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (
    "contract",
    "im",
    "streaming",
    "analytics",
    "stack",
    "bench",
    "traffic",
    "dashboards",
    "alerts",
    "monitor",
)
KEYS_PY = ROOT / "im" / "keys.py"
LUA_DIR = ROOT / "im" / "lua"

# Literals that look like keys but are ids of other things: (file, literal) -> why.
NOT_KEYS = {
    ("contract/events.py", '"m:"'): "chat.message event id prefix (its one home)",
    ("contract/events.py", '"s:"'): "session event id prefix (its one home)",
    ("contract/events.py", '"n:"'): "connection event id prefix (its one home)",
    ("contract/events.py", '"t:"'): "tick event id prefix (its one home)",
    ("contract/events.py", '"o:"'): "ops sample event id prefix (its one home)",
    ("im/cs.py", 'f"cs:{sid}:{n}:{what}"'): "cmid of a session notice (a message id)",
    ("im/loginlimit.py", '"sha256:"'): "digest form of a long id inside a key",
    ("streaming/checkpoints.py", '"file:"'): "a URL scheme (checkpoint storage)",
}

_HEAD = re.compile(r"(?:[a-z][a-z0-9_]*:)+")
_PY_STRING = re.compile(r"(?s)[rRbBuUfF]*('''|\"\"\"|'|\")(.*)\1")
_LUA_STRING = re.compile(r"""--[^\n]*|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*\"""")


def offence(body: str) -> str | None:
    """Why the text of a string literal spells a key, or None."""
    if body in keys.FIXED.values():
        return f"fixed key {body!r}"
    for prefix in keys.PREFIXES.values():
        if body.startswith(prefix):
            return f"key prefix {prefix!r}"
    head = _HEAD.match(body)
    if head and (head.end() == len(body) or body[head.end()] == "{"):
        return f"{head.group()!r}, a prefix im/keys.py does not declare"
    return None


def python_literals(source: str) -> Iterator[tuple[int, str, str]]:
    """(line, literal as written, its text) of every string literal."""
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.STRING:
            m = _PY_STRING.fullmatch(tok.string)
            assert m, tok.string
            yield tok.start[0], tok.string, m.group(2)


def lua_literals(source: str) -> Iterator[tuple[int, str, str]]:
    """(line, literal as written, its text) of every quoted string outside comments."""
    for m in _LUA_STRING.finditer(source):
        if not m.group().startswith("--"):
            yield source.count("\n", 0, m.start()) + 1, m.group(), m.group()[1:-1]


def offences(path: str, source: str) -> list[str]:
    literals = lua_literals(source) if path.endswith(".lua") else python_literals(source)
    return [
        f"{path}:{line}: {written} writes {why}"
        for line, written, text in literals
        if (why := offence(text)) and (path, written) not in NOT_KEYS
    ]


def scanned_files() -> list[Path]:
    files = sorted(LUA_DIR.glob("*.lua"))
    for package in PACKAGES:
        files += sorted((ROOT / package).rglob("*.py"))
    return [f for f in files if f != KEYS_PY]


def test_no_key_prefix_outside_keys_py() -> None:
    files = scanned_files()
    assert len(files) > 50 and LUA_DIR / "send.lua" in files
    found = [
        problem
        for f in files
        for problem in offences(str(f.relative_to(ROOT)), f.read_text(encoding="utf-8"))
    ]
    assert not found, "\n".join(found)


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("x.lua", "redis.call('HGET', 'cf:' .. conv, user)"),
        ("x.lua", 'redis.call("ZADD", "csq", now, sid)'),
        ("x.lua", "local k = 'zz:' .. id"),  # undeclared
        ("x.py", 'p.hget(f"cf:{conv}", uid)\n'),
        ("x.py", 'r.get("cf:" + conv)\n'),
        ("x.py", "r.incr('cs:rr')\n"),
        ("x.py", 'r.get(b"ag:load:" + a)\n'),
        ("x.py", 'r.get(f"zz:{x}")\n'),  # undeclared
        ("im/cs.py", 'key = f"cs:{sid}"\n'),  # the allowed cmid is one exact literal
    ],
)
def test_a_planted_literal_is_caught(path: str, source: str) -> None:
    assert len(offences(path, source)) == 1


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("x.lua", "-- own:{conv}:{user} in a comment\nlocal k = K_OWN_SEQS .. conv .. ':' .. u"),
        ("x.lua", "redis.call('HGET', ckey, 'kind')"),
        ("x.py", '"""A docstring naming `pr:{uid}`."""\n'),
        ("x.py", 'log.warning("relay: %s", e)\nurl = "redis://localhost:6379"\n'),
        ("x.py", "k = keys.former_members(conv)\n"),
        ("im/cs.py", 'cmid = f"cs:{sid}:{n}:{what}"\n'),
    ],
)
def test_no_false_alarm(path: str, source: str) -> None:
    assert offences(path, source) == []


def test_every_prefix_is_declared_once() -> None:
    names = [*keys.PREFIXES.values(), *keys.FIXED.values()]
    assert len(names) == len(set(names))
    for prefix in keys.PREFIXES.values():
        assert _HEAD.fullmatch(prefix), prefix  # words ending in ':', as the scan expects


def test_docstring_table_lists_every_key() -> None:
    """The table at the top of im/keys.py names exactly the declared keys."""
    assert keys.__doc__
    row = r"(?m)^([a-z][\w:]*(?:\{\w+\}[\w:]*)*) +(?:hash|str|int|set|zset|stream|pub/sub)\b"
    rows = re.findall(row, keys.__doc__)
    heads = {row.split("{", 1)[0] if "{" in row else row for row in rows}
    declared = set(keys.PREFIXES.values()) | set(keys.FIXED.values())
    assert heads == declared
