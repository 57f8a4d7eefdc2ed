"""The HTTP door's surface as pure rules: which targets it takes, its own headers, and what a
relayed HLS playlist may name (anything else is not relayed)."""

from __future__ import annotations

import json

import pytest
from aiohttp import web
from rtcc_gateway.door.http_target import (
    DoorRequest,
    PlaylistError,
    answer_headers,
    check_playlist,
    master_session,
    parse_target,
)

TOKEN = "tok_ABCdef-123_x"


def refused(raw: str) -> tuple[int, str]:
    answer = parse_target(raw)
    assert isinstance(answer, web.Response), answer
    assert answer.text is not None
    return answer.status, json.loads(answer.text)["detail"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (f"/s/{TOKEN}/stream.mp4", DoorRequest(TOKEN, "stream.mp4")),
        (f"/s/{TOKEN}/index.m3u8", DoorRequest(TOKEN, "index.m3u8")),
        (f"/s/{TOKEN}/hls/playlist.m3u8?id=s1", DoorRequest(TOKEN, "hls/playlist.m3u8", "s1")),
        (f"/s/{TOKEN}/hls/init.mp4?id=s1", DoorRequest(TOKEN, "hls/init.mp4", "s1")),
        (
            f"/s/{TOKEN}/hls/segment.m4s?id=s1&n=17",
            DoorRequest(TOKEN, "hls/segment.m4s", "s1", "17"),
        ),
    ],
)
def test_the_door_takes_exactly_its_five_targets(raw: str, expected: DoorRequest) -> None:
    assert parse_target(raw) == expected


@pytest.mark.parametrize(
    ("raw", "status", "words"),
    [
        (f"/s/{TOKEN}/stream%2Emp4", 400, "percent-encoded"),
        (f"/s/{TOKEN}/../{TOKEN}/stream.mp4", 400, "dot segments"),
        (f"/s/{TOKEN}/stream.mp4?", 400, "takes no query"),
        (f"/s/{TOKEN}/stream.mp4?x=1", 400, "takes no query"),
        (f"/s/{TOKEN}/hls/segment.m4s?n=1&id=s1", 400, "exactly the id"),
        (f"/s/{TOKEN}/hls/init.mp4", 400, "exactly the id"),
        (f"/s/{TOKEN}/api/streams", 404, "No such stream"),
        ("/s/" + "a" * 129 + "/stream.mp4", 404, "No such stream"),
        (f"/s/{TOKEN}/STREAM.MP4", 404, "No such stream"),
    ],
)
def test_anything_else_is_refused_with_a_reason(raw: str, status: int, words: str) -> None:
    got_status, detail = refused(raw)
    assert got_status == status
    assert words in detail
    assert TOKEN not in detail, "a refusal never echoes the token"


def test_the_door_answers_with_its_own_headers() -> None:
    assert answer_headers("hls/segment.m4s") == {
        "Content-Type": "video/iso.segment",
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }


def test_a_master_playlist_names_one_relative_session() -> None:
    body = b"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nhls/playlist.m3u8?id=AbC_1\n"
    assert master_session(body) == "AbC_1"


@pytest.mark.parametrize(
    "body",
    [
        b"not a playlist",
        b"\xff\xfe#EXTM3U",
        b"#EXTM3U\nhttp://elsewhere/hls/playlist.m3u8?id=a\n",
        b"#EXTM3U\nhls/playlist.m3u8?id=a\nhls/playlist.m3u8?id=b\n",
        b'#EXTM3U\n#EXT-X-MEDIA:URI="x"\nhls/playlist.m3u8?id=a\n',
    ],
)
def test_a_master_playlist_naming_anything_else_is_not_relayed(body: bytes) -> None:
    with pytest.raises(PlaylistError):
        master_session(body)


def test_a_media_playlist_may_name_only_its_own_session() -> None:
    check_playlist(
        b'#EXTM3U\n#EXT-X-MAP:URI="init.mp4?id=s1"\n#EXTINF:1.0,\nsegment.m4s?id=s1&n=3\n', "s1"
    )
    with pytest.raises(PlaylistError):
        check_playlist(b"#EXTM3U\n#EXTINF:1.0,\nsegment.m4s?id=s2&n=3\n", "s1")
    with pytest.raises(PlaylistError):
        check_playlist(b'#EXTM3U\n#EXT-X-MAP:URI="/api/frame.jpeg"\n', "s1")
