"""Historical data: a CSV or OCDS file is imported whole or refused whole (or its bad rows skipped
on request), and yields the per-tender screens, red flags and co-bidding groups as a report that
downloads as CSV — through the service, the API, the pages and the CLI."""

from __future__ import annotations

import csv
import io
import json
import random
from io import StringIO
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from ggzy.accounts.roles import Role
from ggzy.core.errors import PermissionDenied, ValidationFailed
from ggzy.ledger.models import Event
from ggzy.supervision import datasets
from ggzy.supervision.models import Dataset
from tests.conftest import make_user

pytestmark = pytest.mark.django_db
HEADER = "tender_id,date,bidder_id,bidder_name,amount,winner,category,region\n"


def history(tenders: int = 40, seed: int = 3) -> str:
    """Competitive tenders among 30 firms, plus a ring of four that bid together, bid close to
    each other and take turns winning."""
    rnd = random.Random(seed)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(HEADER.strip().split(","))
    for t in range(tenders):
        firms = rnd.sample(range(30), rnd.randint(3, 7))
        prices = sorted(rnd.uniform(0.7, 1.0) * 1_000_000 for _ in firms)
        for k, (firm, price) in enumerate(zip(firms, prices, strict=True)):
            w.writerow([f"T{t:03d}", f"2025-{1 + t % 12:02d}-15", f"F{firm:02d}", f"公司{firm}",
                        f"{price:.2f}", int(k == 0), "works", "320100"])  # fmt: skip
    for t in range(12):
        ring = [f"R{m}" for m in range(4)]
        winner = ring[t % 4]
        for m, firm in enumerate(ring):
            price = 1_000_000 if firm == winner else 1_040_000 + m * 500
            w.writerow([f"C{t:03d}", f"2025-{1 + t % 12:02d}-20", firm, f"围标公司{firm}",
                        f"{price:.2f}", int(firm == winner), "works", "320100"])  # fmt: skip
    return out.getvalue()


@pytest.fixture
def regulator(db: Any, settings: Any, tmp_path: Path) -> Any:
    settings.GGZY_SUPERVISION_DIR = tmp_path / "supervision"  # this test's files only
    return make_user("reg1", Role.REGULATOR)


def test_a_csv_yields_the_report(regulator: Any, settings: Any) -> None:
    row = datasets.import_dataset(actor=regulator, name="2025年房建", source_format="csv",
                                  data=history().encode(), file_name="h.csv")  # fmt: skip
    assert row.tenders == 52 and row.rows > 150 and row.skipped == []
    tenders = pl.read_parquet(
        Path(settings.GGZY_SUPERVISION_DIR) / row.public_id / "tenders.parquet"
    )
    ring = tenders.filter(pl.col("tender_id").str.starts_with("C"))
    assert ring["risk_score"].min() > tenders.filter(
        pl.col("tender_id").str.starts_with("T"))["risk_score"].median()  # fmt: skip
    assert row.summary["risky_tenders"] >= 12
    # the ring is a co-bidding group
    members = datasets._part(row, "members")
    ring_groups = members.filter(pl.col("bidder_id").str.starts_with("R"))["group_id"].unique()
    assert len(ring_groups) == 1
    text = datasets.report_csv(row, "tenders").decode("utf-8-sig")
    assert text.splitlines()[0].startswith("tender_id") and "C000" in text
    assert Event.objects.filter(event_type="supervision.dataset_imported").count() == 1


def test_bad_rows_refuse_the_file_unless_skipped(regulator: Any, settings: Any) -> None:
    bad = history(tenders=5) + "T999,2025-13-01,F01,公司1,-5,1,works,320100\nT998,,F02,,abc,2,,\n"
    with pytest.raises(ValidationFailed) as caught:
        datasets.import_dataset(actor=regulator, name="x", source_format="csv", data=bad.encode())
    assert caught.value.code == "bad_rows"
    problems = caught.value.detail["problems"]
    assert {p["row"] for p in problems} >= {caught.value.detail["rows_read"]}
    assert {p["column"] for p in problems} >= {"date", "amount"}
    assert Dataset.objects.count() == 0
    assert not any(Path(settings.GGZY_SUPERVISION_DIR).glob("*/bids.parquet"))
    row = datasets.import_dataset(actor=regulator, name="x", source_format="csv", data=bad.encode(),
                                  skip_bad_rows=True)  # fmt: skip
    assert len(row.skipped) >= 2 and row.tenders == 5 + 12  # the bad rows are gone, the rest kept


