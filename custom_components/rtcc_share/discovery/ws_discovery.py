"""An async WS-Discovery probe for ONVIF cameras (NetworkVideoTransmitter).

Written on asyncio datagram endpoints instead of the `wsdiscovery` package that Home Assistant's
own onvif integration uses, because that package skips loopback interfaces for multicast and
drops replies whose action is `.../ProbeMatch` (singular). Real devices and the ipycam simulator
send that non-standard action, so we accept both it and the spec's `.../ProbeMatches`.

Replies are untrusted LAN input: each datagram is size-limited, must not carry a DTD (SOAP
forbids one, and refusing it rules out entity-expansion attacks), and anything malformed is
dropped without raising.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Final, NamedTuple
from urllib.parse import unquote, urlsplit

_LOGGER = logging.getLogger(__name__)

MULTICAST_GROUP: Final = "239.255.255.250"
WS_DISCOVERY_PORT: Final = 3702
# Real ProbeMatches are 1-4 KiB; anything far bigger is not a camera talking.
MAX_DATAGRAM_BYTES: Final = 32 * 1024
# Bounds on what one probe keeps, so a flood of fake replies cannot grow memory without limit.
MAX_DEVICES: Final = 256
MAX_MATCHES_PER_DATAGRAM: Final = 16
MAX_ITEMS_PER_FIELD: Final = 64
MAX_ADDRESS_LENGTH: Final = 256
_MAX_PORT: Final = 65535
# The spec's MULTICAST_UDP_REPEAT: UDP is lossy, so each probe goes out twice.
_REPEAT_DELAY: Final = 0.2

SOAP12_NS: Final = "http://www.w3.org/2003/05/soap-envelope"
SOAP11_NS: Final = "http://schemas.xmlsoap.org/soap/envelope/"
# ONVIF uses the 2005/04 WS-Discovery draft with 2004/08 WS-Addressing; the OASIS 1.1 names are
# accepted too for devices that speak the standard.
DISCOVERY_NS: Final = "http://schemas.xmlsoap.org/ws/2005/04/discovery"
DISCOVERY11_NS: Final = "http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01"
ADDRESSING_NS: Final = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
ADDRESSING10_NS: Final = "http://www.w3.org/2005/08/addressing"
_SOAP_NSS: Final = frozenset({SOAP12_NS, SOAP11_NS})
_DISCOVERY_NSS: Final = frozenset({DISCOVERY_NS, DISCOVERY11_NS})
_ADDRESSING_NSS: Final = frozenset({ADDRESSING_NS, ADDRESSING10_NS})
PROBE_MATCH_ACTIONS: Final = frozenset(
    f"{ns}/{name}" for ns in _DISCOVERY_NSS for name in ("ProbeMatches", "ProbeMatch")
)

# One probe per type: a Probe listing several types only matches devices that have all of them.
PROBE_TYPES: Final = ("dn:NetworkVideoTransmitter", "tds:Device")
_TYPE_NAMESPACES: Final = {
    "dn": "http://www.onvif.org/ver10/network/wsdl",
    "tds": "http://www.onvif.org/ver10/device/wsdl",
}
ONVIF_SCOPE_PREFIX: Final = "onvif://www.onvif.org/"


@dataclass(frozen=True, slots=True)
class DiscoveredDevice:
    """One device that answered a probe."""

    address: str
    """WS-Addressing endpoint reference (usually `urn:uuid:...`): the device's stable identity."""
    xaddrs: tuple[str, ...]
    """Device service URLs (`http://host[:port]/onvif/device_service`)."""
    types: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()
    """What the device says of itself (`onvif://www.onvif.org/name/...`): see `described`."""
    metadata_version: int | None = None
    source: str = ""
    """IP address the reply came from."""

    @property
    def described(self) -> ScopeInfo:
        """Name, hardware and location as its scopes give them."""
        return parse_scopes(self.scopes)

    @property
    def name(self) -> str | None:
        """The name its scopes give, which the config flow shows."""
        return self.described.name

    @property
    def is_video_transmitter(self) -> bool:
        """Whether the device says it is an ONVIF NetworkVideoTransmitter (a camera)."""
        return any(t.rpartition(":")[2] == "NetworkVideoTransmitter" for t in self.types)

    @property
    def host(self) -> str | None:
        """Host of the first device service URL (what `onvif.lookup` connects to)."""
        return urlsplit(self.xaddrs[0]).hostname if self.xaddrs else None

    @property
    def port(self) -> int | None:
        """Port of the first device service URL (80/443 when the URL gives none)."""
        if not self.xaddrs:
            return None
        parts = urlsplit(self.xaddrs[0])
        return parts.port or (443 if parts.scheme == "https" else 80)


