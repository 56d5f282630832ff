"""Core API: identifier checks, the working-day calendar, platform info."""

from __future__ import annotations

from datetime import date
from typing import Literal

from django.http import HttpRequest
from ninja import Query, Router
from pydantic import Field

from ggzy.api import PUBLIC
from ggzy.core import calendar, clock
from ggzy.core.errors import ValidationFailed
from ggzy.core.identifiers import IdentifierError, TradingCode, validate_resident_id, validate_uscc
from ggzy.core.schemas import ErrorOut, StrictSchema

router = Router(tags=["core"])


class IdentifierCheckOut(StrictSchema):
    kind: str
    value: str
    valid: bool
    check: str | None = None
    message: str | None = None


@router.get("identifiers/check", response=IdentifierCheckOut, auth=PUBLIC)
def check_identifier(
    request: HttpRequest,
    kind: Literal["uscc", "resident_id", "trading_code"],
    value: str = Query(..., max_length=64),
) -> dict[str, object]:
    """Check a USCC, resident ID number or trading code and say which check failed, if any."""
    try:
        if kind == "uscc":
            normalised = validate_uscc(value)
        elif kind == "resident_id":
            normalised = validate_resident_id(value)
        else:
            normalised = str(TradingCode.parse(value))
    except IdentifierError as exc:
        return {
            "kind": kind,
            "value": value,
            "valid": False,
            "check": exc.check,
            "message": exc.message,
        }
    return {"kind": kind, "value": normalised, "valid": True}


class WorkingDaysOut(StrictSchema):
    start: date
    days: int
    result: date


class CountOut(StrictSchema):
    start: date
    end: date
    working_days: int


@router.get("calendar/add-working-days", response={200: WorkingDaysOut, 422: ErrorOut}, auth=PUBLIC)
def add_working_days(
    request: HttpRequest, start: date, days: int = Query(..., ge=-3650, le=3650)
) -> dict[str, object]:
    """The date that falls ``days`` working days after ``start`` (weekends and holidays skipped)."""
    try:
        result = calendar.add_working_days(start, days)
    except OverflowError:  # the search window runs past 0001-01-01 or 9999-12-31
        raise ValidationFailed("日期超出可计算范围", code="date_out_of_range") from None
    return {"start": start, "days": days, "result": result}


@router.get("calendar/count-working-days", response={200: CountOut, 422: ErrorOut}, auth=PUBLIC)
def count_working_days(request: HttpRequest, start: date, end: date) -> dict[str, object]:
    if abs((end - start).days) > 3650 * 3:
        raise ValidationFailed("区间过长（最多30年）", code="range_too_long")
    return {"start": start, "end": end, "working_days": calendar.count_working_days(start, end)}


class CalendarDayIn(StrictSchema):
    is_working_day: bool
    name: str = Field("", max_length=60)


class CalendarDayOut(StrictSchema):
    day: date
    is_working_day: bool
    name: str


@router.put("calendar/days/{day}", response={200: CalendarDayOut, 401: ErrorOut, 403: ErrorOut})
def put_calendar_day(request: HttpRequest, day: date, payload: CalendarDayIn) -> object:
    """Center admin: mark a holiday (false) or a make-up working day on a weekend (true)."""
    from ggzy.core.services import set_calendar_day

    return set_calendar_day(
        actor=request.auth, day=day, is_working_day=payload.is_working_day, name=payload.name
    )  # type: ignore[attr-defined]


class InfoOut(StrictSchema):
    name: str
    version: str
    time: str
    region: str


@router.get("info", response=InfoOut, auth=PUBLIC)
def info(request: HttpRequest) -> dict[str, str]:
    from django.conf import settings

    from ggzy import __version__

    return {
        "name": settings.GGZY_PLATFORM_NAME,
        "version": __version__,
        "time": clock.now().isoformat(),
        "region": settings.GGZY_PLATFORM_REGION,
    }