@pytest.mark.parametrize(("data", "code"), [
    (b"", "empty_file"), (b"a,b\n1,2\n", "bad_rows"), (b"\xff\xfe\x00garbage", "bad_rows"),
    (HEADER.encode(), "bad_rows"),
])  # fmt: skip
def test_unusable_files_are_refused(regulator: Any, data: bytes, code: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        datasets.import_dataset(actor=regulator, name="x", source_format="csv", data=data)
    assert caught.value.code == code
    assert Dataset.objects.count() == 0


def test_ocds_releases(regulator: Any) -> None:
    lines = []
    for t in range(6):
        bids = [{"id": f"b{k}", "status": "valid", "value": {"amount": 100 + k * 3 + t,
                 "currency": "CNY"}, "tenderers": [{"id": f"F{k}"}]} for k in range(4)]  # fmt: skip
        lines.append(json.dumps({
            "ocid": f"ocds-x-{t}", "tender": {"id": str(t), "status": "complete",
                                              "procurementMethod": "open",
                                              "tenderPeriod": {"startDate": "2025-01-01T00:00:00Z",
                                                               "endDate": "2025-01-05T00:00:00Z"}},
            "bids": {"details": bids},
            "awards": [{"id": "a", "status": "active", "suppliers": [{"id": "F0"}]}],
        }, ensure_ascii=False))  # fmt: skip
    data = ("\n".join(lines) + "\n").encode()
    row = datasets.import_dataset(actor=regulator, name="OCDS", source_format="ocds", data=data)
    assert row.tenders == 6 and row.rows == 24
    assert row.summary["red_flags"].get("R003") == 6  # a 4-day submission period each
    with pytest.raises(ValidationFailed) as caught:
        datasets.import_dataset(actor=regulator, name="OCDS", source_format="ocds",
                                data=data + b"{not json\n")  # fmt: skip
    assert caught.value.code == "bad_rows"


def test_who_may_import(db: Any) -> None:
    for role in (Role.AUDITOR, Role.CENTER_ADMIN, Role.BIDDER):
        with pytest.raises(PermissionDenied):
            datasets.import_dataset(actor=make_user(f"u_{role}", role), name="x",
                                    source_format="csv", data=history(3).encode())  # fmt: skip


def test_api_upload_and_download(regulator: Any) -> None:
    from ggzy.accounts.services import issue_token

    _row, secret = issue_token(actor=regulator, name="t")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    client = Client()
    r = client.post("/api/v1/supervision/datasets?name=%E5%8E%86%E5%8F%B2", data=history(),
                    content_type="text/csv", **auth)  # fmt: skip
    assert r.status_code == 201, r.content
    public_id = r.json()["public_id"]
    r = client.get(f"/api/v1/supervision/datasets/{public_id}/report.csv?part=groups", **auth)
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    r = client.get(f"/api/v1/supervision/datasets/{public_id}/report.csv?part=nope", **auth)
    assert r.status_code == 404 and r.json()["code"] == "report_part_not_found"
    r = client.post("/api/v1/supervision/datasets?name=x", data="tender_id\n1\n",
                    content_type="text/csv", **auth)  # fmt: skip
    assert r.status_code == 422 and r.json()["code"] == "bad_rows"
    r = client.post("/api/v1/supervision/datasets?name=x", data="{}", content_type="application/json",
                    **auth)  # fmt: skip
    assert r.status_code == 415
    assert Dataset.objects.count() == 1


def test_pages_and_cli(regulator: Any, tmp_path: Path) -> None:
    client = Client()
    client.force_login(regulator)
    upload = io.BytesIO(history().encode())
    upload.name = "h.csv"
    r = client.post("/supervision/datasets/", {"name": "页面导入", "format": "csv", "file": upload})
    assert r.status_code == 302
    row = Dataset.objects.get()
    page = client.get(r["Location"]).content.decode()
    assert "页面导入" in page and "C0" in page
    r = client.get(f"/supervision/datasets/{row.public_id}/tenders.csv")
    assert r.status_code == 200 and b"tender_id" in r.content
    bad = io.BytesIO(b"tender_id,date\nx,y\n")
    bad.name = "bad.csv"
    r = client.post("/supervision/datasets/", {"name": "坏文件", "format": "csv", "file": bad})
    assert r.status_code == 422 and "bad_rows" in r.content.decode()
    path = tmp_path / "h.csv"
    path.write_text(history(), encoding="utf-8")
    out = StringIO()
    call_command("supervision", "import", str(path), "--name", "命令行", "--as", "reg1", stdout=out)
    assert Dataset.objects.count() == 2
    target = tmp_path / "report.csv"
    call_command("supervision", "report", Dataset.objects.first().public_id, "--part", "tenders",
                 "--out", str(target), "--as", "reg1", stdout=out)  # fmt: skip
    assert target.read_bytes().startswith("\ufeff".encode())
    with pytest.raises(CommandError, match="bad_rows"):
        bad_path = tmp_path / "bad.csv"
        bad_path.write_text("tender_id\n1\n", encoding="utf-8")
        call_command("supervision", "import", str(bad_path), "--name", "x", "--as", "reg1")
