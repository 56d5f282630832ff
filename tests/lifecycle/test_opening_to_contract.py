"""One open tender, for each scoring method, from its signed opening record to a published
contract, through the services only: the expert draw (each drawn expert confirms, the draw is
revealed at the session time), the committee seated from the draw, the qualification review,
the scores, the report signed by every expert, the candidates' publicity, the award notice and
the contract — with the exact ledger events of every step and the deposits due for refund.

The worlds are tests/evaluation/world.py's (bidders, five experts with accounts and bound
person certificates, the opening), tests/award/world.py's (prices, deposits paid) and
tests/experts/draw_world.py's (finding one's own invitation); the adapters are below.

The clock (tests/conftest.T0): the bid deadline is Monday 2026-12-14 10:00 (China); the opening
one second later; the session at 12:00 that day; the publicity from 12:00 to Thursday
2026-12-17 12:00 (R25: three days); the award then; the contract signed on Friday 2026-12-18.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from ggzy.award import notice as notices
from ggzy.award import periods, selectors
from ggzy.award import services as award
from ggzy.award import services_contract as contracts
from ggzy.award.models import AwardNotice, Contract
from ggzy.award.states import ObligationKind, ObligationStatus, SecurityForm, Stage
from ggzy.bidding import opening as openings
from ggzy.bidding.models import Deposit, Opening
from ggzy.bidding.states import DepositStatus, OpeningStatus
from ggzy.core import clock
from ggzy.core.errors import Conflict
from ggzy.evaluation import services, services_report, services_review
from ggzy.evaluation.models import CommitteeMember, EvaluationSession
from ggzy.evaluation.states import SessionStatus
from ggzy.experts import draw_answers, draw_services
from ggzy.experts.draw_models import Draw
from ggzy.experts.draw_services import QuotaTerms
from ggzy.experts.draw_states import DrawnStatus, DrawStatus
from ggzy.ledger.models import Event
from tests.award import world as aw
from tests.evaluation import world as ew
from tests.experts import draw_world as dw

DEPOSIT = "200000.00"
SESSION_AT = aw.cn(2026, 12, 14, 12)
PUBLICITY_ENDS = aw.cn(2026, 12, 17, 12)
SIGNED_ON = date(2026, 12, 18)
METHODS = ["comprehensive", "lowest_price"]


# --- adapters -------------------------------------------------------------------------------------


class Ledger:
    """The events appended since the last call, as ``(subject kind, event type)``."""

    def __init__(self) -> None:
        self.seen = self._last()

    @staticmethod
    def _last() -> int:
        last = Event.objects.order_by("-seq").values_list("seq", flat=True).first()
        return int(last or 0)

    def new(self) -> list[tuple[str, str]]:
        rows = Event.objects.filter(seq__gt=self.seen).order_by("seq")
        out = [(subject.split(":", 1)[0], kind) for subject, kind in
               rows.values_list("subject", "event_type")]  # fmt: skip
        self.seen = self._last()
        return out


@dataclass
class Tender:
    eval: ew.EvalWorld
    method: str

    @property
    def section(self) -> Any:
        return self.eval.section

    @property
    def staff(self) -> Any:
        return self.eval.staff

    @property
    def tenderer(self) -> Any:
        return self.eval.bidding.tenderer

    def entity(self, n: int) -> Any:
        return self.eval.bidding.bidders[n - 1].entity


def opened(clock_: Any, method: str) -> Tender:
    """Three bidders with paid deposits bid ``aw.PRICES``; the opening closes with its signed
    record at the deadline."""
    world = ew.make_world(clock_, method=method, deposit=DEPOSIT)
    aw.pay_deposits(world)
    ew.open_section(world, aw.PRICES)
    return Tender(world, method)


def draw_committee(t: Tender) -> Draw:
    """The five pool experts (A01.01, each with an account) are the quota's only candidates."""
    return draw_services.request_draw(actor=t.staff, section=t.section, session_at=SESSION_AT,
                                      quotas=[QuotaTerms("A01.01", 5)])  # fmt: skip


def confirm_invitations(t: Tender, draw: Draw) -> None:
    for m in t.eval.members:
        invitation = dw.owner_invitation(draw, m.user)
        draw_answers.answer_invitation(actor=m.user, invitation=invitation, accept=True)


def scored(t: Tender, session: EvaluationSession) -> None:
    """Every member scores every bid the same (comprehensive); nothing to score under R35."""
    if t.method == "comprehensive":
        ew.score_all(t.eval, session, {b.label: aw.TECH for b in session.bids.all()})


