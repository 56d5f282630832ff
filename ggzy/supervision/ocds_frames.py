"""OCDS compiled releases (with the bids extension) as flat Polars frames for the red flags.

The red flags (``ggzy.supervision.redflags``) and the historical import
(``ggzy.supervision.historical``) read the same few fields of millions of releases: each line
is parsed once with orjson and those fields are appended as row tuples, one frame per repeated
object (bids, their tenderers, awards, their suppliers and items, parties); the indicators then
run on the frames in Polars. Polars' own ``read_ndjson`` with an explicit nested schema was
measured first and was ~14× slower than orjson on these releases (2.2.0, this machine), and it
stops at the first malformed line, so it is not used. The file is streamed; the tuples are turned
into frames every 20,000 releases (a tuple row costs ten times a frame row) and the cyclic GC is
off meanwhile. ``workers=2`` parses two halves of a file in two spawned processes.

Input: a JSONL file with one compiled release per line, or one record per line whose
``compiledRelease`` is used (both may be mixed), or an iterable of such dicts. A line that is not
JSON, or not an object, is reported in ``problems`` as (line number, problem) and skipped; it is
never fatal. Blank lines are skipped silently. A field of the wrong type reads as missing (an
``ocid`` that is not a string is None, so the process is excluded); identifiers published as
numbers are read as their text, as Cardinal's ``prepare`` does.

Keys: ``pid`` is the release's position in the input (0-based, skipped lines not counted);
``bid`` and ``award`` number the bids and awards across the whole input, in document order.
"""

from __future__ import annotations

import gc
import itertools
import multiprocessing
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import polars as pl

ADDRESS_FIELDS = ("streetAddress", "locality", "region", "postalCode", "countryName")
CONTACT_FIELDS = ("name", "email", "telephone", "faxNumber", "url")
_S, _U, _B, _F, _I = pl.String(), pl.UInt32(), pl.Boolean(), pl.Float64(), pl.Int64()
SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "processes": {
        "pid": _U, "ocid": _S, "tender_status": _S, "procurement_method": _S,
        "procurement_method_details": _S, "award_criteria": _S, "main_procurement_category": _S,
        "number_of_tenderers": _I, "start_date": _S, "end_date": _S, "buyer_present": _B,
        "buyer_id": _S, "procuring_entity_present": _B, "procuring_entity_id": _S,
        "has_bid_details": _B, "has_awards": _B,
    },
    "bids": {"pid": _U, "bid": _U, "id": _S, "status": _S, "date": _S, "amount": _F,
             "currency": _S, "n_tenderers": _U},
    "bid_tenderers": {"pid": _U, "bid": _U, "tenderer_id": _S},
    "awards": {"pid": _U, "award": _U, "id": _S, "status": _S, "date": _S, "amount": _F,
               "currency": _S, "n_suppliers": _U},
    "award_suppliers": {"pid": _U, "award": _U, "supplier_id": _S},
    "award_items": {"pid": _U, "award": _U, "scheme": _S, "classification_id": _S},
    "parties": {
        "pid": _U, "party_id": _S, "name": _S, "is_tenderer": _B, "roles": _S,
        **{f: _S for f in ADDRESS_FIELDS}, **{f"contact_{f}": _S for f in CONTACT_FIELDS},
    },
}  # fmt: skip


@dataclass
class ReleaseFrames:
    """The flat frames of a set of releases (see the module docstring for the keys).

    - ``processes``: one row per release: pid, ocid, tender status, procurement method (and
      details), award criteria, main procurement category, numberOfTenderers, tender period start/end (text), buyer and
      procuring entity (``*_present`` tells an object without ``id`` from no object),
      ``has_bid_details`` / ``has_awards`` (the arrays exist, even empty).
    - ``bids``: pid, bid, id, status, date, amount, currency, n_tenderers.
    - ``bid_tenderers``: pid, bid, tenderer_id (null when the reference has no id).
    - ``awards``: pid, award, id, status, date, amount, currency, n_suppliers.
    - ``award_suppliers``: pid, award, supplier_id (null when the reference has no id).
    - ``award_items``: pid, award, scheme, classification_id.
    - ``parties``: the parties with role tenderer (the others are not used): pid, party_id,
      name, is_tenderer (always true), roles (joined with ``|``), the address
      fields and the contactPoint fields (``contact_*``).
    """

    processes: pl.DataFrame
    bids: pl.DataFrame
    bid_tenderers: pl.DataFrame
    awards: pl.DataFrame
    award_suppliers: pl.DataFrame
    award_items: pl.DataFrame
    parties: pl.DataFrame
    problems: list[tuple[int, str]] = field(default_factory=list)


