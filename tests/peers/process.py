"""The peers' child processes: starting one that says when it is ready, ending them, and what
runs under a process (Linux /proc)."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any


async def run_console(*argv: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """A console script (`argv`) as its own process, its output captured; the loop runs on."""
    return await asyncio.to_thread(
        subprocess.run, list(argv), capture_output=True, text=True, timeout=timeout, check=False
    )


def stop_process(proc: subprocess.Popen[Any], timeout: float) -> None:
    """Ask the process to end (SIGTERM); kill it if it has not ended within `timeout` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def children(pid: int) -> set[int]:
    """The direct children of a process (Linux /proc)."""
    found: set[int] = set()
    with contextlib.suppress(FileNotFoundError, ProcessLookupError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                found.update(int(p) for p in (task / "children").read_text().split())
    return found


def cmdline(pid: int) -> list[str]:
    """A process's command line ([] once it is gone)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


@contextlib.contextmanager
def announcing(
    argv: list[str], *, stop_timeout: float, stderr: int = subprocess.PIPE
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """Run a child that prints one line once it is ready; yields it and that line, stripped
    (empty if it ended first). On exit it is stopped (killed if need be) and its pipes closed."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=stderr, text=True)
    try:
        assert proc.stdout is not None
        yield proc, proc.stdout.readline().strip()
    finally:
        stop_process(proc, timeout=stop_timeout)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