# --- the lifecycle --------------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_from_a_signed_opening_record_to_a_published_contract(db, region, frozen_clock, method):  # type: ignore[no-untyped-def]
    # given a section opened at the deadline with a signed record of three bids, deposits paid
    t = opened(frozen_clock, method)
    record = Opening.objects.get(section=t.section)
    assert record.status == OpeningStatus.CLOSED and openings.verify_record(record)
    assert clock.now() == aw.cn(2026, 12, 14, 10, 0, 1)
    assert set(Deposit.objects.filter(section=t.section).values_list("status", flat=True)) == {
        DepositStatus.PAID
    }
    ledger = Ledger()
    # when the committee is drawn and seated, the bids evaluated, the result published and the
    # contract recorded (each step's ledger events are checked on the way)
    session = drawn_and_seated(t, frozen_clock, ledger)
    session = evaluated(t, session, ledger)
    publicity_and_award(t, frozen_clock, ledger)
    contract = contracted(t, frozen_clock, ledger)
    # then the contract is public and every step of the chain is on its subject in the ledger
    assert selectors.stage_of(t.section) == Stage.CONTRACTED
    assert selectors.visible_contract(None, t.section) == contract
    assert session.status == SessionStatus.SIGNED
    scores = 5 if method == "comprehensive" else 0
    assert Event.objects.filter(subject=f"evaluation:{session.public_id}").count() == (
        1 + 1 + 1 + 5 + 1 + scores + 1 + 5 + 1
    )
    assert list(Event.objects.filter(subject=f"award:{t.section.public_id}").order_by("seq")
                .values_list("event_type", flat=True)) == [
        "award.candidates_published", "award.notice_issued", "award.contract_recorded",
        "award.contract_published",
    ]  # fmt: skip


def drawn_and_seated(t: Tender, frozen_clock: Any, ledger: Ledger) -> EvaluationSession:
    # the center draws: committed, then drawn on the first signed tree head covering it
    draw = draw_committee(t)
    assert draw.status == DrawStatus.DRAWN
    assert ledger.new() == [("expert-draw", "experts.draw_committed"),
                            ("expert-draw", "experts.draw_drawn")]  # fmt: skip
    assert sorted(draw.drawn.values_list("role", "status")) == [("main", DrawnStatus.NOTIFIED)] * 5
    # each drawn expert confirms their own invitation
    confirm_invitations(t, draw)
    draw.refresh_from_db()
    assert draw.status == DrawStatus.COMPLETE
    assert ledger.new() == [("expert-draw", "experts.draw_confirmed")] * 5 + [
        ("expert-draw", "experts.draw_complete")
    ]
    # the session opens, but no committee is seated while the draw is sealed (R17)
    session = services.create_session(actor=t.staff, section=t.section)
    assert ledger.new() == [("evaluation", "evaluation.session_created")]
    with pytest.raises(Conflict) as refused:
        services.form_committee_from_draw(actor=t.staff, session=session, draw=draw)
    assert refused.value.code == "draw_sealed"
    assert not CommitteeMember.objects.filter(session=session).exists() and ledger.new() == []
    # at the session time the draw is revealed and seats its confirmed experts
    frozen_clock.set(SESSION_AT)
    draw = draw_answers.reveal_draw(actor=t.staff, draw=draw)
    session = services.form_committee_from_draw(actor=t.staff, session=session, draw=draw)
    assert ledger.new() == [("expert-draw", "experts.draw_revealed"),
                            ("evaluation", "evaluation.committee_formed")]  # fmt: skip
    seated = dict(session.members.values_list("expert_id", "is_chair"))
    assert set(seated) == {m.expert.pk for m in t.eval.members}
    assert set(draw.drawn.values_list("expert_id", flat=True)) == set(seated)
    first = draw_answers.seated_experts(draw)[0]  # the first seat of the first quota chairs
    assert [e for e, chair in seated.items() if chair] == [first.pk]
    return session


def evaluated(t: Tender, session: EvaluationSession, ledger: Ledger) -> EvaluationSession:
    # the review: every finding passes and every member confirms it
    services_review.start_review(actor=t.staff, session=session)
    ew.confirm_all(t.eval, session)
    services_review.start_scoring(actor=t.staff, session=session)
    assert ledger.new() == [("evaluation", "evaluation.review_started")] + [
        ("evaluation", "evaluation.findings_voted")
    ] * 5 + [("evaluation", "evaluation.scoring_started")]
    session.refresh_from_db()
    assert session.status == SessionStatus.SCORING
    assert not session.findings.filter(outcome=False).exists()
    assert all(b.valid for b in session.bids.all())
    # the scores (none under the lowest evaluated price) and the report
    scored(t, session)
    result = services_report.build_report(actor=t.staff, session=session)
    scores = 5 if t.method == "comprehensive" else 0
    assert ledger.new() == [("evaluation", "evaluation.scores_submitted")] * scores + [
        ("evaluation", "evaluation.report_built")
    ]
    labels = dict(session.bids.values_list("entity_id", "label"))
    cheapest_first = [labels[t.entity(n).pk] for n in (1, 3, 2)]  # 9.0M, 9.3M, 9.5M
    assert list(result.candidates) == cheapest_first
    top = result.bid(cheapest_first[0])
    if t.method == "comprehensive":
        assert (str(top.price_points), str(top.total)) == ("60.00", "93.00")
    else:
        assert top.total is None
    # every expert signs the report bytes with their person certificate
    session = ew.sign_all(t.eval, session)
    assert session.status == SessionStatus.SIGNED and session.signed_at == SESSION_AT
    signing = [("signature", "trust.document_signed"), ("evaluation", "evaluation.report_signed")]
    assert ledger.new() == signing * 5 + [("evaluation", "evaluation.report_completed")]
    return session