def build_probe(message_id: str, probe_type: str) -> bytes:
    """Return a SOAP 1.2 WS-Discovery Probe for one ONVIF type (`prefix:Local`)."""
    prefix = probe_type.partition(":")[0]
    type_ns = _TYPE_NAMESPACES[prefix]
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<s:Envelope xmlns:s="{SOAP12_NS}" xmlns:a="{ADDRESSING_NS}" '
        f'xmlns:d="{DISCOVERY_NS}" xmlns:{prefix}="{type_ns}">'
        "<s:Header>"
        f"<a:Action>{DISCOVERY_NS}/Probe</a:Action>"
        f"<a:MessageID>{message_id}</a:MessageID>"
        "<a:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To>"
        "</s:Header>"
        f"<s:Body><d:Probe><d:Types>{probe_type}</d:Types></d:Probe></s:Body>"
        "</s:Envelope>"
    ).encode()


class ScopeInfo(NamedTuple):
    """What a device's ONVIF scopes say of it."""

    name: str | None
    hardware: str | None
    location: str | None


def parse_scopes(scopes: Sequence[str]) -> ScopeInfo:
    """Name, hardware and location from ONVIF scopes (`onvif://www.onvif.org/name/...`).

    Values are percent-decoded. Several location scopes (country/..., city/...) are joined.
    """
    name: str | None = None
    hardware: str | None = None
    locations: list[str] = []
    for scope in scopes:
        if not scope.startswith(ONVIF_SCOPE_PREFIX):
            continue
        kind, _, value = scope.removeprefix(ONVIF_SCOPE_PREFIX).partition("/")
        value = unquote(value).strip()
        if not value:
            continue
        if kind == "name" and name is None:
            name = value
        elif kind == "hardware" and hardware is None:
            hardware = value
        elif kind == "location":
            locations.append(value)
    return ScopeInfo(name, hardware, ", ".join(locations) or None)


def _local(tag: str) -> tuple[str, str]:
    """Split an ElementTree tag `{ns}local` into (ns, local)."""
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


def _child(parent: ET.Element, namespaces: Collection[str], local: str) -> ET.Element | None:
    for element in parent:
        ns, name = _local(element.tag)
        if name == local and ns in namespaces:
            return element
    return None


def _words(element: ET.Element | None) -> tuple[str, ...]:
    if element is None or not element.text:
        return ()
    return tuple(element.text.split()[:MAX_ITEMS_PER_FIELD])


def _text(element: ET.Element | None) -> str | None:
    if element is None or element.text is None:
        return None
    return element.text.strip() or None


def _is_service_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in {"http", "https"} and bool(parts.hostname)


