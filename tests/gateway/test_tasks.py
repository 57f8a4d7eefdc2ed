"""Stopping a background task: it has ended when the stop returns, and only its own
cancellation is swallowed."""

from __future__ import annotations

import asyncio

import pytest
from rtcc_gateway.tasks import cancel_and_wait


async def test_a_running_task_has_ended_when_the_stop_returns() -> None:
    started = asyncio.Event()

    async def forever() -> None:
        started.set()
        await asyncio.Event().wait()

    task = asyncio.create_task(forever())
    await started.wait()
    await cancel_and_wait(task)
    assert task.cancelled()


async def test_no_task_is_nothing_to_stop() -> None:
    await cancel_and_wait(None)


async def test_an_error_the_task_ended_with_is_raised() -> None:
    async def broken() -> None:
        raise RuntimeError("the sweeper broke")

    task = asyncio.create_task(broken())
    await asyncio.wait([task])
    with pytest.raises(RuntimeError, match="the sweeper broke"):
        await cancel_and_wait(task)


async def test_a_caller_cancelled_while_it_waits_still_ends_cancelled() -> None:
    cancel_seen = asyncio.Event()

    async def slow_to_stop() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancel_seen.set()
            await asyncio.Event().wait()  # cleans up until cancelled again

    task = asyncio.create_task(slow_to_stop())
    stopper = asyncio.create_task(cancel_and_wait(task))
    await cancel_seen.wait()  # the stop has cancelled the task and is waiting for its end
    stopper.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stopper
    assert task.done()
