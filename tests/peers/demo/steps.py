"""The demo's steps: each one that held prints one line; the first that fails names itself."""

from __future__ import annotations

import time
from typing import Final, NoReturn

PREFIX: Final = "demo:"


class StepFailedError(Exception):
    """A step of the story did not hold; its message names the step and why."""

    def __init__(self, step: str, why: str) -> None:
        super().__init__(f"{step}: {why}")
        self.step = step
        self.why = why


def say(line: str) -> None:
    """One line of the story, at once (the outer process relays it to the terminal)."""
    print(f"{PREFIX} {line}", flush=True)


class Steps:
    """Prints steps as they hold, with the seconds since the demo started."""

    def __init__(self) -> None:
        self._start = time.monotonic()
        self.done: list[str] = []

    def ok(self, line: str) -> None:
        self.done.append(line)
        say(f"[{time.monotonic() - self._start:6.1f} s] {line}")

    def fail(self, step: str, why: str) -> NoReturn:
        raise StepFailedError(step, why)


def report_failure(err: StepFailedError) -> None:
    """The line `--check` ends with when a step did not hold."""
    print(f"{PREFIX} FAILED step '{err.step}': {err.why}", flush=True)
