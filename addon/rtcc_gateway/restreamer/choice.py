"""Which restreamer a configuration gets, and why: one answer for `serve` and for `check`.

`restreamer: auto` (the default) picks go2rtc when a supported binary is found, direct otherwise;
`go2rtc` insists on it (no usable binary is a start error); `direct` never looks for one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rtcc_gateway.config import GatewayConfig
from rtcc_gateway.restreamer.go2rtc import Go2rtcError, find_go2rtc, probe_version


@dataclass(frozen=True, slots=True)
class RestreamerChoice:
    """The backend chosen, the go2rtc binary and version (for go2rtc), and the reason."""

    name: Literal["go2rtc", "direct"]
    why: str
    binary: Path | None = None
    version: str | None = None
    refused: bool = False  # `restreamer: go2rtc` without a usable binary: nothing may start
    fallback: bool = False  # `auto` found no usable go2rtc and settled for direct

    def describe(self) -> str:
        """One line for `rtcc-gateway check` and the log."""
        if self.name == "go2rtc":
            return f"restreamer: go2rtc {self.version} ({self.binary}): {self.why}"
        return f"restreamer: direct (RTSP links only): {self.why}"


async def choose_restreamer(config: GatewayConfig) -> RestreamerChoice:
    """Decide as `serve` will; runs `go2rtc -version` but starts nothing."""
    if config.restreamer == "direct":
        return RestreamerChoice("direct", "the configuration asks for direct")
    binary = find_go2rtc(config.go2rtc_bin)
    if binary is None:
        why = "no go2rtc found (go2rtc_bin, $GO2RTC_BIN, PATH)"
    else:
        try:
            version = await probe_version(binary)
        except Go2rtcError as err:
            why = str(err)
        else:
            asked = (
                "asks for go2rtc" if config.restreamer == "go2rtc" else "auto, and go2rtc was found"
            )
            return RestreamerChoice("go2rtc", f"the configuration {asked}", binary, version)
    if config.restreamer == "go2rtc":
        return RestreamerChoice("direct", why, binary, refused=True)
    return RestreamerChoice("direct", f"auto, but {why}", binary, fallback=True)
