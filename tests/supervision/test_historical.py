"""Historical bid data import (ggzy.supervision.historical): the documented CSV layout, every
bad-input case reported (never raised), nothing imported on error unless skip_bad_rows, and the
same bids from OCDS releases."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from ggzy.supervision.historical import BIDS_SCHEMA, from_ocds, read_csv
from ggzy.supervision.ocds_frames import load_releases

HEADER = "tender_id,date,bidder_id,bidder_name,amount,winner"
GOOD = f"""{HEADER},category,region
T1,2024-03-01,91530100A,甲公司,100.50,1,works,530100
T1,2024-03-01T09:30:00+08:00,91530100B,乙公司,101,0,works,
T1,2024-02-29T20:00:00Z,91530100C,"丙公司, 昆明",102.25,否,,
T2,2024-03-02 10:00,91530100A,甲公司,99,TRUE,goods,530100
T2,2024-03-02,91530100B,乙公司,98,false,goods,530100
"""


def read(text: str, encoding: str = "utf-8", **kwargs: bool):  # type: ignore[no-untyped-def]
    return read_csv(io.BytesIO(text.encode(encoding)), **kwargs)


def codes(result) -> list[tuple[int, str, str]]:  # type: ignore[no-untyped-def]
    return [(e.row, e.column, e.code) for e in result.errors]


def test_good_file_with_bom_quotes_and_every_winner_spelling(tmp_path: Path) -> None:
    path = tmp_path / "bids.csv"
    path.write_bytes(("\ufeff" + GOOD).encode("utf-8"))
    result = read_csv(path)
    assert result.ok and result.rows_read == 5 and result.rows_skipped == 0
    assert result.bids.schema == pl.Schema(BIDS_SCHEMA)
    assert result.bids.rows() == [
        ("T1", date(2024, 3, 1), "91530100A", "甲公司", 100.5, True, "works", "530100"),
        ("T1", date(2024, 3, 1), "91530100B", "乙公司", 101.0, False, "works", None),
        (
            "T1",
            date(2024, 3, 1),
            "91530100C",
            "丙公司, 昆明",
            102.25,
            False,
            None,
            None,
        ),  # 04:00 in China
        ("T2", date(2024, 3, 2), "91530100A", "甲公司", 99.0, True, "goods", "530100"),
        ("T2", date(2024, 3, 2), "91530100B", "乙公司", 98.0, False, "goods", "530100"),
    ]


def test_header_case_spaces_order_and_extra_columns() -> None:
    text = " Winner ,AMOUNT,bidder_name,bidder_id,date,tender_id,note\n1,5,名,B,2024-01-01,T,x\n"
    result = read(text)
    assert result.ok and result.bids.select("tender_id", "bidder_id", "amount").rows() == [
        ("T", "B", 5.0)
    ]


def test_every_row_problem_reported_and_nothing_imported() -> None:
    text = f"""{HEADER}
T1,2024-03-01,A,甲,100,1
T1,2024/03/01,B,乙,"1,000",yes
T1,,C,丙,abc,0
T1,2024-03-01,D,丁,-5,0
T1,2024-03-01,A,甲,101,0
T2,2024-03-01,E,戊,5,1
T2,2024-03-01,F,己,6,是
T3,2024-03-01,G,庚,7
T3,2024-02-30,H,辛,0,0
T3,2024-03-01,I,壬,1e400,0
"""
    result = read(text)
    assert result.bids.height == 0 and not result.ok
    assert codes(result) == [
        (3, "amount", "thousands_separator"), (3, "date", "bad_date"), (3, "winner", "bad_winner"),
        (4, "date", "required"),
        (5, "amount", "amount_not_positive"),
        (6, "bidder_id", "duplicate_bid"),
        (7, "winner", "several_winners"), (8, "winner", "several_winners"),
        (9, "", "field_count"),
        (10, "amount", "amount_not_positive"), (10, "date", "bad_date"),
        (11, "amount", "bad_amount"),
    ]  # fmt: skip
    duplicate = next(e for e in result.errors if e.code == "duplicate_bid")
    assert "第 2 行" in duplicate.message
    assert result.rows_read == 10 and result.rows_skipped == 10


def test_skip_bad_rows_imports_the_rest_and_drops_a_tender_with_two_winners() -> None:
    text = f"""{HEADER}
