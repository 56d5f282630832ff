"""Historical data (历史数据分析): a regulator imports past bid-level data — the documented CSV
layout (:mod:`ggzy.supervision.historical`) or OCDS releases with the bids extension, one JSON
object a line — and gets the same analysis the platform runs on its own data: the bid-price
screens and risk score per tender, the OCP red flags, and the co-bidding groups with their
winner rotation.

The file is checked whole first: a bad row (or an unreadable JSON line) refuses the file with
every row's problem listed, unless the importer asked to skip bad rows — then the skipped rows are
kept with the data set. The validated bids and each part of the report are stored as Parquet files
under ``GGZY_SUPERVISION_DIR/<dataset>/`` (written to a temporary directory and moved into place
before the row is committed, so a data set is either complete or absent); the CSV download is
made from them. A CSV import has no tender periods, methods or parties: its red flags are the
bid-derived ones (R024, R025, R028, R058; R018 where a tender had one bidder)."""

from __future__ import annotations

import hashlib
import io
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import Any

import polars as pl
from django.conf import settings
from django.db import transaction

from ggzy.accounts.gate import require
from ggzy.core import clock
from ggzy.core.errors import NotFound, ValidationFailed
from ggzy.ledger.services import append_event
from ggzy.supervision import historical, network, redflags, screens, thresholds
from ggzy.supervision.models import Dataset, DatasetFormat
from ggzy.supervision.ocds_frames import ReleaseFrames, load_releases
from ggzy.tendering import checks

CONTENT_TYPES = ("text/csv", "application/csv", "application/x-ndjson", "application/jsonl",
                 "application/json-lines", "text/plain")  # fmt: skip
PARTS = {
    "tenders": "每个项目的筛查指标、风险分与红旗 (per tender: screens, risk score, red flags)",
    "flags": "红旗指标明细 (red flags, one row each)",
    "groups": "围标串标团伙 (co-bidding groups)",
    "members": "团伙成员 (the groups' members)",
}
MAX_PROBLEMS = 500  # listed in a refusal; the count is always exact
TOP = 50


def max_bytes() -> int:
    return int(settings.GGZY_SUPERVISION_MAX_BYTES)


def _root() -> Path:
    root = Path(settings.GGZY_SUPERVISION_DIR)
    root.mkdir(parents=True, exist_ok=True)
    return root


def _problem(p: Any) -> dict[str, Any]:
    if isinstance(p, historical.RowProblem):
        return {"row": p.row, "column": p.column, "code": p.code, "message": p.message}
    row, message = p  # an unreadable JSON line: (line number, problem)
    return {"row": row, "column": "", "code": "bad_line", "message": str(message)}


def _refuse(problems: list[Any], rows_read: int) -> None:
    listed = [_problem(p) for p in problems]
    raise ValidationFailed(
        f"文件有 {len(listed)} 处错误，未导入 (the file has bad rows; nothing was imported)",
        code="bad_rows",
        detail={"count": len(listed), "rows_read": rows_read, "problems": listed[:MAX_PROBLEMS]},
    )


# --- OCDS frames from CSV bids ------------------------------------------------------------------


def releases_from_bids(bids: pl.DataFrame) -> ReleaseFrames:
    """Minimal OCDS releases of the CSV's tenders (each bid valid, the winner's award active), so
    the red flags run over CSV data the same way they run over OCDS."""
    items: list[dict[str, Any]] = []
    for (tender_id,), rows in bids.sort(["tender_id", "amount"]).group_by(["tender_id"],
                                                                       maintain_order=True):  # fmt: skip
        details, awards = [], []
        for i, r in enumerate(rows.iter_rows(named=True)):
            details.append({"id": f"{tender_id}-{i}", "status": "valid",
                            "value": {"amount": r["amount"], "currency": "CNY"},
                            "tenderers": [{"id": r["bidder_id"]}]})  # fmt: skip
            if r["winner"]:
                awards.append({"id": f"{tender_id}-award", "status": "active",
                               "value": {"amount": r["amount"], "currency": "CNY"},
                               "suppliers": [{"id": r["bidder_id"]}]})  # fmt: skip
        items.append({"ocid": str(tender_id), "tender": {"id": str(tender_id), "status": "complete",
                      "procurementMethod": "open", "numberOfTenderers": len(details)},
                      "bids": {"details": details}, "awards": awards})  # fmt: skip
    return load_releases(items)


