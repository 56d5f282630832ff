"""Excel import and export of the pool (openpyxl). One format both ways: a header row with the
Chinese column names of ``COLUMNS`` (any order), one expert per row.

Import is all or nothing: every row is validated first (resident ID check digit, specialty
codes, the employer's USCC registered, the region, numbers in range, R20, duplicates within the
file and against the pool); if any row is bad nothing is imported and the refusal carries a
row-level report (row number, column, code, message), also as an .xlsx. When every row is good
they are imported in one transaction, one ledger event per expert (``experts.expert_registered``,
``source: import``, ``batch``: the file's SHA-256 prefix), so each expert's history starts in
the ledger like any other entry. A file that is not an .xlsx, expands too much (zip bomb), has
the wrong headers or too many rows is refused with its own code before any row is read.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction

from ggzy.accounts.gate import require
from ggzy.accounts.models import User
from ggzy.core.errors import DomainError, ValidationFailed
from ggzy.experts import checks, services
from ggzy.experts.checks import ExpertData
from ggzy.experts.models import Expert
from ggzy.experts.states import ExpertStatus, TitleLevel

# (key, header): the import and export format, documented in docs/domains/experts.md
COLUMNS: tuple[tuple[str, str], ...] = (
    ("name", "姓名"),
    ("resident_id", "身份证号码"),
    ("phone", "手机"),
    ("email", "邮箱"),
    ("title_level", "职称级别"),
    ("title_name", "职称名称"),
    ("senior_equivalent", "同等专业水平说明"),
    ("years_in_field", "从业年限"),
    ("employer", "工作单位统一社会信用代码"),
    ("region", "所在地区代码"),
    ("primary_specialty", "主专业代码"),
    ("other_specialties", "其他专业代码"),
    ("username", "专家账户用户名"),
)
HEADER = {key: header for key, header in COLUMNS}
OPTIONAL = frozenset({"email", "senior_equivalent", "other_specialties", "username"})
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_ERRORS_REPORTED = 5000


def max_rows() -> int:
    return int(getattr(settings, "GGZY_EXPERT_IMPORT_MAX_ROWS", 5000))


def max_expanded_bytes() -> int:
    return int(getattr(settings, "GGZY_EXPERT_IMPORT_MAX_EXPANDED", 64 << 20))


@dataclass(frozen=True)
class RowError:
    row: int  # the spreadsheet's row number (the header is row 1)
    column: str  # the column's header
    code: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "code": self.code, "message": self.message}


class ImportRowsInvalid(ValidationFailed):
    code = "import_rows_invalid"

    def __init__(self, errors: list[RowError], rows: int) -> None:
        super().__init__(
            f"{len({e.row for e in errors})}行有误，未导入任何专家 (bad rows: nothing imported)",
            detail={
                "rows": rows,
                "error_count": len(errors),
                "errors": [e.as_dict() for e in errors[:MAX_ERRORS_REPORTED]],
            },
        )
        self.errors = errors


@dataclass
class ImportResult:
    rows: int
    batch: str
    experts: list[Expert]


# --- reading ----------------------------------------------------------------------------------


def _refuse(code: str, message: str, **detail: Any) -> ValidationFailed:
    return ValidationFailed(message, code=code, detail=detail or None)


def _parse_errors() -> tuple[type[BaseException], ...]:
    """What openpyxl and the zip and XML layers raise on a damaged file: "not readable". Any
    other exception is a bug and stays one."""
    from openpyxl.utils.exceptions import InvalidFileException

    return (InvalidFileException, zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError,
            IndexError, TypeError, ValueError, SyntaxError,  # XML parse errors (lxml's too)
            AttributeError)  # e.g. openpyxl 3.1 on a read-only chartsheet  # fmt: skip


def _unreadable() -> ValidationFailed:
    return _refuse("not_xlsx", "无法读取该 Excel 文件 (unreadable .xlsx)")


def _open_workbook(data: bytes) -> Any:
    import openpyxl

    if not data.startswith(b"PK\x03\x04"):
        raise _refuse("not_xlsx", "文件不是 Excel .xlsx 格式 (not an .xlsx file)")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            expanded = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise _refuse("not_xlsx", "文件不是 Excel .xlsx 格式 (not an .xlsx file)") from None
    if "xl/workbook.xml" not in names:
        raise _refuse("not_xlsx", "文件不是 Excel .xlsx 格式 (not an .xlsx file)")
    if expanded > max_expanded_bytes():  # what a zip bomb would expand to (sizes it declares)
        raise _refuse("xlsx_too_large", "文件解压后过大 (expands too much)",
                      max_expanded_bytes=max_expanded_bytes())  # fmt: skip
    try:
        return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except _parse_errors():
        raise _unreadable() from None


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip()
    return value


def read_rows(data: bytes) -> list[tuple[int, dict[str, Any]]]:
    """The data rows of the first sheet, keyed by column, with their row numbers.

    Only the header's columns are read, and no row past the cap: a small file may claim (or
    hold one cell at) XFD1048576, and openpyxl pads every row up to the sheet's dimension."""
    book = _open_workbook(data)
    last_row = max_rows() + 1  # the header is row 1
    too_many = _refuse("too_many_rows", f"一次最多导入{max_rows()}行 (too many rows)",
                       max_rows=max_rows())  # fmt: skip
    out: list[tuple[int, dict[str, Any]]] = []
    try:
        sheet = book.worksheets[0]
        if (sheet.max_row or 0) > last_row:
            raise too_many
        head = next(sheet.iter_rows(min_row=1, max_row=1, values_only=True), None)
        header = [str(_cell(v) or "") for v in head or ()]
        while header and not header[-1]:
            header.pop()
        if not header:
            raise _refuse("no_rows", "文件中没有数据 (empty sheet)")
        index = _header_index(header)
        for number, values in enumerate(
            sheet.iter_rows(min_row=2, max_row=last_row + 1, max_col=len(header), values_only=True),
            start=2,
        ):
            if number > last_row:
                raise too_many
            if not any(v not in (None, "") for v in values):
                continue
            cells = list(values)
            out.append((number, {k: _cell(cells[i]) if i < len(cells) else None
                                 for k, i in index.items()}))  # fmt: skip
    except _parse_errors():
        raise _unreadable() from None
    finally:
        book.close()
    if not out:
        raise _refuse("no_rows", "文件中没有数据行 (no data rows)")
    return out