def _parse_match(match: ET.Element, source: str) -> DiscoveredDevice | None:
    # The spec puts EndpointReference in the WS-Addressing namespace; ipycam uses discovery's.
    reference = _child(match, _ADDRESSING_NSS | _DISCOVERY_NSS, "EndpointReference")
    address = (
        _text(_child(reference, _ADDRESSING_NSS, "Address")) if reference is not None else None
    )
    if not address or len(address) > MAX_ADDRESS_LENGTH:
        return None
    # A device must be reachable to be of any use: keep only http(s) service URLs.
    xaddrs = tuple(x for x in _words(_child(match, _DISCOVERY_NSS, "XAddrs")) if _is_service_url(x))
    scopes = _words(_child(match, _DISCOVERY_NSS, "Scopes"))
    version_text = _text(_child(match, _DISCOVERY_NSS, "MetadataVersion"))
    metadata_version = int(version_text) if version_text and version_text.isdigit() else None
    return DiscoveredDevice(
        address=address,
        xaddrs=xaddrs,
        types=_words(_child(match, _DISCOVERY_NSS, "Types")),
        scopes=scopes,
        metadata_version=metadata_version,
        source=source,
    )


def _reply_body(data: bytes, relates_to: Collection[str] | None) -> ET.Element | None:
    """The SOAP Body of a probe-match reply, or None when the datagram is not one."""
    if len(data) > MAX_DATAGRAM_BYTES or b"<!" in data:
        # `<!` opens a DTD, entity or comment/CDATA; SOAP allows no DTD and ONVIF devices send
        # none, so refusing it keeps the parser clear of entity expansion.
        return None
    try:
        envelope = ET.fromstring(data)  # noqa: S314 - size-limited, DTD refused above
    except (ET.ParseError, ValueError):
        return None
    env_ns, env_local = _local(envelope.tag)
    if env_local != "Envelope" or env_ns not in _SOAP_NSS:
        return None
    header = _child(envelope, {env_ns}, "Header")
    if header is not None:
        action = _text(_child(header, _ADDRESSING_NSS, "Action"))
        related = _text(_child(header, _ADDRESSING_NSS, "RelatesTo"))
        if action is not None and action not in PROBE_MATCH_ACTIONS:
            return None
        if relates_to is not None and related is not None and related not in relates_to:
            return None
    return _child(envelope, {env_ns}, "Body")


def parse_probe_matches(
    data: bytes, *, source: str = "", relates_to: Collection[str] | None = None
) -> list[DiscoveredDevice]:
    """Devices in one WS-Discovery reply datagram; `[]` for anything that is not a valid match.

    Accepts the spec's `ProbeMatches` (with `ProbeMatch` children) and the `ProbeMatch` action
    or body element some devices send instead. When `relates_to` is given, a reply whose
    `RelatesTo` names another probe is ignored (a reply without `RelatesTo` is still taken).
    """
    body = _reply_body(data, relates_to)
    if body is None:
        return []
    matches: list[ET.Element] = []
    for element in body:
        ns, local = _local(element.tag)
        if ns not in _DISCOVERY_NSS:
            continue
        if local == "ProbeMatches":
            matches.extend(m for m in element if _local(m.tag) == (ns, "ProbeMatch"))
        elif local == "ProbeMatch":
            matches.append(element)
    devices = [_parse_match(m, source) for m in matches[:MAX_MATCHES_PER_DATAGRAM]]
    return [d for d in devices if d is not None]


def _merge(old: DiscoveredDevice, new: DiscoveredDevice) -> DiscoveredDevice:
    """One device answering twice (two probes, two interfaces): keep every address it gave."""

    def union(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(a + b))[:MAX_ITEMS_PER_FIELD]

    return DiscoveredDevice(
        address=old.address,
        xaddrs=union(old.xaddrs, new.xaddrs),
        types=union(old.types, new.types),
        scopes=union(old.scopes, new.scopes),
        metadata_version=old.metadata_version or new.metadata_version,
        source=old.source or new.source,
    )


