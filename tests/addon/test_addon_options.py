"""`python -m rtcc_gateway.addon_options`: the add-on's options become a configuration the gateway
accepts, bad options are named one line each, and the owner token is never printed."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rtcc_gateway import addon_options
from rtcc_gateway.addon_options import AddonOptions, Paths, build_config, parse_options

from tests.conftest import AGENCY_PUBLIC_B64

from .fake_addon import GOOD_OPTIONS, TOKEN, Addon, assert_no_token, gateway_check

# `field: what is wrong`; the field part is an option name, an indexed agency field, or a file.
PROBLEM_LINE = re.compile(
    r"^(?:[a-z_]+(?:\[\d+\]\.[a-z_]+)?|\(options\)|owner token \(--token-file\))(?:/[a-z]+)?: \S"
)


@pytest.fixture
def addon(tmp_path: Path) -> Addon:
    return Addon(tmp_path)


# --- good options --------------------------------------------------------------------------------


def test_good_options_make_a_configuration_the_gateway_accepts(addon: Addon) -> None:
    result = addon.convert(GOOD_OPTIONS)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"wrote {addon.out}"
    assert result.stderr == ""
    assert stat.S_IMODE(addon.out.stat().st_mode) == 0o600

    checked = gateway_check(addon.out)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.splitlines()[-1] == f"ok: {addon.out}"
    assert checked.stdout.splitlines()[0].startswith("restreamer: "), "check names its restreamer"
    assert_no_token(result.stdout, result.stderr, checked.stdout, checked.stderr)


def test_the_configuration_has_the_gateway_md_shape(addon: Addon) -> None:
    assert addon.convert(GOOD_OPTIONS).returncode == 0
    config = addon.config()
    assert list(config) == [
        "public",
        "owner",
        "data_dir",
        "restreamer",
        "go2rtc_bin",
        "agencies",
        "policy",
        "cameras",
    ]
    assert config["public"] == {
        "host": "0.0.0.0",  # noqa: S104 - inside the add-on's own network namespace
        "port": 8443,
        "rtsp_port": 8554,
        "base_url": "https://home.example.net:8443",
        "rtsp_base_url": "rtsps://home.example.net:8554",
        "tls": {"cert": str(addon.ssl / "fullchain.pem"), "key": str(addon.ssl / "privkey.pem")},
        "insecure_http": False,
    }
    assert config["owner"] == {"host": "0.0.0.0", "port": 8099, "token": TOKEN}  # noqa: S104
    assert config["data_dir"] == str(addon.data / "gateway")
    assert config["restreamer"] == "auto"
    assert config["agencies"] == [
        {
            "id": "jpd",
            "name": "Jackson Police Department",
            "public_key": AGENCY_PUBLIC_B64,
            "rate_limit_per_minute": 12,
        },
        {"id": "hcso", "name": "Hinds County Sheriff", "public_key": AGENCY_PUBLIC_B64},
    ]
    # Cameras and the policy come from the integration over the owner API.
    assert config["cameras"] == []
    assert config["policy"] == {
        "timezone": "America/Chicago",
        "paused": False,
        "privacy_windows": [
            {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "22:00", "end": "07:00"}
        ],
        "approval_timeout_s": 300,
    }


def test_the_add_on_defaults_are_enough(addon: Addon) -> None:
    minimal = {
        "base_url": "https://home.example.net:8443",
        "rtsp_base_url": "rtsps://home.example.net:8554",
        "certfile": "fullchain.pem",
        "keyfile": "privkey.pem",
        "insecure_http": False,
        "agencies": [],
        "log_level": "info",
    }
    result = addon.convert(minimal, env={"TZ": "Europe/Paris"})
    assert result.returncode == 0, result.stderr
    assert addon.config()["policy"] == {
        "timezone": "Europe/Paris",  # Home Assistant's TZ
        "paused": False,
        "privacy_windows": [],
        "approval_timeout_s": 600,
    }
    assert addon.config()["agencies"] == []
    assert gateway_check(addon.out).returncode == 0


def test_timezone_falls_back_to_utc_without_tz(addon: Addon) -> None:
    options = {k: v for k, v in GOOD_OPTIONS.items() if k != "timezone"}
    env = {k: v for k, v in os.environ.items() if k != "TZ"}
    addon.write_options(options)
    result = addon.run(*addon.args(), env=env)
    assert result.returncode == 0, result.stderr
    assert addon.config()["policy"]["timezone"] == "UTC"
    assert addon.config()["data_dir"] == "/data/gateway"


def test_insecure_http_needs_no_certificate(addon: Addon) -> None:
    options = {
        **GOOD_OPTIONS,
        "insecure_http": True,
        "base_url": "http://192.168.1.5:8443",
        "rtsp_base_url": "rtsp://192.168.1.5:8554",
        "certfile": "missing.pem",
    }
    result = addon.convert(options)
    assert result.returncode == 0, result.stderr
    assert addon.config()["public"]["tls"] is None
    checked = gateway_check(addon.out)
    assert checked.returncode == 0, checked.stderr
    assert "insecure_http" in checked.stderr  # the gateway warns: not on loopback


def test_rewriting_replaces_the_file_and_keeps_it_private(addon: Addon) -> None:
    addon.out.write_text("old: content\n")
    addon.out.chmod(0o644)
    assert addon.convert(GOOD_OPTIONS).returncode == 0
    assert stat.S_IMODE(addon.out.stat().st_mode) == 0o600
    assert "old" not in addon.config()
    assert [p.name for p in addon.data.iterdir() if p.name.endswith(".tmp")] == []


def test_certificates_in_sub_folders_of_ssl(addon: Addon) -> None:
    (addon.ssl / "home").mkdir()
    (addon.ssl / "home" / "cert.pem").write_text("x")
    options = {**GOOD_OPTIONS, "certfile": "home/cert.pem"}
    assert addon.convert(options).returncode == 0
    assert addon.config()["public"]["tls"]["cert"] == str(addon.ssl / "home" / "cert.pem")


# --- bad options ---------------------------------------------------------------------------------


def with_agency(**changes: Any) -> dict[str, Any]:
    agency = {**GOOD_OPTIONS["agencies"][0], **changes}
    return {**GOOD_OPTIONS, "agencies": [agency]}


class Missing:
    """As a value below: the option or field is left out."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING = Missing()


