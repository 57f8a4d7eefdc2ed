"""The HTTP door's surface: GET and HEAD of exact paths, only the queries it defines, only the
headers it names, HLS session ids tied to their share, and upstream garbage refused.

Requests go over raw sockets: an HTTP client library would normalize the very targets under test.
Garbage from upstream comes from the go2rtc API double (the real go2rtc cannot be made to send it).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ..gateway.conftest import Harness, HarnessFactory
from .conftest import door_harness, share_link

# What the door may answer with: its own names, plus what aiohttp adds to every answer.
DOOR_HEADERS = {
    "content-type",
    "content-length",
    "cache-control",
    "x-content-type-options",
    "date",
    "server",
    "transfer-encoding",
    "allow",
    "connection",
    "keep-alive",
}
MASTER = (
    '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=192000,CODECS="avc1.42C016"\nhls/playlist.m3u8?id=SID1'
)
PLAYLIST = (
    "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:0\n"
    '#EXT-X-MAP:URI="init.mp4?id=SID1"\n#EXTINF:0.500,\nsegment.m4s?id=SID1&n=0\n'
)
HOSTILE = {  # headers a broken or hostile upstream might send
    "Set-Cookie": "session=stolen",
    "Access-Control-Allow-Origin": "*",
    "Location": "http://elsewhere.invalid/",
    "Content-Type": "text/html",
    "X-Upstream": "leaked",
}


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


async def raw(
    port: int, target: str, method: str = "GET", headers: dict[str, str] | None = None
) -> Answer:
    """One request with the target exactly as given; the status, headers and first body bytes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        async with asyncio.timeout(30):
            head = (await reader.readuntil(b"\r\n\r\n")).decode()
            status_line, *fields = head.strip().split("\r\n")
            parsed = {
                k.strip().lower(): v.strip() for k, _, v in (f.partition(":") for f in fields)
            }
            body = b""
            if method != "HEAD":
                length = parsed.get("content-length")
                body = await (reader.readexactly(int(length)) if length else reader.read(4096))
        return Answer(int(status_line.split()[1]), parsed, body)
    finally:
        writer.transport.abort()


async def live_token(h: Harness, **changes: Any) -> str:
    url, _ = await share_link(h, **changes)
    return url.rsplit("/", 1)[1]


async def http_door(
    factory: HarnessFactory, config: dict[str, Any], camera_url: str, backend: str
) -> tuple[Harness, str, int]:
    """A gateway sharing the camera through `backend`: it, a live share's token, the door's port."""
    h = await door_harness(factory, config, camera_url, backend)
    return h, await live_token(h), h.bound.public[1]


async def test_only_get_and_head(
    harness_factory: HarnessFactory, config_dict: dict[str, Any], camera_url: str, backend: str
) -> None:
    _, token, port = await http_door(harness_factory, config_dict, camera_url, backend)
    for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"):
        for file in ("stream.mp4", "index.m3u8", "hls/playlist.m3u8?id=x"):
            answer = await raw(port, f"/s/{token}/{file}", method)
            assert answer.status == 405, (method, file)
            assert answer.headers["allow"] == "GET, HEAD"
            assert answer.headers["content-type"].startswith("application/problem+json")
    # A method HTTP does not know never gets as far as the door.
    assert (await raw(port, f"/s/{token}/stream.mp4", "BREW")).status == 400


async def test_head_answers_without_opening_a_stream(
    harness_factory: HarnessFactory, config_dict: dict[str, Any], camera_url: str
) -> None:
    h, token, port = await http_door(harness_factory, config_dict, camera_url, "go2rtc")
    for file, kind in (
        ("stream.mp4", "video/mp4"),
        ("index.m3u8", "application/vnd.apple.mpegurl"),
    ):
        answer = await raw(port, f"/s/{token}/{file}", "HEAD")
        assert (answer.status, answer.headers["content-type"]) == (200, kind)
    assert (await raw(port, "/s/nope/stream.mp4", "HEAD")).status == 404
    assert await h.audit("viewer_connected") == []


