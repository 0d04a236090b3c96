"""Wait for a condition instead of sleeping a fixed time before an assert.

`await wait_until(predicate, timeout, what=...)` polls `predicate` (a plain
function or a coroutine function) until it returns a truthy value, and returns
that value; after `timeout` seconds it raises `WaitTimeout`, an
AssertionError naming `what` and the last value seen. `wait_until_sync` is
the same for code that is not async.

A sleep stays only where time passing is the test's subject (a deadline
expiring, traffic paced, a window for something that must NOT happen), with
a comment that says so.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

T = TypeVar("T")


class WaitTimeout(AssertionError):
    """The condition did not hold within the time given."""


def _timed_out(what: str, timeout: float, last: object) -> WaitTimeout:
    seen = repr(last)
    if len(seen) > 300:
        seen = seen[:300] + "..."
    return WaitTimeout(f"{what or 'condition'} not met within {timeout:g}s (last: {seen})")


@overload
async def wait_until(
    predicate: Callable[[], Awaitable[T | None]],
    timeout: float = ...,
    what: str = ...,
    interval: float = ...,
) -> T: ...


@overload
async def wait_until(
    predicate: Callable[[], T | None], timeout: float = ..., what: str = ..., interval: float = ...
) -> T: ...


async def wait_until(
    predicate: Callable[[], Any],
    timeout: float = 10.0,
    what: str = "",
    interval: float = 0.05,
) -> Any:
    """The first truthy value of `predicate()` (awaited if it is a coroutine),
    polled every `interval` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() >= deadline:
            raise _timed_out(what, timeout, value)
        await asyncio.sleep(interval)


def wait_until_sync(
    predicate: Callable[[], T | None], timeout: float = 10.0, what: str = "", interval: float = 0.05
) -> T:
    """`wait_until` for synchronous code: blocks the thread between polls."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() >= deadline:
            raise _timed_out(what, timeout, value)
        time.sleep(interval)
    return value