def without_missing(options: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in options.items() if value is not MISSING}


def bad(name: str, value: Any, problem: str) -> Any:
    """Good options but `name` set to `value` (or left out), and the line naming it."""
    options = without_missing({**GOOD_OPTIONS, name: value})
    return pytest.param(options, f"{name}: {problem}", id=f"{name}={value!r}")


def bad_agency(name: str, value: Any, problem: str) -> Any:
    """Good options but the first agency's `name` set to `value` (or left out)."""
    agency = without_missing({**GOOD_OPTIONS["agencies"][0], name: value})
    options = {**GOOD_OPTIONS, "agencies": [agency]}
    return pytest.param(options, f"agencies[0].{name}: {problem}", id=f"agencies.{name}={value!r}")


def bad_window(window: dict[str, Any], problem: str) -> Any:
    """Good options but this one privacy window; `problem` starts with the window's field."""
    options = {**GOOD_OPTIONS, "privacy_windows": [window]}
    return pytest.param(options, f"privacy_windows[0].{problem}", id=f"window={window!r}")


# Each: the options, and the start of the line on stderr that names their problem.
BAD_OPTIONS = [
    bad("base_url", "http://home.example.net:8443", "http:// needs insecure_http: true"),
    bad("rtsp_base_url", "https://home.example.net:8554", "expected a rtsp:// or rtsps:// URL"),
    bad("rtsp_base_url", "rtsps://user:pw@home.example.net:8554", "must not carry credentials"),
    bad("base_url", "https://home.example.net:8443/?x=1", "must not have a query or fragment"),
    bad("base_url", MISSING, "required field is missing"),
    bad("base_url", None, "expected a non-empty string"),
    bad("certfile", "nothere.pem", "file not found or not readable:"),
    bad(
        "keyfile", "../data/owner_token", "expected a file name inside /ssl, such as fullchain.pem"
    ),
    bad("certfile", "/etc/passwd", "expected a file name inside /ssl, such as fullchain.pem"),
    bad("insecure_http", "yes", "expected true or false"),
    bad_agency("public_key", "not base64!", "is not valid base64"),
    bad_agency("public_key", "AAAA", "decodes to 3 bytes; an Ed25519 public key has 32"),
    bad_agency("id", "Jackson PD", "expected 1-64 of a-z, 0-9, '_' and '-'"),
    bad_agency("rate_limit_per_minute", 0, "expected an integer from 1 to 100000"),
    pytest.param(
        {**GOOD_OPTIONS, "agencies": [GOOD_OPTIONS["agencies"][1]] * 2},
        "agencies[1].id: duplicate agency id 'hcso'",
        id="agency-duplicate",
    ),
    bad_agency("public_key", MISSING, "required field is missing"),
    bad("timezone", "Mars/Olympus_Mons", "unknown timezone 'Mars/Olympus_Mons'"),
    bad("log_level", "loud", "expected one of trace, debug, info"),
    bad_window({"days": "mon,funday", "start": "22:00", "end": "7"}, "days: unknown day 'funday'"),
    bad_window({"start": "22:00", "end": "25:00"}, "end: "),
    bad_window({"start": "22:00", "end": "22:00"}, "end: start and end are equal"),
    bad_window({"days": "mon"}, "start: required field is missing"),
    bad("approval_timeout_minutes", 0, "expected an integer from 1 to 1440 (minutes)"),
    bad("paused", "no", "expected true or false"),
    bad("cameras", [], "unknown field"),
    pytest.param(["not", "a", "mapping"], "(options): expected a mapping", id="not-a-mapping"),
]


@pytest.mark.parametrize(("options", "expected"), BAD_OPTIONS)
def test_bad_options_are_named_and_exit_2(addon: Addon, options: Any, expected: str) -> None:
    result = addon.convert(options)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert any(line.startswith(expected) for line in lines), lines
    for line in lines:
        assert PROBLEM_LINE.match(line), line
    assert not addon.out.exists(), "nothing is written from bad options"
    assert_no_token(result.stdout, result.stderr)


