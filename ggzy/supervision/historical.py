"""Import of past bid-level data (历史投标数据导入) for the screens, red flags and co-bidding
network: a documented CSV layout, or OCDS releases with the bids extension.

CSV layout (one row per bid):

=============  ========  ===============================================================
column         required  content
=============  ========  ===============================================================
tender_id      yes       the tender (or section/lot) the bid was for; any text
date           yes       ISO 8601: ``YYYY-MM-DD`` or a full datetime (``2024-03-01 09:30``,
                         ``2024-03-01T09:30:00+08:00``); a datetime is reduced to its day in
                         China time (UTC+8) when it carries an offset, else taken as written
bidder_id      yes       the bidder's identifier (e.g. its USCC 统一社会信用代码); any text
bidder_name    yes       the bidder's name
amount         yes       the bid price, a decimal number > 0 with ``.`` as the decimal point;
                         thousands separators (``1,234.50``) and currency signs are refused,
                         because ``1,234`` is ambiguous between locales
winner         yes       ``1``/``0``, ``true``/``false`` (any case) or ``是``/``否``
category       no        e.g. works/goods/services or the local category
region         no        e.g. the administrative division code
=============  ========  ===============================================================

The first line is the header (column names as above, any order, surrounding spaces and case
ignored); other columns are ignored. UTF-8 with or without a BOM; a file in another encoding
(GBK from Excel, typically) is refused with the line of the first bad byte. Rows are numbered
as a spreadsheet shows them: the header is row 1, the first bid row 2.

Every problem is reported, never raised: a row's problem as (row, column, code, message in
Chinese), a file's (empty, no header, missing column, wrong encoding) with row 0 or 1. Rules
across rows: one bid per (tender_id, bidder_id) — a repeat is refused, citing the first row; at
most one winner per tender — every winner row of a tender with several is refused. When there
is any problem nothing is imported, unless ``skip_bad_rows=True``: then bad rows are left out
(a tender with several winners entirely) and the rest is imported; file-level problems always
import nothing. The only exception raised is ``OSError`` when a path cannot be opened.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any, NamedTuple

import polars as pl

from ggzy.supervision.ocds_frames import ReleaseFrames

REQUIRED = ("tender_id", "date", "bidder_id", "bidder_name", "amount", "winner")
OPTIONAL = ("category", "region")
BIDS_SCHEMA: dict[str, pl.DataType] = {
    "tender_id": pl.String(), "date": pl.Date(), "bidder_id": pl.String(),
    "bidder_name": pl.String(), "amount": pl.Float64(), "winner": pl.Boolean(),
    "category": pl.String(), "region": pl.String(),
}  # fmt: skip
WINNER_VALUES = {"1": True, "0": False, "true": True, "false": False, "是": True, "否": False}
CHINA = timezone(timedelta(hours=8))
MAX_FIELD = 1000


class RowProblem(NamedTuple):
    """One problem: the row (0: the file; 1: the header), the column ("" for the whole row), an
    English code for programs and a Chinese message for people."""

    row: int
    column: str
    code: str
    message: str


@dataclass
class ImportResult:
    """The imported bids (``BIDS_SCHEMA``; empty when refused) and every problem found."""

    bids: pl.DataFrame
    errors: list[RowProblem] = field(default_factory=list)
    rows_read: int = 0
    rows_skipped: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


def read_csv(
    file_or_path: str | Path | IO[bytes] | IO[str], *, skip_bad_rows: bool = False
) -> ImportResult:
    """Read bids in the documented CSV layout (see the module docstring)."""
    if isinstance(file_or_path, str | Path):
        with open(file_or_path, "rb") as handle:
            content: bytes | str = handle.read()
    else:
        content = file_or_path.read()
    text, problem = _decode(content)
    if problem is not None:
        return _refused([problem])
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as error:
        return _refused([RowProblem(1, "", "bad_csv", f"表头无法解析：{error}")])
    if header is None or not any(h.strip() for h in header):
        return _refused([RowProblem(0, "", "empty_file", "文件为空，须含表头行和数据行")])
    names = [h.strip().lower() for h in header]
    problems = [
        RowProblem(1, c, "missing_column", f"缺少必填列 {c}") for c in REQUIRED if c not in names
    ]
    problems += [
        RowProblem(1, c, "duplicate_column", f"列 {c} 重复出现")
        for c in sorted({n for n in names if names.count(n) > 1 and n in REQUIRED + OPTIONAL})
    ]
    if problems:
        return _refused(problems)
    index = {c: names.index(c) for c in REQUIRED + OPTIONAL if c in names}
    rows: list[tuple[int, dict[str, str]]] = []
    errors: list[RowProblem] = []
    number = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            number = reader.line_num
            errors.append(
                RowProblem(number, "", "bad_csv", f"该行无法解析（引号不配对？）：{error}")
            )
            break  # the csv module cannot resynchronise after a broken quote
        number += 1
        if not any(c.strip() for c in cells):
            continue  # blank line
        if len(cells) != len(header):
            errors.append(RowProblem(number, "", "field_count",
                                     f"该行有 {len(cells)} 个字段，表头有 {len(header)} 个"))  # fmt: skip
            continue
        rows.append((number, {c: cells[i] for c, i in index.items()}))
    if not rows and not errors:
        return _refused([RowProblem(0, "", "no_rows", "文件只有表头，没有数据行")])
    return _validate(rows, errors, skip_bad_rows=skip_bad_rows)


def from_ocds(
    frames: ReleaseFrames, *, currency: str = "CNY", skip_bad_rows: bool = False
) -> ImportResult:
    """The same bids from OCDS releases with the bids extension: tender_id = ocid; date =
    tenderPeriod/endDate, else the bid's date; bidder = the bid's first tenderer (the lead of
    a consortium), named from ``parties``; winner = the supplier of an active award; category =
    mainProcurementCategory. Bids that were invited or withdrawn are left out; a submitted bid
    without an amount, or in another currency, is a problem. The row number is the release's
    position in the input (1-based)."""
    errors = [RowProblem(line, "", "bad_release", problem) for line, problem in frames.problems]
    bids = frames.bids.filter(~pl.col("status").is_in(["invited", "withdrawn"]).fill_null(False))
    first = frames.bid_tenderers.group_by("bid", maintain_order=True).agg(pl.first("tenderer_id"))
    names = (
        frames.parties.filter(pl.col("party_id").is_not_null())
        .group_by("pid", "party_id")
        .agg(pl.first("name"))
    )
    winners = (
        frames.award_suppliers.join(frames.awards.select("award", "status"), on="award")
        .filter(pl.col("status") == "active")
        .select("pid", "supplier_id", won=pl.lit(True))
        .unique(["pid", "supplier_id"])
    )
    joined = (
        bids.join(first, on="bid", how="left")
        .join(
            frames.processes.select("pid", "ocid", "end_date", "main_procurement_category"),
            on="pid",
        )
        .join(names, left_on=["pid", "tenderer_id"], right_on=["pid", "party_id"], how="left")
        .join(winners, left_on=["pid", "tenderer_id"], right_on=["pid", "supplier_id"], how="left")
        .sort("bid")
    )
    rows: list[tuple[int, dict[str, str]]] = []
    for r in joined.iter_rows(named=True):
        row = int(r["pid"]) + 1
        if r["amount"] is not None and r["currency"] not in (None, currency):
            errors.append(
                RowProblem(row, "amount", "currency", f"币种 {r['currency']} 不是 {currency}")
            )
            continue
        rows.append((row, {
            "tender_id": r["ocid"] or "",
            "date": r["end_date"] or r["date"] or "",
            "bidder_id": r["tenderer_id"] or "",
            "bidder_name": r["name"] or r["tenderer_id"] or "",
            "amount": "" if r["amount"] is None else repr(float(r["amount"])),
            "winner": "1" if r["won"] else "0",
            "category": r["main_procurement_category"] or "",
        }))  # fmt: skip
    if not rows and not errors:
        return _refused([RowProblem(0, "", "no_rows", "没有可导入的投标（bids/details）")])
    return _validate(rows, errors, skip_bad_rows=skip_bad_rows)


# --- validation ------------------------------------------------------------------------------


def _decode(content: bytes | str) -> tuple[str, RowProblem | None]:
    if isinstance(content, str):
        return content.removeprefix("\ufeff"), None
    try:
        return content.decode("utf-8-sig"), None
    except UnicodeDecodeError as error:
        line = content[: error.start].count(b"\n") + 1
        hint = ""
        try:
            content.decode("gb18030")
            hint = "，疑似 GBK/GB18030 编码，请另存为 UTF-8"
        except UnicodeDecodeError:
            pass
        return "", RowProblem(line, "", "encoding", f"第 {line} 行不是 UTF-8 编码{hint}")


def _refused(errors: list[RowProblem], rows_read: int = 0) -> ImportResult:
    return ImportResult(bids=pl.DataFrame(schema=BIDS_SCHEMA), errors=errors, rows_read=rows_read,
                        rows_skipped=rows_read)  # fmt: skip


def _validate(
    rows: list[tuple[int, dict[str, str]]], errors: list[RowProblem], *, skip_bad_rows: bool
) -> ImportResult:
    good: list[tuple[int, dict[str, Any]]] = []
    bad_rows = {e.row for e in errors}
    read = len(rows) + len(bad_rows)  # the rows already refused (field count, currency…)
    for number, cells in rows:
        parsed, problems = _parse_row(number, cells)
        errors.extend(problems)
        if problems:
            bad_rows.add(number)
        else:
            good.append((number, parsed))
    first_seen: dict[tuple[str, str], int] = {}
    winners: dict[str, list[int]] = {}
    for number, bid in good:
        key = (bid["tender_id"], bid["bidder_id"])
        if key in first_seen:
            errors.append(RowProblem(number, "bidder_id", "duplicate_bid",
                                     f"投标人 {key[1]} 在标段 {key[0]} 已有投标（第 {first_seen[key]} 行）"))  # fmt: skip
            bad_rows.add(number)
            continue
        first_seen[key] = number
        if bid["winner"]:
            winners.setdefault(bid["tender_id"], []).append(number)
    ambiguous = {t for t, numbers in winners.items() if len(numbers) > 1}
    for tender in sorted(ambiguous):
        numbers = winners[tender]
        for number in numbers:
            errors.append(RowProblem(number, "winner", "several_winners",
                                     f"标段 {tender} 有 {len(numbers)} 个中标人（第 {'、'.join(map(str, numbers))} 行）"))  # fmt: skip
    errors.sort(key=lambda e: (e.row, e.column))
    if errors and not skip_bad_rows:
        return _refused(errors, rows_read=read)
    kept = [b for n, b in good if n not in bad_rows and b["tender_id"] not in ambiguous]
    frame = (
        pl.DataFrame(kept, schema=BIDS_SCHEMA, orient="row")
        if kept
        else pl.DataFrame(schema=BIDS_SCHEMA)
    )
    return ImportResult(bids=frame, errors=errors, rows_read=read, rows_skipped=read - len(kept))


def _parse_row(number: int, cells: dict[str, str]) -> tuple[dict[str, Any], list[RowProblem]]:
    problems: list[RowProblem] = []
    out: dict[str, Any] = {}

    def fail(column: str, code: str, message: str) -> None:
        problems.append(RowProblem(number, column, code, message))

    for column in REQUIRED + OPTIONAL:
        value = cells.get(column, "").strip()
        if "\x00" in value:
            fail(column, "nul_character", "含有空字符")
        elif len(value) > MAX_FIELD:
            fail(column, "too_long", f"超过 {MAX_FIELD} 个字符")
        elif not value and column in REQUIRED:
            fail(column, "required", f"{column} 不能为空")
        out[column] = value or None
    if problems:
        return out, problems
    out["date"] = _parse_date(out["date"])
    if out["date"] is None:
        fail(
            "date",
            "bad_date",
            f"日期 {cells['date'].strip()!r} 不是 ISO 格式（YYYY-MM-DD 或完整日期时间）",
        )
    out["amount"], amount_problem = _parse_amount(out["amount"])
    if amount_problem:
        fail("amount", *amount_problem)
    out["winner"] = WINNER_VALUES.get(out["winner"].lower())
    if out["winner"] is None:
        fail(
            "winner",
            "bad_winner",
            f"中标标志 {cells['winner'].strip()!r} 须为 1/0、true/false 或 是/否",
        )
    return out, problems


def _parse_date(text: str) -> date | None:
    if len(text) < 10 or text[4:5] != "-" or text[7:8] != "-":
        return None  # fromisoformat also takes 20240301 and week dates; the layout says YYYY-MM-DD
    try:
        moment = datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(CHINA)
    return moment.date()


def _parse_amount(text: str) -> tuple[float | None, tuple[str, str] | None]:
    if "," in text or "，" in text:
        return None, ("thousands_separator", f"金额 {text!r} 含千位分隔符，请去掉逗号")
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None, ("bad_amount", f"金额 {text!r} 不是数字")
    if not value.is_finite():
        return None, ("bad_amount", f"金额 {text!r} 不是有限数")
    if value <= 0:
        return None, ("amount_not_positive", f"金额 {text!r} 须大于 0")
    result = float(value)
    if not math.isfinite(result):
        return None, ("bad_amount", f"金额 {text!r} 超出范围")
    return result, None
