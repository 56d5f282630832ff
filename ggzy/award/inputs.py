"""The award app's input values, checked before any rule reads them: times and days within
2000–2100 (as ``tendering.checks.moment`` bounds times — the period arithmetic on a year-9999
date would overflow), and money exact to the cent.

Money is refused, not rounded, when it has more than two decimals: a contract amount of
8,999,999.995 is not the award's 9,000,000.00, whatever rounding would make of it.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ggzy.core.errors import ValidationFailed
from ggzy.tendering import checks

FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


def moment(value: Any, field: str) -> datetime:
    """An aware time within 2000–2100 (``bad_time`` otherwise)."""
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValidationFailed("时间须带时区 (an aware time)", code="bad_time",
                               detail={"field": field})  # fmt: skip
    parsed = checks.moment(value, field)
    assert parsed is not None
    return parsed


def day(value: Any, field: str) -> date:
    """A date (not a time) within 2000–2099 (``bad_date`` otherwise)."""
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValidationFailed(f"{field} 须为日期 (a date)", code="bad_date",
                               detail={"field": field})  # fmt: skip
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValidationFailed(f"{field} 超出范围 (out of range: 2000–2099)", code="bad_date",
                               detail={"field": field})  # fmt: skip
    return value


def money(value: Any, field: str, *, positive: bool = True) -> Decimal:
    """An amount in yuan, exact to the cent: ``tendering.checks.money``'s shape and range, and
    no fraction of a cent (``bad_amount``)."""
    amount = checks.money(value, field, positive=positive)
    if Decimal(str(value)) != amount:
        raise ValidationFailed(f"{field} 最多两位小数 (more than two decimals)",
                               code="bad_amount",
                               detail={"field": field, "reason": "fraction_of_a_cent"})  # fmt: skip
    return amount