def test_every_problem_is_reported_at_once(addon: Addon) -> None:
    options = {
        **with_agency(public_key="x", id="Bad Id"),
        "rtsp_base_url": "ftp://x",
        "timezone": "Nowhere/Else",
    }
    result = addon.convert(options)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "agencies[0].id: expected 1-64 of a-z, 0-9, '_' and '-', starting with a letter or digit",
        "agencies[0].public_key: is not valid base64",
        "rtsp_base_url: expected a rtsp:// or rtsps:// URL",
        "timezone: unknown timezone 'Nowhere/Else'",
    ]


def test_a_short_token_is_refused_without_showing_it(addon: Addon) -> None:
    addon.token.write_text("short-secret\n")
    result = addon.convert(GOOD_OPTIONS)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "owner token (--token-file): must be at least 16 characters"
    ]
    assert "short-secret" not in result.stdout + result.stderr


def test_a_missing_token_file(addon: Addon) -> None:
    addon.token.unlink()
    result = addon.convert(GOOD_OPTIONS)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"owner token (--token-file): {addon.token} does not exist"
    ]


def test_options_that_are_not_json(addon: Addon) -> None:
    addon.options.write_text("{not json")
    result = addon.convert()
    assert result.returncode == 2
    assert result.stderr.startswith("(options): not valid JSON at line 1")


def test_missing_options_file(addon: Addon) -> None:
    result = addon.convert()
    assert result.returncode == 2
    assert result.stderr.strip() == f"(options): {addon.options} does not exist"


def empty_token(addon: Addon) -> str:
    addon.token.write_text("\n")
    return f"owner token (--token-file): {addon.token} is empty"


def token_not_utf8(addon: Addon) -> str:
    addon.token.write_bytes(b"\xff\xfe" + TOKEN.encode())
    return f"owner token (--token-file): cannot read {addon.token}: UnicodeDecodeError"


def options_a_folder(addon: Addon) -> str:
    addon.options.unlink()
    addon.options.mkdir()
    return f"(options): cannot read {addon.options}: IsADirectoryError"


@pytest.mark.parametrize("spoil", [empty_token, token_not_utf8, options_a_folder])
def test_unreadable_inputs_are_named(addon: Addon, spoil: Callable[[Addon], str]) -> None:
    addon.write_options(GOOD_OPTIONS)
    expected = spoil(addon)
    result = addon.convert()
    assert result.returncode == 2
    assert result.stderr.splitlines() == [expected]
    assert_no_token(result.stdout, result.stderr)


# --- the module's typed pieces -------------------------------------------------------------------


def test_parse_options_types_and_defaults() -> None:
    options = parse_options(
        {
            "base_url": " https://h.example:8443 ",
            "rtsp_base_url": "rtsps://h.example:8554",
            "agencies": None,
            "timezone": "",
        }
    )
    assert options == AddonOptions(
        base_url="https://h.example:8443", rtsp_base_url="rtsps://h.example:8554"
    )
    assert "public_key" not in repr(parse_options(GOOD_OPTIONS).agencies[0])


def test_build_config_is_pure() -> None:
    options = parse_options(GOOD_OPTIONS)
    paths = Paths(ssl_dir=Path("/ssl"), data_dir=Path("/data/gateway"))
    config = build_config(options, TOKEN, paths)
    assert config["public"]["tls"] == {"cert": "/ssl/fullchain.pem", "key": "/ssl/privkey.pem"}
    assert build_config(options, TOKEN, paths) == config


def test_main_in_process(addon: Addon, capsys: pytest.CaptureFixture[str]) -> None:
    addon.write_options(GOOD_OPTIONS)
    argv = addon.args()
    assert addon_options.main(argv) == 0
    addon.write_options({**GOOD_OPTIONS, "log_level": "x"})
    assert addon_options.main(argv) == 2
    captured = capsys.readouterr()
    assert_no_token(captured.out, captured.err)
    assert captured.err.startswith("log_level: ")


# --- the policy's starting values ----------------------------------------------------------------


def test_policy_options_reach_the_gateway_as_its_starting_policy(addon: Addon) -> None:
    options = {
        **GOOD_OPTIONS,
        "paused": True,
        "privacy_windows": [
            {"start": "00:00", "end": "06:30"},
            {"days": " sat , sun ", "start": "13:00", "end": "15:00"},
        ],
        "approval_timeout_minutes": 1440,
    }
    result = addon.convert(options)
    assert result.returncode == 0, result.stderr
    policy = addon.config()["policy"]
    assert policy["paused"] is True
    assert policy["approval_timeout_s"] == 86400
    assert policy["privacy_windows"] == [
        {
            "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            "start": "00:00",
            "end": "06:30",
        },
        {"days": ["sat", "sun"], "start": "13:00", "end": "15:00"},
    ]
    checked = gateway_check(addon.out)
    assert checked.returncode == 0, checked.stderr
