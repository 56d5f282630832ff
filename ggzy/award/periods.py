"""The legal periods of the result stage, per regime, and the date arithmetic on them.

Variants are configuration: works tendering (招标投标法 and its 条例) and government
procurement (政府采购法, its 条例 and 87号令) differ only in the numbers below, each with its
rule in ``shared/reference/cn-rules.md``:

==========================  ==============================  ===================================
period                      works                           government procurement
==========================  ==============================  ===================================
publicity starts after the  ≤ 3 days (R25, 条例54)           ≤ 2 working days (R31, 87号令69:
signed report                                               the result announcement)
publicity lasts             ≥ 3 days (R25)                  ≥ 1 working day (R31)
objection reply             ≤ 3 days (R9, 条例54)            ≤ 7 working days (R30, 法53)
contract signed             ≤ 30 days after the notice      ≤ 30 days (R27, 法46)
                            (R26, 法46)
contract published          —                               ≤ 2 working days (R27, 条例50)
contract filed              —                               ≤ 7 working days (R27, 法47)
deposits refunded           everyone after the contract     losers after the notice, the
                            (R12)                           winner after the contract (R13)
award finished              30 working days before the bids' validity ends (R37, both)
winner confirmed            —                               ≤ 5 working days after the report,
                                                            else candidate 1 is deemed chosen
                                                            (R31, 87号令68)
report to the supervisor    ≤ 15 days after the award       —
                            (R28, 法47)
==========================  ==============================  ===================================

Day counting (87号令85): the day of the event is not counted; "≤ N days" means the N-th day
after it is the last one. A period in working days uses the center's calendar
(:mod:`ggzy.core.calendar`). Dates are China Standard Time dates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from ggzy.award.states import Level, Regime
from ggzy.core import calendar, clock


@dataclass(frozen=True)
class Period:
    count: int
    working: bool  # working days, else calendar days
    rule: str

    def label(self) -> str:
        return f"{self.count}个工作日" if self.working else f"{self.count}日"


@dataclass(frozen=True)
class AwardRules:
    regime: Regime
    publicity_start: Period
    publicity_min: Period
    objection_reply: Period
    contract_within: Period
    contract_publication: Period | None
    contract_filing: Period | None
    refund_losers_on_award: bool
    validity_margin: Period
    decision_within: Period | None = None  # the purchaser's decision after the report (R31)
    award_report_within: Period | None = None  # the written report to the supervisor (R28)


WORKS = AwardRules(
    regime=Regime.WORKS,
    publicity_start=Period(3, False, "R25"),
    publicity_min=Period(3, False, "R25"),
    objection_reply=Period(3, False, "R9"),
    contract_within=Period(30, False, "R26"),
    contract_publication=None,
    contract_filing=None,
    refund_losers_on_award=False,
    validity_margin=Period(30, True, "R37"),
    award_report_within=Period(15, False, "R28"),
)
PROCUREMENT = AwardRules(
    regime=Regime.PROCUREMENT,
    publicity_start=Period(2, True, "R31"),
    publicity_min=Period(1, True, "R31"),
    objection_reply=Period(7, True, "R30"),
    contract_within=Period(30, False, "R27"),
    contract_publication=Period(2, True, "R27"),
    contract_filing=Period(7, True, "R27"),
    refund_losers_on_award=True,
    validity_margin=Period(30, True, "R37"),
    decision_within=Period(5, True, "R31"),
)


def regime_of(ruleset_rules: dict[str, Any]) -> str:
    """Government procurement rulesets carry the procurement bid period (R2); works ones R1."""
    procurement = "procurement_bid_period_days" in ruleset_rules
    return Regime.PROCUREMENT.value if procurement else Regime.WORKS.value


def rules_of(regime: str) -> AwardRules:
    return PROCUREMENT if regime == Regime.PROCUREMENT.value else WORKS


def local_date(moment: datetime) -> date:
    return moment.astimezone(clock.CHINA).date()


def add(day: date, period: Period, *, backwards: bool = False) -> date:
    n = -period.count if backwards else period.count
    if period.working:
        return calendar.add_working_days(day, n)
    return day + timedelta(days=n)


def last_start_day(report_signed_at: datetime, rules: AwardRules) -> date:
    """The last day on which the candidates' publicity may start (R25 / R31)."""
    return add(local_date(report_signed_at), rules.publicity_start)


def earliest_end(starts_at: datetime, rules: AwardRules) -> datetime:
    """The publicity may end no earlier than this: the same time of day, the period later."""
    local = starts_at.astimezone(clock.CHINA)
    day = add(local.date(), rules.publicity_min)
    return datetime.combine(day, local.timetz())


def end_of(day: date) -> datetime:
    """The instant a day ends (the next day's midnight, China Standard Time)."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=clock.CHINA)


def reply_due(raised_at: datetime, rules: AwardRules) -> datetime:
    """The answer to an objection is due by the end of the period's last day (R9 / R30)."""
    return end_of(add(local_date(raised_at), rules.objection_reply))


def contract_deadline(award_issued_at: datetime, rules: AwardRules) -> date:
    """The last day to sign the contract (R26 / R27)."""
    return add(local_date(award_issued_at), rules.contract_within)


def decision_due(report_signed_at: datetime, rules: AwardRules) -> date | None:
    """The purchaser's last day to confirm the winner (R31, 87号令68): after it, the first
    candidate is deemed chosen. ``None`` where the regime sets no such period."""
    if rules.decision_within is None:
        return None
    return add(local_date(report_signed_at), rules.decision_within)


def award_report_due(award_issued_at: datetime, rules: AwardRules) -> date | None:
    """The last day of the tenderer's written report to the supervisor (R28, 法47)."""
    if rules.award_report_within is None:
        return None
    return add(local_date(award_issued_at), rules.award_report_within)


def publication_due(signed_on: date, rules: AwardRules) -> date | None:
    return add(signed_on, rules.contract_publication) if rules.contract_publication else None


def filing_due(signed_on: date, rules: AwardRules) -> date | None:
    return add(signed_on, rules.contract_filing) if rules.contract_filing else None


def validity_ends(bid_deadline: datetime | None, validity_days: int) -> date | None:
    """The last day the bids are valid (counted from the bid deadline, 条例25)."""
    if bid_deadline is None:
        return None
    return local_date(bid_deadline) + timedelta(days=validity_days)


def award_by(bid_deadline: datetime | None, validity_days: int, rules: AwardRules) -> date | None:
    """The last day to finish the award: 30 working days before the validity ends (R37)."""
    ends = validity_ends(bid_deadline, validity_days)
    return None if ends is None else add(ends, rules.validity_margin, backwards=True)


def level(due: date, today: date, *, before: int, after: int) -> Level | None:
    """Upcoming within ``before`` days of ``due`` (the due day included), overdue once it has
    passed, escalated more than ``after`` days after it; ``None`` while it is further away."""
    days_left = (due - today).days
    if days_left < -after:
        return Level.ESCALATED
    if days_left < 0:
        return Level.OVERDUE
    if days_left <= before:
        return Level.UPCOMING
    return None
