"""Excel import and export: a good file imports every row; any bad row imports nothing and
is reported by row, column and code; malformed files are refused with their own codes; the
export reads back as the same import."""

from __future__ import annotations

import io
import time
import zipfile

import openpyxl
import pytest

from ggzy.core.errors import DomainError
from ggzy.experts import excel, services
from ggzy.experts.models import Expert
from tests.api.support import db_state, event_types_since, last_seq
from tests.conftest import make_user
from tests.experts import xlsx


def _refused_file(xw, data: bytes, code: str) -> DomainError:  # type: ignore[no-untyped-def]
    before = db_state()
    with pytest.raises(DomainError) as info:
        excel.import_experts(actor=xw.staff, data=data)
    assert info.value.code == code, info.value.as_dict()
    assert db_state() == before and Expert.objects.count() == 0
    return info.value


def test_a_good_file_imports_every_row_with_one_event_each(xw):  # type: ignore[no-untyped-def]
    make_user("zj01", "expert")
    rows = [xlsx.row(xw.employer.uscc, username="zj01"),
            xlsx.row(xw.employer.uscc, name="赵专家", primary_specialty="B01", other_specialties="",
                     title_level="中级", years_in_field=3)]  # fmt: skip
    seq = last_seq()
    result = excel.import_experts(actor=xw.staff, data=xlsx.workbook(rows))
    assert result.rows == 2 and len(result.experts) == 2
    first = Expert.objects.get(resident_id=rows[0]["resident_id"])
    assert (first.status, first.user.username, first.title_level) == ("active", "zj01", "senior")
    assert list(first.specialty_rows.order_by("-is_primary", "specialty__code")
                .values_list("specialty__code", flat=True)) == ["A01.01", "A01.02", "A02"]  # fmt: skip
    assert event_types_since(seq) == ["experts.expert_registered"] * 2


BAD_ROWS = [
    ({"resident_id": "320102197001010010"}, "身份证号码", "bad_resident_id"),
    ({"resident_id": 3.201021970010101e17}, "身份证号码", "bad_resident_id"),  # a float lost digits
    ({"primary_specialty": "Z99"}, "主专业代码", "unknown_specialty"),
    ({"other_specialties": "A01.02、Q01"}, "其他专业代码", "unknown_specialty"),
    ({"employer": "91350100M000100Y43"}, "工作单位统一社会信用代码", "employer_not_registered"),
    ({"employer": "91320100MA1X0000XX"}, "工作单位统一社会信用代码", "bad_uscc"),
    ({"region": "999999"}, "所在地区代码", "unknown_region"),
    ({"years_in_field": 120}, "从业年限", "bad_years"),
    ({"years_in_field": "很多"}, "从业年限", "bad_years"),
    ({"title_level": "特级"}, "职称级别", "bad_title_level"),
    ({"years_in_field": 5}, "从业年限", "expert_ineligible"),  # R20
    ({"title_level": "中级"}, "职称级别", "expert_ineligible"),  # R20
    ({"phone": "x"}, "手机", "bad_phone"),
    ({"name": None}, "姓名", "required"),
    ({"username": "nobody"}, "专家账户用户名", "user_not_found"),
]


@pytest.mark.parametrize(("change", "column", "code"), BAD_ROWS, ids=[c for _a, _b, c in BAD_ROWS])
def test_one_bad_row_imports_nothing_and_is_reported(xw, change, column, code):  # type: ignore[no-untyped-def]
    rows = [
        xlsx.row(xw.employer.uscc),
        xlsx.row(xw.employer.uscc, **change),
        xlsx.row(xw.employer.uscc),
    ]
    error = _refused_file(xw, xlsx.workbook(rows), "import_rows_invalid")
    assert error.status == 422
    assert [(e["row"], e["column"], e["code"]) for e in error.detail["errors"]] == [
        (3, column, code)
    ]
    assert error.detail["rows"] == 3


def test_duplicates_in_the_file_and_against_the_pool(xw):  # type: ignore[no-untyped-def]
    existing = services.register_expert(actor=xw.staff, data=xw.data())
    twin = xlsx.row(xw.employer.uscc)
    rows = [twin, dict(twin), xlsx.row(xw.employer.uscc, resident_id=existing.resident_id)]
    before, count = db_state(), Expert.objects.count()
    with pytest.raises(DomainError) as info:
        excel.import_experts(actor=xw.staff, data=xlsx.workbook(rows))
    assert [(e["row"], e["code"]) for e in info.value.detail["errors"]] == [
        (3, "duplicate_in_file"), (4, "already_in_pool")]  # fmt: skip
    assert db_state() == before and Expert.objects.count() == count


