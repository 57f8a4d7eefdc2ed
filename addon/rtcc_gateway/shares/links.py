"""The links a city gets for a share: RTSP always, MP4 and HLS when the HTTP door is on."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Links:
    """Where the doors answer, as the city reaches them."""

    rtsp_base_url: str
    public_base_url: str
    http_links: bool

    def for_token(self, token: str) -> dict[str, str]:
        """The links that play the share `token` names."""
        links = {"rtsp": f"{self.rtsp_base_url}/{token}"}
        if self.http_links:
            links["mp4"] = f"{self.public_base_url}/s/{token}/stream.mp4"
            links["hls"] = f"{self.public_base_url}/s/{token}/index.m3u8"
        return links