# --- import -------------------------------------------------------------------------------------


def import_dataset(
    *,
    actor: Any,
    name: str,
    source_format: str,
    data: bytes,
    file_name: str = "",
    skip_bad_rows: bool = False,
) -> Dataset:
    require(actor, "supervision.manage")
    name = checks.text(name, "名称", max_length=200)
    file_name = checks.text(file_name or "upload", "文件名", max_length=255)
    if source_format not in DatasetFormat.values:
        raise ValidationFailed("格式无效 (format: csv or ocds)", code="bad_format",
                               detail={"field": "format", "allowed": DatasetFormat.values})  # fmt: skip
    if not data.strip():
        raise ValidationFailed("文件为空 (the file is empty)", code="empty_file")
    with tempfile.TemporaryDirectory(dir=_root(), prefix="import-") as work:
        if source_format == DatasetFormat.CSV:
            result = historical.read_csv(io.BytesIO(data), skip_bad_rows=skip_bad_rows)
            problems: list[Any] = list(result.errors)
            if problems and not skip_bad_rows:
                _refuse(problems, result.rows_read)
            frames = releases_from_bids(result.bids) if result.bids.height else None
        else:
            source = Path(work) / "releases.jsonl"
            source.write_bytes(data)
            frames = load_releases(source)
            result = historical.from_ocds(frames, skip_bad_rows=skip_bad_rows)
            problems = list(result.errors)  # the unreadable lines among them
            if problems and not skip_bad_rows:
                _refuse(problems, result.rows_read)
        if not result.bids.height:
            raise ValidationFailed("文件中没有可用的投标记录 (no usable bid rows)", code="no_rows",
                                   detail={"problems": [_problem(p) for p in problems][:MAX_PROBLEMS]})  # fmt: skip
        assert frames is not None
        report = build_report(result.bids, frames)
        public_id = secrets.token_hex(16)
        staged = Path(work) / public_id
        staged.mkdir()
        result.bids.write_parquet(staged / "bids.parquet")
        for part, frame in report.items():
            frame.write_parquet(staged / f"{part}.parquet")
        target = _root() / public_id
        shutil.move(str(staged), target)
    try:
        with transaction.atomic():
            row = Dataset.objects.create(
                public_id=public_id, name=name, source_format=source_format,
                file_name=file_name, file_sha256=hashlib.sha256(data).hexdigest(),
                uploaded_by=actor, uploaded_at=clock.now(), rows=result.bids.height,
                tenders=result.bids["tender_id"].n_unique(),
                bidders=result.bids["bidder_id"].n_unique(),
                skipped=[_problem(p) for p in problems][:MAX_PROBLEMS],
                summary=summarise(report),
            )  # fmt: skip
            append_event(actor=actor, event_type="supervision.dataset_imported",
                         subject=f"supervision:dataset:{public_id}",
                         payload={"name": name, "format": source_format,
                                  "sha256": row.file_sha256, "rows": row.rows,
                                  "skipped": len(problems)})  # fmt: skip
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return row


# --- the report ---------------------------------------------------------------------------------


