"""WS-Discovery: the reply parser on crafted datagrams, the probe against a loopback responder,
and the probe against the ipycam ONVIF simulator (only inside scripts/test's namespace)."""

from __future__ import annotations

import asyncio
import socket
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from custom_components.rtcc_share.discovery import ws_discovery
from custom_components.rtcc_share.discovery.ws_discovery import (
    MAX_DATAGRAM_BYTES,
    MAX_MATCHES_PER_DATAGRAM,
    DiscoveredDevice,
    build_probe,
    parse_probe_matches,
    parse_scopes,
    probe,
)

from ..peers.onvif_sim import OnvifSim, free_port, run_onvif_sim, sim_unavailable
from .conftest import wait_for

SOAP = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
WSD = "http://schemas.xmlsoap.org/ws/2005/04/discovery"
MID = "urn:uuid:11111111-2222-3333-4444-555555555555"


def match_xml(
    address: str = "urn:uuid:aaaa-1",
    xaddrs: str = "http://192.0.2.10/onvif/device_service",
    scopes: str = "onvif://www.onvif.org/name/Porch",
    *,
    prefix: str = "d",
    element: str = "ProbeMatch",
    epr_prefix: str = "a",
) -> str:
    return (
        f"<{prefix}:{element}>"
        f"<{epr_prefix}:EndpointReference><a:Address>{address}</a:Address>"
        f"</{epr_prefix}:EndpointReference>"
        f"<{prefix}:Types>dn:NetworkVideoTransmitter tds:Device</{prefix}:Types>"
        f"<{prefix}:Scopes>{scopes}</{prefix}:Scopes>"
        f"<{prefix}:XAddrs>{xaddrs}</{prefix}:XAddrs>"
        f"<{prefix}:MetadataVersion>3</{prefix}:MetadataVersion>"
        f"</{prefix}:{element}>"
    )


def envelope(
    body: str,
    *,
    action: str | None = f"{WSD}/ProbeMatches",
    relates_to: str | None = MID,
    soap: str = SOAP,
    wsa: str = WSA,
    wsd: str = WSD,
) -> bytes:
    header = ""
    if action is not None:
        header += f"<a:Action>{action}</a:Action>"
    if relates_to is not None:
        header += f"<a:RelatesTo>{relates_to}</a:RelatesTo>"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<s:Envelope xmlns:s="{soap}" xmlns:a="{wsa}" xmlns:d="{wsd}" '
        'xmlns:dn="http://www.onvif.org/ver10/network/wsdl" '
        'xmlns:tds="http://www.onvif.org/ver10/device/wsdl">'
        f"<s:Header>{header}</s:Header><s:Body>{body}</s:Body></s:Envelope>"
    ).encode()


def spec_reply(*matches: str, relates_to: str | None = MID) -> bytes:
    """A reply as the WS-Discovery spec writes it: ProbeMatches with ProbeMatch children."""
    return envelope(f"<d:ProbeMatches>{''.join(matches)}</d:ProbeMatches>", relates_to=relates_to)


# --- the parser: no network -------------------------------------------------------------------


def test_parses_spec_probe_matches() -> None:
    data = spec_reply(
        match_xml(
            "urn:uuid:aaaa-1",
            "http://192.0.2.10/onvif/device_service http://[fe80::1]:8080/onvif/device_service",
            "onvif://www.onvif.org/type/video_encoder onvif://www.onvif.org/name/Front%20Porch "
            "onvif://www.onvif.org/hardware/IPC-HDW onvif://www.onvif.org/location/country/us "
            "onvif://www.onvif.org/location/city/Jackson",
        ),
        match_xml("urn:uuid:bbbb-2", "https://192.0.2.11:8443/onvif/device_service"),
    )
    devices = parse_probe_matches(data, source="192.0.2.10", relates_to={MID})
    assert [d.address for d in devices] == ["urn:uuid:aaaa-1", "urn:uuid:bbbb-2"]
    first, second = devices
    assert first.xaddrs == (
        "http://192.0.2.10/onvif/device_service",
        "http://[fe80::1]:8080/onvif/device_service",
    )
    assert first.types == ("dn:NetworkVideoTransmitter", "tds:Device")
    assert first.is_video_transmitter
    assert first.described == ("Front Porch", "IPC-HDW", "country/us, city/Jackson")
    assert first.name == "Front Porch"
    assert first.metadata_version == 3
    assert first.source == "192.0.2.10"
    assert (first.host, first.port) == ("192.0.2.10", 80)
    assert (second.host, second.port) == ("192.0.2.11", 8443)


