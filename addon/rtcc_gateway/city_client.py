"""`rtcc-city`: the city-side reference client that signs requests to a homeowner's gateway.

    rtcc-city keygen --out FILE [--force]
    rtcc-city request --gateway URL --key FILE --key-id ID --incident ID --offense TEXT
                      --reason TEXT --lat X --lon Y [--radius M] [--camera ID]... [--start ISO]
                      [--duration S]
    rtcc-city status --gateway URL --key FILE --key-id ID REQUEST_ID [--wait S]
    rtcc-city cancel --gateway URL --key FILE --key-id ID REQUEST_ID

Exit codes: 0 success; 1 the gateway refused (its problem details on stderr); 2 bad arguments,
an unreadable key, or a gateway that could not be reached.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import ssl
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote, urlsplit

import aiohttp
from yarl import URL

from .signature_rules import KeyFileError
from .signing import (
    generate_private_key,
    load_private_key,
    private_key_pem,
    public_key_b64,
    sign_request,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

PROG: Final = "rtcc-city"
EXIT_OK: Final = 0
EXIT_REFUSED: Final = 1
EXIT_USAGE: Final = 2
DEFAULT_TIMEOUT_S: Final = 30.0


class UsageError(Exception):
    """Bad arguments, an unreadable key or an unreachable gateway: exit 2 with one line."""


@dataclass(frozen=True, slots=True)
class Answer:
    """What the gateway said."""

    status: int
    content_type: str
    body: bytes


# --- keygen ------------------------------------------------------------------------------------


def _keygen(args: argparse.Namespace) -> int:
    out = Path(args.out)
    key = generate_private_key()
    pem = private_key_pem(key)
    if out.exists() and not args.force:
        raise UsageError(f"{out} already exists; pass --force to replace it")
    # Written under a temporary name with mode 0600 from creation (a umask can only narrow it),
    # then moved into place: the key is never readable by others, and a crash leaves no
    # half-written file under the real name.
    tmp = out.with_name(f".{out.name}.tmp{os.getpid()}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(pem)
        if args.force:
            tmp.replace(out)
        else:
            # link() refuses an existing name, closing the race with another writer.
            os.link(tmp, out)
            tmp.unlink()
    except FileExistsError:
        tmp.unlink(missing_ok=True)
        raise UsageError(f"{out} already exists; pass --force to replace it") from None
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise UsageError(f"cannot write {out}: {err.strerror or err}") from None
    print(public_key_b64(key))
    return EXIT_OK


# --- signed calls ------------------------------------------------------------------------------


def _gateway_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--gateway must be an http:// or https:// URL, not {value!r}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise UsageError("--gateway must not carry credentials, a query or a fragment")
    return value.rstrip("/")


def _load_key(path: str) -> Ed25519PrivateKey:
    try:
        return load_private_key(path)
    except KeyFileError as err:
        raise UsageError(str(err)) from None


def _ssl_context(cacert: str | None) -> ssl.SSLContext | None:
    if cacert is None:
        return None
    try:
        return ssl.create_default_context(cafile=cacert)
    except (OSError, ssl.SSLError) as err:
        raise UsageError(f"cannot use --cacert {cacert}: {err}") from None


async def _send(
    method: str,
    url: str,
    body: bytes | None,
    *,
    key_id: str,
    key: Ed25519PrivateKey,
    timeout_s: float,
    ssl_context: ssl.SSLContext | None,
) -> Answer:
    headers = sign_request(method=method, url=url, body=body, key_id=key_id, private_key=key)
    if body:
        headers["Content-Type"] = "application/json"
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.request(
                method,
                # encoded=True: send the URL exactly as signed (@target-uri), never requoted.
                URL(url, encoded=True),
                data=body,
                headers=headers,
                allow_redirects=False,
                ssl=ssl_context if ssl_context is not None else True,
            ) as resp,
        ):
            return Answer(resp.status, resp.content_type, await resp.read())
    except TimeoutError:
        raise UsageError(f"the gateway at {url} did not answer within {timeout_s:g} s") from None
    except aiohttp.ClientConnectorError as err:
        raise UsageError(f"cannot reach the gateway at {url}: {err}") from None
    except (aiohttp.ClientError, OSError) as err:
        detail = str(err) or err.__class__.__name__
        raise UsageError(f"no usable answer from the gateway at {url}: {detail}") from None


def _pretty(body: bytes) -> str:
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        return body.decode("utf-8", errors="replace")


def _report(answer: Answer, ok: tuple[int, ...]) -> int:
    if answer.status in ok:
        if answer.body:
            print(_pretty(answer.body))
        return EXIT_OK
    print(f"{PROG}: the gateway refused (HTTP {answer.status})", file=sys.stderr)
    if answer.body:
        print(_pretty(answer.body), file=sys.stderr)
    return EXIT_REFUSED


def _call(
    args: argparse.Namespace, method: str, path: str, body: bytes | None, ok: tuple[int, ...]
) -> int:
    gateway = _gateway_url(args.gateway)
    key = _load_key(args.key)
    ssl_context = _ssl_context(args.cacert)
    timeout_s = args.timeout + (getattr(args, "wait", None) or 0)
    answer = asyncio.run(
        _send(
            method,
            gateway + path,
            body,
            key_id=args.key_id,
            key=key,
            timeout_s=timeout_s,
            ssl_context=ssl_context,
        )
    )
    return _report(answer, ok)


def _request(args: argparse.Namespace) -> int:
    if args.start is not None:
        try:
            datetime.fromisoformat(args.start)
        except ValueError:
            raise UsageError(f"--start {args.start!r} is not an ISO 8601 time") from None
    payload: dict[str, Any] = {
        "incident_id": args.incident,
        "offense": args.offense,
        "reason": args.reason,
        "location": {"lat": args.lat, "lon": args.lon},
    }
    if args.radius is not None:
        payload["radius_m"] = args.radius
    if args.camera:
        payload["camera_ids"] = args.camera
    if args.start is not None:
        payload["start"] = args.start
    if args.duration is not None:
        payload["duration_s"] = args.duration
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return _call(args, "POST", "/api/v1/requests", body, (201, 202))


def _request_path(request_id: str) -> str:
    return "/api/v1/requests/" + quote(request_id, safe="")


def _status(args: argparse.Namespace) -> int:
    query = "" if args.wait is None else f"?wait={args.wait}"
    return _call(args, "GET", _request_path(args.request_id) + query, None, (200,))


def _cancel(args: argparse.Namespace) -> int:
    return _call(args, "DELETE", _request_path(args.request_id), None, (204,))


# --- command line ------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Sign and send requests to a homeowner's RTCC gateway."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    keygen = commands.add_parser("keygen", help="write a new Ed25519 private key")
    keygen.add_argument("--out", required=True, metavar="FILE", help="where to write the PEM")
    keygen.add_argument("--force", action="store_true", help="replace an existing file")
    keygen.set_defaults(handler=_keygen)

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--gateway", required=True, metavar="URL", help="the gateway's base URL")
    common.add_argument("--key", required=True, metavar="FILE", help="the agency's private key")
    common.add_argument("--key-id", required=True, metavar="ID", help="the agency's id")
    common.add_argument("--cacert", metavar="FILE", help="trust this CA bundle for HTTPS")
    common.add_argument(
        "--timeout", type=float, default=DEFAULT_TIMEOUT_S, metavar="S", help="seconds to wait"
    )

    request = commands.add_parser("request", parents=[common], help="ask for live video")
    request.add_argument("--incident", required=True, metavar="ID")
    request.add_argument("--offense", required=True, metavar="TEXT")
    request.add_argument("--reason", required=True, metavar="TEXT")
    request.add_argument("--lat", required=True, type=float, metavar="X")
    request.add_argument("--lon", required=True, type=float, metavar="Y")
    request.add_argument("--radius", type=int, metavar="M", help="metres (gateway default 300)")
    request.add_argument("--camera", action="append", metavar="ID", help="repeat for several")
    request.add_argument("--start", metavar="ISO", help="start time, ISO 8601 (default now)")
    request.add_argument("--duration", type=int, metavar="S", help="seconds")
    request.set_defaults(handler=_request)

    status = commands.add_parser("status", parents=[common], help="show a request")
    status.add_argument("request_id", metavar="REQUEST_ID")
    status.add_argument("--wait", type=int, metavar="S", help="long-poll while pending (1-60)")
    status.set_defaults(handler=_status)

    cancel = commands.add_parser("cancel", parents=[common], help="end a request early")
    cancel.add_argument("request_id", metavar="REQUEST_ID")
    cancel.set_defaults(handler=_cancel)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run rtcc-city with `argv` (default: the process's arguments); return the exit code."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits by itself: 2 on bad arguments, 0 on --help
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except UsageError as err:
        print(f"{PROG}: {err}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
