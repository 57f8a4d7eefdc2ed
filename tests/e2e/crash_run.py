"""Crash consistency, the engine of tests/e2e/test_crash_consistency.py and bench/crash_cycles.py.

Each cycle is one share lifecycle on the real `rtcc-gateway serve`: a signed request for a 60 s
window (the contract's minimum), a viewer attached, then, at random moments from a seeded
generator, the city's DELETE or the owner's revoke (most cycles) and a kill -9 of the gateway.
The gateway restarts on the same data folder, an end the crash may have swallowed is asked for
again (as the city or the owner would), and then:

- every link whose share ended (acknowledged end, or its window over) is played with a real RTSP
  client and must not play; every live one must;
- go2rtc (asked on its own API, with the credentials from its private config) holds no stream
  but a live share's;
- `rtcc-gateway audit verify` passes, and its record count never went down.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import signal
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from rtcc_gateway.signing import sign_request

from ..peers.gateway_proc import GatewayProcess, one_camera_config, start_gateway
from ..peers.process import children
from ..peers.rtsp_client import RtspRefusedError, RtspViewer, play

OWNER_TOKEN = "crash-owner-token-0123456789abcdef"
BASE_URL = "http://127.0.0.1:8443"
WINDOW_S = 60
# go2rtc loses a stream when the gateway's timer ends its window: within this of ends_at.
GO2RTC_WINDOW_GRACE_S = 2.0


@dataclass
class Share:
    share_id: str
    request_id: str
    token: str = field(repr=False)
    ends_at: float
    ended: bool = False  # an end the gateway acknowledged (DELETE or revoke answered 2xx)
    pending_end: str | None = None  # an end sent but not acknowledged (the crash came first)


@dataclass
class Figures:
    """What a run saw; every list of failures must stay empty."""

    cycles: int = 0
    kills: int = 0
    ends_acknowledged: int = 0
    ends_retried: int = 0
    windows_over: int = 0
    probes_ended: int = 0
    probes_live: int = 0
    records: int = 0
    go2rtc_checks: int = 0
    go2rtc_live_seen: int = 0  # checks where go2rtc held a live share's stream (it can see one)
    restart_s: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        restart = sorted(self.restart_s) or [0.0]
        return {
            "cycles": self.cycles,
            "kills": self.kills,
            "ends_acknowledged": self.ends_acknowledged,
            "ends_retried": self.ends_retried,
            "windows_over": self.windows_over,
            "probes_ended": self.probes_ended,
            "probes_live": self.probes_live,
            "ended_links_playing": sum("played" in f for f in self.failures),
            "failures": len(self.failures),
            "records": self.records,
            "go2rtc_checks": self.go2rtc_checks,
            "restart_p50_s": round(restart[len(restart) // 2], 3),
            "restart_max_s": round(restart[-1], 3),
        }


class CrashRun:
    """Runs cycles against one data folder; `figures` says what it found."""

    def __init__(
        self,
        folder: Path,
        camera_url: str,
        *,
        seed: int,
        backend: dict[str, Any] | None = None,
        log: bool = False,
    ) -> None:
        self.folder = folder
        self.key = Ed25519PrivateKey.generate()
        self.config_path = folder / "gateway.yaml"
        self.data_dir = folder / "data"
        cfg = one_camera_config(
            camera_url,
            self.data_dir,
            self.key,
            backend or {"restreamer": "direct"},
            agency="crash",
            base_url=BASE_URL,
            owner_token=OWNER_TOKEN,
        )
        self.config_path.write_text(yaml.safe_dump(cfg))
        self.go2rtc = cfg.get("restreamer") == "go2rtc"
        self.rng = random.Random(seed)  # noqa: S311 - a reproducible schedule, not a secret
        self.shares: list[Share] = []
        self.figures = Figures()
        self.gw: GatewayProcess | None = None
        self.session: aiohttp.ClientSession | None = None
        self._log = log

    async def run(self, cycles: int) -> Figures:
        async with aiohttp.ClientSession() as session:
            self.session = session
            self.gw = await start_gateway(self.config_path)
            try:
                for cycle in range(cycles):
                    await self._cycle(cycle)
                    if self._log:
                        print(f"cycle {cycle + 1}/{cycles}: {self.figures.as_json()}", flush=True)
            finally:
                if self.gw.proc.returncode is None:
                    await self.gw.stop()
        return self.figures

    # --- one lifecycle ---------------------------------------------------------------------------

    async def _cycle(self, cycle: int) -> None:
        gw = self.gw
        assert gw is not None
        share = await self._ask(cycle)
        viewer = await play(f"rtsp://127.0.0.1:{gw.rtsp_port}/{share.token}")
        reading = asyncio.ensure_future(viewer.read_until_end(30))
        action = self.rng.choice(["delete", "delete", "revoke", "revoke", "keep"])
        end_after, kill_after = self.rng.uniform(0, 1.0), self.rng.uniform(0, 1.5)

        async def end() -> None:
            await asyncio.sleep(end_after)
            if action != "keep":
                share.pending_end = action
                with contextlib.suppress(aiohttp.ClientError, ConnectionError, TimeoutError):
                    await self._end(share, action)

        async def kill() -> None:
            await asyncio.sleep(kill_after)
            assert await gw.stop(signal.SIGKILL) == -signal.SIGKILL

        await asyncio.gather(end(), kill())
        self.figures.kills += 1
        await asyncio.wait_for(reading, 30)  # the gateway is dead: the viewer's stream ended
        viewer.close()

        started = time.monotonic()
        self.gw = await start_gateway(self.config_path)
        self.figures.restart_s.append(time.monotonic() - started)
        for pending in [s for s in self.shares if s.pending_end and not s.ended]:
            self.figures.ends_retried += 1
            await self._end(pending, pending.pending_end or "delete")
        await self._check()
        self.figures.cycles += 1

    async def _ask(self, cycle: int) -> Share:
        body = {
            "incident_id": f"CRASH-{cycle:04d}",
            "offense": "burglary",
            "reason": "crash consistency",
            "location": {"lat": 32.2988, "lon": -90.1848},
            "duration_s": WINDOW_S,
        }
        status, answer = await self._city("POST", "/api/v1/requests", body)
        assert status == 201, answer
        item = answer["shares"][0]
        share = Share(
            share_id=item["share_id"],
            request_id=answer["request_id"],
            token=item["links"]["rtsp"].rsplit("/", 1)[1],
            ends_at=datetime.fromisoformat(item["ends_at"]).timestamp(),
        )
        self.shares.append(share)
        return share

    async def _end(self, share: Share, action: str) -> None:
        if action == "delete":
            status, _ = await self._city("DELETE", f"/api/v1/requests/{share.request_id}")
        else:
            status, _ = await self._owner("POST", f"/api/v1/shares/{share.share_id}/revoke")
        if 200 <= status < 300:
            share.ended = True
            self.figures.ends_acknowledged += 1

    # --- what must hold after every restart -------------------------------------------------------

    async def _check(self) -> None:
        gw = self.gw
        assert gw is not None
        for share in self.shares:
            probed_at = time.time()
            if not share.ended and abs(share.ends_at - probed_at) < 1:
                continue  # its window ends this very second: either answer is right
            over = share.ended or share.ends_at <= probed_at
            played = await self._plays(f"rtsp://127.0.0.1:{gw.rtsp_port}/{share.token}")
            if over:
                self.figures.probes_ended += 1
                if played:
                    self._fail(f"{share.share_id} played after its end")
            else:
                self.figures.probes_live += 1
                if not played:
                    self._fail(f"{share.share_id} is live but did not play after the restart")
        self.figures.windows_over = sum(s.ends_at <= time.time() for s in self.shares)
        if self.go2rtc:
            await self._check_go2rtc(gw)
        await self._check_audit()

    async def _plays(self, url: str) -> bool:
        try:
            viewer = await play(url, timeout=20)
        except RtspRefusedError:
            return False
        try:
            return await _reads(viewer)
        finally:
            viewer.close()

    async def _check_go2rtc(self, gw: GatewayProcess) -> None:
        held = await go2rtc_streams(gw.proc.pid)
        listed = time.time()
        allowed = {
            s.token
            for s in self.shares
            if not s.ended and s.ends_at > listed - GO2RTC_WINDOW_GRACE_S
        }
        self.figures.go2rtc_checks += 1
        self.figures.go2rtc_live_seen += bool(set(held) & allowed)
        if rogue := set(held) - allowed:
            self._fail(f"go2rtc holds {len(rogue)} stream(s) the gateway did not authorize")

    async def _check_audit(self) -> None:
        proc = await asyncio.create_subprocess_exec(
            "rtcc-gateway",
            "audit",
            "verify",
            "--data-dir",
            str(self.data_dir),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        raw_out, raw_err = await asyncio.wait_for(proc.communicate(), 60)
        out, err = raw_out.decode().strip(), raw_err.decode().strip()
        if proc.returncode != 0:
            self._fail(f"audit verify failed: {out} {err}")
            return
        count = int(out.split("ok: ", 1)[1].split(" ", 1)[0])
        if count < self.figures.records:
            self._fail(f"the audit log shrank from {self.figures.records} to {count} records")
        self.figures.records = count

    def _fail(self, what: str) -> None:
        self.figures.failures.append(what)

    # --- the city and the owner ------------------------------------------------------------------

    async def _city(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        gw, session = self.gw, self.session
        assert gw is not None
        assert session is not None
        data = None if body is None else json.dumps(body).encode()
        headers = sign_request(
            method=method, url=BASE_URL + path, body=data, key_id="crash", private_key=self.key
        )
        if data is not None:
            headers["Content-Type"] = "application/json"
        async with session.request(
            method, f"http://127.0.0.1:{gw.public_port}{path}", data=data, headers=headers
        ) as resp:
            text = await resp.text()
            return resp.status, json.loads(text) if text else None

    async def _owner(self, method: str, path: str) -> tuple[int, Any]:
        gw, session = self.gw, self.session
        assert gw is not None
        assert session is not None
        async with session.request(
            method,
            f"http://127.0.0.1:{gw.owner_port}{path}",
            headers={"Authorization": f"Bearer {OWNER_TOKEN}"},
        ) as resp:
            text = await resp.text()
            return resp.status, json.loads(text) if text else None


async def _reads(viewer: RtspViewer) -> bool:
    """Whether media arrives after PLAY (an admitted link that sends nothing did not play)."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(10):
            chunk = await viewer.reader.read(65536)
            return bool(chunk) and b"$" in chunk
    return False


def go2rtc_api(gateway_pid: int) -> tuple[str, str]:
    """Where the gateway's go2rtc child has its API, and the Authorization header for it.

    Both are new at every start: read from the private config its command line names.
    """
    for pid in children(gateway_pid):
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        if Path(argv[0].decode()).name != "go2rtc" or b"-config" not in argv:
            continue
        cfg = yaml.safe_load(Path(argv[argv.index(b"-config") + 1].decode()).read_text())
        api = cfg["api"]
        return f"http://{api['listen']}", aiohttp.encode_basic_auth(
            api["username"], api["password"]
        )
    raise AssertionError("the gateway runs no go2rtc child")


async def go2rtc_streams(gateway_pid: int) -> dict[str, Any]:
    """The streams the gateway's go2rtc child holds, asked on its own API."""
    base, authorization = go2rtc_api(gateway_pid)
    async with (
        aiohttp.ClientSession(headers={"Authorization": authorization}) as session,
        session.get(f"{base}/api/streams") as resp,
    ):
        if resp.status != 200:
            raise AssertionError(f"go2rtc's API answered {resp.status}")
        streams: dict[str, Any] = await resp.json() or {}
        return streams
