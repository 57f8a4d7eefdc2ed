"""The gateway's standalone configuration (GATEWAY.md): parsing, loading and plain data.

Typed values are in config_types.py, the schema in config_schema.py; this module builds one from
the other, cross-checks the whole file and turns values back into plain data. It re-exports both,
so `from rtcc_gateway.config import Camera` keeps working.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Any

import yaml

from rtcc_gateway.config_schema import (
    AGENCY_SCHEMA,
    CAMERA_SCHEMA,
    CAMERAS_SCHEMA,
    CONFIG_SCHEMA,
    LOCATION_SCHEMA,
    MAX_PORT,
    MIN_TOKEN_LENGTH,
    PLACEHOLDER_TOKENS,
    POLICY_SCHEMA,
)
from rtcc_gateway.config_types import (
    DAYS,
    Agency,
    ApprovalMode,
    Camera,
    ConfigError,
    GatewayConfig,
    Location,
    OwnerConfig,
    Policy,
    PrivacyWindow,
    PublicConfig,
    RestreamerChoice,
    TlsConfig,
)
from rtcc_gateway.validators import validated

__all__ = [
    "AGENCY_SCHEMA",
    "CAMERAS_SCHEMA",
    "CAMERA_SCHEMA",
    "CONFIG_SCHEMA",
    "DAYS",
    "LOCATION_SCHEMA",
    "MAX_PORT",
    "MIN_TOKEN_LENGTH",
    "PLACEHOLDER_TOKENS",
    "POLICY_SCHEMA",
    "Agency",
    "ApprovalMode",
    "Camera",
    "ConfigError",
    "GatewayConfig",
    "Location",
    "OwnerConfig",
    "Policy",
    "PrivacyWindow",
    "PublicConfig",
    "RestreamerChoice",
    "TlsConfig",
    "build_cameras",
    "build_policy",
    "camera_to_dict",
    "load_config",
    "parse_config",
    "policy_to_dict",
    "warnings_of",
]


# --- building typed values ---------------------------------------------------------------------


def build_policy(data: dict[str, Any]) -> Policy:
    """Typed policy from POLICY_SCHEMA output."""
    return Policy(
        timezone=data["timezone"],
        paused=data["paused"],
        paused_until=data["paused_until"],
        privacy_windows=tuple(data["privacy_windows"]),
        approval_timeout_s=data["approval_timeout_s"],
        owner_lease_s=data["owner_lease_s"],
    )


def build_cameras(data: list[dict[str, Any]]) -> tuple[Camera, ...]:
    """Typed cameras from CAMERAS_SCHEMA output."""
    return tuple(
        Camera(
            id=c["id"],
            label=c["label"],
            source=c["source"],
            location=Location(c["location"]["lat"], c["location"]["lon"]),
            consent=c["consent"],
            approval=c["approval"],
            max_duration_s=c["max_duration_s"],
            share_audio=c["share_audio"],
        )
        for c in data
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _cross_checks(data: dict[str, Any], base_dir: Path) -> list[str]:
    """Rules that span fields."""
    return _transport_checks(data, base_dir) + _port_checks(data)


def _transport_checks(data: dict[str, Any], base_dir: Path) -> list[str]:
    """TLS versus plain transport, and TLS files that must exist."""
    problems: list[str] = []
    public = data["public"]
    insecure = public["insecure_http"]
    tls = public["tls"]
    if tls is None and not insecure:
        problems.append("public.tls: required unless public.insecure_http is true")
    if tls is not None:
        for key in ("cert", "key"):
            path = (base_dir / tls[key]).resolve()
            if not path.is_file() or not os.access(path, os.R_OK):
                problems.append(f"public.tls.{key}: file not found or not readable: {tls[key]}")
    if not insecure:
        if public["base_url"].startswith("http://"):
            problems.append("public.base_url: http:// needs public.insecure_http: true")
        if public["rtsp_base_url"].startswith("rtsp://"):
            problems.append("public.rtsp_base_url: rtsp:// needs public.insecure_http: true")
    if tls is not None and public["rtsp_base_url"].startswith("rtsp://") and not insecure:
        problems.append("public.rtsp_base_url: use rtsps:// when public.tls is set")
    return problems


def _port_checks(data: dict[str, Any]) -> list[str]:
    """Two listeners cannot share a port."""
    problems: list[str] = []
    public = data["public"]
    if public["port"] == public["rtsp_port"] != 0:
        problems.append("public.rtsp_port: the same as public.port")
    if public["host"] == data["owner"]["host"] and public["port"] == data["owner"]["port"] != 0:
        problems.append("owner.port: the same as public.port on the same host")
    return problems


def parse_config(raw: Any, base_dir: Path | None = None) -> GatewayConfig:
    """Validate a loaded configuration and build the typed value, or raise ConfigError."""
    base = base_dir or Path.cwd()
    data = validated(
        CONFIG_SCHEMA,
        raw,
        fail=ConfigError,
        not_a_mapping="(top level): expected a mapping of settings",
    )
    problems = _cross_checks(data, base)
    if problems:
        raise ConfigError(sorted(problems))
    public, owner = data["public"], data["owner"]
    tls = public["tls"]
    go2rtc_bin = data["go2rtc_bin"]
    return GatewayConfig(
        public=PublicConfig(
            host=public["host"],
            port=public["port"],
            rtsp_port=public["rtsp_port"],
            base_url=public["base_url"],
            rtsp_base_url=public["rtsp_base_url"],
            tls=None
            if tls is None
            else TlsConfig(cert=(base / tls["cert"]).resolve(), key=(base / tls["key"]).resolve()),
            insecure_http=public["insecure_http"],
        ),
        owner=OwnerConfig(host=owner["host"], port=owner["port"], token=owner["token"]),
        data_dir=(base / data["data_dir"]).resolve(),
        restreamer=data["restreamer"],
        go2rtc_bin=None if go2rtc_bin is None else (base / go2rtc_bin).resolve(),
        agencies=tuple(
            Agency(
                id=a["id"],
                name=a["name"],
                public_key=a["public_key"],
                rate_limit_per_minute=a["rate_limit_per_minute"],
            )
            for a in data["agencies"]
        ),
        policy=build_policy(data["policy"]),
        cameras=build_cameras(data["cameras"]),
    )


def load_config(path: Path) -> GatewayConfig:
    """Read, parse and validate a YAML configuration file, or raise ConfigError."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"(file): {path} does not exist"]) from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError([f"(file): cannot read {path}: {err.__class__.__name__}"]) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError([f"(file): not valid YAML{where}"]) from None
    return parse_config(raw, path.parent)


