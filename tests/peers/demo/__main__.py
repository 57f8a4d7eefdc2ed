"""`scripts/demo` on the host: makes the demo's network namespace, runs the story in it
(tests/peers/demo/inner.py) and carries Home Assistant's port out to the host's loopback.

Only the namespace sees the ONVIF simulator's 0.0.0.0 sockets and WS-Discovery's multicast; the
host sees one forwarded HTTP port on 127.0.0.1. Ctrl-C (or SIGTERM) stops the story, which stops
what it started; the namespace's processes die with it (a PID namespace), the temp folder goes.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sys
import tempfile
from pathlib import Path

from ..onvif_sim import free_port
from .forward import serve_unix_as_tcp
from .inner import ROOT, parse

NETNS_SETUP = (
    "ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo && "
    'exec "$@"'
)
STOP_TIMEOUT_S = 120.0  # Home Assistant's shutdown on a loaded machine; then everything is killed
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child before exec: killed if the demo's host process dies (even by SIGKILL)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _story_pid(unshare_pid: int) -> int | None:
    """The story's process (the PID namespace's first), as the host numbers it."""
    path = Path(f"/proc/{unshare_pid}/task/{unshare_pid}/children")
    with contextlib.suppress(OSError, ValueError):
        return int(path.read_text().split()[0])
    return None


async def amain(argv: list[str]) -> int:
    parse(argv)  # bad options fail here, before anything starts
    ha_port = free_port()
    with tempfile.TemporaryDirectory(prefix="rtcc-demo-") as tmp:
        folder = Path(tmp)
        forwarder = await serve_unix_as_tcp(ha_port, folder / "ha.sock")
        story_args = [*argv, "--ha-port", str(ha_port), "--forward-dir", str(folder)]
        story_args += ["--work", str(folder / "work")]
        # Root makes the namespaces itself; anyone else through a user namespace of their own.
        as_user = [] if os.geteuid() == 0 else ["--map-root-user"]
        proc = await asyncio.create_subprocess_exec(
            "unshare", *as_user, "--net", "--pid", "--fork", "--kill-child", "--",
            "sh", "-c", NETNS_SETUP, "sh",
            sys.executable, "-m", "tests.peers.demo.inner", *story_args,
            cwd=ROOT,
            start_new_session=True,  # Ctrl-C reaches this process only; it stops the story
            preexec_fn=_die_with_parent,  # a prctl only: safe before exec
        )  # fmt: skip
        loop = asyncio.get_running_loop()
        stopping = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stopping.set)
        exited = asyncio.ensure_future(proc.wait())
        stop_wait = asyncio.ensure_future(stopping.wait())
        await asyncio.wait({exited, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
        if not exited.done():
            story = _story_pid(proc.pid)
            with contextlib.suppress(ProcessLookupError):
                if story is not None:
                    os.kill(story, signal.SIGTERM)
                else:  # no /proc children list: the whole group (unshare itself ignores it)
                    os.killpg(proc.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(asyncio.shield(exited), STOP_TIMEOUT_S)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()  # --kill-child: the namespace's processes all die with it
                await exited
        stop_wait.cancel()
        forwarder.close()
        await forwarder.wait_closed()
        code = proc.returncode
    return 130 if code is None else code


def main() -> int:
    return asyncio.run(amain(sys.argv[1:]))


if __name__ == "__main__":
    sys.exit(main())
