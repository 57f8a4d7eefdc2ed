"""The configuration's typed values (GATEWAY.md): what the rest of the gateway reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path
from typing import Final, Literal

from rtcc_gateway.limits import APPROVAL_TIMEOUT_DEFAULT_S, CAMERA_DEFAULT_MAX_S

DAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

type ApprovalMode = Literal["ask", "auto"]
type RestreamerChoice = Literal["auto", "go2rtc", "direct"]


class ConfigError(Exception):
    """The configuration is invalid; `problems` holds one `field.path: what is wrong` per entry."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


# --- typed values ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Location:
    """A point on Earth in degrees."""

    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class TlsConfig:
    """Certificate and key files for HTTPS and RTSPS."""

    cert: Path
    key: Path


@dataclass(frozen=True, slots=True)
class PublicConfig:
    """The city's door: HTTP API and streams, and the RTSP door."""

    host: str
    port: int
    rtsp_port: int
    base_url: str
    rtsp_base_url: str
    tls: TlsConfig | None
    insecure_http: bool


@dataclass(frozen=True, slots=True)
class OwnerConfig:
    """The homeowner's listener (owner API)."""

    host: str
    port: int
    token: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class Agency:
    """A city agency allowed to sign requests."""

    id: str
    name: str
    public_key: bytes = field(repr=False)
    rate_limit_per_minute: int


@dataclass(frozen=True, slots=True)
class PrivacyWindow:
    """A weekly window in the policy's timezone; `days` are the days it starts on."""

    days: tuple[str, ...]
    start: time
    end: time


@dataclass(frozen=True, slots=True)
class Policy:
    """The owner's sharing policy."""

    timezone: str
    paused: bool = False
    paused_until: datetime | None = None
    privacy_windows: tuple[PrivacyWindow, ...] = ()
    approval_timeout_s: int = APPROVAL_TIMEOUT_DEFAULT_S
    owner_lease_s: int = 900


@dataclass(frozen=True, slots=True)
class Camera:
    """A camera of the owner's registry; only its `source` ever reaches a restreamer."""

    id: str
    label: str
    source: str = field(repr=False)
    location: Location
    consent: bool = False
    approval: ApprovalMode = "ask"
    max_duration_s: int = CAMERA_DEFAULT_MAX_S
    share_audio: bool = False


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    """The whole standalone configuration."""

    public: PublicConfig
    owner: OwnerConfig
    data_dir: Path
    restreamer: RestreamerChoice
    go2rtc_bin: Path | None
    agencies: tuple[Agency, ...]
    policy: Policy
    cameras: tuple[Camera, ...]