def load_releases(
    source: str | Path | Iterable[Mapping[str, Any]], *, workers: int = 1
) -> ReleaseFrames:
    """Parse releases from a JSONL path or an iterable of dicts (see the module docstring).

    ``workers`` > 1 splits a file into that many byte ranges parsed in parallel processes
    (spawned, not forked: Polars' thread pool does not survive a fork); the result is the same
    as with one worker.
    """
    if not isinstance(source, str | Path):
        return _build([_extract(_dump(source))])
    size = Path(source).stat().st_size
    if workers <= 1 or size < PARALLEL_MIN_BYTES:
        return _build([_extract_range(str(source), 0, size)])
    bounds = _split(str(source), size, workers)
    ctx = multiprocessing.get_context("spawn")
    with (
        tempfile.TemporaryDirectory(prefix="ggzy-releases-") as spool,
        ctx.Pool(len(bounds)) as pool,
    ):
        # Each worker writes its frames as Arrow IPC files and returns their names: pickling
        # gigabytes of frames through the pool's pipe is slower and holds two copies.
        jobs = [(str(source), a, b, f"{spool}/{k}") for k, (a, b) in enumerate(bounds)]
        written = pool.starmap(_spool_range, jobs)
        built = [(_read_spooled(stem), lines, problems) for stem, lines, problems in written]
        return _merge(built)


def _spool_range(
    path: str, start: int, end: int, stem: str
) -> tuple[str, int, list[tuple[int, str]]]:
    part = _extract_range(path, start, end)
    frames = _build([part])
    for name in SCHEMAS:
        getattr(frames, name).write_ipc(f"{stem}.{name}.arrow", compression="uncompressed")
    return stem, part.lines, part.problems


def _read_spooled(stem: str) -> dict[str, pl.DataFrame]:
    return {name: pl.read_ipc(f"{stem}.{name}.arrow") for name in SCHEMAS}


def _merge(
    built: list[tuple[dict[str, pl.DataFrame], int, list[tuple[int, str]]]],
) -> ReleaseFrames:
    """Concatenate the workers' frames, offsetting their keys and line numbers."""
    frames: dict[str, list[pl.DataFrame]] = {name: [] for name in SCHEMAS}
    problems: list[tuple[int, str]] = []
    offsets = {"pid": 0, "bid": 0, "award": 0}
    lines = 0
    for part, part_lines, part_problems in built:
        for name, schema in SCHEMAS.items():
            frame = part[name]
            shift = [pl.col(k) + offsets[k] for k in offsets if k in schema and offsets[k]]
            frames[name].append(frame.with_columns(shift) if shift else frame)
        problems += [(number + lines, problem) for number, problem in part_problems]
        lines += part_lines
        offsets = {
            "pid": offsets["pid"] + part["processes"].height,
            "bid": offsets["bid"] + part["bids"].height,
            "award": offsets["award"] + part["awards"].height,
        }
    return ReleaseFrames(
        **{name: pl.concat(f, rechunk=False) for name, f in frames.items()}, problems=problems
    )


class _Part:
    """What one worker extracted: frames, plus the row tuples not yet turned into frames."""

    FLUSH_EVERY = 20_000  # releases: a tuple row costs ~1 KB, a frame row a tenth of that

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple[Any, ...]]] = {name: [] for name in SCHEMAS}
        self.frames: dict[str, list[pl.DataFrame]] = {name: [] for name in SCHEMAS}
        self.problems: list[tuple[int, str]] = []
        self.lines = 0

    def flush(self) -> None:
        for name, schema in SCHEMAS.items():
            rows = self.rows[name]
            self.frames[name].append(pl.DataFrame(rows, schema=schema, orient="row"))
            rows.clear()  # in place: the extraction loop holds the bound ``append``s


