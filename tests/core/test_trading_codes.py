from __future__ import annotations

import pytest

from ggzy.core.errors import PermissionDenied
from ggzy.core.identifiers import IdentifierError
from ggzy.core.models import CalendarDay, IssuedTradingCode
from ggzy.core.services import issue_trading_code, set_calendar_day
from ggzy.ledger.models import Event

pytestmark = pytest.mark.django_db


def test_codes_are_sequential_per_region_year_category(frozen_clock) -> None:  # type: ignore[no-untyped-def]
    a = issue_trading_code(region="320100", category="GC")
    b = issue_trading_code(region="320100", category="GC")
    c = issue_trading_code(region="320100", category="ZC")
    assert (str(a), str(b), str(c)) == (
        "3201002026GC000001",
        "3201002026GC000002",
        "3201002026ZC000001",
    )
    assert IssuedTradingCode.objects.count() == 3


def test_codes_are_never_reused_even_if_the_counter_is_reset(frozen_clock) -> None:  # type: ignore[no-untyped-def]
    from django.db import IntegrityError

    from ggzy.core.models import TradingCodeSequence

    issue_trading_code(region="320100", category="GC")
    TradingCodeSequence.objects.update(last_value=0)
    with pytest.raises(IntegrityError):
        issue_trading_code(region="320100", category="GC")


@pytest.mark.parametrize(("region", "category"), [("32010", "GC"), ("320100", "ZZ")])
def test_bad_region_or_category_is_refused(region: str, category: str) -> None:
    with pytest.raises(IdentifierError):
        issue_trading_code(region=region, category=category)
    assert IssuedTradingCode.objects.count() == 0


def test_only_center_admin_edits_the_calendar(users) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    before = Event.objects.count()
    with pytest.raises(PermissionDenied):
        set_calendar_day(actor=users["bidder"], day=date(2026, 12, 31), is_working_day=False)
    assert CalendarDay.objects.count() == 0 and Event.objects.count() == before
    set_calendar_day(
        actor=users["center_admin"], day=date(2026, 12, 31), is_working_day=False, name="x"
    )
    assert Event.objects.count() == before + 1
    assert Event.objects.last().event_type == "core.calendar_day_set"  # type: ignore[union-attr]
