"""With public.tls set, the city API is HTTPS and the RTSP door speaks RTSP over TLS (rtsps://)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
from pathlib import Path
from typing import Any

import aiohttp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from rtcc_gateway.restreamer.direct import DirectRestreamer

from ..conftest import GatewayFactory, jpd_request_headers
from ..gateway.conftest import incident
from .conftest import ffprobe_error, ffprobe_streams


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "fullchain.pem", tmp_path / "privkey.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


async def test_https_api_and_rtsps_door(
    gateway_factory: GatewayFactory, config_dict: dict[str, Any], camera_url: str, tmp_path: Path
) -> None:
    cert, key = self_signed(tmp_path)
    config_dict["public"].update(
        tls={"cert": str(cert), "key": str(key)},
        insecure_http=False,
        base_url="https://127.0.0.1:8443",
        rtsp_base_url="rtsps://127.0.0.1:8554",
    )
    config_dict["cameras"][0].update(source=camera_url, consent=True, approval="auto")
    gw, bound = await gateway_factory(config_dict, restreamer=DirectRestreamer())
    trust = ssl.create_default_context(cafile=str(cert))
    body = json.dumps(incident()).encode()
    headers = jpd_request_headers(body, "https://127.0.0.1:8443")
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"https://127.0.0.1:{bound.public[1]}/api/v1/requests",
            data=body,
            headers=headers,
            ssl=trust,
        ) as resp:
            assert resp.status == 201
            answer = await resp.json()
        # Plain HTTP on the TLS port gets nowhere.
        try:
            async with session.get(f"http://127.0.0.1:{bound.public[1]}/api/v1/health") as plain:
                assert plain.status == 400
        except aiohttp.ClientError:
            pass
    link = answer["shares"][0]["links"]["rtsp"]
    assert link.startswith("rtsps://127.0.0.1:8554/")
    door = link.replace(":8554/", f":{bound.rtsp[1]}/")
    streams = await ffprobe_streams(door, "-ca_file", str(cert))
    assert [st["codec_type"] for st in streams] == ["video"]
    # A plain-RTSP client cannot talk to the TLS door.
    await ffprobe_error(door.replace("rtsps://", "rtsp://"))
    assert gw.bound is not None
