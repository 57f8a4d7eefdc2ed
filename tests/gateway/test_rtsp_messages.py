"""The RTSP codec over raw bytes: what it accepts, what it refuses and why, and that it never
crashes and round-trips what it writes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rtcc_gateway.door.rtsp.messages import Frame, Parser, Request, Response, RtspError

MAX_HEAD = 2048


def server(max_frame: int = 0xFFFF) -> Parser:
    return Parser("server", max_head=MAX_HEAD, max_body=4096, max_frame=max_frame)


def events(parser: Parser, data: bytes) -> list[object]:
    parser.feed(data)
    out: list[object] = []
    while (event := parser.next_event()) is not None:
        out.append(event)
    return out


def test_a_request_with_headers_and_body() -> None:
    raw = b"GET_PARAMETER rtsp://h/T RTSP/1.0\r\nCSeq: 7\r\nSession:  abc \r\nContent-Length: 4\r\n\r\nping"
    assert events(server(), raw) == [
        Request("GET_PARAMETER", "rtsp://h/T", (("CSeq", "7"), ("Session", "abc")), b"ping")
    ]


def test_bytes_arriving_one_at_a_time_make_the_same_request() -> None:
    raw = b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n"
    parser = server()
    seen = []
    for i in range(len(raw)):
        seen += events(parser, raw[i : i + 1])
    assert seen == [Request("OPTIONS", "*", (("CSeq", "1"),))]


def test_frames_and_requests_interleave() -> None:
    raw = b"$\x01\x00\x03abc" + b"OPTIONS * RTSP/1.0\r\nCSeq: 2\r\n\r\n" + b"$\x00\x00\x00"
    assert events(server(), raw) == [
        Frame(1, b"abc"),
        Request("OPTIONS", "*", (("CSeq", "2"),)),
        Frame(0, b""),
    ]


def test_a_half_frame_waits_for_the_rest() -> None:
    parser = server()
    assert events(parser, b"$\x00\x00\x05ab") == []
    assert events(parser, b"cde") == [Frame(0, b"abcde")]


def test_empty_lines_between_messages_are_skipped() -> None:
    raw = b"\r\n\r\nOPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n"
    assert len(events(server(), raw)) == 1


@pytest.mark.parametrize(
    ("raw", "status", "why"),
    [
        # A bare CR would let a header ride inside another one's value (and be echoed back).
        (b"OPTIONS * RTSP/1.0\r\nCSeq: 1\rX-Injected: yes\r\n\r\n", 400, "bare CR or LF"),
        (b"OPTIONS * RTSP/1.0\r\nCSeq: 1\nX-Injected: yes\r\n\r\n", 400, "bare CR or LF"),
        (b"OPTIONS * RTSP/1.0\nCSeq: 1\n\n\r\n\r\n", 400, "bare CR or LF"),
        (b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\r\n\r\n", 400, "bare CR or LF"),
        (b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n X-Folded: yes\r\n\r\n", 400, "folded"),
        (b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nX-Nul: a\x00b\r\n\r\n", 400, "control character"),
        (b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nBad Name: x\r\n\r\n", 400, "Name: value"),
        (b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nno colon\r\n\r\n", 400, "Name: value"),
        (b"OPTIONS * RTSP/1.0\r\n\r\n", 400, "CSeq"),
        (b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nCSeq: 2\r\n\r\n", 400, "CSeq"),
        (b"OPTIONS * RTSP/1.0\r\nCSeq: one\r\n\r\n", 400, "CSeq"),
        (b"OPTIONS  * RTSP/1.0\r\nCSeq: 1\r\n\r\n", 400, "request line"),
        (b"OPTIONS * HTTP/1.1\r\nCSeq: 1\r\n\r\n", 400, "request line"),
        (b"OPTIONS * RTSP/2.0\r\nCSeq: 1\r\n\r\n", 400, "RTSP/1.0"),
        (b"OPT\x01ONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n", 400, "request line"),
        (b"OPTIONS \xff RTSP/1.0\r\nCSeq: 1\r\n\r\n", 400, "request line"),
        (b"RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n", 400, "answer"),
        (b"\x16\x03\x01 not rtsp at all \x00\xff\r\n\r\n", 400, "request line"),
        (b"DESCRIBE * RTSP/1.0\r\nCSeq: 1\r\nContent-Length: -1\r\n\r\n", 400, "Content-Length"),
        (
            b"DESCRIBE * RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
            400,
            "Content-Length",
        ),
        (b"DESCRIBE * RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 5000\r\n\r\n", 413, "body of 5000"),
        (b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nX: " + b"a" * MAX_HEAD, 431, "too long"),
        (b"$\x00\x08\x01", 400, "frame of 2049 bytes"),
    ],
)
def test_refused_bytes_name_the_problem(raw: bytes, status: int, why: str) -> None:
    parser = server(max_frame=2048)
    with pytest.raises(RtspError) as refused:
        events(parser, raw)
    assert refused.value.status == status
    assert why in refused.value.why


def test_a_bare_lf_is_refused_before_the_head_ends() -> None:
    with pytest.raises(RtspError, match="bare CR or LF"):
        events(server(), b"OPTIONS * RTSP/1.0\nCSeq: 1\n")


def test_the_upstream_side_reads_answers_requests_and_frames() -> None:
    parser = Parser("client", max_head=MAX_HEAD, max_body=65536)
    raw = (
        b"$\x00\x00\x02hi"
        b"RTSP/1.0 401 Unauthorized\r\nCseq: 1\r\nWWW-Authenticate: Basic realm=x\r\n\r\n"
        b"RTSP/1.0 200\r\nContent-Length: 2\r\n\r\nv="
        b"SET_PARAMETER rtsp://h/x RTSP/1.0\r\nCSeq: 9\r\n\r\n"
    )
    assert events(parser, raw) == [
        Frame(0, b"hi"),
        Response(401, "Unauthorized", (("Cseq", "1"), ("WWW-Authenticate", "Basic realm=x"))),
        Response(200, "", (), b"v="),
        Request("SET_PARAMETER", "rtsp://h/x", (("CSeq", "9"),)),
    ]


def test_a_garbled_status_line_is_refused() -> None:
    parser = Parser("client", max_head=MAX_HEAD, max_body=10)
    with pytest.raises(RtspError, match="status line"):
        events(parser, b"RTSP/1.0 OK\r\n\r\n")


@pytest.mark.parametrize(
    "message",
    [
        Request("OPTIONS", "*", (("CSeq", "1"), ("X", "a\rb"))),
        Request("OPTIONS", "a b", (("CSeq", "1"),)),
        Request("BAD METHOD", "*", ()),
        Request("OPTIONS", "*", (("Content-Length", "3"),)),
        Response(200, "OK\r\nX: y"),
        Response(999, "Nope"),
    ],
)
def test_the_writer_refuses_what_it_could_not_write_faithfully(
    message: Request | Response,
) -> None:
    with pytest.raises(ValueError, match=r"not|cannot"):
        message.encode()


def test_the_writer_sets_the_content_length() -> None:
    assert Response(200, "OK", (("CSeq", "3"),), b"v=0\r\n").encode() == (
        b"RTSP/1.0 200 OK\r\nCSeq: 3\r\nContent-Length: 5\r\n\r\nv=0\r\n"
    )


# --- fuzzing -------------------------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(st.lists(st.binary(max_size=300), max_size=6))
def test_random_bytes_never_crash_the_parser(chunks: list[bytes]) -> None:
    parser = server(max_frame=2048)
    seen: list[object] = []
    refused: RtspError | None = None
    try:
        for chunk in chunks:
            seen += events(parser, chunk)
    except RtspError as err:
        refused = err
    assert refused is None or 400 <= refused.status < 500
    for event in seen:
        assert isinstance(event, Request | Frame)
        if isinstance(event, Request):
            # Whatever comes out was checked: a token method, a visible URI, one CSeq.
            assert event.method.isascii()
            assert " " not in event.uri
            assert event.cseq.isdigit()
            assert all("\r" not in v and "\n" not in v for _, v in event.headers)


TOKEN = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.!~*'+",
    min_size=1,
    max_size=12,
)
VALUE = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
    max_size=40,
).map(lambda v: v.strip(" \t"))
URI = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=40
)
HEADERS = st.lists(
    st.tuples(TOKEN.filter(lambda n: n.lower() not in {"content-length", "cseq"}), VALUE),
    max_size=5,
)


@st.composite
def requests(draw: st.DrawFn) -> Request:
    cseq = ("CSeq", str(draw(st.integers(0, 10**9 - 1))))
    headers = draw(HEADERS)
    at = draw(st.integers(0, len(headers)))
    return Request(
        draw(TOKEN), draw(URI), (*headers[:at], cseq, *headers[at:]), draw(st.binary(max_size=64))
    )


@settings(max_examples=300, deadline=None)
@given(st.lists(requests(), min_size=1, max_size=3), st.lists(st.binary(max_size=40), max_size=3))
def test_written_requests_parse_back_to_themselves(
    messages: list[Request], payloads: list[bytes]
) -> None:
    frames = [Frame(i % 256, p) for i, p in enumerate(payloads)]
    wire = b"".join(m.encode() for m in messages) + b"".join(f.encode() for f in frames)
    assert events(server(), wire) == [*messages, *frames]


@settings(max_examples=200, deadline=None)
@given(
    st.integers(100, 599), VALUE.filter(lambda v: "\r" not in v), HEADERS, st.binary(max_size=64)
)
def test_written_answers_parse_back_to_themselves(
    status: int, reason: str, headers: list[tuple[str, str]], body: bytes
) -> None:
    answer = Response(status, reason, tuple(headers), body)
    parser = Parser("client", max_head=MAX_HEAD, max_body=4096)
    assert events(parser, answer.encode()) == [answer]


def test_frames_for_the_viewer_are_taken_in_runs_renumbered_and_filtered() -> None:
    parser = Parser("client", max_head=MAX_HEAD, max_body=64)
    parser.feed(
        Frame(0, b"v1").encode()
        + Frame(1, b"r1").encode()
        + Frame(2, b"audio").encode()  # nobody set this up
        + Frame(6, b"v2").encode()  # the upstream's channel for the viewer's 4
        + b"RTSP/1.0 200 OK\r\nCSeq: 3\r\n\r\n"
        + Frame(0, b"v3").encode()
        + b"$\x00\x00\x07part"
    )
    channels = {0: 0, 1: 1, 6: 4, 7: 5}
    assert parser.take_frames(channels) == (
        Frame(0, b"v1").encode() + Frame(1, b"r1").encode() + Frame(4, b"v2").encode()
    )
    assert parser.take_frames(channels) == b"", "an answer is next: nothing taken"
    assert parser.next_event() == Response(200, "OK", (("CSeq", "3"),))
    assert parser.take_frames(channels) == Frame(0, b"v3").encode()
    assert parser.take_frames(channels) == b"", "a partial frame waits"
    parser.feed(b"ial")
    assert parser.take_frames(channels) == Frame(0, b"partial").encode()
    assert parser.buffered == 0


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 9), st.binary(max_size=30)), max_size=12),
    st.dictionaries(st.integers(0, 9), st.integers(0, 255), max_size=10),
    st.integers(1, 40),
)
def test_taking_frames_in_any_pieces_matches_reading_them_one_by_one(
    frames: list[tuple[int, bytes]], channels: dict[int, int], piece: int
) -> None:
    wire = b"".join(Frame(c, p).encode() for c, p in frames)
    expected = b"".join(Frame(channels[c], p).encode() for c, p in frames if c in channels)
    parser = Parser("client", max_head=MAX_HEAD, max_body=64)
    taken = b""
    for i in range(0, len(wire), piece):
        parser.feed(wire[i : i + piece])
        taken += parser.take_frames(channels)
    assert taken == expected
    assert parser.buffered == 0