def test_parses_ipycam_style_probe_match() -> None:
    # ipycam (and some cameras) use the singular action and put ProbeMatch straight in the Body.
    # It also puts EndpointReference in the discovery namespace, not WS-Addressing's.
    data = envelope(match_xml("urn:uuid:cccc-3", epr_prefix="d"), action=f"{WSD}/ProbeMatch")
    (device,) = parse_probe_matches(data, relates_to={MID})
    assert device.address == "urn:uuid:cccc-3"
    assert device.name == "Porch"


def test_parses_ws_discovery_1_1_namespaces() -> None:
    wsd11 = "http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01"
    data = envelope(
        f"<d:ProbeMatches>{match_xml()}</d:ProbeMatches>",
        action=f"{wsd11}/ProbeMatches",
        wsa="http://www.w3.org/2005/08/addressing",
        wsd=wsd11,
    )
    assert [d.address for d in parse_probe_matches(data)] == ["urn:uuid:aaaa-1"]


def test_soap_1_1_envelope_is_accepted() -> None:
    data = envelope(match_xml(), soap="http://schemas.xmlsoap.org/soap/envelope/")
    assert len(parse_probe_matches(data)) == 1
    # No SOAP Header at all (no action, no RelatesTo): the body alone decides.
    headerless = envelope(match_xml(), action=None, relates_to=None).replace(
        b"<s:Header></s:Header>", b""
    )
    assert b"Header" not in headerless
    assert len(parse_probe_matches(headerless, relates_to={MID})) == 1


def test_relates_to_filters_replies_to_other_probes() -> None:
    assert parse_probe_matches(spec_reply(match_xml()), relates_to={"urn:uuid:other"}) == []
    # A device that leaves RelatesTo out is still heard.
    assert len(parse_probe_matches(spec_reply(match_xml(), relates_to=None), relates_to={MID})) == 1


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"not xml at all", id="text"),
        pytest.param(spec_reply(match_xml())[:-40], id="truncated"),
        pytest.param(b"\xff\xfe<\x00s\x00", id="binary"),
        pytest.param(b"<html><body>hello</body></html>", id="not-soap"),
        pytest.param(
            envelope(match_xml(), action=f"{WSD}/Hello"),
            id="hello-action",
        ),
        pytest.param(
            envelope("<d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe>"),
            id="probe-body",
        ),
        pytest.param(envelope(match_xml(address="")), id="no-address"),
        pytest.param(envelope(match_xml(address="urn:" + "x" * 300)), id="address-too-long"),
        pytest.param(
            envelope(
                "<x:ProbeMatch xmlns:x='urn:not-discovery'>"
                "<a:EndpointReference><a:Address>urn:uuid:z</a:Address></a:EndpointReference>"
                "</x:ProbeMatch>"
            ),
            id="foreign-namespace",
        ),
        pytest.param(
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
            + spec_reply(match_xml(address="&lol2;")).split(b"?>", 1)[1],
            id="dtd-entities",
        ),
    ],
)
def test_malformed_replies_are_ignored(data: bytes) -> None:
    assert parse_probe_matches(data, relates_to={MID}) == []


def test_oversized_reply_is_ignored() -> None:
    padding = " ".join(f"onvif://www.onvif.org/extra/{i}" for i in range(2000))
    data = spec_reply(match_xml(scopes=padding))
    assert len(data) > MAX_DATAGRAM_BYTES
    assert parse_probe_matches(data) == []
    # The same reply without the padding is fine: it is the size that got it dropped.
    assert len(parse_probe_matches(spec_reply(match_xml()))) == 1


def test_matches_per_datagram_are_capped() -> None:
    data = spec_reply(*(match_xml(f"urn:uuid:{i}") for i in range(40)))
    assert len(parse_probe_matches(data)) == MAX_MATCHES_PER_DATAGRAM


def test_non_http_xaddrs_are_dropped() -> None:
    data = spec_reply(
        match_xml(xaddrs="ftp://192.0.2.1/x urn:nothing http:///nohost http://[::1 http://ok/")
    )
    (device,) = parse_probe_matches(data)
    assert device.xaddrs == ("http://ok/",)
    (bare,) = parse_probe_matches(spec_reply(match_xml(xaddrs="", scopes="")))
    assert (bare.xaddrs, bare.scopes, bare.name) == ((), (), None)
    device_without_urls = DiscoveredDevice(address="urn:uuid:q", xaddrs=())
    assert (device_without_urls.host, device_without_urls.port) == (None, None)
    assert not device_without_urls.is_video_transmitter