# Each target is refused with the status shown; TOKEN is a live share's token.
REFUSED = [
    ("/s/TOKEN/../TOKEN/stream.mp4", 400),
    ("/s/TOKEN/./stream.mp4", 400),
    ("/s/TOKEN/hls/../stream.mp4", 400),
    ("/s/x/../TOKEN/stream.mp4", 400),
    ("/s/%2e%2e/TOKEN/stream.mp4", 400),
    ("/s/TOKEN%2fstream.mp4", 400),
    ("/s/TOKEN/stream%2emp4", 400),
    ("/s/PCTTOKEN/stream.mp4", 400),
    ("/s/TOKEN/stream.mp4?src=other", 400),
    ("/s/TOKEN/stream.mp4?", 400),
    ("/s/TOKEN/index.m3u8?mp4", 400),
    ("/s/TOKEN/stream.mp4/", 404),
    ("/s//TOKEN/stream.mp4", 404),
    ("/s/TOKEN//stream.mp4", 404),
    ("/s/TOKEN/STREAM.MP4", 404),
    ("/s/TOKEN/stream.mp4.", 404),
    ("/s/TOKEN/hls/segment.ts?id=x&n=1", 404),
    ("/s/TOKEN/hls/index.m3u8", 404),
    ("/s/TOKEN", 404),
]


@pytest.mark.parametrize(("target", "status"), REFUSED)
async def test_paths_are_matched_exactly(  # noqa: PLR0917 - fixtures and parameters
    harness_factory: HarnessFactory,
    config_dict: dict[str, Any],
    camera_url: str,
    backend: str,
    target: str,
    status: int,
) -> None:
    _, token, port = await http_door(harness_factory, config_dict, camera_url, backend)
    encoded = f"%{ord(token[0]):02X}{token[1:]}"  # the token with its first letter encoded
    answer = await raw(port, target.replace("PCTTOKEN", encoded).replace("TOKEN", token))
    assert answer.status == status
    assert answer.headers["content-type"].startswith("application/problem+json")
    if backend == "go2rtc":  # the same link, written plainly, plays: the refusal is the target's
        assert (await raw(port, f"/s/{token}/stream.mp4", "HEAD")).status == 200


async def test_hls_requests_take_only_the_session_id_and_segment(
    harness_factory: HarnessFactory, config_dict: dict[str, Any], camera_url: str
) -> None:
    _, token, port = await http_door(harness_factory, config_dict, camera_url, "go2rtc")
    master = await raw(port, f"/s/{token}/index.m3u8")
    assert master.status == 200
    sid = master.body.decode().rsplit("id=", 1)[1].strip()
    base = f"/s/{token}/hls"
    for query in (
        f"id={sid}&src=other",
        f"id={sid}&id=other",
        f"id={sid}&n=1",
        f"ID={sid}",
        f"id={sid};n=1",
        "id=",
        f"n=1&id={sid}",
    ):
        assert (await raw(port, f"{base}/playlist.m3u8?{query}")).status == 400, query
    for query in (f"id={sid}", f"id={sid}&n=x", f"id={sid}&n=../../init.mp4", f"id={sid}&n=-1"):
        assert (await raw(port, f"{base}/segment.m4s?{query}")).status == 400, query
    playlist = await raw(port, f"{base}/playlist.m3u8?id={sid}")
    assert playlist.status == 200
    assert f"segment.m4s?id={sid}&n=" in playlist.body.decode()


async def test_no_upstream_header_reaches_the_viewer(
    harness_factory: HarnessFactory, config_dict: dict[str, Any], camera_url: str
) -> None:
    # Real go2rtc sends `Access-Control-Allow-Origin: *` with every HLS answer; the door names its own.
    _, token, port = await http_door(harness_factory, config_dict, camera_url, "go2rtc")
    master = await raw(port, f"/s/{token}/index.m3u8", headers={"Origin": "http://x.invalid"})
    sid = master.body.decode().rsplit("id=", 1)[1].strip()
    for answer in (master, await raw(port, f"/s/{token}/hls/playlist.m3u8?id={sid}")):
        assert answer.status == 200
        assert set(answer.headers) <= DOOR_HEADERS
        assert answer.headers["content-type"] == "application/vnd.apple.mpegurl"
        assert answer.headers["cache-control"] == "no-store"


def fake_answers(monkeypatch: pytest.MonkeyPatch, log: Path, answers: dict[str, Any]) -> None:
    """What the go2rtc double answers instead (keyed by the path after /api/), and where it logs
    the requests it gets."""
    table = {f"GET /api/{path}": answer for path, answer in answers.items()}
    monkeypatch.setenv("GO2RTC_DOUBLE_ANSWERS", json.dumps(table))
    monkeypatch.setenv("GO2RTC_DOUBLE_LOG", str(log))


