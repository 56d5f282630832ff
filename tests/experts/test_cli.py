"""``ggzy experts``: through the services; a refusal is one line ``[code] message``."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from ggzy.experts import excel
from ggzy.experts.models import Expert
from tests.experts import xlsx


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("experts", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_import_list_export_approve(xw, tmp_path):  # type: ignore[no-untyped-def]
    good = tmp_path / "pool.xlsx"
    good.write_bytes(xlsx.workbook([xlsx.row(xw.employer.uscc), xlsx.row(xw.employer.uscc)]))
    assert "imported 2 experts" in run("import", str(good), "--as", xw.staff.username)
    assert len(run("list", "--status", "active", "--specialty", "A01").splitlines()) == 2
    out = tmp_path / "out.xlsx"
    run("export", str(out), "--as", xw.staff.username)
    assert len(excel.workbook_rows(out.read_bytes())) == 3
    pending = xw.pending()
    assert pending.public_id in run("list", "--status", "pending")
    assert "active" in run("approve", pending.public_id, "--as", xw.staff.username)
    shown = json.loads(run("show", pending.resident_id))
    assert [c["to_status"] for c in shown["status_history"]] == ["pending", "active"]
    assert "suspended" in run("suspend", pending.public_id, "--reason", "违规",
                              "--until", "2027-01-31", "--as", xw.staff.username)  # fmt: skip
    assert Expert.objects.get(pk=pending.pk).suspended_until.isoformat() == "2027-01-31"


def test_refusals_are_one_line_and_the_report_is_written(xw, tmp_path):  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(xlsx.workbook([xlsx.row(xw.employer.uscc, region="999999")]))
    report = tmp_path / "report.xlsx"
    with pytest.raises(CommandError, match=r"^\[import_rows_invalid\]"):
        run("import", str(bad), "--as", xw.staff.username, "--report", str(report))
    assert excel.workbook_rows(report.read_bytes())[1][:3] == [2, "所在地区代码", "unknown_region"]
    with pytest.raises(CommandError, match=r"^\[forbidden\]"):
        run("import", str(bad), "--as", xw.owner.username)
    with pytest.raises(CommandError, match=r"^\[expert_not_found\]"):
        run("approve", "nope", "--as", xw.staff.username)
    with pytest.raises(CommandError, match=r"^\[user_not_found\]"):
        run("approve", "nope", "--as", "nobody")
    weak = xw.pending(years_in_field=2)
    with pytest.raises(CommandError, match=r"^\[expert_ineligible\]"):
        run("approve", weak.public_id, "--as", xw.staff.username)
