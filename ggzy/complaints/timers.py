"""The statutory periods of a complaint (投诉), per regime, and the date arithmetic on them.

One table, each number with its rule in ``shared/reference/cn-rules.md``:

=========================  ===================================  ================================
period                     works (R29)                          government procurement (R30)
=========================  ===================================  ================================
complaint filed            ≤ 10 days from when the complainant  ≤ 15 working days after the
                           knew (条例60); the objection's        challenge reply, or after the
                           reply period does not count          reply's due date (政府采购法55)
prior objection required   for documents, opening and result    always: a complaint follows a
                           matters (条例60 with 22/44/54)        challenge (质疑, 政府采购法55)
acceptance decided         ≤ 3 working days after filing        ≤ 5 working days (财政部94号令;
                           (条例61)                              GGZY_COMPLAINT_PROCUREMENT_
                                                                ACCEPTANCE_WD, configurable)
decision                   ≤ 30 working days after acceptance,  ≤ 30 working days (政府采购法56)
                           expert review / testing / inspection
                           time excluded (条例61)
=========================  ===================================  ================================

Day counting: the day of the event is not counted; the N-th day after it is the last one. A
period in calendar days whose last day is not a working day ends on the next working day
(民法典203; 87号令86 for procurement). Working days use the center's calendar
(:mod:`ggzy.core.calendar`). Dates are China Standard Time dates. A pause (the regulator's expert
review, testing or inspection) moves the decision's due date by the working days it lasted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings

from ggzy.core import calendar, clock

WORKS = "works"
PROCUREMENT = "procurement"


@dataclass(frozen=True)
class Period:
    count: int
    working: bool  # working days, else calendar days
    rule: str
    source: str

    def label(self) -> str:
        return f"{self.count}个工作日" if self.working else f"{self.count}日"


@dataclass(frozen=True)
class ComplaintRules:
    regime: str
    filing: Period  # from knowledge (works) / from the challenge reply (procurement)
    acceptance: Period
    decision: Period
    objection_rule: str  # why a prior objection is required
    objection_matters: frozenset[str]  # the matters that need it


def _procurement_acceptance() -> int:
    return int(getattr(settings, "GGZY_COMPLAINT_PROCUREMENT_ACCEPTANCE_WD", 5))


def rules_for(regime: str) -> ComplaintRules:
    if regime == PROCUREMENT:
        return ComplaintRules(
            regime=PROCUREMENT,
            filing=Period(15, True, "R30", "政府采购法第55条"),
            acceptance=Period(_procurement_acceptance(), True, "R30", "财政部94号令（可配置）"),
            decision=Period(30, True, "R30", "政府采购法第56条"),
            objection_rule="R30",
            objection_matters=frozenset({"documents", "opening", "result"}),
        )
    return ComplaintRules(
        regime=WORKS,
        filing=Period(10, False, "R29", "招标投标法实施条例第60条"),
        acceptance=Period(3, True, "R29", "招标投标法实施条例第61条"),
        decision=Period(30, True, "R29", "招标投标法实施条例第61条"),
        objection_rule="R29",
        objection_matters=frozenset({"documents", "opening", "result"}),
    )


def table() -> list[dict[str, object]]:
    """The numbers in force, for the docs page and the API."""
    out: list[dict[str, object]] = []
    for regime in (WORKS, PROCUREMENT):
        r = rules_for(regime)
        for name, p in (("filing", r.filing), ("acceptance", r.acceptance),
                        ("decision", r.decision)):  # fmt: skip
            out.append({"regime": regime, "period": name, "count": p.count,
                        "working_days": p.working, "rule": p.rule, "source": p.source})  # fmt: skip
    return out


def local_date(moment: datetime) -> date:
    return moment.astimezone(clock.CHINA).date()


def _to_working_day(day: date) -> date:
    while not calendar.is_working_day(day):
        day += timedelta(days=1)
    return day


def add(day: date, period: Period, extra: int = 0) -> date:
    """The last day of ``period`` (plus ``extra`` days of the same kind) counted from ``day``."""
    if period.working:
        return calendar.add_working_days(day, period.count + extra)
    return _to_working_day(day + timedelta(days=period.count + extra))


def filing_last_day(
    rules: ComplaintRules,
    *,
    known_on: date,
    objection_raised_on: date | None,
    objection_answered_on: date | None,
) -> date | None:
    """The last day to complain. Works: 10 days from ``known_on``, plus the days the objection
    waited for its answer (条例60: the reply period does not count). Procurement: 15 working
    days after the challenge's answer (or its due day, ``objection_answered_on`` given as that);
    ``None`` without a challenge — the period never started."""
    if rules.regime == PROCUREMENT:
        if objection_answered_on is None:
            return None
        return add(objection_answered_on, rules.filing)
    waited = 0
    if objection_raised_on is not None and objection_answered_on is not None:
        waited = max(0, (objection_answered_on - objection_raised_on).days)
    return add(known_on, rules.filing, waited)


def acceptance_due(filed_on: date, rules: ComplaintRules) -> date:
    return add(filed_on, rules.acceptance)


def decision_due(accepted_on: date, rules: ComplaintRules, paused_working_days: int) -> date:
    """30 working days after acceptance, moved by the working days the case was paused."""
    return add(accepted_on, rules.decision, paused_working_days)


def paused_working_days(started_on: date, ended_on: date) -> int:
    """Working days a pause took: those after the day it started, up to the day it ended."""
    return max(0, calendar.count_working_days(started_on, ended_on))


def working_days_left(today: date, due: date) -> int:
    """0 on the last day itself, negative once it has passed (-1 at least, even when the days
    since are not working days)."""
    if due < today:
        return min(-1, calendar.count_working_days(today, due))
    return calendar.count_working_days(today, due)
