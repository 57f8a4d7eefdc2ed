"""Benchmark: what transcoding a G.711 camera's audio to AAC costs, for MP4 viewers via go2rtc.

go2rtc's MP4 and HLS carry AAC only, so a share with `share_audio` gets a second go2rtc source,
`ffmpeg:<stream>#audio=aac`, which go2rtc starts once per stream when an MP4/HLS viewer needs AAC.
Two runs with the same camera and the same number of MP4 viewers, video only and then with audio,
measure the CPU of the gateway, of go2rtc, and of go2rtc's ffmpeg children over the same window
(/proc/PID/stat), in % of one core.

    GO2RTC_BIN=... scripts/run python bench/audio_transcode.py [--viewers 5] [--seconds 20]
"""

from __future__ import annotations

import asyncio
import os
import sys

import aiohttp
from common import (
    CpuMeter,
    bench_options,
    children,
    command,
    emit,
    go2rtc_pid,
    parse_options,
    running_gateway,
)

from tests.peers.camera import run_camera

Figures = dict[str, float]


async def watch(session: aiohttp.ClientSession, url: str, started: asyncio.Event) -> int:
    """Read an MP4 stream until cancelled; sets `started` at the first bytes."""
    received = 0
    async with session.get(url) as resp:
        if resp.status != 200:
            raise RuntimeError(f"MP4 link answered {resp.status}")
        async for chunk in resp.content.iter_chunked(65536):
            received += len(chunk)
            started.set()
    return received


async def run(camera: str, viewers: int, seconds: float, *, audio: bool) -> Figures:
    async with running_gateway(camera, backend="go2rtc", share_audio=audio) as bench:
        gateway = bench.gateway.proc.pid
        go2rtc = go2rtc_pid(gateway)
        if go2rtc is None:
            raise RuntimeError("the gateway runs no go2rtc child")
        answer = await bench.request(incident_id=f"AUDIO-{audio}", duration_s=600)
        link = answer["shares"][0]["links"]["mp4"]
        async with aiohttp.ClientSession() as session:
            events = [asyncio.Event() for _ in range(viewers)]
            tasks = [asyncio.create_task(watch(session, link, e)) for e in events]
            async with asyncio.timeout(30):
                for event in events:
                    await event.wait()
            await asyncio.sleep(2)  # past the start burst
            ffmpegs = [p for p in children(go2rtc) if command(p) == "ffmpeg"]
            if audio and len(ffmpegs) != 1:
                raise RuntimeError(f"expected one ffmpeg for the share, found {len(ffmpegs)}")
            pids = {"gateway": gateway, "go2rtc": go2rtc}
            pids.update({f"ffmpeg{i}": pid for i, pid in enumerate(ffmpegs)})
            meter = CpuMeter(pids)
            meter.start()
            await asyncio.sleep(seconds)
            figures = meter.stop()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    figures["ffmpeg"] = sum(v for k, v in figures.items() if k.startswith("ffmpeg"))
    return figures


async def main(viewers: int, seconds: float, as_json: bool = False) -> int:
    if not os.environ.get("GO2RTC_BIN"):
        print("needs GO2RTC_BIN naming a go2rtc binary", file=sys.stderr)
        return 2
    with run_camera("--audio") as camera:
        quiet = await run(camera, viewers, seconds, audio=False)
        heard = await run(camera, viewers, seconds, audio=True)
    for name, figures in (("video only", quiet), ("with AAC audio", heard)):
        print(
            f"{viewers} MP4 viewers, {name:<14}: gateway {figures['gateway']:5.2f} %, "
            f"go2rtc {figures['go2rtc']:5.2f} %, ffmpeg {figures['ffmpeg']:5.2f} % of one core"
        )
    extra = heard["ffmpeg"] + heard["go2rtc"] - quiet["go2rtc"]
    print(f"transcoding cost per shared stream: {extra:.2f} % of one core (ffmpeg + go2rtc delta)")
    if as_json:
        figures = {
            "viewers": viewers,
            "video_only_pct": {k: round(quiet[k], 2) for k in ("gateway", "go2rtc", "ffmpeg")},
            "with_aac_pct": {k: round(heard[k], 2) for k in ("gateway", "go2rtc", "ffmpeg")},
            "transcoding_pct": round(extra, 2),
        }
        emit("audio_transcode", figures)
    return 0


if __name__ == "__main__":
    parser = bench_options(__doc__)
    parser.add_argument("--viewers", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=20)
    args = parse_options(parser)
    sys.exit(asyncio.run(main(args.viewers, args.seconds, args.json)))
