"""``ggzy-client``: the bidder's tool. Each group of subcommands lives in ``ggzy_client.commands``
and registers itself here; errors print one line and exit 2, never a traceback."""

from __future__ import annotations

import argparse
import importlib
import sys

from ggzy_client import __version__

COMMAND_MODULES = (
    "ggzy_client.commands.envelope",  # seal, unwrap, inspect, open
    "ggzy_client.commands.sign",  # sign, verify
    "ggzy_client.commands.remote",  # login, sign-request
    "ggzy_client.commands.bid",  # bid form, submit, receipt, key, opening
)


class ClientError(Exception):
    """A refusal to print as ``error [code]: message`` (exit status 2)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ggzy-client", description="OpenGGZY bidder tool: seal, unwrap, sign (keys stay here)"
    )
    parser.add_argument("--version", action="version", version=f"ggzy-client {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code = args.func(args)
    except ClientError as exc:
        print(f"error [{exc.code}]: {exc.message}", file=sys.stderr)
        return 2
    except ValueError as exc:  # the library's refusals carry a code
        print(f"error [{getattr(exc, 'code', 'invalid')}]: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error [io_error]: {exc}", file=sys.stderr)
        return 2
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