@dataclass(slots=True)
class ProbeProtocol(asyncio.DatagramProtocol):
    """Collects the ProbeMatches that answer our probes (at most MAX_DEVICES)."""

    message_ids: frozenset[str]
    devices: dict[str, DiscoveredDevice] = field(default_factory=dict)

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        """Keep each matching device once, by its address."""
        source = str(addr[0])
        for device in parse_probe_matches(data, source=source, relates_to=self.message_ids):
            if device.address in self.devices:
                self.devices[device.address] = _merge(self.devices[device.address], device)
            elif len(self.devices) < MAX_DEVICES:
                self.devices[device.address] = device

    def error_received(self, exc: Exception) -> None:
        """Log and go on: one unreachable target must not end the probe."""
        # e.g. ICMP port unreachable from a unicast target, or no multicast route.
        _LOGGER.debug("WS-Discovery send/receive error: %s", exc)


def _unicast_destination(target: str, default_port: int) -> tuple[str, int]:
    """`a.b.c.d` or `a.b.c.d:port` (IPv4 literals only: a host name would block on DNS)."""
    host, sep, port_text = target.rpartition(":")
    if not sep:
        host, port_text = target, ""
    # ValueError for host names, IPv6 and garbage.
    ip = ipaddress.IPv4Address(host)
    port = int(port_text) if port_text else default_port
    if not 0 < port <= _MAX_PORT:
        raise ValueError(f"port out of range in {target!r}")
    return str(ip), port


def make_socket(interface_address: str | None) -> socket.socket:
    """The probe's UDP socket: non-blocking, TTL 1, on the given interface if any."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    try:
        sock.setblocking(False)  # noqa: FBT003 - the stdlib's own signature
        # TTL 1 as WS-Discovery asks: probes never leave the local link.
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
        # Cameras emulated on this host (and add-ons) answer only if we hear our own group.
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
        if interface_address:
            sock.setsockopt(
                socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(interface_address)
            )
        sock.bind((interface_address or "0.0.0.0", 0))  # noqa: S104 - replies come back unicast
    except BaseException:
        sock.close()
        raise
    return sock


async def probe(
    *,
    timeout: float = 3.0,
    multicast_group: str | None = MULTICAST_GROUP,
    port: int = WS_DISCOVERY_PORT,
    interface_address: str | None = None,
    unicast_targets: Sequence[str] = (),
) -> list[DiscoveredDevice]:
    """Probe for ONVIF devices and collect the replies that arrive within `timeout` seconds.

    Sends a Probe for `dn:NetworkVideoTransmitter` and one for `tds:Device` to the multicast
    group (skipped when `multicast_group` is None) and to each unicast target (`a.b.c.d` or
    `a.b.c.d:port`); every address is an IPv4 literal. `interface_address` picks the interface
    to send from. Devices are deduplicated by endpoint address, in the order they first
    answered. Raises ValueError for a bad address and OSError if no socket can be bound; send
    errors only get logged.
    """
    destinations = [_unicast_destination(t, port) for t in unicast_targets]
    if multicast_group:
        destinations.insert(0, _unicast_destination(multicast_group, port))
    probes = [(f"urn:uuid:{uuid.uuid4()}", probe_type) for probe_type in PROBE_TYPES]
    loop = asyncio.get_running_loop()
    sock = make_socket(interface_address)
    try:
        transport, protocol = await loop.create_datagram_endpoint(
            lambda: ProbeProtocol(frozenset(mid for mid, _ in probes)), sock=sock
        )
    except BaseException:
        sock.close()
        raise
    deadline = loop.time() + timeout
    messages = [build_probe(mid, probe_type) for mid, probe_type in probes]
    try:
        for attempt in range(2):
            if attempt:
                await asyncio.sleep(min(_REPEAT_DELAY, max(0.0, deadline - loop.time())))
            if loop.time() >= deadline:
                break
            for message in messages:
                for destination in destinations:
                    transport.sendto(message, destination)
        await asyncio.sleep(max(0.0, deadline - loop.time()))
    finally:
        transport.close()
    _LOGGER.debug("WS-Discovery found %d device(s)", len(protocol.devices))
    return list(protocol.devices.values())
