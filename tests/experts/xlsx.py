"""Building .xlsx files for the import tests."""

from __future__ import annotations

import io
from typing import Any

import openpyxl

from ggzy.experts.excel import COLUMNS
from tests.experts.world import next_id

HEADERS = [h for _k, h in COLUMNS]


def row(uscc: str, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": "李专家",
        "resident_id": next_id(),
        "phone": "13900000002",
        "email": "",
        "title_level": "正高",
        "title_name": "教授级高级工程师",
        "senior_equivalent": "",
        "years_in_field": 20,
        "employer": uscc,
        "region": "320100",
        "primary_specialty": "A01.01",
        "other_specialties": "A01.02、A02",
        "username": "",
    }
    values.update(overrides)
    return values


def workbook(rows: list[dict[str, Any]], headers: list[str] | None = None) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    keys = [k for k, _h in COLUMNS]
    sheet.append(headers or HEADERS)
    for r in rows:
        sheet.append([r.get(k) for k in keys])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
