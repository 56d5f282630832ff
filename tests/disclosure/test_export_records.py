"""``ggzy export records``: every public record in feed order as JSON Lines or CSV (UTF-8 with a
BOM), the change feed's fields, the filters and their refusals; and the search and the export
both read what was committed just before (the projector catches up first)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from ggzy.disclosure import search
from ggzy.disclosure.models import PublicRecord
from ggzy.exchange.management.commands.export import RECORD_FIELDS, record_rows
from tests.award import world as w

T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # 10:00 in Beijing, 2026-11-02


def make(seq: int, key: str, **fields: Any) -> PublicRecord:
    fields.setdefault("kind", "announcement")
    fields.setdefault("title", f"记录 {key}")
    fields.setdefault("published_at", T0)
    fields.setdefault("changed_at", fields["published_at"])
    return PublicRecord.objects.create(key=key, seq=seq, **fields)


@pytest.fixture
def records(db) -> list[PublicRecord]:  # type: ignore[no-untyped-def]
    """Five records written out of feed order: the export sorts them by ``seq``."""
    return [
        make(3, "award:s1", kind="award", category="works", region="320100",
             title="南京市道路施工中标结果", body="第一行\n第二行, \"引号\"",
             data={"suppliers": [{"name": "甲建设有限公司"}], "amount": "9000000.00"},
             changed_at=T0 + timedelta(days=3)),
        make(1, "announcement:p1", category="works", region="320100",
             title="南京市道路施工招标公告", body="=1+1 公告正文", data={"sections": []}),
        make(5, "entity:91320100", kind="entity", title="甲建设有限公司",
             changed_at=T0 + timedelta(days=5)),
        make(2, "announcement:p2", category="procurement", region="110105",
             title="朝阳区办公设备采购公告", changed_at=T0 + timedelta(days=1)),
        make(4, "contract:s1", kind="contract", category="works", region="320100",
             title="南京市道路施工合同", changed_at=T0 + timedelta(days=4)),
    ]  # fmt: skip


def export(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("export", "records", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def jsonl(*args: str) -> list[dict[str, Any]]:
    text, _ = export(*args)
    return [json.loads(line) for line in text.splitlines()]


def csv_rows(tmp_path: Path, *args: str) -> tuple[bytes, list[dict[str, str]]]:
    target = tmp_path / "records.csv"
    export("--format", "csv", "--output", str(target), *args)
    raw = target.read_bytes()
    with target.open(encoding="utf-8-sig", newline="") as fh:
        return raw, list(csv.DictReader(fh))


def test_jsonl_gives_every_record_in_feed_order_with_the_feeds_fields(records) -> None:  # type: ignore[no-untyped-def]
    rows = jsonl()
    assert [r["seq"] for r in rows] == [1, 2, 3, 4, 5]
    assert all(list(r) == list(RECORD_FIELDS) for r in rows)  # search_text is not exported
    award = rows[2]
    assert award["key"] == "award:s1" and award["title"] == "南京市道路施工中标结果"
    assert award["body"] == '第一行\n第二行, "引号"'
    assert award["data"] == {"suppliers": [{"name": "甲建设有限公司"}], "amount": "9000000.00"}
    assert datetime.fromisoformat(award["changed_at"]) == T0 + timedelta(days=3)
    # the same values as the change feed's API
    from django.test import Client

    feed = Client().get("/api/v1/disclosure/changes", {"limit": "10"}).json()["records"]
    assert [f["key"] for f in feed] == [r["key"] for r in rows]
    assert [f["data"] for f in feed] == [r["data"] for r in rows]


def test_csv_is_utf8_with_bom_a_header_and_data_as_json(records, tmp_path) -> None:  # type: ignore[no-untyped-def]
    raw, rows = csv_rows(tmp_path)
    assert raw.startswith(b"\xef\xbb\xbf" + b",".join(f.encode() for f in RECORD_FIELDS))
    assert [r["seq"] for r in rows] == ["1", "2", "3", "4", "5"]
    award = rows[2]
    assert award["body"] == '第一行\n第二行, "引号"'  # quoted, newlines kept
    assert json.loads(award["data"]) == {"suppliers": [{"name": "甲建设有限公司"}],
                                         "amount": "9000000.00"}  # fmt: skip
    assert datetime.fromisoformat(award["changed_at"]) == T0 + timedelta(days=3)
    assert rows[0]["body"] == "=1+1 公告正文"  # the text as disclosed, not altered


def test_the_filters_keep_what_they_name(records, tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert [r["key"] for r in jsonl("--kind", "award")] == ["award:s1"]
    assert [r["seq"] for r in jsonl("--category", "works")] == [1, 3, 4]
    assert [r["seq"] for r in jsonl("--region", "110105")] == [2]
    assert [r["seq"] for r in jsonl("--category", "works", "--region", "320100",
                                    "--kind", "contract")] == [4]  # fmt: skip
    # --since: changed at or after midnight China time of that day (T0 + 3 days is 10:00 on 11-05)
    assert [r["seq"] for r in jsonl("--since", "2026-11-05")] == [3, 4, 5]
    assert [r["seq"] for r in jsonl("--since", "2026-11-06T10:00:00+08:00")] == [4, 5]
    _, rows = csv_rows(tmp_path, "--kind", "entity")
    assert [r["key"] for r in rows] == ["entity:91320100"]


def test_pages_follow_the_feed_position(records) -> None:  # type: ignore[no-untyped-def]
    assert [r["seq"] for r in record_rows({}, since=None, page=2)] == [1, 2, 3, 4, 5]


def test_an_empty_export_is_empty_or_just_the_header(db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    text, err = export()
    assert text == "" and "0 public records" in err
    raw, rows = csv_rows(tmp_path)
    assert rows == [] and raw == b"\xef\xbb\xbf" + ",".join(RECORD_FIELDS).encode() + b"\r\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--kind", "tender"), "bad_filter"),
        (("--region", "32010"), "bad_filter"),
        (("--category", "Works!"), "bad_filter"),
        (("--format", "xlsx"), "invalid choice"),
        (("--since", "yesterday"), "not a date"),
        (("--since", "2026-11-05T10:00:00"), "offset"),
    ],
)
def test_a_bad_option_is_refused_and_nothing_is_written(records, tmp_path, args, message) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "out.jsonl"
    with pytest.raises(CommandError, match=message):
        call_command("export", "records", "--output", str(target), *args,
                     stdout=io.StringIO(), stderr=io.StringIO())  # fmt: skip
    assert not target.exists()


# --- what was just committed is read ------------------------------------------------------------


@pytest.fixture
def world(db, region, frozen_clock):  # type: ignore[no-untyped-def]
    return w.signed_world(frozen_clock)


def test_the_search_and_the_export_see_records_just_committed(world) -> None:  # type: ignore[no-untyped-def]
    # given a project published through the services, and no projector run since
    project = world.section.project
    assert not PublicRecord.objects.exists()
    # when searched for, then found: search() let the projector catch up first
    page = search.search(project.name)
    assert f"announcement:{project.public_id}" in [h.record.key for h in page.hits]
    # and the export gives every record the projector wrote, in feed order
    rows = jsonl()
    assert [r["seq"] for r in rows] == list(
        PublicRecord.objects.order_by("seq").values_list("seq", flat=True)
    )
    assert f"announcement:{project.public_id}" in {r["key"] for r in rows}


def test_the_export_catches_up_by_itself(world) -> None:  # type: ignore[no-untyped-def]
    rows = jsonl("--kind", "announcement")
    assert [r["key"] for r in rows] == [f"announcement:{world.section.project.public_id}"]
