"""Writes owned by the core: trading codes and the holiday table."""

from __future__ import annotations

from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import F

from ggzy.core import clock
from ggzy.core.identifiers import (
    TRADING_CATEGORY_CODES,
    IdentifierError,
    TradingCode,
    validate_region_code,
)
from ggzy.core.models import CalendarDay, IssuedTradingCode, TradingCodeSequence


def issue_trading_code(
    *, region: str, category: str, subject: str = "", year: int | None = None
) -> TradingCode:
    """Issue the next trading code for ``region``/``category``; unique and never reused.

    Race-safe: the sequence row is incremented with an ``F()`` update under the row lock, and the
    issued code is a unique row, so two concurrent callers can never receive the same code.
    """
    region = validate_region_code(region)
    if category not in TRADING_CATEGORY_CODES:
        raise IdentifierError("trading_code", "category", f"未知的交易类别 {category}")
    year = year or clock.today().year
    with transaction.atomic():
        try:
            with transaction.atomic():
                TradingCodeSequence.objects.get_or_create(
                    region=region, year=year, category=category
                )
        except IntegrityError:  # created concurrently by another transaction: fine
            pass
        seq_qs = TradingCodeSequence.objects.select_for_update().filter(
            region=region, year=year, category=category
        )
        seq_qs.update(last_value=F("last_value") + 1)
        value = seq_qs.values_list("last_value", flat=True).get()
        code = TradingCode(region, year, category, value)
        IssuedTradingCode.objects.create(code=str(code), issued_at=clock.now(), subject=subject)
    return code


def set_calendar_day(
    *, actor: object, day: date, is_working_day: bool, name: str = ""
) -> CalendarDay:
    """Center staff mark a holiday or a make-up working day."""
    from ggzy.accounts.gate import require
    from ggzy.ledger.services import append_event

    require(actor, "calendar.edit")
    with transaction.atomic():
        row, _ = CalendarDay.objects.update_or_create(
            day=day, defaults={"is_working_day": is_working_day, "name": name}
        )
        append_event(
            actor=actor,
            event_type="core.calendar_day_set",
            subject=f"calendar:{day.isoformat()}",
            payload={"day": day.isoformat(), "is_working_day": is_working_day, "name": name},
        )
    return row