def warnings_of(config: GatewayConfig) -> list[str]:
    """Things worth logging at start that are allowed but risky."""
    out: list[str] = []
    if config.public.insecure_http and not _is_loopback(config.public.host):
        out.append(
            "public.insecure_http is on and the public listener is not on loopback: "
            "links and video travel unencrypted (use only on a LAN or VPN)"
        )
    return out


# --- back to plain data (persisting a pushed policy, the owner's state view) -------------------


def policy_to_dict(policy: Policy) -> dict[str, Any]:
    """The policy in POLICY_SCHEMA's shape (round-trips through build_policy)."""
    return {
        "timezone": policy.timezone,
        "paused": policy.paused,
        "paused_until": None if policy.paused_until is None else policy.paused_until.isoformat(),
        "privacy_windows": [
            {
                "days": list(w.days),
                "start": w.start.strftime("%H:%M"),
                "end": w.end.strftime("%H:%M"),
            }
            for w in policy.privacy_windows
        ],
        "approval_timeout_s": policy.approval_timeout_s,
        "owner_lease_s": policy.owner_lease_s,
    }


def camera_to_dict(camera: Camera, *, with_source: bool) -> dict[str, Any]:
    """A camera in CAMERA_SCHEMA's shape.

    `with_source=False` leaves the URL (and its credentials) out, for every view that is not the
    database.
    """
    data: dict[str, Any] = {
        "id": camera.id,
        "label": camera.label,
        "location": {"lat": camera.location.lat, "lon": camera.location.lon},
        "consent": camera.consent,
        "approval": camera.approval,
        "max_duration_s": camera.max_duration_s,
        "share_audio": camera.share_audio,
    }
    if with_source:
        data["source"] = camera.source
    return data