def publicity_and_award(t: Tender, frozen_clock: Any, ledger: Ledger) -> AwardNotice:
    # the tenderer publishes the candidates for the R25 minimum of three days
    ends = periods.earliest_end(clock.now(), award.rules_for(t.section))
    assert ends == PUBLICITY_ENDS
    publicity = award.publish_candidates(actor=t.tenderer, section=t.section, ends_at=ends)
    assert ledger.new() == [("award", "award.candidates_published")]
    ranked = list(publicity.candidates.order_by("rank").values_list("rank", "entity_id", "price"))
    assert ranked == [(1, t.entity(1).pk, Decimal("9000000.00")),
                      (2, t.entity(3).pk, Decimal("9300000.00")),
                      (3, t.entity(2).pk, Decimal("9500000.00"))]  # fmt: skip
    assert selectors.stage_of(t.section) == Stage.PUBLICITY
    # no award while the publicity runs: refused, nothing written
    frozen_clock.set(ends - timedelta(seconds=1))
    with pytest.raises(Conflict) as refused:
        award.issue_award(actor=t.tenderer, section=t.section)
    assert refused.value.code == "publicity_running"
    assert not AwardNotice.objects.filter(section=t.section).exists() and ledger.new() == []
    # once it has ended, the first candidate is awarded with a signed notice
    frozen_clock.set(ends)
    assert selectors.stage_of(t.section) == Stage.ENDED
    notice = award.issue_award(actor=t.tenderer, section=t.section)
    assert (notice.entity_id, notice.amount) == (t.entity(1).pk, Decimal("9000000.00"))
    assert notices.verify(notice) and not notice.validity_warning
    assert ledger.new() == [("award", "award.notice_issued")]  # works (R12): no refund yet
    assert set(Deposit.objects.filter(section=t.section).values_list("status", flat=True)) == {
        DepositStatus.PAID
    }
    return notice


def contracted(t: Tender, frozen_clock: Any, ledger: Ledger) -> Contract:
    # the contract is signed the next day, recorded (every deposit falls due) and published
    frozen_clock.set(aw.cn(2026, 12, 18, 15))
    contract = contracts.record_contract(
        actor=t.tenderer, section=t.section, amount="9000000.00", signed_on=SIGNED_ON,
        security_amount="450000.00", security_form=SecurityForm.BANK_GUARANTEE,
    )  # fmt: skip
    assert (contract.late, contract.deadline) == (False, date(2027, 1, 16))  # R26: 30 days
    assert (
        ledger.new()
        == [("award", "award.contract_recorded")] + [("deposit", "bidding.refund_scheduled")] * 3
    )
    contracts.publish_contract(actor=t.tenderer, contract=contract)
    assert ledger.new() == [("award", "award.contract_published")]
    contract = Contract.objects.get(award__section=t.section)
    assert contract.published_at == aw.cn(2026, 12, 18, 15)
    assert list(contract.obligations.values_list("kind", "amount", "status", "due_on")) == [
        (ObligationKind.PERFORMANCE_DEPOSIT, Decimal("450000.00"), ObligationStatus.DUE, SIGNED_ON)
    ]
    # R12: every bid deposit is due for refund within five days of the signing
    deposits = list(Deposit.objects.filter(section=t.section).order_by("pk"))
    assert sorted(d.entity_id for d in deposits) == sorted(t.entity(n).pk for n in (1, 2, 3))
    assert {(d.status, d.refund_trigger, d.refund_due) for d in deposits} == {
        (DepositStatus.REFUND_DUE, "contract_signed", date(2026, 12, 23))
    }
    scheduled = Event.objects.filter(event_type="bidding.refund_scheduled").order_by("seq")
    assert sorted(s.subject for s in scheduled) == sorted(f"deposit:{d.pk}" for d in deposits)
    assert {json.loads(s.payload)["due"] for s in scheduled} == {"2026-12-23"}
    return contract
