"""The city's side of the story: `rtcc-city` files and follows the request, ffprobe reads frames
through the link, a raw RTSP viewer times the cut at the window's end, `rtcc-gateway audit verify`
checks the hash chain."""

from __future__ import annotations

import asyncio
import json
import re
import time
from datetime import datetime
from typing import Any

from ..real_hass import LATITUDE, LONGITUDE
from ..rtsp_client import RtspRefusedError, play
from .stack import AGENCY_ID, Stack
from .steps import StepFailedError

GOP_PACKETS = 15  # the camera's key-int-max (its fps)
FRAMES = 10
CUT_GRACE_S = 30.0  # how long after ends_at a link may stay open before the run is broken
VERIFIED = re.compile(r"^ok: (\d+) records, head (\S+)$")


async def run(*args: str, timeout: float = 120) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return -1, "", f"{args[0]} did not finish within {timeout:g} s"
    assert proc.returncode is not None
    return proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")


async def rtcc_city(stack: Stack, step: str, command: str, *args: str) -> dict[str, Any]:
    common = ["--gateway", stack.public_url, "--key", str(stack.key_file), "--key-id", AGENCY_ID]
    code, out, err = await run("rtcc-city", command, *common, *args)
    if code != 0:
        raise StepFailedError(step, f"rtcc-city {command} exited {code}: {err.strip()[-400:]}")
    return dict(json.loads(out))


async def file_request(stack: Stack, window_s: int) -> dict[str, Any]:
    """A signed request for the camera at the home; it must wait for the owner."""
    step = "request waiting for the owner"
    answer = await rtcc_city(
        stack,
        step,
        "request",
        "--incident", "DEMO-0001",
        "--offense", "burglary",
        "--reason", "Break-in reported next door; suspect seen leaving towards the street",
        "--lat", str(LATITUDE),
        "--lon", str(LONGITUDE),
        "--radius", "300",
        "--duration", str(window_s),
    )  # fmt: skip
    if answer.get("status") != "pending":
        raise StepFailedError(
            step,
            f"the gateway answered {answer.get('status')!r} with shares "
            f"{[s.get('status') for s in answer.get('shares', [])]} (is the camera's consent on?)",
        )
    return answer


async def wait_decided(stack: Stack, request_id: str, timeout: float) -> dict[str, Any]:
    """`rtcc-city status --wait`: long-polls until the owner decided."""
    step = "owner approved the request"
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        answer = await rtcc_city(stack, step, "status", request_id, "--wait", "30")
        if answer.get("status") != "pending":
            break
        if loop.time() > end:
            raise StepFailedError(step, f"still pending after {timeout:g} s")
    if answer.get("status") != "approved":
        raise StepFailedError(step, f"the request is {answer.get('status')!r}, not approved")
    return answer


def live_share(answer: dict[str, Any]) -> dict[str, Any]:
    (share,) = answer["shares"]
    if share.get("status") != "live" or "rtsp" not in share.get("links", {}):
        raise StepFailedError("owner approved the request", f"the share is {share}")
    return dict(share)


async def frames_through(link: str) -> int:
    """Decoded video frames ffprobe read through the city's link (at least FRAMES)."""
    step = "frames read through the link"
    code, out, err = await run(
        "ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-select_streams", "v:0",
        "-read_intervals", f"%+#{FRAMES + 2 * GOP_PACKETS}", "-count_frames",
        "-show_entries", "stream=nb_read_frames,codec_name,width,height", "-of", "json", link,
        timeout=60,
    )  # fmt: skip
    if code != 0:
        raise StepFailedError(step, f"ffprobe exited {code}: {err.strip()[-400:]}")
    streams = json.loads(out).get("streams") or [{}]
    read = int(streams[0].get("nb_read_frames") or 0)
    if read < FRAMES:
        raise StepFailedError(step, f"ffprobe decoded {read} frames, wanted {FRAMES}")
    return read


async def cut_at_window_end(link: str, ends_at: str) -> tuple[float, int]:
    """A viewer on the link until the door closes it: (ms after ends_at, bytes it read)."""
    step = "link cut at the window's end"
    try:
        viewer = await play(link)
    except (RtspRefusedError, OSError, TimeoutError) as err:
        raise StepFailedError(step, f"the viewer could not start: {err!r}") from None
    end_wall = datetime.fromisoformat(ends_at).timestamp()
    wait = max(0.0, end_wall - time.time()) + CUT_GRACE_S
    offset = time.time() - time.monotonic()  # the wall clock of a monotonic reading
    ended = await viewer.read_until_end(timeout=wait)
    viewer.close()
    if ended is None:
        raise StepFailedError(
            step, f"the link still carried video {CUT_GRACE_S:g} s after {ends_at}"
        )
    if viewer.bytes_in == 0:
        raise StepFailedError(step, "the viewer got no video before the cut")
    late_ms = (ended + offset - end_wall) * 1000
    if late_ms < -1000:
        raise StepFailedError(step, f"the link was cut {-late_ms:.0f} ms before the window's end")
    return late_ms, viewer.bytes_in


async def refused_after(link: str) -> str:
    """A new viewer of the ended link is turned away."""
    try:
        viewer = await play(link)
    except RtspRefusedError as err:
        return str(err)
    viewer.close()
    raise StepFailedError("ended link refused", "the door let a new viewer in after the window")


async def audit_verified(stack: Stack) -> tuple[int, str]:
    """`rtcc-gateway audit verify` over the gateway's database: (records, head)."""
    step = "audit log verified"
    code, out, err = await run("rtcc-gateway", "audit", "verify", "--data-dir", str(stack.data_dir))
    match = VERIFIED.match(out.strip())
    if code != 0 or match is None:
        raise StepFailedError(step, f"audit verify exited {code}: {(out + err).strip()[-400:]}")
    return int(match.group(1)), match.group(2)