def _split(path: str, size: int, workers: int) -> list[tuple[int, int]]:
    """Byte ranges that start at line starts."""
    cuts = [0]
    with open(path, "rb") as handle:
        for k in range(1, workers):
            handle.seek(max(size * k // workers, cuts[-1]))
            handle.readline()
            cuts.append(min(handle.tell(), size))
    cuts.append(size)
    return [(a, b) for a, b in itertools.pairwise(cuts) if b > a]


def _extract_range(path: str, start: int, end: int) -> _Part:
    return _extract(_lines_in_range(path, start, end))


def _lines_in_range(path: str, start: int, end: int) -> Iterable[tuple[int, bytes]]:
    """The numbered lines of a byte range, streamed (never the whole range in memory)."""
    with open(path, "rb") as handle:
        handle.seek(start)
        position = start
        for number, line in enumerate(handle, start=1):
            if position >= end:
                break
            position += len(line)
            yield number, line


def _dump(items: Iterable[Mapping[str, Any]]) -> Iterable[tuple[int, bytes]]:
    for number, item in enumerate(items, start=1):
        try:
            yield number, orjson.dumps(item) if isinstance(item, Mapping) else b"[]"
        except TypeError:
            yield number, b'"not JSON-serialisable"'


PARALLEL_MIN_BYTES = 1 << 24  # below 16 MiB, starting the workers costs more than it saves
_E: dict[str, Any] = {}
_L: tuple[Any, ...] = ()


def _s(v: Any) -> str | None:
    """Text, or a number's text (identifiers published as numbers), else None."""
    if v is None or type(v) is str:
        return v
    if type(v) is int or type(v) is float:
        return str(v)
    return None


def _amount(v: Any) -> float | None:
    return float(v) if type(v) is int or type(v) is float else None


def _extract(lines: Iterable[tuple[int, bytes]]) -> _Part:
    """One pass over the lines, one tuple per row of each frame. Written flat, with bound
    ``append``s and ``type(x) is`` checks: this loop is the load's cost (~40 µs a release)."""
    part = _Part()
    collecting = gc.isenabled()
    gc.disable()  # millions of live tuples: the cyclic GC would rescan them again and again
    try:
        _extract_lines(lines, part)
    finally:
        if collecting:
            gc.enable()
    return part


def _extract_lines(lines: Iterable[tuple[int, bytes]], part: _Part) -> None:
    rows = part.rows
    add_process, add_bid = rows["processes"].append, rows["bids"].append
    add_tenderer, add_award = rows["bid_tenderers"].append, rows["awards"].append
    add_supplier, add_item = rows["award_suppliers"].append, rows["award_items"].append
    add_party = rows["parties"].append
    loads, bad_json = orjson.loads, orjson.JSONDecodeError
    pid = bid = award = 0
    number = 0
    flush_every = part.FLUSH_EVERY
    for number, line in lines:
        try:
            r = loads(line)
        except bad_json as error:
            if line.strip():
                part.problems.append((number, f"invalid JSON: {error}"))
            continue
        if type(r) is not dict:
            part.problems.append((number, "not a JSON object (a release or a record)"))
            continue
        compiled = r.get("compiledRelease")
        if type(compiled) is dict:
            r = compiled
        t = r.get("tender")
        t = t if type(t) is dict else _E
        period = t.get("tenderPeriod")
        period = period if type(period) is dict else _E
        buyer, entity, ocid = r.get("buyer"), t.get("procuringEntity"), r.get("ocid")
        bids = r.get("bids")
        details = bids.get("details") if type(bids) is dict else None
        awards, n = r.get("awards"), t.get("numberOfTenderers")
        add_process((
            pid, ocid if type(ocid) is str else None, _s(t.get("status")),
            _s(t.get("procurementMethod")), _s(t.get("procurementMethodDetails")),
            _s(t.get("awardCriteria")), _s(t.get("mainProcurementCategory")),
            n if type(n) is int else None, _s(period.get("startDate")), _s(period.get("endDate")),
            type(buyer) is dict, _s(buyer.get("id")) if type(buyer) is dict else None,
            type(entity) is dict, _s(entity.get("id")) if type(entity) is dict else None,
            type(details) is list, type(awards) is list,
        ))  # fmt: skip
        if type(details) is list:
            for d in details:
                if type(d) is not dict:
                    continue
                v = d.get("value")
                v = v if type(v) is dict else _E
                refs = d.get("tenderers")
                refs = refs if type(refs) is list else _L
                add_bid((pid, bid, _s(d.get("id")), _s(d.get("status")), _s(d.get("date")),
                         _amount(v.get("amount")), _s(v.get("currency")), len(refs)))  # fmt: skip
                for o in refs:
                    add_tenderer((pid, bid, _s(o.get("id")) if type(o) is dict else None))
                bid += 1
        if type(awards) is list:
            for a in awards:
                if type(a) is not dict:
                    continue
                v = a.get("value")
                v = v if type(v) is dict else _E
                refs = a.get("suppliers")
                refs = refs if type(refs) is list else _L
                add_award((pid, award, _s(a.get("id")), _s(a.get("status")), _s(a.get("date")),
                           _amount(v.get("amount")), _s(v.get("currency")), len(refs)))  # fmt: skip
                for o in refs:
                    add_supplier((pid, award, _s(o.get("id")) if type(o) is dict else None))
                items = a.get("items")
                for item in items if type(items) is list else _L:
                    c = item.get("classification") if type(item) is dict else None
                    if type(c) is dict:
                        add_item((pid, award, _s(c.get("scheme")), _s(c.get("id"))))
                award += 1
        parties = r.get("parties")
        for p in parties if type(parties) is list else _L:
            if type(p) is not dict:
                continue
            roles = p.get("roles")
            roles = [x for x in roles if type(x) is str] if type(roles) is list else []
            if "tenderer" not in roles:
                continue  # only tenderers are compared (R044) or named (the historical import)
            ad = p.get("address")
            ad = ad if type(ad) is dict else _E
            cp = p.get("contactPoint")
            cp = cp if type(cp) is dict else _E
            add_party((
                pid, _s(p.get("id")), _s(p.get("name")), True, "|".join(roles),
                _s(ad.get("streetAddress")), _s(ad.get("locality")), _s(ad.get("region")),
                _s(ad.get("postalCode")), _s(ad.get("countryName")),
                _s(cp.get("name")), _s(cp.get("email")), _s(cp.get("telephone")),
                _s(cp.get("faxNumber")), _s(cp.get("url")),
            ))  # fmt: skip
        pid += 1
        if pid % flush_every == 0:
            part.flush()
    part.lines = number


def _build(parts: list[_Part]) -> ReleaseFrames:
    """Frames from extracted rows (one part: keys are already global)."""
    (part,) = parts
    part.flush()
    frames = {name: pl.concat(part.frames[name]) for name in SCHEMAS}
    return ReleaseFrames(**frames, problems=part.problems)
