"""The server's id forms, made and checked in one place.

Ids are `<kind letter>_<16 lowercase hex>` (`u_` user, `c_` group or
customer-service conversation, `d_` direct conversation, `g_` group, `s_`
session). An id that comes from a client (a path segment, a body field) is
checked against its form before it becomes part of a Redis key, so no input
can name a key of another family (`cs:open:...`, `cs:rr`) and make Redis
answer a type error: it is simply unknown.
"""

from __future__ import annotations

import re
import secrets
from typing import Final

from im import errors as E

_HEX16 = r"[0-9a-f]{16}"
USER: Final = re.compile(rf"u_{_HEX16}")
CONV: Final = re.compile(rf"[cd]_{_HEX16}")
GROUP: Final = re.compile(rf"g_{_HEX16}")
SESSION: Final = re.compile(rf"s_{_HEX16}")


def new(kind: str) -> str:
    """A fresh random id of `kind` (`u`, `c`, `s`; groups reuse their conv's hex)."""
    return f"{kind}_{secrets.token_hex(8)}"


def group_of(conv: str) -> str:
    """The id of the group whose conversation is `conv` (the same hex)."""
    return "g_" + conv[2:]


def is_user(value: str) -> bool:
    return USER.fullmatch(value) is not None


def checked(value: str, form: re.Pattern[str], what: str) -> str:
    """`value` if it has the form of an id, else 404 "no such <what>" (it cannot exist)."""
    if form.fullmatch(value) is None:
        raise E.ApiError(E.NOT_FOUND, f"no such {what}", 404)
    return value
