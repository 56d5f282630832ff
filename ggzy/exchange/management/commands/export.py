"""``ggzy export WHAT …``: standard exports of the public data.

    ggzy export ocds [--records] [--single] [--output FILE|-] [--since DATE]
    ggzy export records [--format jsonl|csv] [--output FILE|-] [--since DATE]
                        [--kind K] [--category C] [--region R]

``ocds`` streams one OCDS package per contracting process (a section) as JSON Lines — release
packages, or record packages with ``--records`` — or, with ``--single``, one package holding
them all (written piece by piece: memory stays flat either way). ``--since`` keeps the processes
with a release dated at or after it (a date is midnight China time); such a process is exported
whole. Only what is disclosed at the moment of the export is written.

``records`` streams every public record (:class:`~ggzy.disclosure.models.PublicRecord`) in
the change feed's order (``seq``) with the feed's fields, as JSON Lines or as CSV (UTF-8 with a
BOM, so that Excel opens the Chinese text; a header row; ``data`` as a JSON string), read in
keyset pages so that memory stays flat. ``--since`` keeps the records changed at or after it.

Each export is one entry of ``SUBCOMMANDS``: add another (``records``, ``national`` …) there.
"""

from __future__ import annotations

import argparse
import csv
import io
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
from ggzy.core.errors import ValidationFailed
from ggzy.disclosure import selectors
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


# --- records ------------------------------------------------------------------------------------

RECORD_FIELDS = ("key", "seq", "kind", "source", "project_code", "section_code", "title", "body",
                 "category", "region", "procedure", "status", "published_at", "changed_at",
                 "url", "data")  # fmt: skip  # the change feed's (selectors.changes)
RECORD_PAGE = 2000
RECORD_FILTERS = ("kind", "category", "region")


def _records_arguments(parser: CommandParser) -> None:
    parser.add_argument("--format", choices=("jsonl", "csv"), default="jsonl",
                        help="jsonl (one JSON object a line) or csv (UTF-8 with BOM, for Excel; "
                             "a header row, data as a JSON string)")  # fmt: skip
    parser.add_argument("--output", default="-", help="file to write, - for standard output")
    parser.add_argument("--since", type=parse_since, default=None,
                        help="only records changed at or after DATE")  # fmt: skip
    parser.add_argument("--kind", default="", help="announcement, award, contract, entity, …")
    parser.add_argument("--category", default="", help="交易类别 code (works, procurement …)")
    parser.add_argument("--region", default="", help="行政区划代码 (6 digits)")


def record_rows(
    filters: dict[str, Any], *, since: datetime | None, page: int = RECORD_PAGE
) -> Iterator[dict[str, Any]]:
    """Every public record matching ``filters`` in feed order, ``page`` rows a query (keyset on
    ``seq``). A record changed during the export comes again at its new position, as in the
    feed: a reader keeps the last version of each key."""
    qs = selectors.filtered(filters).order_by("seq")  # lets the projector catch up first
    if since is not None:
        qs = qs.filter(changed_at__gte=since)
    last = 0
    while rows := list(qs.filter(seq__gt=last).values(*RECORD_FIELDS)[:page]):
        yield from rows
        last = rows[-1]["seq"]


def _csv_line(values: list[Any]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(values)
    return buffer.getvalue().encode()


def _csv_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    return value


def _run_records(command: BaseCommand, options: dict[str, Any]) -> None:
    try:
        filters = selectors.clean_filters({n: options[n] or "" for n in RECORD_FILTERS})
    except ValidationFailed as exc:
        raise CommandError(f"{exc.code}: {exc.message}") from exc
    as_csv = options["format"] == "csv"
    started, count = time.perf_counter(), 0
    with _sink(command, options["output"]) as write:
        if as_csv:
            write(b"\xef\xbb\xbf" + _csv_line(list(RECORD_FIELDS)))
        for row in record_rows(filters, since=options["since"]):
            if as_csv:
                write(_csv_line([_csv_value(row[n]) for n in RECORD_FIELDS]))
            else:
                write(orjson.dumps(row) + b"\n")
            count += 1
    elapsed = time.perf_counter() - started
    command.stderr.write(
        f"records: {count} public records ({options['format']}) in {elapsed:.1f} s"
    )


SUBCOMMANDS: dict[str, Subcommand] = {
    "ocds": Subcommand(
        help="OCDS 1.1 release or record packages (with the bids extension)",
        arguments=_ocds_arguments,
        run=_run_ocds,
    ),
    "records": Subcommand(
        help="every public record in feed order, as JSON Lines or CSV (UTF-8 with BOM)",
        arguments=_records_arguments,
        run=_run_records,
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
