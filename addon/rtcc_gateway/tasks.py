"""How the gateway's parts stop a background task of their own (a sweeper, a watcher, a timer)."""

from __future__ import annotations

import asyncio
from typing import Any


async def cancel_and_wait(task: asyncio.Task[Any] | None) -> None:
    """Cancel `task` and return once it has ended (nothing to do for None).

    Only the task's own cancellation is swallowed: a caller that is itself cancelled while it
    waits still ends cancelled (suppressing every CancelledError would have eaten that one
    too), and an error the task ended with is raised here.
    """
    if task is None:
        return
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise
