"""A resource that runs one background task, aiokafka-style.

`start()` and `stop()` are safe to call twice, and the object is an async
context manager. Subclasses implement `_run()`, the task's body.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Self


class Background:
    task_name = "background"
    _task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        raise NotImplementedError

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=self.task_name)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