async def test_hostile_upstream_headers_are_dropped_and_the_door_sends_only_its_own_query(
    harness_factory: HarnessFactory,
    config_dict: dict[str, Any],
    camera_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    log = tmp_path / "requests.jsonl"
    fake_answers(
        monkeypatch,
        log,
        {
            "stream.m3u8": {"body": MASTER, "headers": HOSTILE},
            "hls/playlist.m3u8": {"body": PLAYLIST, "headers": HOSTILE},
            "hls/init.mp4": {"body": "init", "headers": HOSTILE},
            "hls/segment.m4s": {"body": "segment", "headers": HOSTILE},
        },
    )
    _, token, port = await http_door(harness_factory, config_dict, camera_url, "double")
    viewer = {"Cookie": "c=1", "X-Forwarded-For": "10.0.0.1", "Range": "bytes=0-"}
    answers = [
        await raw(port, f"/s/{token}/{target}", headers=viewer)
        for target in (
            "index.m3u8",
            "hls/playlist.m3u8?id=SID1",
            "hls/init.mp4?id=SID1",
            "hls/segment.m4s?id=SID1&n=0",
        )
    ]
    assert [a.status for a in answers] == [200, 200, 200, 200]
    assert [a.headers["content-type"] for a in answers] == [
        "application/vnd.apple.mpegurl",
        "application/vnd.apple.mpegurl",
        "video/mp4",
        "video/iso.segment",
    ]
    for answer in answers:
        assert set(answer.headers) <= DOOR_HEADERS
    sent = [json.loads(line) for line in log.read_text().splitlines()]
    media = [
        (r["path"], r["query"]) for r in sent if r["path"] != "/api" and r["path"] != "/api/streams"
    ]
    assert media == [
        ("/api/stream.m3u8", f"src={token}&video=h264,h265"),
        ("/api/hls/playlist.m3u8", "id=SID1"),
        ("/api/hls/init.mp4", "id=SID1"),
        ("/api/hls/segment.m4s", "id=SID1&n=0"),
    ]
    for request in sent:
        assert not {"Cookie", "X-Forwarded-For", "Range"} & set(request["headers"])


@pytest.mark.parametrize(
    ("answers", "target"),
    [
        (
            {"stream.m3u8": {"body": "#EXTM3U\nhttp://elsewhere.invalid/p.m3u8?id=SID1"}},
            "index.m3u8",
        ),
        ({"stream.m3u8": {"body": MASTER + "\nhls/playlist.m3u8?id=SID2"}}, "index.m3u8"),
        ({"stream.m3u8": {"body": "not a playlist"}}, "index.m3u8"),
        ({"stream.m3u8": {"body": MASTER, "body_bytes": 100_000}}, "index.m3u8"),
        ({"stream.m3u8": {"status": 500, "body": "boom"}}, "index.m3u8"),
        ({"stream.m3u8": {"status": 200, "body": ""}}, "index.m3u8"),
        ({"stream.mp4": {"status": 502, "body": "bad gateway"}}, "stream.mp4"),
        (
            {
                "stream.m3u8": {"body": MASTER},
                "hls/playlist.m3u8": {"body": PLAYLIST.replace("n=0", "n=0\nhttp://x.invalid/s")},
            },
            "hls/playlist.m3u8?id=SID1",
        ),
        (
            {
                "stream.m3u8": {"body": MASTER},
                "hls/playlist.m3u8": {
                    "body": PLAYLIST.replace("init.mp4?id=SID1", "init.mp4?id=SID9")
                },
            },
            "hls/playlist.m3u8?id=SID1",
        ),
    ],
)
async def test_upstream_garbage_is_a_503(  # noqa: PLR0917 - fixtures and parameters
    harness_factory: HarnessFactory,
    config_dict: dict[str, Any],
    camera_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    answers: dict[str, dict[str, Any]],
    target: str,
) -> None:
    fake_answers(monkeypatch, tmp_path / "requests.jsonl", answers)
    _, token, port = await http_door(harness_factory, config_dict, camera_url, "double")
    if target.startswith("hls/"):
        assert (await raw(port, f"/s/{token}/index.m3u8")).status == 200
    answer = await raw(port, f"/s/{token}/{target}")
    assert answer.status == 503
    assert json.loads(answer.body)["detail"] == "The stream is not available right now."


async def test_hls_sessions_per_share_are_bounded(
    harness_factory: HarnessFactory, config_dict: dict[str, Any], camera_url: str
) -> None:
    from rtcc_gateway.door.http import MAX_HLS_SESSIONS  # noqa: PLC0415

    h, token, port = await http_door(harness_factory, config_dict, camera_url, "go2rtc")
    for _ in range(MAX_HLS_SESSIONS):
        assert (await raw(port, f"/s/{token}/index.m3u8")).status == 200
    assert (await raw(port, f"/s/{token}/index.m3u8")).status == 429
    other = await live_token(h, incident_id="INC-2")
    assert (await raw(port, f"/s/{other}/index.m3u8")).status == 200, "per share, not per door"
