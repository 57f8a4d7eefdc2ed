"""`rtcc-gateway`: serve, check (GATEWAY.md). Exit 0 ok, 1 runtime failure, 2 bad input."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from rtcc_gateway.app import Gateway, StartError
from rtcc_gateway.config import ConfigError, GatewayConfig, load_config, warnings_of
from rtcc_gateway.redact import SecretFilter

_LOGGER = logging.getLogger("rtcc_gateway")

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


def _setup_logging(config: GatewayConfig | None, verbose: bool) -> SecretFilter:
    secrets = SecretFilter()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(secrets)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    if config is not None:
        secrets.add(config.owner.token, *(c.source for c in config.cameras))
    return secrets


def _load(path: str) -> GatewayConfig | None:
    try:
        return load_config(Path(path))
    except ConfigError as err:
        for line in err.problems:
            print(line, file=sys.stderr)
        return None


async def _serve(config: GatewayConfig) -> int:
    gateway = Gateway(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        bound = await gateway.start()
    except StartError as err:
        print(str(err), file=sys.stderr)
        return EXIT_BAD_INPUT
    for warning in warnings_of(config):
        _LOGGER.warning("%s", warning)
    print(bound.line(), flush=True)
    _LOGGER.info("gateway %s ready", gateway.gateway_id)
    await stop.wait()
    _LOGGER.info("stopping: closing every viewer connection")
    await gateway.stop()
    return EXIT_OK


def _cmd_serve(args: argparse.Namespace) -> int:
    config = _load(args.config)
    if config is None:
        return EXIT_BAD_INPUT
    _setup_logging(config, args.verbose)
    return asyncio.run(_serve(config))


def _cmd_check(args: argparse.Namespace) -> int:
    config = _load(args.config)
    if config is None:
        return EXIT_BAD_INPUT
    for warning in warnings_of(config):
        print(f"warning: {warning}", file=sys.stderr)
    print(f"ok: {args.config}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The `rtcc-gateway` command line."""
    parser = argparse.ArgumentParser(
        prog="rtcc-gateway", description="rtcc_share gateway: the city's only door to your cameras"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the gateway")
    serve.add_argument("--config", required=True, help="YAML configuration file")
    serve.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    serve.set_defaults(func=_cmd_serve)
    check = sub.add_parser("check", help="validate a configuration file")
    check.add_argument("--config", required=True, help="YAML configuration file")
    check.set_defaults(func=_cmd_check)
    return parser


def gateway_main(argv: list[str] | None = None) -> int:
    """Entry point of `rtcc-gateway`."""
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(gateway_main())