def test_the_report_lists_every_error_of_every_row_and_downloads_as_xlsx(xw):  # type: ignore[no-untyped-def]
    rows = [xlsx.row(xw.employer.uscc, region="1", phone="?"), xlsx.row(xw.employer.uscc, name="")]
    error = _refused_file(xw, xlsx.workbook(rows), "import_rows_invalid")
    assert [(e["row"], e["code"]) for e in error.detail["errors"]] == [
        (2, "bad_phone"), (2, "unknown_region"), (3, "required")]  # fmt: skip
    report = excel.workbook_rows(excel.error_report(error.detail["errors"]))
    assert report[0] == ["行号", "列", "错误代码", "说明"]
    assert [r[:3] for r in report[1:]] == [[2, "手机", "bad_phone"], [2, "所在地区代码", "unknown_region"],
                                           [3, "姓名", "required"]]  # fmt: skip


def _zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("pdf", "not_xlsx"),
        ("zip", "not_xlsx"),
        ("truncated", "not_xlsx"),
        ("broken_xml", "not_xlsx"),
        ("bomb", "xlsx_too_large"),
        ("headers", "bad_headers"),
        ("empty", "no_rows"),
        ("too_many", "too_many_rows"),
    ],
)
def test_malformed_files_are_refused_with_their_code(xw, settings, kind, code):  # type: ignore[no-untyped-def]
    good = xlsx.workbook([xlsx.row(xw.employer.uscc)])
    settings.GGZY_EXPERT_IMPORT_MAX_ROWS = 3
    data = {
        "pdf": lambda: b"%PDF-1.7 not a spreadsheet",
        "zip": lambda: _zip({"hello.txt": b"hi"}),
        "truncated": lambda: good[: len(good) // 2],
        "broken_xml": lambda: _zip({"xl/workbook.xml": b"<workbook", "[Content_Types].xml": b"<"}),
        "bomb": lambda: _zip(
            {"xl/workbook.xml": b"<a/>", "xl/worksheets/sheet1.xml": b"0" * (65 << 20)}
        ),
        "headers": lambda: xlsx.workbook([xlsx.row(xw.employer.uscc)], headers=["姓名", "年龄"]),
        "empty": lambda: xlsx.workbook([]),
        "too_many": lambda: xlsx.workbook([xlsx.row(xw.employer.uscc) for _ in range(4)]),
    }[kind]()
    _refused_file(xw, data, code)


def test_only_the_pool_keepers_import_and_export(xw, users):  # type: ignore[no-untyped-def]
    data = xlsx.workbook([xlsx.row(xw.employer.uscc)])
    for who in ("center_operations", "regulator", "expert"):
        with pytest.raises(DomainError) as info:
            excel.import_experts(actor=users[who], data=data)
        assert info.value.code == "forbidden"
        with pytest.raises(DomainError):
            excel.export_pool(actor=users[who])
    assert Expert.objects.count() == 0


def test_export_round_trip(xw):  # type: ignore[no-untyped-def]
    # given a pool imported from a file
    make_user("zj02", "expert")
    rows = [xlsx.row(xw.employer.uscc, username="zj02", email="li@example.cn",
                     senior_equivalent="注册一级建造师", title_level="中级"),
            xlsx.row(xw.employer.uscc, other_specialties="")]  # fmt: skip
    excel.import_experts(actor=xw.staff, data=xlsx.workbook(rows))
    # when it is exported
    exported = excel.export_pool(actor=xw.staff)
    # then the export has the import's header and rows, cell for cell
    table = excel.workbook_rows(exported)
    assert table[0] == xlsx.HEADERS
    keys = [k for k, _h in excel.COLUMNS]
    assert [dict(zip(keys, r, strict=True)) for r in table[1:]] == [
        {k: (v if v != "" else None) for k, v in r.items()} for r in rows
    ]
    # and, the pool emptied, importing the export gives the same pool back
    snapshot = sorted(excel.export_row(e) for e in Expert.objects.all())
    Expert.objects.all().delete()
    excel.import_experts(actor=xw.staff, data=exported)
    assert sorted(excel.export_row(e) for e in Expert.objects.all()) == snapshot


def test_a_text_cell_is_exported_as_text_never_a_formula(xw):  # type: ignore[no-untyped-def]
    # given an expert whose name starts with "=" (stored before such names were refused)
    expert = services.register_expert(actor=xw.staff, data=xw.data())
    Expert.objects.filter(pk=expert.pk).update(name='=HYPERLINK("http://x.example","点此")')
    # when the pool is exported
    sheet = openpyxl.load_workbook(io.BytesIO(excel.export_pool(actor=xw.staff))).worksheets[0]
    # then the name is a string cell holding the text, not a formula
    cell = sheet.cell(row=2, column=1)
    assert (cell.data_type, cell.value) == ("s", '=HYPERLINK("http://x.example","点此")')


@pytest.mark.parametrize("name", ["=1+2", "+86", "-x", "@SUM(A1)"])
def test_a_name_a_spreadsheet_would_read_as_a_formula_is_refused(xw, name):  # type: ignore[no-untyped-def]
    # given a name starting with = + - or @
    # when staff enter an expert with it
    with pytest.raises(DomainError) as info:
        services.register_expert(actor=xw.staff, data=xw.data(name=name))
    # then it is refused on the name with its own code, so an export never carries a formula
    assert (info.value.code, info.value.detail["field"]) == ("formula_character", "name")
    assert Expert.objects.count() == 0


def test_a_tiny_file_with_one_far_cell_is_refused_at_once(xw):  # type: ignore[no-untyped-def]
    # given a few-KB file with one good row and one cell at XFD1048576 (its dimension claims
    # a sheet of 16384 columns by 1048576 rows)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(xlsx.HEADERS)
    sheet.append(list(xlsx.row(xw.employer.uscc).values()))
    sheet["XFD1048576"] = "x"
    out = io.BytesIO()
    book.save(out)
    assert len(out.getvalue()) < 20_000
    # when it is imported
    started = time.monotonic()
    _refused_file(xw, out.getvalue(), "too_many_rows")
    # then it is refused in well under a second
    assert time.monotonic() - started < 1


def _chartsheet_only() -> bytes:
    book = openpyxl.Workbook()
    book.create_chartsheet()
    book.remove(book.active)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_workbook_without_a_worksheet_is_not_xlsx(xw):  # type: ignore[no-untyped-def]
    # given a workbook holding only a chartsheet; when imported; then refused as not_xlsx
    _refused_file(xw, _chartsheet_only(), "not_xlsx")


def test_the_import_api_refuses_a_workbook_without_a_worksheet(xw):  # type: ignore[no-untyped-def]
    from ggzy.accounts.services import issue_token
    from tests.api.support import Raw, api_client, assert_error

    # given a workbook holding only a chartsheet
    token = issue_token(actor=xw.staff, name="t")[1]
    # when it is posted to the import endpoint
    response = api_client().call("POST", "/api/v1/experts/import",
                                 Raw(_chartsheet_only(), excel.XLSX_TYPE), token=token)  # fmt: skip
    # then the answer is a 422 not_xlsx, not a 500
    assert_error(response, 422, "not_xlsx")


def test_an_import_row_linking_the_importers_own_account_is_refused(xw):  # type: ignore[no-untyped-def]
    # given a center admin who also holds an expert account
    both = make_user("admin_and_expert3", "center_admin", "expert")
    data = xlsx.workbook([xlsx.row(xw.employer.uscc, username=both.username)])
    # when they import a row linking that account
    with pytest.raises(DomainError) as info:
        excel.import_experts(actor=both, data=data)
    # then the row is refused on the username column; no expert is imported
    assert [(e["column"], e["code"]) for e in info.value.detail["errors"]] == [
        ("专家账户用户名", "own_record")]  # fmt: skip
    assert Expert.objects.count() == 0


def test_a_nul_in_an_import_cell_is_refused_on_its_row(xw):  # type: ignore[no-untyped-def]
    # given a row whose username and resident ID hold a NUL character (PostgreSQL refuses NUL
    # in a query; openpyxl 3.1 never reads one from a file, so the rows are given directly)
    row = xlsx.row(xw.employer.uscc, username="zj\x00", resident_id="1101051949\x00")
    # when the rows are validated
    good, errors = excel.validate_rows([(2, row)], xw.staff)
    # then both cells are refused by code, and no query carried the NUL
    assert good == []
    assert {(e.column, e.code) for e in errors} == {
        ("专家账户用户名", "nul_character"), ("身份证号码", "nul_character")}  # fmt: skip
