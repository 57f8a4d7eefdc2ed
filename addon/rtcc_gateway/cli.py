"""`rtcc-gateway`: serve, check, audit verify/export (GATEWAY.md).

Exit 0 ok, 1 runtime failure (or a broken audit chain), 2 bad input (or no database).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from contextlib import aclosing
from pathlib import Path

from rtcc_gateway.app import Gateway, StartError
from rtcc_gateway.audit import (
    AuditError,
    export_database,
    format_head,
    parse_head,
    verify_database,
)
from rtcc_gateway.config import ConfigError, GatewayConfig, load_config, warnings_of
from rtcc_gateway.redact import SecretFilter, Secrets
from rtcc_gateway.restreamer.choice import choose_restreamer

_LOGGER = logging.getLogger("rtcc_gateway")

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


def _setup_logging(config: GatewayConfig | None, verbose: bool) -> Secrets:
    """Log to stderr through a filter on the gateway's register of secrets (returned)."""
    secrets = Secrets()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(SecretFilter(secrets))
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


async def _serve(config: GatewayConfig, secrets: Secrets) -> int:
    gateway = Gateway(config, secrets=secrets)
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
    secrets = _setup_logging(config, args.verbose)
    return asyncio.run(_serve(config, secrets))


def _cmd_check(args: argparse.Namespace) -> int:
    config = _load(args.config)
    if config is None:
        return EXIT_BAD_INPUT
    for warning in warnings_of(config):
        print(f"warning: {warning}", file=sys.stderr)
    choice = asyncio.run(choose_restreamer(config))
    if choice.refused:
        print(f"restreamer: {choice.why}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(choice.describe())
    print(f"ok: {args.config}")
    return EXIT_OK


def _cmd_audit_verify(args: argparse.Namespace) -> int:
    head = None
    if args.head is not None:
        try:
            head = parse_head(args.head)
        except ValueError as err:
            print(f"--head: {err}", file=sys.stderr)
            return EXIT_BAD_INPUT
    try:
        result = asyncio.run(verify_database(Path(args.data_dir), head))
    except AuditError as err:
        print(str(err), file=sys.stderr)
        return EXIT_BAD_INPUT
    if not result.ok:
        print(f"first bad record: {result.first_bad}")
        return EXIT_FAILED
    # An empty log prints head 0:000…0, the hash every chain starts from.
    print(f"ok: {result.count} records, head {format_head(result.head)}")
    return EXIT_OK


async def _export(data_dir: Path) -> int:
    out = sys.stdout.buffer
    count = 0
    try:
        async with aclosing(export_database(data_dir)) as records:
            async for record in records:
                line = json.dumps(record.to_json(), ensure_ascii=False, separators=(",", ":"))
                out.write(line.encode("utf-8") + b"\n")
                count += 1
    except AuditError as err:
        out.flush()
        print(str(err), file=sys.stderr)
        # Records already written stay valid output; a record that cannot be read is a failure.
        return EXIT_FAILED if count else EXIT_BAD_INPUT
    out.flush()
    return EXIT_OK


def _cmd_audit_export(args: argparse.Namespace) -> int:
    return asyncio.run(_export(Path(args.data_dir)))


def _add_audit_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    audit = sub.add_parser("audit", help="verify or export the audit log")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser(
        "verify",
        help="check the hash chain",
        description="Exit 0 when the chain is whole (and holds --head), 1 when it is broken, "
        "2 when there is no database. An empty log's head is 0:<64 zeros>.",
    )
    verify.add_argument("--data-dir", required=True, help="the gateway's data folder")
    verify.add_argument("--head", metavar="SEQ:HASH", help="a head the chain must contain")
    verify.set_defaults(func=_cmd_audit_verify)
    export = audit_sub.add_parser("export", help="the audit log as JSON lines on stdout")
    export.add_argument("--data-dir", required=True, help="the gateway's data folder")
    export.set_defaults(func=_cmd_audit_export)


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
    _add_audit_commands(sub)
    return parser


def gateway_main(argv: list[str] | None = None) -> int:
    """Entry point of `rtcc-gateway`."""
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(gateway_main())