def test_parse_scopes() -> None:
    assert parse_scopes([]) == (None, None, None)
    assert parse_scopes(
        [
            "onvif://www.onvif.org/name/",
            "onvif://www.onvif.org/name/A%2FB",
            "onvif://www.onvif.org/name/second",
            "http://example.invalid/name/not-onvif",
            "onvif://www.onvif.org/hardware/HW1",
        ]
    ) == ("A/B", "HW1", None)


def test_build_probe_is_a_valid_probe() -> None:
    for probe_type in ws_discovery.PROBE_TYPES:
        root = ET.fromstring(build_probe(MID, probe_type))  # noqa: S314 - our own bytes
        assert root.findtext(f"{{{SOAP}}}Header/{{{WSA}}}Action") == f"{WSD}/Probe"
        assert root.findtext(f"{{{SOAP}}}Header/{{{WSA}}}MessageID") == MID
        assert root.findtext(f"{{{SOAP}}}Body/{{{WSD}}}Probe/{{{WSD}}}Types") == probe_type


@pytest.mark.parametrize(
    "target", ["camera.local", "fe80::1", "10.0.0.300", "1.2.3.4:notaport", "1.2.3.4:70000"]
)
async def test_bad_unicast_target_is_refused_before_sending(target: str) -> None:
    with pytest.raises(ValueError):
        await probe(timeout=0.1, multicast_group=None, unicast_targets=[target])
    with pytest.raises(ValueError):
        await probe(timeout=0.1, multicast_group=target)


# --- the probe against a responder on loopback --------------------------------------------------


class Responder(asyncio.DatagramProtocol):
    """Answers every Probe it gets with whatever `reply(message_id)` makes (several datagrams)."""

    def __init__(self, reply: Callable[[str], list[bytes]]) -> None:
        self.reply = reply
        self.probes: list[bytes] = []
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.DatagramTransport)
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        self.probes.append(data)
        message_id = ET.fromstring(data).findtext(f".//{{{WSA}}}MessageID") or ""  # noqa: S314
        assert self.transport is not None
        for datagram in self.reply(message_id):
            self.transport.sendto(datagram, addr)  # type: ignore[arg-type]


@pytest.fixture
async def responder(socket_enabled: None) -> AsyncIterator[Callable]:
    """Start loopback responders; all are closed at the end."""
    transports: list[asyncio.DatagramTransport] = []

    async def start(reply: Callable[[str], list[bytes]]) -> tuple[Responder, int]:
        loop = asyncio.get_running_loop()
        transport, protocol = await loop.create_datagram_endpoint(
            lambda: Responder(reply), local_addr=("127.0.0.1", 0)
        )
        transports.append(transport)
        return protocol, transport.get_extra_info("sockname")[1]

    yield start
    for transport in transports:
        transport.close()


async def test_unicast_probe_collects_and_dedupes(responder) -> None:
    def reply(message_id: str) -> list[bytes]:
        ours = spec_reply(match_xml("urn:uuid:dev-1"), relates_to=message_id)
        second_nic = spec_reply(
            match_xml("urn:uuid:dev-1", "http://198.51.100.7/onvif/device_service"),
            relates_to=message_id,
        )
        junk = [b"garbage", b"x" * (MAX_DATAGRAM_BYTES + 1)]
        stranger = spec_reply(match_xml("urn:uuid:elsewhere"), relates_to="urn:uuid:not-ours")
        return [*junk, ours, second_nic, stranger]

    proto, port = await responder(reply)
    # A timeout well past the repeat (0.2 s), so a loaded machine still sees both rounds answered.
    devices = await probe(timeout=2, multicast_group=None, unicast_targets=[f"127.0.0.1:{port}"])
    # Two probe types, each sent twice.
    assert len(proto.probes) == 4
    (device,) = devices
    assert device.address == "urn:uuid:dev-1"
    assert device.xaddrs == (
        "http://192.0.2.10/onvif/device_service",
        "http://198.51.100.7/onvif/device_service",
    )
    assert device.source == "127.0.0.1"


async def test_probe_with_nobody_answering_returns_nothing(responder) -> None:
    _, port = await responder(lambda _mid: [])
    assert (
        await probe(timeout=0.3, multicast_group=None, unicast_targets=[f"127.0.0.1:{port}"]) == []
    )


