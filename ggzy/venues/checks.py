"""Pure-ish input checks for the venue services: text fields, codes, digests, and the working
calendar test for a booking (working day, inside the site's hours)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from ggzy.core import calendar
from ggzy.core.clock import CHINA
from ggzy.core.errors import ValidationFailed

DIGEST = re.compile(r"^[0-9a-f]{64}$")
CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,15}$")


def refuse(field: str, code: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, code=code, detail={"field": field})


def text(field: str, value: Any, *, limit: int = 200, required: bool = True) -> str:
    out = "" if value is None else str(value).strip()
    if required and not out:
        raise refuse(field, f"{field}_required" if field in ("reason", "note") else "required",
                     f"{field} 不能为空 (required)")  # fmt: skip
    if len(out) > limit:
        raise refuse(field, "too_long", f"{field} 过长 (too long)")
    if "\x00" in out:
        raise refuse(field, "nul_character", "含有空字符 (NUL character)")
    return out


def code(field: str, value: Any) -> str:
    out = text(field, value, limit=16).upper()
    if not CODE.match(out):
        raise refuse(field, "bad_code", "代码只能由大写字母、数字和连字符组成 (bad code)")
    return out


def digest(value: Any) -> str:
    out = text("digest", value, limit=64).lower()
    if not DIGEST.match(out):
        raise refuse("digest", "bad_digest", "录像文件摘要应为64位十六进制SHA-256 (bad digest)")
    return out


@dataclass(frozen=True)
class Hours:
    """Whether ``[start, end)`` lies inside a site's working calendar; ``problem`` says why not."""

    day: date
    working_day: bool
    opens_at: time
    closes_at: time
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem


FIRST_YEAR, LAST_YEAR = 2000, 9000  # far beyond any booking; keeps date arithmetic in range


def in_range(moment: datetime | date) -> bool:
    return FIRST_YEAR <= moment.year <= LAST_YEAR


def within_hours(start: datetime, end: datetime, opens_at: time, closes_at: time) -> Hours:
    local_start, local_end = start.astimezone(CHINA), end.astimezone(CHINA)
    day = local_start.date()
    working = calendar.is_working_day(day)
    problem = ""
    if not working:
        problem = "not_a_working_day"
    elif local_end.date() != day:
        problem = "spans_days"
    elif local_start.time() < opens_at or local_end.time() > closes_at:
        problem = "outside_hours"
    return Hours(day, working, opens_at, closes_at, problem)