T1,2024-03-01,A,甲,100,1
T1,2024-03-01,B,乙,oops,0
T1,2024-03-01,A,甲,101,0
T2,2024-03-01,E,戊,5,1
T2,2024-03-01,F,己,6,1
T3,2024-03-01,G,庚,7,0
"""
    result = read(text, skip_bad_rows=True)
    assert {e.code for e in result.errors} == {"bad_amount", "duplicate_bid", "several_winners"}
    assert result.bids.select("tender_id", "bidder_id").rows() == [("T1", "A"), ("T3", "G")]
    assert result.rows_read == 6 and result.rows_skipped == 4


@pytest.mark.parametrize(("content", "expected"), [
    (b"", [(0, "", "empty_file")]),
    (b"\n\n", [(0, "", "empty_file")]),
    (f"{HEADER}\n".encode(), [(0, "", "no_rows")]),
    (b"tender_id,date,amount\nT,2024-01-01,5\n", [
        (1, "bidder_id", "missing_column"), (1, "bidder_name", "missing_column"),
        (1, "winner", "missing_column")]),
    (f"{HEADER},date\nT,2024-01-01,A,n,1,1,2024-01-02\n".encode(), [(1, "date", "duplicate_column")]),
    (f"{HEADER}\nT,2024-01-01,A,甲公司,1,1\n".encode("gbk"), [(2, "", "encoding")]),
    (f'{HEADER}\nT,2024-01-01,A,"unclosed,1,1\n'.encode(), [(2, "", "bad_csv")]),
])  # fmt: skip
def test_file_level_problems(content: bytes, expected: list[tuple[int, str, str]]) -> None:
    for skip in (False, True):
        result = read_csv(io.BytesIO(content), skip_bad_rows=skip)
        assert codes(result) == expected and result.bids.height == 0


def test_gbk_file_gets_a_hint() -> None:
    result = read(f"{HEADER}\nT,2024-01-01,A,甲公司,1,1\n", encoding="gbk")
    assert "GBK" in result.errors[0].message


def test_text_stream_and_nul_and_overlong_values() -> None:
    text = f"{HEADER}\nT,2024-01-01,A,{'x' * 1001},1,1\nT,2024-01-01,B,\x00,1,0\n"
    result = read_csv(io.StringIO(text))
    assert codes(result) == [(2, "bidder_name", "too_long"), (3, "bidder_name", "nul_character")]


def test_from_ocds_bids_with_winner_names_and_problems() -> None:
    releases: list[dict[str, Any]] = [
        {"ocid": "ocds-1", "tender": {"tenderPeriod": {"endDate": "2024-03-01T17:00:00Z"},
                                      "mainProcurementCategory": "works"},
         "parties": [{"id": "A", "name": "甲公司", "roles": ["tenderer", "supplier"]}],
         "bids": {"details": [
             {"status": "pending", "value": {"amount": 10, "currency": "CNY"}, "tenderers": [{"id": "A"}]},
             {"status": "pending", "date": "2024-03-01T01:00:00Z", "value": {"amount": 12, "currency": "CNY"},
              "tenderers": [{"id": "B"}, {"id": "B2"}]},
             {"status": "withdrawn", "tenderers": [{"id": "C"}]}]},
         "awards": [{"status": "active", "suppliers": [{"id": "A"}]}]},
        {"ocid": "ocds-2", "bids": {"details": [
            {"status": "valid", "date": "2024-04-01T00:00:00Z", "value": {"amount": 5, "currency": "USD"},
             "tenderers": [{"id": "D"}]},
            {"status": "valid", "date": "2024-04-01T00:00:00Z", "tenderers": [{"id": "E"}]}]}},
    ]  # fmt: skip
    result = from_ocds(load_releases(releases))
    assert codes(result) == [(2, "amount", "currency"), (2, "amount", "required")]
    assert result.bids.height == 0
    kept = from_ocds(load_releases(releases), skip_bad_rows=True)
    assert kept.bids.rows() == [
        ("ocds-1", date(2024, 3, 2), "A", "甲公司", 10.0, True, "works", None),  # 01:00 in China
        ("ocds-1", date(2024, 3, 2), "B", "B", 12.0, False, "works", None),  # the lead tenderer
    ]