async def test_short_timeout_sends_each_probe_once(responder) -> None:
    proto, port = await responder(lambda _mid: [])
    # The repeat is due 0.2 s in, after this timeout: whatever the load, it is never sent.
    await probe(timeout=0.05, multicast_group=None, unicast_targets=[f"127.0.0.1:{port}"])
    await wait_for(lambda: len(proto.probes) >= 2)
    assert len(proto.probes) == 2


async def test_interface_address_that_is_not_ours_raises(socket_enabled: None) -> None:
    with pytest.raises(OSError, match="assign"):
        await probe(timeout=0.1, interface_address="192.0.2.1")


async def test_socket_is_closed_when_the_endpoint_fails(
    socket_enabled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[socket.socket] = []
    real_make_socket = ws_discovery.make_socket

    def make_socket(interface_address: str | None) -> socket.socket:
        made.append(real_make_socket(interface_address))
        return made[-1]

    async def fail(*_args: object, **_kwargs: object) -> None:
        raise OSError("endpoint failed")

    monkeypatch.setattr(ws_discovery, "make_socket", make_socket)
    monkeypatch.setattr(asyncio.get_running_loop(), "create_datagram_endpoint", fail)
    with pytest.raises(OSError, match="endpoint failed"):
        await probe(timeout=0.1, multicast_group=None)
    assert made[0].fileno() == -1  # closed


def test_protocol_caps_devices_and_logs_errors(caplog: pytest.LogCaptureFixture) -> None:
    protocol = ws_discovery.ProbeProtocol(frozenset({MID}))
    for i in range(ws_discovery.MAX_DEVICES + 10):
        protocol.datagram_received(spec_reply(match_xml(f"urn:uuid:{i}")), ("192.0.2.1", 3702))
    assert len(protocol.devices) == ws_discovery.MAX_DEVICES
    with caplog.at_level("DEBUG", logger=ws_discovery.__name__):
        protocol.error_received(OSError("no route"))
    assert "no route" in caplog.text


async def test_probe_survives_unreachable_target(socket_enabled: None) -> None:
    # Nothing listens there: the ICMP port-unreachable must be logged, not raised.
    port = free_port(socket.SOCK_DGRAM)
    assert (
        await probe(timeout=0.3, multicast_group=None, unicast_targets=[f"127.0.0.1:{port}"]) == []
    )


# --- the probe against ipycam (loopback-only namespace) -----------------------------------------


@pytest.fixture(scope="module")
def sim() -> Iterator[OnvifSim]:
    if (reason := sim_unavailable()) is not None:
        print(f"skipping ipycam tests: {reason}")
        pytest.skip(reason)
    with run_onvif_sim(name="Backyard-Sim") as running:
        yield running


async def probe_until_answered(sim: OnvifSim, **options: Any) -> list[DiscoveredDevice]:
    """Probe again until the simulator's answer is among the replies (30 s at most).

    A probe keeps only what arrives within its timeout, and a loaded machine can answer late;
    each probe is still checked whole (no device twice, nothing else).
    """
    end = asyncio.get_running_loop().time() + 30
    while True:
        devices = await probe(timeout=1.0, **options)
        if any(sim.device_url in d.xaddrs for d in devices):
            return devices
        if asyncio.get_running_loop().time() > end:
            raise AssertionError(f"the simulator never answered: {devices}")


@pytest.mark.parametrize("interface", [None, "127.0.0.1"])
async def test_multicast_probe_finds_ipycam(
    socket_enabled: None, sim: OnvifSim, interface: str | None
) -> None:
    devices = await probe_until_answered(sim, interface_address=interface)
    found = [d for d in devices if sim.device_url in d.xaddrs]
    assert len(found) == 1, devices
    (device,) = found
    assert device.address.startswith("urn:uuid:")
    assert device.xaddrs == (f"http://127.0.0.1:{sim.onvif_port}/onvif/device_service",)
    assert device.is_video_transmitter
    assert device.name == "Backyard-Sim"
    assert (device.host, device.port) == ("127.0.0.1", sim.onvif_port)


async def test_unicast_probe_finds_ipycam(socket_enabled: None, sim: OnvifSim) -> None:
    devices = await probe_until_answered(sim, multicast_group=None, unicast_targets=["127.0.0.1"])
    assert [d.xaddrs for d in devices] == [(sim.device_url,)]
