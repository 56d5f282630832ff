"""A result world: a section whose evaluation report every expert has signed, built through the
services with tests/evaluation/world.py (bidders, experts, opening, review, scoring, signing),
optionally with paid deposits and under government procurement.

The clock: tests/conftest.T0 is Monday 2026-11-23 10:00 (China). The bid deadline is 21 days
later, Monday 2026-12-14 10:00; the opening, the evaluation and the report's signatures all
happen one second after it, so the report is signed on Monday 2026-12-14.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ggzy.accounts.roles import Role
from ggzy.bidding import deposits
from ggzy.core.clock import CHINA
from ggzy.evaluation import services_report, services_review
from ggzy.evaluation.models import EvaluationSession
from ggzy.registry.models import Entity
from ggzy.tendering.models import Project, Section
from tests.api.support import register
from tests.bidding import world as bw
from tests.conftest import make_user
from tests.evaluation import world as ew

PRICES = ["9000000.00", "9500000.00", "9300000.00"]  # bidder1 < bidder3 < bidder2
TECH = {"c2": "25", "c3": "8"}  # every bid the same points: the price decides
SIGNED = datetime(2026, 12, 14, 10, 0, 1, tzinfo=CHINA)
_refs = itertools.count(1)


@dataclass
class AwardWorld:
    eval: ew.EvalWorld
    session: EvaluationSession
    clock: Any

    @property
    def section(self) -> Section:
        return self.eval.section

    @property
    def tenderer(self) -> Any:
        return self.eval.bidding.tenderer

    @property
    def bidders(self) -> list[bw.Bidder]:
        return self.eval.bidding.bidders

    def bidder(self, n: int) -> bw.Bidder:
        """Bidder ``n`` (1-based, as in ``PRICES``)."""
        return self.bidders[n - 1]

    def at(self, moment: datetime) -> None:
        self.clock.set(moment)


def _world(clock: Any, category: str, deposit: str, bidders: int = 3) -> ew.EvalWorld:
    bidding = ew.make_bidders(bidders)
    terms: dict[str, Any] = {"deposit": deposit}
    project: dict[str, Any] = {}
    if category == "procurement":
        project = {"category": "procurement", "subject_type": "goods",
                   "investment_project_code": "", "name": "南京市某中学教学设备采购"}  # fmt: skip
        terms["estimated_price"] = "9990000.00"  # under ¥10M: a committee of 5 (R18)
    bw.publish(bidding, terms=bw.project_terms(sections=[bw.section_terms(**terms)], **project))
    keeper = make_user("pool_keeper", Role.CENTER_ADMIN)
    employer = register(make_user("institute_admin", Role.TENDERER), 700,
                        name="南京市建筑设计研究院", is_bidder=False, is_tenderer=True,
                        legal_representative_id=ew.legal_rep_id(700))  # fmt: skip
    world = ew.EvalWorld(bidding, bidding.operations, keeper, employer, clock=clock)
    ew.make_experts(world)
    return world


def pay_deposits(world: ew.EvalWorld) -> None:
    """Every bidder opens a transfer deposit and the bank's credit notice pays it."""
    for b in world.bidding.bidders:
        d = deposits.open_deposit(actor=b.user, section=world.section, entity=b.entity,
                                  method="transfer")  # fmt: skip
        deposits.record_bank_notice(
            actor=deposits.BANK, bank_reference=f"BR{next(_refs):08d}",
            virtual_account=d.virtual_account, amount=str(d.amount),
            payer_account="6222020200001234", payer_name=b.entity.name, payer_bank="工商银行",
            credited_at=world.clock.moment,
        )  # fmt: skip


def signed_world(
    clock: Any,
    *,
    category: str = "works",
    deposit: str = "0.00",
    prices: list[str] | None = None,
    bidders: int = 3,
) -> AwardWorld:
    """A section with three bids (``bidders``), evaluated and its report signed by every
    expert."""
    world = _world(clock, category, deposit, bidders)
    if deposit != "0.00":
        pay_deposits(world)
    ew.open_section(world, prices or PRICES)
    session = ew.seated(world)
    services_review.start_review(actor=world.staff, session=session)
    ew.confirm_all(world, session)
    services_review.start_scoring(actor=world.staff, session=session)
    ew.score_all(world, session, {b.label: TECH for b in session.bids.all()})
    services_report.build_report(actor=world.staff, session=session)
    session = ew.sign_all(world, session)
    return AwardWorld(world, session, clock)


def unsigned_world(clock: Any) -> AwardWorld:
    """The same section with its report built but not yet signed."""
    world = _world(clock, "works", "0.00")
    ew.open_section(world, PRICES)
    session = ew.seated(world)
    services_review.start_review(actor=world.staff, session=session)
    ew.confirm_all(world, session)
    services_review.start_scoring(actor=world.staff, session=session)
    ew.score_all(world, session, {b.label: TECH for b in session.bids.all()})
    services_report.build_report(actor=world.staff, session=session)
    session.refresh_from_db()
    return AwardWorld(world, session, clock)


def cn(*args: int) -> datetime:
    """A China Standard Time moment: ``cn(2026, 12, 17, 10)``."""
    return datetime(*args, tzinfo=CHINA)  # type: ignore[misc]


def days(n: float) -> timedelta:
    return timedelta(days=n)


def entity_of(world: AwardWorld, n: int) -> Entity:
    return world.bidder(n).entity


def unconfirmed_agent(world: AwardWorld) -> Any:
    """An agency appointed on the project whose appointment the tenderer never confirmed (委托
    not confirmed): one of its members, holding the agent role."""
    user = make_user("agency_admin", Role.AGENT)
    agency = register(user, 701, name="南京某招标代理有限公司", is_bidder=False, is_agent=True,
                      legal_representative_id=ew.legal_rep_id(701))  # fmt: skip
    Project.objects.filter(pk=world.section.project_id).update(
        agent=agency, agency_confirmed_at=None, agency_confirmed_by=None
    )
    return user


def fresh(world: AwardWorld) -> Section:
    """The section re-read with its project (after a direct update of the project)."""
    return Section.objects.select_related("project").get(pk=world.section.pk)
