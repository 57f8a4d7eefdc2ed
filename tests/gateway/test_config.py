"""The standalone configuration: what is accepted, and how each problem is named."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from rtcc_gateway.config import ConfigError, load_config, parse_config, warnings_of

from ..conftest import BASE_CONFIG


def problems(data: Any, base: Path | None = None) -> list[str]:
    with pytest.raises(ConfigError) as err:
        parse_config(data, base)
    return err.value.problems


def with_change(path: str, value: Any) -> dict[str, Any]:
    """BASE_CONFIG with one field set (`a.b[0].c` paths; value DELETE removes it)."""
    data = copy.deepcopy(BASE_CONFIG)
    parts = path.replace("[", ".").replace("]", "").split(".")
    node: Any = data
    for part in parts[:-1]:
        node = node[int(part)] if part.isdigit() else node[part]
    last: Any = int(parts[-1]) if parts[-1].isdigit() else parts[-1]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return data


DELETE = object()


def test_valid_config_builds_typed_values(tmp_path: Path) -> None:
    cfg = parse_config(copy.deepcopy(BASE_CONFIG), tmp_path)
    assert cfg.public.port == 0
    assert cfg.owner.token == "test-owner-token-0123456789abcdef"
    assert cfg.data_dir == tmp_path / "data"
    assert cfg.agencies[0].rate_limit_per_minute == 30
    assert len(cfg.agencies[0].public_key) == 32
    camera = cfg.cameras[0]
    # Defaults are the safe ones: no consent, ask first, one hour, no audio.
    assert (camera.consent, camera.approval, camera.max_duration_s, camera.share_audio) == (
        False,
        "ask",
        3600,
        False,
    )
    assert cfg.policy.approval_timeout_s == 600
    assert cfg.policy.owner_lease_s == 900
    assert cfg.policy.paused is False


def test_secrets_stay_out_of_repr(tmp_path: Path) -> None:
    cfg = parse_config(copy.deepcopy(BASE_CONFIG), tmp_path)
    text = repr(cfg)
    assert "test-owner-token" not in text
    assert "campass" not in text


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (
            "cameras[0].source",
            "http://cam/stream",
            "cameras[0].source: expected a rtsp:// or rtsps:// URL",
        ),
        (
            "cameras[0].id",
            "Front Door",
            "cameras[0].id: expected 1-64 of a-z, 0-9, '_' and '-', starting with a letter or digit",
        ),
        ("cameras[0].approval", "always", "cameras[0].approval: expected 'ask' or 'auto'"),
        (
            "cameras[0].max_duration_s",
            59,
            "cameras[0].max_duration_s: expected an integer from 60 to 43200",
        ),
        (
            "cameras[0].max_duration_s",
            43201,
            "cameras[0].max_duration_s: expected an integer from 60 to 43200",
        ),
        ("cameras[0].consent", "yes", "cameras[0].consent: expected true or false"),
        (
            "cameras[0].location.lat",
            91,
            "cameras[0].location.lat: expected a number from -90 to 90",
        ),
        ("cameras[0].location", DELETE, "cameras[0].location: required field is missing"),
        ("cameras[0].colour", "red", "cameras[0].colour: unknown field"),
        (
            "owner.token",
            "CHANGE-ME",
            "owner.token: is a placeholder; set a random token (e.g. `openssl rand -hex 32`)",
        ),
        ("owner.token", "short", "owner.token: must be at least 16 characters"),
        ("owner.token", DELETE, "owner.token: required field is missing"),
        (
            "owner.port",
            70000,
            "owner.port: expected a port number from 0 to 65535 (0 picks a free port)",
        ),
        ("public.base_url", "ftp://x", "public.base_url: expected a http:// or https:// URL"),
        (
            "public.rtsp_base_url",
            "rtsp://u:p@host:8554",
            "public.rtsp_base_url: must not carry credentials",
        ),
        ("agencies[0].public_key", "not base64!", "agencies[0].public_key: is not valid base64"),
        (
            "agencies[0].public_key",
            "AAAA",
            "agencies[0].public_key: decodes to 3 bytes; an Ed25519 public key has 32",
        ),
        (
            "agencies[0].rate_limit_per_minute",
            0,
            "agencies[0].rate_limit_per_minute: expected an integer from 1 to 100000",
        ),
        ("policy.timezone", "Mars/Olympus", "policy.timezone: unknown timezone 'Mars/Olympus'"),
        (
            "policy.paused_until",
            "2026-11-26T20:00:00",
            "policy.paused_until: must include a timezone offset (e.g. Z or -06:00)",
        ),
        (
            "policy.paused_until",
            "tomorrow",
            "policy.paused_until: expected an ISO 8601 time such as 2026-11-26T20:00:00Z",
        ),
        (
            "policy.approval_timeout_s",
            5,
            "policy.approval_timeout_s: expected an integer from 30 to 86400",
        ),
        (
            "policy.owner_lease_s",
            -1,
            "policy.owner_lease_s: expected an integer from 0 to 315360000",
        ),
        ("restreamer", "vlc", "restreamer: expected 'auto', 'go2rtc' or 'direct'"),
        ("policy", DELETE, "policy: required field is missing"),
        ("surprise", 1, "surprise: unknown field"),
    ],
)
def test_each_problem_names_its_field(path: str, value: Any, expected: str) -> None:
    assert problems(with_change(path, value)) == [expected]


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        (
            {"days": ["mon"], "start": "22:00", "end": "22:00"},
            "policy.privacy_windows[0].end: start and end are equal; a window must have a length",
        ),
        (
            {"days": ["monday"], "start": "22:00", "end": "07:00"},
            "policy.privacy_windows[0].days: unknown day 'monday'; use mon, tue, wed, thu, fri, sat, sun",
        ),
        (
            {"days": ["mon", "mon"], "start": "22:00", "end": "07:00"},
            "policy.privacy_windows[0].days: lists a day twice",
        ),
        (
            {"days": ["mon"], "start": "24:00", "end": "07:00"},
            "policy.privacy_windows[0].start: expected a time of day from 00:00 to 23:59",
        ),
        (
            {"days": ["mon"], "start": "7am", "end": "09:00"},
            "policy.privacy_windows[0].start: expected a time of day as HH:MM",
        ),
    ],
)
def test_privacy_window_problems(window: dict[str, Any], expected: str) -> None:
    assert problems(with_change("policy.privacy_windows", [window])) == [expected]


def test_privacy_window_crossing_midnight_is_valid(tmp_path: Path) -> None:
    data = with_change(
        "policy.privacy_windows", [{"days": ["sun", "mon"], "start": "22:00", "end": "07:00"}]
    )
    window = parse_config(data, tmp_path).policy.privacy_windows[0]
    assert window.days == ("mon", "sun")
    assert (window.start.hour, window.end.hour) == (22, 7)


def test_several_problems_are_each_reported() -> None:
    data = with_change("cameras[0].source", "nope")
    data["owner"]["token"] = "x"
    data["cameras"].append(copy.deepcopy(data["cameras"][0]))
    data["cameras"][1]["source"] = "rtsp://127.0.0.1/ok"
    found = problems(data)
    assert "cameras[0].source: expected a rtsp:// or rtsps:// URL" in found
    assert "owner.token: must be at least 16 characters" in found


def test_duplicate_ids_are_refused() -> None:
    data = copy.deepcopy(BASE_CONFIG)
    data["cameras"].append(copy.deepcopy(data["cameras"][0]))
    assert problems(data) == ["cameras[1].id: duplicate camera id 'front_door'"]


def test_plain_transport_needs_insecure_http() -> None:
    data = with_change("public.insecure_http", False)
    assert problems(data) == [
        "public.base_url: http:// needs public.insecure_http: true",
        "public.rtsp_base_url: rtsp:// needs public.insecure_http: true",
        "public.tls: required unless public.insecure_http is true",
    ]


def test_tls_files_must_exist(tmp_path: Path) -> None:
    data = with_change("public.tls", {"cert": "missing.pem", "key": "missing.key"})
    data["public"]["insecure_http"] = False
    data["public"]["base_url"] = "https://home.example.net:8443"
    data["public"]["rtsp_base_url"] = "rtsps://home.example.net:8554"
    assert problems(data, tmp_path) == [
        "public.tls.cert: file not found or not readable: missing.pem",
        "public.tls.key: file not found or not readable: missing.key",
    ]
    (tmp_path / "missing.pem").write_text("x")
    (tmp_path / "missing.key").write_text("x")
    assert parse_config(data, tmp_path).public.tls is not None


def test_listeners_may_not_share_a_port() -> None:
    data = copy.deepcopy(BASE_CONFIG)
    data["public"].update(port=8443, rtsp_port=8443)
    data["owner"]["port"] = 8443
    assert problems(data) == [
        "owner.port: the same as public.port on the same host",
        "public.rtsp_port: the same as public.port",
    ]


def test_not_a_mapping() -> None:
    assert problems(["a", "list"]) == ["(top level): expected a mapping of settings"]


def test_load_config_file_problems(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "nope.yaml")
    assert err.value.problems == [f"(file): {tmp_path / 'nope.yaml'} does not exist"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("public: [unclosed\n")
    with pytest.raises(ConfigError) as err:
        load_config(bad)
    assert err.value.problems[0].startswith("(file): not valid YAML at line")


def test_insecure_http_off_loopback_warns(tmp_path: Path) -> None:
    data = with_change("public.host", "0.0.0.0")  # noqa: S104 - parsed only, never bound
    cfg = parse_config(data, tmp_path)
    assert any("unencrypted" in w for w in warnings_of(cfg))
    assert warnings_of(parse_config(copy.deepcopy(BASE_CONFIG), tmp_path)) == []
