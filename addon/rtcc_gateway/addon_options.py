"""The Home Assistant add-on's options, turned into the gateway's standalone configuration.

The add-on runs the same program as a standalone install (GATEWAY.md); its run script calls

    python3 -m rtcc_gateway.addon_options --options /data/options.json \
        --token-file /data/owner_token --out /data/gateway.yaml

and then `rtcc-gateway serve --config /data/gateway.yaml`. The add-on's options only hold what the
homeowner types in the add-on's Configuration tab: how the city reaches the gateway, TLS files, the
agencies and the policy's starting values (timezone, paused, privacy windows, approval timeout).
Cameras and the policy in force come from the integration over the owner API, which replaces those
starting values once it connects; the file gets `cameras: []`.

Bad options exit 2 with one `option: what is wrong` line per problem on stderr, named the way the
add-on's Configuration tab names them. The owner token is read from its file and written only into
the output file (mode 0600); it is never printed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Final

import voluptuous as vol
import yaml

from rtcc_gateway.config import ConfigError, parse_config
from rtcc_gateway.validators import validated

EXIT_OK: Final = 0
EXIT_BAD_INPUT: Final = 2

PUBLIC_PORT: Final = 8443
RTSP_PORT: Final = 8554
OWNER_PORT: Final = 8099
# Inside the add-on's container, 0.0.0.0 is the add-on's own network namespace: its interface on
# the Supervisor's internal network (how Home Assistant reaches the owner API) plus the ports that
# config.yaml publishes on the host (only the public ones; 8099 is not published).
ALL_INTERFACES: Final = "0.0.0.0"  # noqa: S104
LOG_LEVELS: Final = ("trace", "debug", "info", "notice", "warning", "error", "fatal")
DEFAULT_TIMEZONE: Final = "UTC"
DEFAULT_SSL_DIR: Final = Path("/ssl")
DEFAULT_DATA_DIR: Final = Path("/data/gateway")
DEFAULT_APPROVAL_TIMEOUT_MIN: Final = 10
MAX_APPROVAL_TIMEOUT_MIN: Final = 1440
EVERY_DAY: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# Configuration paths as the add-on's Configuration tab names them. Longest first, so that
# `public.rtsp_base_url` is not rewritten as `public.rtsp_` + `base_url`.
_OPTION_NAMES: Final = (
    ("public.rtsp_base_url", "rtsp_base_url"),
    ("public.insecure_http", "insecure_http"),
    ("public.base_url", "base_url"),
    ("public.tls.cert", "certfile"),
    ("public.tls.key", "keyfile"),
    ("public.tls", "certfile/keyfile"),
    ("policy.timezone", "timezone"),
    ("policy.privacy_windows", "privacy_windows"),
    ("policy.paused", "paused"),
    ("owner.token", "owner token (--token-file)"),
)


class OptionsError(ConfigError):
    """The options cannot be turned into a valid configuration; `problems` are named as options."""


@dataclass(frozen=True, slots=True)
class AgencyOption:
    """One entry of the `agencies` option, as typed (validated later by the gateway's schema)."""

    id: str
    name: str
    public_key: str = field(repr=False)
    rate_limit_per_minute: int | None = None


@dataclass(frozen=True, slots=True)
class AddonOptions:
    """The add-on's options (config.yaml `schema`)."""

    base_url: str
    rtsp_base_url: str
    certfile: str = "fullchain.pem"
    keyfile: str = "privkey.pem"
    insecure_http: bool = False
    agencies: tuple[AgencyOption, ...] = ()
    timezone: str | None = None
    log_level: str = "info"
    paused: bool = False
    privacy_windows: tuple[dict[str, Any], ...] = ()
    approval_timeout_minutes: int = DEFAULT_APPROVAL_TIMEOUT_MIN


@dataclass(frozen=True, slots=True)
class Paths:
    """Where the generated configuration points to inside the add-on's container."""

    ssl_dir: Path = DEFAULT_SSL_DIR
    data_dir: Path = DEFAULT_DATA_DIR


# --- reading the options -----------------------------------------------------------------------


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise vol.Invalid("expected true or false")
    return value


def _string(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise vol.Invalid("expected a non-empty string")
    return value.strip()


def _optional_string(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _string(value)


def _ssl_file_name(value: Any) -> str:
    name = _string(value)
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts:
        raise vol.Invalid("expected a file name inside /ssl, such as fullchain.pem")
    return name


def _minutes(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise vol.Invalid("expected an integer")
    if not 1 <= value <= MAX_APPROVAL_TIMEOUT_MIN:
        raise vol.Invalid(f"expected an integer from 1 to {MAX_APPROVAL_TIMEOUT_MIN} (minutes)")
    return value


def _days(value: Any) -> list[str]:
    """`mon,tue,fri` as the Configuration tab holds it (empty: every day); names checked later."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return list(EVERY_DAY)
    if not isinstance(value, str):
        raise vol.Invalid("expected day names separated by commas, such as mon,tue,wed")
    return [day.strip() for day in value.split(",")]


def _rate_limit(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise vol.Invalid("expected an integer")
    return value


_AGENCY_OPTION: Final = vol.Schema(
    {
        vol.Required("id"): _string,
        vol.Required("name"): _string,
        vol.Required("public_key"): _string,
        vol.Optional("rate_limit_per_minute", default=None): _rate_limit,
    }
)

# A privacy window's start and end are checked by the gateway's own schema (HH:MM).
_WINDOW_OPTION: Final = vol.Schema(
    {
        vol.Optional("days", default=None): _days,
        vol.Required("start"): _string,
        vol.Required("end"): _string,
    }
)

OPTIONS_SCHEMA: Final = vol.Schema(
    {
        vol.Required("base_url"): _string,
        vol.Required("rtsp_base_url"): _string,
        vol.Optional("certfile", default="fullchain.pem"): _ssl_file_name,
        vol.Optional("keyfile", default="privkey.pem"): _ssl_file_name,
        vol.Optional("insecure_http", default=False): _bool,
        vol.Optional("agencies", default=list): vol.Any(None, [_AGENCY_OPTION]),
        vol.Optional("timezone", default=None): _optional_string,
        vol.Optional("log_level", default="info"): vol.In(
            LOG_LEVELS, msg=f"expected one of {', '.join(LOG_LEVELS)}"
        ),
        vol.Optional("paused", default=False): _bool,
        vol.Optional("privacy_windows", default=list): vol.Any(None, [_WINDOW_OPTION]),
        vol.Optional("approval_timeout_minutes", default=DEFAULT_APPROVAL_TIMEOUT_MIN): _minutes,
    }
)


def parse_options(raw: Any) -> AddonOptions:
    """Validate the shape of the options (what each value means is the gateway schema's job)."""
    data = validated(
        OPTIONS_SCHEMA,
        raw,
        fail=OptionsError,
        not_a_mapping="(options): expected a mapping of options",
    )
    return AddonOptions(
        base_url=data["base_url"],
        rtsp_base_url=data["rtsp_base_url"],
        certfile=data["certfile"],
        keyfile=data["keyfile"],
        insecure_http=data["insecure_http"],
        agencies=tuple(AgencyOption(**agency) for agency in data["agencies"] or ()),
        timezone=data["timezone"],
        log_level=data["log_level"],
        paused=data["paused"],
        privacy_windows=tuple(data["privacy_windows"] or ()),
        approval_timeout_minutes=data["approval_timeout_minutes"],
    )


def _read_text(path: Path, what: str) -> str:
    """The text of an input file, or the problem with it named after `what`."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise OptionsError([f"{what}: {path} does not exist"]) from None
    except (OSError, UnicodeDecodeError) as err:
        raise OptionsError([f"{what}: cannot read {path}: {err.__class__.__name__}"]) from None


def read_token(path: Path) -> str:
    """The owner token from its file (made once by the run script), never echoed."""
    token = _read_text(path, "owner token (--token-file)").strip()
    if not token:
        raise OptionsError([f"owner token (--token-file): {path} is empty"])
    return token


# --- building the configuration ----------------------------------------------------------------


def build_config(
    options: AddonOptions, token: str, paths: Paths, default_timezone: str | None = None
) -> dict[str, Any]:
    """The standalone configuration (GATEWAY.md shape) the add-on runs with."""
    tls = (
        None
        if options.insecure_http
        else {
            "cert": str(paths.ssl_dir / options.certfile),
            "key": str(paths.ssl_dir / options.keyfile),
        }
    )
    agencies: list[dict[str, Any]] = []
    for agency in options.agencies:
        entry: dict[str, Any] = {
            "id": agency.id,
            "name": agency.name,
            "public_key": agency.public_key,
        }
        if agency.rate_limit_per_minute is not None:
            entry["rate_limit_per_minute"] = agency.rate_limit_per_minute
        agencies.append(entry)
    return {
        "public": {
            "host": ALL_INTERFACES,
            "port": PUBLIC_PORT,
            "rtsp_port": RTSP_PORT,
            "base_url": options.base_url,
            "rtsp_base_url": options.rtsp_base_url,
            "tls": tls,
            "insecure_http": options.insecure_http,
        },
        "owner": {"host": ALL_INTERFACES, "port": OWNER_PORT, "token": token},
        "data_dir": str(paths.data_dir),
        "restreamer": "auto",
        "go2rtc_bin": None,
        "agencies": agencies,
        "policy": {
            "timezone": options.timezone or default_timezone or DEFAULT_TIMEZONE,
            "paused": options.paused,
            "privacy_windows": [dict(window) for window in options.privacy_windows],
            "approval_timeout_s": options.approval_timeout_minutes * 60,
        },
        "cameras": [],
    }


def _as_option_name(line: str) -> str:
    for config_path, option in _OPTION_NAMES:
        line = line.replace(config_path, option)
    return line


def validate(config: dict[str, Any], base_dir: Path) -> None:
    """Check the result with the gateway's own schema; problems are named as options."""
    try:
        parse_config(config, base_dir)
    except ConfigError as err:
        raise OptionsError(sorted({_as_option_name(p) for p in err.problems})) from None


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` with mode 0600, replacing it in one step."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            fd = -1
            out.write(text)
    finally:
        if fd >= 0:
            os.close(fd)
    tmp.replace(path)


def convert(
    options_file: Path, token_file: Path, out: Path, paths: Paths, default_timezone: str | None
) -> dict[str, Any]:
    """Read the options and token, build and validate the configuration, and write it."""
    text = _read_text(options_file, "(options)")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as err:
        raise OptionsError(
            [f"(options): not valid JSON at line {err.lineno}, column {err.colno}"]
        ) from None
    options = parse_options(raw)
    config = build_config(options, read_token(token_file), paths, default_timezone)
    validate(config, out.parent)
    header = (
        "# Generated by rtcc_gateway.addon_options from the add-on's options at every start;\n"
        "# edits here are lost. Holds the owner token: keep it private (mode 0600).\n"
    )
    write_private(out, header + yaml.safe_dump(config, sort_keys=False))
    return config


# --- command line ------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The `python -m rtcc_gateway.addon_options` command line."""
    parser = argparse.ArgumentParser(
        prog="python -m rtcc_gateway.addon_options",
        description="Turn the Home Assistant add-on's options into the gateway's configuration. "
        "Exit 0 when written, 2 with one `option: problem` line per problem otherwise.",
    )
    parser.add_argument("--options", required=True, type=Path, help="the add-on's options.json")
    parser.add_argument("--token-file", required=True, type=Path, help="the owner token's file")
    parser.add_argument("--out", required=True, type=Path, help="the configuration to write")
    parser.add_argument(
        "--ssl-dir", type=Path, default=DEFAULT_SSL_DIR, help="where certfile and keyfile are"
    )
    parser.add_argument(
        "--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="the gateway's data folder"
    )
    parser.add_argument(
        "--default-timezone",
        default=os.environ.get("TZ") or None,
        help="used when the timezone option is empty (default: $TZ, then UTC)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; prints problems only, never the token."""
    args = build_parser().parse_args(argv)
    try:
        convert(
            args.options,
            args.token_file,
            args.out,
            Paths(ssl_dir=args.ssl_dir, data_dir=args.data_dir),
            args.default_timezone,
        )
    except OptionsError as err:
        for line in err.problems:
            print(line, file=sys.stderr)  # noqa: T201 - a command line reports on stderr
        return EXIT_BAD_INPUT
    print(f"wrote {args.out}")  # noqa: T201
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