def build_report(bids: pl.DataFrame, frames: ReleaseFrames) -> dict[str, pl.DataFrame]:
    """Per tender (screens, risk, red flags), the red flags, the co-bidding groups and members."""
    screened = screens.screen_all(bids.select("tender_id", "amount"), thresholds.current("screens"))
    flags = redflags.red_flags(frames, redflags.RedFlagSettings())
    per_tender_flags = redflags.flag_summary(flags).select(
        pl.col("ocid").alias("tender_id"), "flag_count",
        pl.col("codes").list.join(",").alias("red_flags"),
    )  # fmt: skip
    facts = bids.group_by("tender_id").agg(
        date=pl.col("date").min(),
        category=pl.col("category").first(),
        region=pl.col("region").first(),
        winner=pl.col("bidder_name").filter(pl.col("winner")).first(),
        winning_amount=pl.col("amount").filter(pl.col("winner")).first(),
    )
    tenders = (
        facts.join(screened.with_columns(pl.col("tender_id").cast(pl.String)), on="tender_id",
                   how="left")
        .join(per_tender_flags, on="tender_id", how="left")
        .with_columns(pl.col("flag_count").fill_null(0))
        .sort(["risk_score", "flag_count", "tender_id"], descending=[True, True, False],
              nulls_last=True)
    )  # fmt: skip
    net = network.analyse(bids)
    return {
        "tenders": tenders,
        "flags": flags.with_columns(
            pl.col("tenderer_ids").list.join(","), pl.col("supplier_ids").list.join(",")
        ),
        "groups": _flat(net.groups),
        "members": _flat(net.members),
    }


def _flat(frame: pl.DataFrame) -> pl.DataFrame:
    """Lists joined by commas, so every part has a CSV form."""
    return frame.with_columns(
        [
            pl.col(c).cast(pl.List(pl.String)).list.join(",")
            for c, t in frame.schema.items()
            if isinstance(t, pl.List)
        ]
    )


def summarise(report: dict[str, pl.DataFrame]) -> dict[str, Any]:
    tenders, flags, groups = report["tenders"], report["flags"], report["groups"]
    alerting = thresholds.current("alerting")
    risky = tenders.filter((pl.col("risk_score") >= alerting.screens_min_score)
                           & (pl.col("screens_flagged") >= alerting.screens_min_flagged))  # fmt: skip
    by_code = dict(flags.group_by("code").len().sort("code").iter_rows()) if flags.height else {}
    suspicious = groups.filter(pl.col("suspicious")).height if "suspicious" in groups.columns else 0
    return {"risky_tenders": risky.height, "red_flags": {str(k): int(v) for k, v in by_code.items()},
            "flagged_tenders": int(tenders.filter(pl.col("flag_count") > 0).height),
            "groups": groups.height, "suspicious_groups": suspicious,
            "thresholds": {"screens": thresholds.current("screens").as_dict(),
                           "alerting": alerting.as_dict()}}  # fmt: skip


def _part_path(row: Dataset, part: str) -> Path:
    if part not in PARTS:
        raise NotFound("没有这部分报告 (no such report part)", code="report_part_not_found",
                       detail={"part": part[:32], "allowed": sorted(PARTS)})  # fmt: skip
    path = _root() / row.public_id / f"{part}.parquet"
    if not path.is_file():
        raise NotFound("报告文件缺失 (the report file is missing)", code="report_missing",
                       detail={"part": part})  # fmt: skip
    return path


def _part(row: Dataset, part: str) -> pl.DataFrame:
    return pl.read_parquet(_part_path(row, part))


def stored_bids(row: Dataset) -> pl.DataFrame:
    path = _root() / row.public_id / "bids.parquet"
    if not path.is_file():
        raise NotFound("数据文件缺失 (the data file is missing)", code="report_missing")
    return pl.read_parquet(path)


def report_csv(row: Dataset, part: str) -> bytes:
    """One part as CSV, UTF-8 with a BOM (spreadsheet programs then read the Chinese)."""
    buffer = io.BytesIO()
    buffer.write("\ufeff".encode())
    _part(row, part).write_csv(buffer)
    return buffer.getvalue()


def report_view(row: Dataset) -> dict[str, Any]:
    """What the report page shows: the riskiest tenders, the flags by code, the groups."""
    # only the rows shown are read: a report's tenders part can hold a million rows
    tenders = pl.scan_parquet(_part_path(row, "tenders")).head(TOP).collect()
    groups = pl.scan_parquet(_part_path(row, "groups")).head(TOP).collect()
    return {"tenders": tenders.to_dicts(), "groups": groups.to_dicts(),
            "group_columns": groups.columns, "summary": row.summary}  # fmt: skip
