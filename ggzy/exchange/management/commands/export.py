"""``ggzy export WHAT …``: standard exports of the public data.

    ggzy export ocds [--records] [--single] [--output FILE|-] [--since DATE]

``ocds`` streams one OCDS package per contracting process (a section) as JSON Lines — release
packages, or record packages with ``--records`` — or, with ``--single``, one package holding
them all (written piece by piece: memory stays flat either way). ``--since`` keeps the processes
with a release dated at or after it (a date is midnight China time); such a process is exported
whole. Only what is disclosed at the moment of the export is written.

Each export is one entry of ``SUBCOMMANDS``: add another (``records``, ``national`` …) there.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from datetime import time as day_time
from typing import IO, Any

import orjson
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ggzy.core import clock
from ggzy.core.clock import CHINA
from ggzy.exchange import ocds_packages as packages
from ggzy.exchange.ocds import Process


@dataclass(frozen=True)
class Subcommand:
    help: str
    arguments: Callable[[CommandParser], None]
    run: Callable[[BaseCommand, dict[str, Any]], None]


# --- ocds ---------------------------------------------------------------------------------------


def parse_since(value: str) -> datetime:
    """``2026-12-01`` (midnight China time) or an ISO 8601 instant with its offset."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date or date-time: {value!r}") from exc
    if len(value) == 10:
        return datetime.combine(moment.date(), day_time(0), tzinfo=CHINA)
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError("a date-time needs its offset (e.g. +08:00 or Z)")
    return moment


def _ocds_arguments(parser: CommandParser) -> None:
    parser.add_argument("--records", action="store_true", help="record packages (compiled)")
    parser.add_argument("--single", action="store_true",
                        help="one package for everything instead of JSON Lines")  # fmt: skip
    parser.add_argument("--output", default="-", help="file to write, - for standard output")
    parser.add_argument("--since", type=parse_since, default=None,
                        help="only processes with a release at or after DATE")  # fmt: skip


@contextmanager
def _sink(command: BaseCommand, output: str) -> Iterator[Callable[[bytes], None]]:
    if output == "-":
        stream = command.stdout._out  # type: ignore[attr-defined]
        binary: IO[bytes] | None = getattr(stream, "buffer", None)
        if binary is not None:
            stream.flush()
            yield binary.write
            binary.flush()
        else:  # captured (call_command(stdout=StringIO()))
            yield lambda data: stream.write(data.decode())
        return
    try:
        handle = open(output, "wb")  # noqa: SIM115
    except OSError as exc:
        raise CommandError(f"cannot write {output}: {exc}") from exc
    with handle:
        yield handle.write


def ocds_items(
    *, since: datetime | None, now: datetime
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """(ocid, releases) of every disclosed process, in section order, batch by batch."""
    for batch, loaded in packages.batches(now=now):
        for section in batch:
            process = Process(section, now, loaded)
            releases = process.releases()
            if releases and packages.changed_since(releases, since):
                yield process.ocid, releases


def _run_ocds(command: BaseCommand, options: dict[str, Any]) -> None:
    now = clock.now()
    records, single = bool(options["records"]), bool(options["single"])
    kind = "records" if records else "releases"
    started, count = time.perf_counter(), 0
    with _sink(command, options["output"]) as write:
        items = ocds_items(since=options["since"], now=now)
        if single:
            uri = packages.package_uri(kind)
            frame = (packages.record_package([], uri=uri, now=now) if records
                     else packages.release_package([], uri=uri, now=now))  # fmt: skip
            head = orjson.dumps(frame)[: -len(b"[]}")]  # the frame up to the empty list
            write(head + b"[")
        for ocid, releases in items:
            content = [packages.record(ocid, releases)] if records else releases
            if single:
                write((b"," if count else b"") + b",".join(orjson.dumps(x) for x in content))
            else:
                uri = packages.package_uri(kind, ocid)
                body = (packages.record_package(content, uri=uri, now=now) if records
                        else packages.release_package(content, uri=uri, now=now))  # fmt: skip
                write(orjson.dumps(body) + b"\n")
            count += 1
        if single:
            write(b"]}\n")
    elapsed = time.perf_counter() - started
    command.stderr.write(f"ocds: {count} contracting processes ({kind}) in {elapsed:.1f} s")


SUBCOMMANDS: dict[str, Subcommand] = {
    "ocds": Subcommand(
        help="OCDS 1.1 release or record packages (with the bids extension)",
        arguments=_ocds_arguments,
        run=_run_ocds,
    ),
}


class Command(BaseCommand):
    help = "Export public data in a standard format: " + ", ".join(SUBCOMMANDS)

    def add_arguments(self, parser: CommandParser) -> None:
        subparsers = parser.add_subparsers(dest="what", required=True, metavar="WHAT")
        for name, sub in SUBCOMMANDS.items():
            sub.arguments(subparsers.add_parser(name, help=sub.help))

    def handle(self, *args: Any, **options: Any) -> None:
        SUBCOMMANDS[options["what"]].run(self, options)
