"""The story, run inside a loopback-only network namespace (the demo's own, or scripts/test's).

    python -m tests.peers.demo.inner [--check] [--interactive] [--window S] [--consent on|off]
                                     [--ha-port P] [--forward-dir DIR] [--work DIR]

Prints one line per step that held; exits 0 when all did (with --check), 1 naming the first that
did not, and otherwise keeps everything running until SIGTERM/SIGINT, then stops it all.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import sys
import tempfile
import traceback
from pathlib import Path

from ..onvif_sim import isolated_namespace
from ..real_hass import OWNER_NAME, OWNER_PASSWORD
from . import city, owner, panel
from .forward import serve_tcp_as_unix
from .stack import CAMERA_NAME, Stack, owner_api, start_stack
from .steps import StepFailedError, Steps, report_failure, say

ROOT = Path(__file__).resolve().parents[3]
PANEL_PATH = "/rtcc-share"
APPROVAL_WAIT_S = 600.0  # --interactive: the gateway's approval timeout


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/demo", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="run once, exit 0 only if all held")
    parser.add_argument("--interactive", action="store_true", help="you approve in the panel")
    parser.add_argument("--window", type=int, default=60, help="the share's seconds (min 60)")
    parser.add_argument(
        "--consent",
        choices=["on", "off"],
        default=os.environ.get("RTCC_DEMO_CONSENT", "on"),
        help="the camera's consent (off makes the story fail: what --check must catch)",
    )
    parser.add_argument("--ha-port", type=int, default=0, help="Home Assistant's port")
    parser.add_argument("--forward-dir", type=Path, help="serve Home Assistant on DIR/ha.sock")
    parser.add_argument("--work", type=Path, help="a folder for the demo's files (kept)")
    args = parser.parse_args(argv)
    if args.check and args.interactive:
        parser.error("--check is non-interactive")
    if args.window < 60:
        parser.error("--window must be at least 60 s (the city contract's minimum)")
    return args


async def wait_offered(stack: Stack, consent: bool) -> None:
    """Until the gateway holds the camera Home Assistant pushed, with the consent asked for."""
    step = "consent on" if consent else "camera pushed to the gateway"
    loop = asyncio.get_running_loop()
    end = loop.time() + owner.FLOW_TIMEOUT_S
    async with owner_api(stack) as get:
        while True:
            state = await get("/api/v1/state")
            cams = [c for c in state.get("cameras", []) if c.get("label") == CAMERA_NAME]
            if cams and bool(cams[0].get("consent")) == consent:
                return
            if loop.time() > end:
                raise StepFailedError(step, f"the gateway's cameras are {state.get('cameras')}")
            await asyncio.sleep(0.5)


async def story(args: argparse.Namespace, work: Path, steps: Steps) -> None:
    async with contextlib.AsyncExitStack() as running:
        stack = await start_stack(running, work, args.ha_port, steps.ok)
        hass = stack.hass
        if args.forward_dir is not None:
            server = await serve_tcp_as_unix(args.forward_dir / "ha.sock", hass.port)
            running.push_async_callback(_close, server)
        entry_id = await owner.configure_integration(hass, stack)
        steps.ok("RTCC Share configured through its config flow against the gateway")
        title = await owner.add_discovered_camera(hass, entry_id)
        switch = await owner.consent_switch(hass)
        steps.ok(f"camera {title!r} added through ONVIF discovery ({switch})")
        consent = args.consent == "on"
        if consent:
            await owner.set_consent(hass, switch, on=True)
        await wait_offered(stack, consent)
        if consent:
            steps.ok("consent on: the gateway offers the camera to the city")
        else:
            say("consent forced OFF (--consent off / RTCC_DEMO_CONSENT=off): the city gets nothing")
        say(f"open Home Assistant: {hass.url}/  (login {OWNER_NAME} / {OWNER_PASSWORD})")
        say(f"open the panel:      {hass.url}{PANEL_PATH}")

        answer = await city.file_request(stack, args.window)
        request_id = str(answer["request_id"])
        steps.ok(f"city filed request {request_id} with rtcc-city: waiting for the owner")
        shown = await panel.pending_request(hass, request_id)
        steps.ok(
            f"the panel shows it: {shown.get('agency')}, incident {shown.get('incident_id')} "
            f"({shown.get('offense')})"
        )
        if args.interactive:
            say(f"approve it in the panel now: {hass.url}{PANEL_PATH}")
            decided = await city.wait_decided(stack, request_id, APPROVAL_WAIT_S)
            how = "in Home Assistant"
        else:
            await owner.approve(hass, request_id)
            decided = await city.wait_decided(stack, request_id, owner.FLOW_TIMEOUT_S)
            how = "through Home Assistant's rtcc_share.approve action"
        share = city.live_share(decided)
        link, ends_at = share["links"]["rtsp"], share["ends_at"]
        steps.ok(f"owner approved it {how}: share live until {ends_at}")
        frames = await city.frames_through(link)
        steps.ok(f"frames read through the link (ffprobe decoded {frames} frames)")
        late_ms, read = await city.cut_at_window_end(link, ends_at)
        steps.ok(f"link cut {late_ms:.0f} ms after the window (the viewer had read {read} bytes)")
        refused = await city.refused_after(link)
        steps.ok(f"the ended link turns a new viewer away ({refused})")
        final = await city.rtcc_city(stack, "share ended", "status", request_id)
        states = [s.get("status") for s in final.get("shares", [])]
        if states != ["ended"]:
            raise StepFailedError("share ended", f"the city sees shares {states}")
        steps.ok(f"the city sees the request {final.get('status')} (rtcc-city status)")
        records, head = await city.audit_verified(stack)
        steps.ok(f"audit log verified: {records} records (head {head[:24]}…)")
        seen = await panel.audit(hass)
        if int(seen.get("count") or 0) < records:  # read after the CLI: never fewer
            raise StepFailedError("the panel's audit check", f"it counts {seen}, not {records}")
        steps.ok(f"the panel's audit check agrees: {seen.get('count')} records, chain whole")
        if args.check:
            say(f"every step held ({len(steps.done)} steps)")
            return
        say("the demo keeps running: Ctrl-C stops it and cleans up")
        await asyncio.Event().wait()


async def _close(server: asyncio.Server) -> None:
    server.close()
    await server.wait_closed()


def _keep_logs(work: Path) -> None:
    """A failed run's logs (camera, simulator, gateway, Home Assistant) outlive its folder."""
    kept = ROOT / "artifacts" / "demo-logs"
    shutil.rmtree(kept, ignore_errors=True)
    if (work / "logs").is_dir():
        shutil.copytree(work / "logs", kept)
        say(f"the run's logs: {kept}")


async def amain(args: argparse.Namespace) -> int:
    if not isolated_namespace():
        print("demo: refusing to run outside a loopback-only network namespace", file=sys.stderr)
        return 2
    work = args.work or Path(tempfile.mkdtemp(prefix="rtcc-demo-"))
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    steps = Steps()
    code = 0
    try:
        await story(args, work, steps)
    except StepFailedError as err:
        report_failure(err)
        _keep_logs(work)
        code = 1
    except Exception as err:  # noqa: BLE001 - a bug of the demo's own still names where it was
        traceback.print_exc()
        after = steps.done[-1] if steps.done else "the start"
        report_failure(StepFailedError(f"the step after {after!r}", repr(err)))
        _keep_logs(work)
        code = 1
    except asyncio.CancelledError:
        say("stopped; everything the demo started is stopped")
        code = 0 if not args.check else 130
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    return code


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(amain(parse(argv)))


if __name__ == "__main__":
    sys.exit(main())
