"""What a viewer may ask of the RTSP door: URIs, transports, sessions and the order of things,
as a table over raw requests, plus fuzzing that no request makes the door act on anything it did
not publish."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rtcc_gateway.door.rtsp.messages import Parser, Request, RtspError
from rtcc_gateway.door.rtsp.rules import (
    Answer,
    Describe,
    DoorUri,
    Play,
    RefusedError,
    Setup,
    Teardown,
    Viewing,
    check_transport,
    decide,
    parse_session,
    parse_uri,
    small_number,
    upstream_channels,
)

TOKEN = "tok-EN_123"
TCP = "RTP/AVP/TCP;unicast;interleaved=0-1"


def request(method: str, uri: str, **headers: str) -> Request:
    own = [("CSeq", "1"), *((k.replace("_", "-"), v) for k, v in headers.items())]
    return Request(method, uri, tuple(own))


def tcp_setup(uri: str, **headers: str) -> Request:
    """A SETUP asking for the one transport the door takes (interleaved TCP)."""
    return request("SETUP", uri, Transport=TCP, **headers)


def described(*controls: str) -> Viewing:
    viewing = Viewing(session_id="door-session")
    viewing.described(TOKEN, controls or ("track0",))
    return viewing


def set_up() -> Viewing:
    viewing = described()
    viewing.set_up(0, (0, 1))
    return viewing


@pytest.mark.parametrize(
    ("uri", "parsed"),
    [
        ("*", DoorUri("", "", ())),
        (f"rtsp://127.0.0.1:8554/{TOKEN}", DoorUri("rtsp://127.0.0.1:8554", TOKEN, ())),
        (f"RTSP://door.example/{TOKEN}/", DoorUri("rtsp://door.example", TOKEN, ())),
        (f"rtsps://[::1]:322/{TOKEN}/track0", DoorUri("rtsps://[::1]:322", TOKEN, ("track0",))),
        (f"/{TOKEN}/track1", DoorUri("", TOKEN, ("track1",))),
        (f"/{TOKEN}/stream=1", DoorUri("", TOKEN, ("stream=1",))),
        ("rtsp://h", DoorUri("rtsp://h", "", ())),
    ],
)
def test_door_uris_parse_to_share_and_rest(uri: str, parsed: DoorUri) -> None:
    assert parse_uri(uri) == parsed


@pytest.mark.parametrize(
    ("uri", "why"),
    [
        (f"/{TOKEN}/stream=1?x=1", "query"),
        (f"rtsp://h/{TOKEN}#frag", "query or fragment"),
        (f"rtsp://h/{TOKEN}/../201", "dot segment"),
        (f"rtsp://h/{TOKEN}/./track0", "dot segment"),
        (f"rtsp://h/{TOKEN}/..", "dot segment"),
        (f"rtsp://h/{TOKEN}/%2e%2e/201", "percent"),
        (f"rtsp://h/{TOKEN}/%2E%2E/201", "percent"),
        (f"rtsp://h/{TOKEN}%2f..%2f201", "percent"),
        (f"rtsp://h/{TOKEN}/track%30", "percent"),
        (f"rtsp://h/{TOKEN}//track0", "empty segment"),
        (f"rtsp://h//{TOKEN}", "empty segment"),
        (f"rtsp://h/{TOKEN}\\..\\201", "character"),
        (f"rtsp://user:pw@h/{TOKEN}", "host"),
        (f"rtsp://h:x/{TOKEN}", "host"),
        (f"http://h/{TOKEN}", "rtsp:// URL"),
        (f"{TOKEN}/track0", "rtsp:// URL"),
    ],
)
def test_uris_a_camera_might_read_differently_are_refused(uri: str, why: str) -> None:
    with pytest.raises(RefusedError) as refused:
        parse_uri(uri)
    assert refused.value.status == 400
    assert why in refused.value.why


@pytest.mark.parametrize(
    "value",
    [
        "RTP/AVP/TCP;unicast;interleaved=0-1",
        "RTP/AVP/TCP;interleaved=4-5",
        "rtp/avp/tcp; unicast; interleaved=2-3; mode=play",
        'RTP/AVP/TCP;unicast;interleaved=0-1;mode="PLAY"',
        "RTP/AVP/TCP;unicast;interleaved=0-1;ssrc=1A2B3C4D",
    ],
)
def test_tcp_interleaved_transports_pass(value: str) -> None:
    check_transport([value])


@pytest.mark.parametrize(
    ("values", "why"),
    [
        # The attack from issue 9: UDP dressed up with the words the old substring test wanted.
        (["RTP/AVP;unicast;client_port=5000-5001;x=TCP-INTERLEAVED"], "only RTP/AVP/TCP"),
        (["RTP/AVP;unicast;client_port=5000-5001"], "only RTP/AVP/TCP"),
        (["RTP/AVP/UDP;unicast;client_port=5000-5001"], "only RTP/AVP/TCP"),
        (["RTP/AVP/TCP;unicast;interleaved=0-1;client_port=5000-5001"], "client_port"),
        (["RTP/AVP/TCP;multicast;interleaved=0-1"], "multicast"),
        (["RTP/AVP/TCP;unicast;interleaved=0-1;destination=10.0.0.9"], "destination"),
        (["RTP/AVP/TCP;unicast;interleaved=0-1;ttl=16"], "ttl"),
        (["RTP/AVP/TCP;unicast;interleaved=0-1;x=TCP-INTERLEAVED"], "x is not served"),
        (["RTP/AVP/TCP;unicast;interleaved=0-1;mode=record"], "mode"),
        (["RTP/AVP/TCP;unicast;interleaved=0-1;interleaved=2-3"], "repeated"),
        (["RTP/AVP/TCP;unicast;interleaved=0"], "interleaved"),
        (["RTP/AVP/TCP;unicast;interleaved=0-3"], "interleaved"),
        (["RTP/AVP/TCP;unicast;interleaved=255-256"], "interleaved"),
        (["RTP/AVP/TCP;unicast"], "interleaved=a-b is required"),
        (["RTP/AVP/TCP;unicast=1;interleaved=0-1"], "unicast"),
        ([f"{TCP},RTP/AVP;unicast;client_port=5000-5001"], "exactly one"),
        ([TCP, TCP], "exactly one"),
        ([], "exactly one"),
        (["RTP/AVP/TCP;;interleaved=0-1"], "(empty)"),
    ],
)
def test_anything_but_one_tcp_interleaved_transport_is_461(values: list[str], why: str) -> None:
    with pytest.raises(RefusedError) as refused:
        check_transport(values)
    assert refused.value.status == 461
    assert why in refused.value.why


@pytest.mark.parametrize(
    ("value", "channels"),
    [
        ('RTP/AVP/TCP;unicast;interleaved=4-5;ssrc=38A0E494;mode="PLAY"', (4, 5)),
        ("RTP/AVP/TCP;unicast;interleaved=0-1", (0, 1)),
        ("RTP/AVP/TCP;interleaved=6", (6, 7)),
    ],
)
def test_the_upstreams_channels_are_read_from_its_answer(
    value: str, channels: tuple[int, int]
) -> None:
    assert upstream_channels(value) == channels


@pytest.mark.parametrize(
    "value",
    ["RTP/AVP;unicast;client_port=5000-5001", "RTP/AVP/TCP;unicast", "RTP/AVP/TCP;interleaved=x"],
)
def test_an_upstream_that_would_not_keep_media_in_the_connection_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="upstream"):
        upstream_channels(value)


def test_sessions_parse_with_and_without_timeout() -> None:
    assert parse_session("77696795;timeout=60") == ("77696795", 60.0)
    assert parse_session("30jRLFRQiir8zQQV") == ("30jRLFRQiir8zQQV", None)
    with pytest.raises(ValueError, match="session"):
        parse_session("a b")


# --- the order of things -------------------------------------------------------------------


def test_describe_then_setup_then_play() -> None:
    viewing = Viewing(session_id="s1")
    assert decide(viewing, request("DESCRIBE", f"rtsp://h:1/{TOKEN}")) == Describe(
        TOKEN, "rtsp://h:1"
    )
    viewing.described(TOKEN, ("track0", "track1"))
    assert decide(viewing, tcp_setup(f"rtsp://h:1/{TOKEN}/track1")) == Setup(TOKEN, 1, (0, 1))
    viewing.set_up(1, (0, 1))
    second = tcp_setup(f"rtsp://h:1/{TOKEN}/track0", Session="s1")
    assert decide(viewing, second) == Setup(TOKEN, 0, (2, 3))
    viewing.set_up(0, (2, 3))
    assert decide(viewing, request("PLAY", f"rtsp://h:1/{TOKEN}/", Session="s1")) == Play(
        TOKEN, "rtsp://h:1"
    )
    viewing.playing = True
    again = decide(viewing, request("PLAY", f"rtsp://h:1/{TOKEN}/", Session="s1"))
    assert again == Answer((("Session", "s1;timeout=60"),))
    keepalive = decide(viewing, request("GET_PARAMETER", f"rtsp://h:1/{TOKEN}/", Session="s1"))
    assert keepalive == Answer((("Session", "s1;timeout=60"),))
    assert decide(viewing, request("TEARDOWN", f"rtsp://h:1/{TOKEN}/")) == Teardown()


def test_options_is_answered_by_the_door() -> None:
    answer = decide(Viewing("s"), request("OPTIONS", "*"))
    assert answer == Answer(
        (("Public", "OPTIONS, DESCRIBE, SETUP, PLAY, GET_PARAMETER, TEARDOWN"),)
    )


NOT_PUBLISHED = 404


@pytest.mark.parametrize(
    ("viewing", "req", "status", "why"),
    [
        # Issue 9, attack 1: the audio track set up before any DESCRIBE on the connection.
        (Viewing("s"), tcp_setup(f"rtsp://h/{TOKEN}/stream=1"), 404, "DESCRIBE"),
        (Viewing("s"), tcp_setup(f"rtsp://h/{TOKEN}/track0"), 404, "DESCRIBE"),
        # ... and after one, by the camera's numbering or go2rtc's, or with a query on.
        (described(), tcp_setup(f"rtsp://h/{TOKEN}/stream=1"), 404, "published"),
        (described(), tcp_setup(f"rtsp://h/{TOKEN}/trackID=1"), 404, "published"),
        (described(), tcp_setup(f"rtsp://h/{TOKEN}/track1"), 404, "published"),
        (described(), tcp_setup(f"/{TOKEN}/stream=1?x=1"), 400, "query"),
        (described(), tcp_setup(f"rtsp://h/{TOKEN}/track0/x"), 404, "published"),
        (described(), tcp_setup(f"rtsp://h/{TOKEN}"), 404, "published"),
        (described(), tcp_setup("rtsp://h/other/track0"), 404, "another share"),
        # Issue 9, attack 2: UDP past the 461 check.
        (
            described(),
            request(
                "SETUP",
                f"rtsp://h/{TOKEN}/track0",
                Transport="RTP/AVP;unicast;client_port=5000-5001;x=TCP-INTERLEAVED",
            ),
            461,
            "RTP/AVP/TCP",
        ),
        (described(), request("SETUP", f"rtsp://h/{TOKEN}/track0"), 461, "exactly one"),
        (set_up(), tcp_setup(f"rtsp://h/{TOKEN}/track0"), 455, "already"),
        (described(), tcp_setup(f"rtsp://h/{TOKEN}/track0", Session="x"), 454, "set up"),
        # Issue 9, attack 4: a path the camera would normalise.
        (Viewing("s"), request("DESCRIBE", f"rtsp://h/{TOKEN}/../201"), 400, "dot segment"),
        (Viewing("s"), request("DESCRIBE", f"rtsp://h/{TOKEN}/%2e%2e/201"), 400, "percent"),
        (Viewing("s"), request("DESCRIBE", f"rtsp://h/{TOKEN}/201"), 404, "share itself"),
        (Viewing("s"), request("DESCRIBE", "*"), 404, "no share"),
        (Viewing("s"), request("DESCRIBE", "rtsp://h/"), 404, "no share"),
        (set_up(), request("DESCRIBE", f"rtsp://h/{TOKEN}"), 455, "already set up"),
        (described(), request("DESCRIBE", "rtsp://h/another-token"), 404, "another share"),
        (Viewing("s"), request("PLAY", f"rtsp://h/{TOKEN}"), 455, "set up a track"),
        (set_up(), request("PLAY", f"rtsp://h/{TOKEN}"), 454, "session"),
        (set_up(), request("PLAY", f"rtsp://h/{TOKEN}", Session="guess"), 454, "session"),
        (
            set_up(),
            request("PLAY", f"rtsp://h/{TOKEN}/track1", Session="door-session"),
            404,
            "play the share",
        ),
        (Viewing("s"), request("GET_PARAMETER", "*"), 454, "nothing was set up"),
        (
            Viewing("s"),
            request("DESCRIBE", f"rtsp://h/{TOKEN}", Require="play.basic"),
            551,
            "option",
        ),
        # Issue 9, attack 3: methods that must never reach the camera, before and after PLAY.
        (Viewing("s"), request("SET_PARAMETER", f"rtsp://h/{TOKEN}"), 405, "only"),
        (set_up(), request("ANNOUNCE", f"rtsp://h/{TOKEN}"), 405, "only"),
        (set_up(), request("RECORD", f"rtsp://h/{TOKEN}"), 405, "only"),
        (set_up(), request("PAUSE", f"rtsp://h/{TOKEN}"), 405, "only"),
        (set_up(), request("REDIRECT", f"rtsp://h/{TOKEN}"), 405, "only"),
        (set_up(), request("play", f"rtsp://h/{TOKEN}"), 405, "only"),
    ],
)
def test_refusals(viewing: Viewing, req: Request, status: int, why: str) -> None:
    with pytest.raises(RefusedError) as refused:
        decide(viewing, req)
    assert refused.value.status == status
    assert why in refused.value.why


def test_405_names_the_methods_allowed() -> None:
    with pytest.raises(RefusedError) as refused:
        decide(Viewing("s"), request("SET_PARAMETER", "*"))
    assert refused.value.headers == (
        ("Allow", "OPTIONS, DESCRIBE, SETUP, PLAY, GET_PARAMETER, TEARDOWN"),
    )


def test_while_playing_nothing_new_is_set_up_or_described() -> None:
    viewing = set_up()
    viewing.playing = True
    for req in (
        tcp_setup(f"rtsp://h/{TOKEN}/track0", Session="door-session"),
        request("DESCRIBE", f"rtsp://h/{TOKEN}"),
    ):
        with pytest.raises(RefusedError) as refused:
            decide(viewing, req)
        assert refused.value.status == 455
    with pytest.raises(RefusedError) as refused:
        decide(viewing, tcp_setup(f"rtsp://h/{TOKEN}/track1"))
    assert refused.value.status == 404


# --- fuzzing: nothing makes the door act on what it did not publish ------------------------

SEGMENT = st.sampled_from(
    [
        TOKEN,
        "other",
        "track0",
        "track1",
        "stream=1",
        "trackID=0",
        "..",
        ".",
        "%2e%2e",
        "",
        "a?b",
        "x#y",
    ]
)
METHOD = st.sampled_from(
    [
        "OPTIONS",
        "DESCRIBE",
        "SETUP",
        "PLAY",
        "GET_PARAMETER",
        "TEARDOWN",
        "PAUSE",
        "ANNOUNCE",
        "SET_PARAMETER",
        "RECORD",
        "setup",
    ]
)


@st.composite
def uris(draw: st.DrawFn) -> str:
    path = "/".join(draw(st.lists(SEGMENT, min_size=1, max_size=4)))
    prefix = draw(
        st.sampled_from(["rtsp://h:1/", "/", "rtsps://[::1]/", "http://h/", "", "rtsp://u@h/"])
    )
    return draw(st.sampled_from(["*", prefix + path]))


@st.composite
def door_requests(draw: st.DrawFn) -> Request:
    headers = [("CSeq", "1")]
    if draw(st.booleans()):
        headers.append(
            (
                "Transport",
                draw(
                    st.sampled_from(
                        [
                            TCP,
                            "RTP/AVP;unicast;client_port=1-2",
                            f"{TCP};x=1",
                            "RTP/AVP/TCP;interleaved=9-10",
                        ]
                    )
                ),
            )
        )
    if draw(st.booleans()):
        headers.append(("Session", draw(st.sampled_from(["door-session", "other"]))))
    return Request(draw(METHOD), draw(uris()), tuple(headers))


def published_only(viewing: Viewing, req: Request) -> None:
    try:
        decision = decide(viewing, req)
    except RefusedError as err:
        refused = err
    else:
        refused = None
    if refused is not None:
        # A 4xx naming the problem, or RTSP's own answer to an unknown option tag (551).
        assert 400 <= refused.status < 500 or refused.status == 551
        assert refused.why
        return
    if isinstance(decision, Describe | Setup | Play):
        assert decision.token in {TOKEN, "other", "track0", "track1", "stream=1", "trackID=0"}
        if viewing.token:
            assert decision.token == viewing.token
    if isinstance(decision, Setup):
        assert viewing.controls, "SETUP only after a DESCRIBE served on this connection"
        assert req.uri.rstrip("/").endswith("/" + viewing.controls[decision.track])
        assert decision.track not in viewing.setup
        assert req.method == "SETUP"
        assert req.header("Transport") in {TCP, "RTP/AVP/TCP;interleaved=9-10"}
        assert decision.channels == (2 * len(viewing.setup), 2 * len(viewing.setup) + 1)
    if isinstance(decision, Describe):
        assert req.method == "DESCRIBE"
        assert not viewing.setup
    if isinstance(decision, Play):
        assert viewing.setup
        assert not viewing.playing


@settings(max_examples=600, deadline=None)
@given(st.lists(door_requests(), min_size=1, max_size=8), st.booleans())
def test_requests_act_only_on_what_the_door_published(reqs: list[Request], playing: bool) -> None:
    viewing = described("track0")
    for req in reqs:
        published_only(viewing, req)
    viewing.set_up(0, (0, 1))
    viewing.playing = playing
    for req in reqs:
        published_only(viewing, req)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_never_yield_an_upstream_action(data: bytes) -> None:
    parser = Parser("server", max_head=1024, max_body=1024, max_frame=1024)
    parser.feed(data)
    viewing = Viewing("door-session")
    requests: list[Request] = []
    refused: RtspError | None = None
    try:
        while (event := parser.next_event()) is not None:
            if isinstance(event, Request):
                requests.append(event)
    except RtspError as err:
        refused = err
    assert refused is None or refused.status in {400, 413, 431}
    for req in requests:
        try:
            decision = decide(viewing, req)
        except RefusedError:
            continue
        # A fresh connection gets answers, or a DESCRIBE of the share its URI names.
        assert not isinstance(decision, Setup | Play)
        if isinstance(decision, Describe):
            assert decision.token == parse_uri(req.uri).token


@pytest.mark.parametrize(
    ("text", "digits", "number"),
    [
        ("42", 9, 42),
        (" 7 ", 9, 7),
        ("²", 9, None),
        ("\u0661", 9, None),  # ARABIC-INDIC DIGIT ONE
        ("", 9, None),
        ("12", 1, None),
        ("9" * 5000, 9, None),
        ("-1", 9, None),
    ],
)
def test_only_short_ascii_digits_are_numbers(text: str, digits: int, number: int | None) -> None:
    assert small_number(text, digits) == number


@pytest.mark.parametrize(
    "transport",
    [
        "RTP/AVP/TCP;interleaved=²-3",
        "RTP/AVP/TCP;interleaved=0-" + "9" * 5000,
        "RTP/AVP/TCP;interleaved=300-301",
    ],
)
def test_an_upstream_transport_with_odd_numbers_is_refused_by_name(transport: str) -> None:
    with pytest.raises(ValueError, match="interleaved"):
        upstream_channels(transport)
