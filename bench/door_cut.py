"""Benchmark: how fast the door cuts viewers.

- window end -> consumer end-of-stream over 50 shares with real 60 s windows (goal p99 <= 250 ms),
  measured from each share's ends_at (the moment the gateway knows the window is over);
- revoke -> end-of-stream over 20 shares, measured from sending the owner's revoke.

Each consumer is a raw RTSP/TCP client (DESCRIBE, SETUP, PLAY, read) so decoding cannot blur the
figure. Takes a little over a minute.

    scripts/run python bench/door_cut.py [--shares 50] [--revokes 20]
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import datetime

from common import bench_options, emit, parse_options, report, running_gateway, summary

from tests.peers.camera import run_camera
from tests.peers.rtsp_client import play


async def main(shares: int, revokes: int, backend: str, as_json: bool = False) -> int:
    with run_camera() as camera:
        async with running_gateway(camera, backend=backend) as bench:
            # Window end: every share lasts the minimum 60 s.
            viewers = []
            for i in range(shares):
                answer = await bench.request(incident_id=f"CUT-{i}", duration_s=60)
                ends_at = datetime.fromisoformat(answer["shares"][0]["ends_at"]).timestamp()
                viewers.append((ends_at, await play(bench.rtsp_link(answer))))
            offset = time.time() - time.monotonic()  # wall clock of a monotonic reading
            waits = [asyncio.create_task(v.read_until_end(timeout=90)) for _, v in viewers]
            ended = await asyncio.gather(*waits)
            late = []
            for (ends_at, viewer), end in zip(viewers, ended, strict=True):
                if end is None:
                    print("a viewer was never cut", file=sys.stderr)
                    return 1
                late.append((end + offset - ends_at) * 1000)
                if viewer.bytes_in == 0:
                    print("a viewer saw no video before the cut", file=sys.stderr)
                    return 1
            # Revoke: cut one share at a time while it is watched.
            cut = []
            for i in range(revokes):
                answer = await bench.request(incident_id=f"REV-{i}", duration_s=600)
                viewer = await play(bench.rtsp_link(answer))
                waiter = asyncio.create_task(viewer.read_until_end(timeout=10))
                await asyncio.sleep(0.2)
                sent = time.monotonic()
                await bench.owner_post(f"/api/v1/shares/{answer['shares'][0]['share_id']}/revoke")
                end = await waiter
                if end is None:
                    print("a revoked viewer was never cut", file=sys.stderr)
                    return 1
                cut.append((end - sent) * 1000)
    report(f"window end -> end-of-stream ({shares} shares)", late)
    report(f"revoke -> end-of-stream ({revokes} shares)", cut)
    from common import percentile  # noqa: PLC0415

    verdict = "met" if percentile(late, 0.99) <= 250 else "NOT met"
    print(f"goal window-end p99 <= 250 ms: {verdict}")
    if as_json:
        emit(
            "door_cut",
            {"backend": backend, "window_end_ms": summary(late), "revoke_ms": summary(cut)},
        )
    return 0


if __name__ == "__main__":
    parser = bench_options(__doc__, backend=True)
    parser.add_argument("--shares", type=int, default=50)
    parser.add_argument("--revokes", type=int, default=20)
    args = parse_options(parser)
    sys.exit(asyncio.run(main(args.shares, args.revokes, args.backend, args.json)))