def _header_index(header: list[str]) -> dict[str, int]:
    by_header = {h: key for key, h in COLUMNS}
    index: dict[str, int] = {}
    unknown = []
    for i, name in enumerate(header):
        if not name:
            continue
        key = by_header.get(name)
        if key is None or key in index:
            unknown.append(name)
        else:
            index[key] = i
    missing = [HEADER[k] for k, _h in COLUMNS if k not in index and k not in OPTIONAL]
    if missing or unknown:
        raise _refuse("bad_headers", "表头与模板不符 (headers do not match the template)",
                      missing=missing, unknown=unknown,
                      expected=[h for _k, h in COLUMNS])  # fmt: skip
    return index


# --- validating -------------------------------------------------------------------------------


def _text_value(value: Any) -> Any:
    """Numbers typed into text columns (an ID number, a region code) read back as text; a
    float would have lost digits, so it stays a float and is refused by the check."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


class _Cached:
    """Each distinct employer, region and specialty looked up once per file."""

    def __init__(self) -> None:
        self.seen: dict[tuple[str, Any], Any] = {}

    def __call__(self, key: str, fn: Callable[[Any], Any], value: Any) -> Any:
        if key not in ("employer", "region", "primary_specialty"):
            return fn(value)
        marker = (key, value if isinstance(value, str | int | None) else repr(value))
        if marker not in self.seen:
            try:
                self.seen[marker] = fn(value)
            except ValidationFailed as exc:
                self.seen[marker] = exc
        found = self.seen[marker]
        if isinstance(found, ValidationFailed):
            raise found
        return found


def validate_rows(rows: Iterable[tuple[int, dict[str, Any]]], actor: Any = None) -> tuple[list[tuple[ExpertData, str]], list[RowError]]:  # fmt: skip
    """Every row checked; every problem of every row reported. A row linking the ``actor``'s
    own account is refused (``own_record``)."""
    rows = list(rows)
    errors: list[RowError] = []
    cached = _Cached()
    good: list[tuple[ExpertData, str]] = []
    first_row: dict[str, int] = {}
    wanted = {str(_text_value(r.get("resident_id")) or "").strip().upper() for _n, r in rows}
    in_pool = set(Expert.objects.filter(  # no NUL in a query: PostgreSQL refuses it
        resident_id__in=[rid for rid in wanted if "\x00" not in rid]
    ).values_list("resident_id", flat=True))  # fmt: skip
    usernames: dict[str, int] = {}
    for number, raw in rows:
        before = len(errors)

        def fail(key: str, exc: DomainError, number: int = number) -> None:
            errors.append(RowError(number, HEADER[key], exc.code, exc.message))

        raw = {k: _text_value(v) for k, v in raw.items()}
        values: dict[str, Any] = {}
        for key, cleaner in checks.CLEANERS.items():
            try:
                values[key] = cached(key, cleaner, raw.get(key))
            except ValidationFailed as exc:
                fail(key, exc)
        if "primary_specialty" in values:
            try:
                values["specialties"] = checks.specialties(
                    values["primary_specialty"], raw.get("other_specialties") or ""
                )
            except ValidationFailed as exc:
                fail("other_specialties", exc)
        rid = values.get("resident_id")
        if rid is not None:
            if rid in first_row:
                fail("resident_id", _refuse("duplicate_in_file",
                     f"与第{first_row[rid]}行身份证号码重复 (repeats row {first_row[rid]})"))  # fmt: skip
            else:
                first_row[rid] = number
            if rid in in_pool:
                fail(
                    "resident_id",
                    _refuse("already_in_pool", "该专家已在库中 (already in the pool)"),
                )
        username = str(raw.get("username") or "").strip()
        if username:
            if username in usernames:
                fail(
                    "username", _refuse("duplicate_in_file", f"与第{usernames[username]}行账户重复")
                )
            usernames.setdefault(username, number)
            try:
                services.expert_account(username, actor=actor)
            except DomainError as exc:
                fail("username", exc)
        if {"years_in_field", "title_level", "senior_equivalent", "specialties"} <= set(values):
            try:
                checks.eligible(values)
            except ValidationFailed as exc:
                fail("years_in_field" if "years_in_field" in exc.detail["unmet"] else "title_level",
                     exc)  # fmt: skip
        if len(errors) == before:
            good.append((_data(values), username))
    return good, errors


def _data(values: dict[str, Any]) -> ExpertData:
    chosen = values["specialties"]
    return ExpertData(
        name=values["name"], resident_id=values["resident_id"], phone=values["phone"],
        email=values["email"], title_level=values["title_level"], title_name=values["title_name"],
        senior_equivalent=values["senior_equivalent"], years_in_field=values["years_in_field"],
        employer=values["employer"].uscc, region=values["region"].code,
        primary_specialty=chosen[0].code, other_specialties=[s.code for s in chosen[1:]],
    )  # fmt: skip


def import_experts(*, actor: User, data: bytes) -> ImportResult:
    """Import a whole file into the pool, or nothing (see the module's docstring)."""
    require(actor, "experts.manage")
    rows = read_rows(data)
    good, errors = validate_rows(rows, actor)
    if errors:
        raise ImportRowsInvalid(errors, len(rows))
    batch = hashlib.sha256(data).hexdigest()[:16]
    with transaction.atomic():
        made = [
            services.register_expert(
                actor=actor, data=d, username=username, source="import", batch=batch
            )
            for d, username in good
        ]
    return ImportResult(len(rows), batch, made)


# --- writing ----------------------------------------------------------------------------------


def _workbook(title: str, header: list[str], rows: Iterable[list[Any]]) -> bytes:
    import openpyxl
    from openpyxl.cell import WriteOnlyCell

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet(title)

    def cell(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        out = WriteOnlyCell(sheet, value)
        out.data_type = "s"  # text is text: a leading "=" is no formula (formula injection)
        return out

    sheet.append(header)
    for row in rows:
        sheet.append([cell(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


TITLE_LABELS = {code: str(label) for code, label in TitleLevel.choices}


def export_row(expert: Expert) -> list[Any]:
    codes = [row.specialty.code for row in expert.specialty_rows.all()
             if not row.is_primary]  # fmt: skip
    values = {
        "name": expert.name,
        "resident_id": expert.resident_id,
        "phone": expert.phone,
        "email": expert.email,
        "title_level": TITLE_LABELS[expert.title_level],
        "title_name": expert.title_name,
        "senior_equivalent": expert.senior_equivalent,
        "years_in_field": expert.years_in_field,
        "employer": expert.employer.uscc,
        "region": expert.region_id,
        "primary_specialty": expert.primary_specialty.code,
        "other_specialties": "、".join(sorted(codes)),
        "username": expert.user.username if expert.user else "",
    }
    return [values[key] for key, _h in COLUMNS]


def export_pool(*, actor: User, status: str = ExpertStatus.ACTIVE) -> bytes:
    """The pool (experts in ``status``) as an .xlsx in the import format."""
    require(actor, "experts.manage")
    if status not in ExpertStatus.values:
        raise _refuse("bad_status", "状态无效 (bad status)")
    experts = (
        Expert.objects.filter(status=status)
        .select_related("employer", "primary_specialty", "user")
        .prefetch_related("specialty_rows__specialty")
        .order_by("pk")
    )
    return _workbook(
        "专家库", [h for _k, h in COLUMNS], (export_row(e) for e in experts.iterator(2000))
    )


def template() -> bytes:
    """An empty import file: the header row only."""
    return _workbook("专家库", [h for _k, h in COLUMNS], [])


def error_report(errors: Iterable[dict[str, Any]]) -> bytes:
    """The row-level report of a refused import as an .xlsx."""
    return _workbook(
        "导入错误",
        ["行号", "列", "错误代码", "说明"],
        ([e["row"], e["column"], e["code"], e["message"]] for e in errors),
    )


def workbook_rows(data: bytes) -> list[list[Any]]:
    """Every row of an .xlsx's first sheet (for tests and the CLI)."""
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        return [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()
