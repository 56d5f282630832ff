"""Due dates of the result stage and the warnings they raise: the start of the publicity (R25 /
R31; a publicity that started late stays warned about), answers to objections (R9 / R30), the award before the bids' validity runs out (R37), the
contract (R26 / R27), its publication and filing (R27), the deposits' refunds (R12 / R13) and
the contract's obligations (三金一款). A due date warns ``before`` days ahead, is overdue once it
has passed, and escalated ``after`` days later (``GGZY_AWARD_WARN_BEFORE_DAYS`` /
``GGZY_AWARD_WARN_AFTER_DAYS``, 3 each by default).

:func:`collect` works on rows already loaded (no queries of its own beyond the working-day
calendar); the selector loads them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.utils.translation import gettext as _

from ggzy.award import periods
from ggzy.award.models import AwardNotice, Contract, Publicity
from ggzy.award.periods import rules_of
from ggzy.award.states import Level, ObjectionStatus, ObligationKind, ObligationStatus

DEFAULT_DAYS = 3


def window() -> tuple[int, int]:
    return (
        int(getattr(settings, "GGZY_AWARD_WARN_BEFORE_DAYS", DEFAULT_DAYS)),
        int(getattr(settings, "GGZY_AWARD_WARN_AFTER_DAYS", DEFAULT_DAYS)),
    )


@dataclass(frozen=True)
class Warning:
    section: str  # public id
    section_label: str
    project: str
    kind: str
    message: str
    due: date
    days_overdue: int  # negative: days left
    level: str
    rule: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "section": self.section, "section_label": self.section_label,
            "project": self.project, "kind": self.kind, "message": self.message,
            "due": self.due, "days_overdue": self.days_overdue, "level": self.level,
            "rule": self.rule,
        }  # fmt: skip


def award_of(publicity: Publicity) -> AwardNotice | None:
    try:
        return publicity.award
    except ObjectDoesNotExist:
        return None


def contract_of(award: AwardNotice | None) -> Contract | None:
    if award is None:
        return None
    try:
        return award.contract
    except ObjectDoesNotExist:
        return None


class _Collector:
    def __init__(self, today: date, before: int, after: int) -> None:
        self.today, self.before, self.after = today, before, after
        self.out: list[Warning] = []

    def add(self, section: Any, kind: str, message: str, due: date, rule: str,
            *, level: str | None = None, days: int | None = None) -> None:  # fmt: skip
        level = level or periods.level(due, self.today, before=self.before, after=self.after)
        if level is None:
            return
        self.out.append(Warning(
            section=section.public_id, section_label=section.label, project=section.project.name,
            kind=kind, message=message, due=due,
            days_overdue=(self.today - due).days if days is None else days, level=level,
            rule=rule,
        ))  # fmt: skip


def collect(
    *,
    awaiting: Iterable[Any],
    publicities: Iterable[Publicity],
    deposits: Iterable[Any],
    today: date,
    before: int,
    after: int,
) -> list[Warning]:
    """The warnings of sections whose report is signed but not yet published (``awaiting``:
    evaluation sessions), of published results, and of deposits due for refund."""
    c = _Collector(today, before, after)
    for session in awaiting:
        rules = rules_of(periods.regime_of(session.section.project.ruleset.rules or {}))
        start = rules.publicity_start
        c.add(session.section, "publicity_start",
              _("评标报告已签署，应在%(period)s内公示中标候选人") % {"period": start.label()},
              periods.last_start_day(session.signed_at, rules), start.rule)  # fmt: skip
    for publicity in publicities:
        _publicity(c, publicity)
    for deposit in deposits:
        working = "deposit_refund_working_days" in (deposit.section.project.ruleset.rules or {})
        c.add(deposit.section, "deposit_refund",
              _("投标保证金应退还：%(bidder)s") % {"bidder": deposit.entity.name},
              deposit.refund_due, "R13" if working else "R12")  # fmt: skip
    return sorted(c.out, key=lambda w: (w.due, w.section, w.kind))


def _publicity(c: _Collector, publicity: Publicity) -> None:
    section = publicity.section
    rules = rules_of(publicity.regime)
    if publicity.late:  # recorded as it happened; supervision sees it for good, as a late contract
        last_day = periods.last_start_day(publicity.report_signed_at, rules)
        c.add(section, "publicity_started_late", _("中标候选人公示逾期开始"), last_day,
              rules.publicity_start.rule, level=Level.OVERDUE,
              days=(periods.local_date(publicity.starts_at) - last_day).days)  # fmt: skip
    for o in publicity.objections.all():
        if o.status == ObjectionStatus.OPEN:
            last_day = periods.local_date(o.reply_due - timedelta(microseconds=1))
            c.add(section, "objection_reply",
                  _("异议待答复：%(bidder)s") % {"bidder": o.entity.name}, last_day,
                  rules.objection_reply.rule)  # fmt: skip
    award = award_of(publicity)
    if award is None:
        limit = periods.award_by(section.bid_deadline, section.bid_validity_days, rules)
        if limit is not None:
            c.add(section, "award_validity",
                  _("应在投标有效期届满30个工作日前完成定标"), limit, "R37")  # fmt: skip
        decision = periods.decision_due(publicity.report_signed_at, rules)
        if decision is not None:
            c.add(section, "award_decision",
                  _("采购人应在收到评标报告后5个工作日内确定中标人，逾期视为确定排名第一的中标候选人"),
                  decision, "R31")  # fmt: skip
        return
    report_due = periods.award_report_due(award.issued_at, rules)
    if report_due is not None and award.report_filed_at is None:
        c.add(section, "award_report",
              _("招标人应自确定中标人之日起15日内向有关行政监督部门提交书面报告"),
              report_due, "R28")  # fmt: skip
    contract = contract_of(award)
    if contract is None:
        c.add(section, "contract_signing",
              _("应自中标通知书发出之日起30日内订立书面合同"),
              periods.contract_deadline(award.issued_at, rules),
              rules.contract_within.rule)  # fmt: skip
        return
    if contract.late:
        c.add(section, "contract_signed_late", _("合同逾期签订"), contract.deadline,
              rules.contract_within.rule, level=Level.OVERDUE,
              days=(contract.signed_on - contract.deadline).days)  # fmt: skip
    if contract.published_at is None and contract.publication_due is not None:
        c.add(section, "contract_publication", _("合同应自签订之日起2个工作日内公告"),
              contract.publication_due, "R27")  # fmt: skip
    if contract.filed_at is None and contract.filing_due is not None:
        c.add(section, "contract_filing", _("合同应自签订之日起7个工作日内备案"),
              contract.filing_due, "R27")  # fmt: skip
    for item in contract.obligations.all():
        label = ObligationKind(item.kind).label
        if item.status == ObligationStatus.DUE:
            c.add(section, "obligation_due",
                  _("%(kind)s应缴/应付：%(name)s") % {"kind": label, "name": item.name},
                  item.due_on, "")  # fmt: skip
        elif item.status == ObligationStatus.PAID and item.refund_due_on is not None:
            c.add(section, "obligation_refund",
                  _("%(kind)s应退还：%(name)s") % {"kind": label, "name": item.name},
                  item.refund_due_on, "")  # fmt: skip
