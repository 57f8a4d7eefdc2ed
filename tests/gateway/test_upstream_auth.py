"""The door authenticating to a camera: the strongest challenge it can answer, and Digest as
RFC 2617 computes it."""

from __future__ import annotations

import base64
import hashlib

import pytest
from rtcc_gateway.door import upstream_auth
from rtcc_gateway.door.upstream_auth import UpstreamAuth, UpstreamAuthError, parse_challenge

RFC_CHALLENGE = (
    'Digest realm="testrealm@host.com", qop="auth,auth-int", '
    'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
)


def params_of(header: str) -> dict[str, str]:
    scheme, params = parse_challenge(header)
    assert scheme == "digest"
    return params


def test_challenges_are_parsed_quoted_or_not() -> None:
    assert parse_challenge('Digest realm="a, \\"b\\"", nonce=xyz, algorithm=MD5') == (
        "digest",
        {"realm": 'a, \\"b\\"', "nonce": "xyz", "algorithm": "MD5"},
    )


def test_the_rfc_2617_example(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(upstream_auth.secrets, "token_hex", lambda _n: "0a4f113b")
    auth = UpstreamAuth("Mufasa", "Circle Of Life")
    auth.learn([RFC_CHALLENGE])
    params = params_of(auth.header("GET", "/dir/index.html") or "")
    assert params["response"] == "6629fae49393a05397450978507c4ef1"
    assert (params["qop"], params["nc"], params["cnonce"]) == ("auth", "00000001", "0a4f113b")
    assert params["opaque"] == "5ccc069c403ebaf9f0171e9517f40e41"


def test_the_nonce_count_rises_with_each_request_and_restarts_with_a_new_challenge() -> None:
    auth = UpstreamAuth("u", "p")
    auth.learn([RFC_CHALLENGE])
    counts = [params_of(auth.header("DESCRIBE", "rtsp://cam/s") or "")["nc"] for _ in range(3)]
    assert counts == ["00000001", "00000002", "00000003"]
    auth.learn([RFC_CHALLENGE])
    assert params_of(auth.header("DESCRIBE", "rtsp://cam/s") or "")["nc"] == "00000001"


def test_without_qop_the_response_is_the_rfc_2069_hash() -> None:
    auth = UpstreamAuth("admin", "pw")
    auth.learn(['Digest realm="cam", nonce="n1"'])
    params = params_of(auth.header("SETUP", "rtsp://cam/s/trackID=0") or "")

    def md5(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - RTSP cameras' Digest

    expected = md5(f"{md5('admin:cam:pw')}:n1:{md5('SETUP:rtsp://cam/s/trackID=0')}")
    assert params["response"] == expected
    assert "qop" not in params


def test_sha_256_is_preferred_over_md5_and_md5_over_basic() -> None:
    auth = UpstreamAuth("u", "p")
    auth.learn(
        [
            'Basic realm="cam"',
            'Digest realm="cam", nonce="a"',
            'Digest realm="cam", nonce="b", algorithm=SHA-256',
        ]
    )
    params = params_of(auth.header("PLAY", "rtsp://cam/s") or "")
    assert params["algorithm"] == "SHA-256"
    assert len(params["response"]) == 64


def test_basic_when_that_is_all_the_camera_takes() -> None:
    auth = UpstreamAuth("admin", "p:w")
    assert auth.header("OPTIONS", "rtsp://cam/") is None, "nothing before a challenge"
    auth.learn(['Basic realm="cam"'])
    header = auth.header("OPTIONS", "rtsp://cam/") or ""
    assert base64.b64decode(header.removeprefix("Basic ")) == b"admin:p:w"


def test_a_scheme_the_door_lacks_is_an_error_naming_no_credentials() -> None:
    auth = UpstreamAuth("admin", "hunter2")
    with pytest.raises(UpstreamAuthError) as err:
        auth.learn(['Digest realm="cam", nonce="a", algorithm=SHA-512-256', "Bearer x"])
    assert "hunter2" not in str(err.value)
    assert "hunter2" not in repr(auth), "the password never shows in a repr"
