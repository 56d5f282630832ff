"""The demo result: the demo tender's opened section (``ggzy.bidding.demo.DONE_NAME``) carried
from its signed opening record to a published contract, through the services a person uses —
the expert draw (each invited expert confirms as themselves, the draw revealed at the session
time), the evaluation session and its committee from the draw, the review, the scores, the
report signed by every expert with a person certificate, the candidates' publicity, the award
notice, the contract and its 三金一款 obligations.

It runs on the bidding demo's simulated clock, continuing after the opening (which was 14 days
before the demo ran). The committee's experts are seven pool experts from Changzhou (320400)
with accounts ``pingwei01``…``pingwei07`` and demo certificates: the draw is limited to that
region (异地抽取), where the demo pool has no one else of the drawn specialties — an expert
without an account could not answer an invitation or sign a report. Idempotent: nothing is done
once the section has an evaluation session; all or nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from django.db import transaction

from ggzy.accounts.models import User
from ggzy.accounts.roles import Role
from ggzy.accounts.services import create_user
from ggzy.award import periods
from ggzy.award import services as award
from ggzy.award import services_contract as contracts
from ggzy.award.models import AwardNotice, Contract
from ggzy.award.states import ObligationKind, ObligationStatus, SecurityForm
from ggzy.bidding import deposits
from ggzy.bidding.demo import DONE_NAME
from ggzy.bidding.models import Bid, Deposit, Opening
from ggzy.bidding.states import DepositStatus
from ggzy.core import calendar, clock
from ggzy.core.identifiers import IdentifierError, make_resident_id, validate_uscc
from ggzy.core.money import yuan
from ggzy.evaluation import config, services, services_report, services_review, services_scoring
from ggzy.evaluation.models import EvaluationSession
from ggzy.evaluation.states import LowPriceOutcome
from ggzy.experts import draw_answers, draw_selectors, draw_services, selectors
from ggzy.experts import services as experts
from ggzy.experts.checks import ExpertData
from ggzy.experts.draw_models import Draw
from ggzy.experts.draw_services import QuotaTerms
from ggzy.experts.draw_states import DrawnStatus
from ggzy.experts.models import Expert
from ggzy.registry.models import Entity, EntityStatus, MemberRole, Membership
from ggzy.tendering.models import Section
from ggzy.trust.demo import issue_person_keystores
from ggzy_client import keys, signatures

SYSTEM = "system:demo"
DEMO_PASSWORD = "Demo-2026-ggzy"
REGION = "320400"  # 常州市: where the draw takes its experts from
QUOTAS = [QuotaTerms("A01.01", 3, 1), QuotaTerms("A01.03", 2, 1)]  # 土建 3, 建筑电气 2
PANEL = [  # username, name, primary specialty, title level, title, years
    ("pingwei01", "钱志远", "A01.01", "senior", "正高级工程师", 24),
    ("pingwei02", "沈慧敏", "A01.01", "associate_senior", "高级工程师", 15),
    ("pingwei03", "顾建平", "A01.01", "associate_senior", "高级工程师", 12),
    ("pingwei04", "蒋文彬", "A01.01", "senior", "教授级高级工程师", 28),
    ("pingwei05", "许丽娟", "A01.03", "associate_senior", "高级工程师", 11),
    ("pingwei06", "曹国强", "A01.03", "senior", "正高级工程师", 19),
    ("pingwei07", "陆海峰", "A01.03", "associate_senior", "高级工程师", 9),
]
# the share of a criterion's points each valid bid gets, cheapest first; experts differ a little
SHARES = [Decimal("0.88"), Decimal("0.82"), Decimal("0.78"), Decimal("0.75")]


@dataclass
class DemoEvaluation:
    created: bool
    project: str = ""
    section: str = ""  # public id
    draw: str = ""
    session: str = ""
    committee: list[str] = field(default_factory=list)  # usernames
    contract: str = ""

    def pages(self) -> list[tuple[str, str]]:
        return [
            ("result, award notice and contract (public)", f"/award/sections/{self.section}/"),
            ("evaluation session (center, committee)", f"/evaluation/{self.session}/"),
            ("evaluation report", f"/evaluation/{self.session}/report/"),
            ("expert draw (center)", f"/staff/draws/{self.draw}/"),
            ("draw verification (audit)", f"/audit/draws/{self.draw}/verify/"),
        ]


def load_demo_evaluation(var_dir: Path | str) -> DemoEvaluation:
    """Idempotent: does nothing if the demo section has an evaluation session; all or nothing."""
    section = Section.objects.select_related("project").filter(project__name=DONE_NAME).first()
    if section is None:
        raise RuntimeError("load the demo tender first (no opened demo section)")
    existing = EvaluationSession.objects.filter(section=section).first()
    if existing is not None:
        return _result(False, section, existing)
    with transaction.atomic():
        return _load(Path(var_dir), section)


def _result(created: bool, section: Section, session: EvaluationSession) -> DemoEvaluation:
    draw = Draw.objects.filter(section=section, tops_up__isnull=True).order_by("pk").first()
    contract = Contract.objects.filter(award__section=section).first()
    return DemoEvaluation(
        created, project=section.project.name, section=section.public_id,
        draw=draw.public_id if draw else "", session=session.public_id,
        committee=sorted(session.members.values_list("user__username", flat=True)),
        contract=contract.public_id if contract else "",
    )  # fmt: skip


def _load(var_dir: Path, section: Section) -> DemoEvaluation:
    opening = Opening.objects.get(section=section)
    assert opening.closed_at is not None
    desk, admin = User.objects.get(username="zuzhi"), User.objects.get(username="admin")
    tenderer = _tenderer_admin(section)
    real_now, real_today = clock.now(), clock.today()
    with clock.frozen(opening.closed_at + timedelta(minutes=20)) as sim:
        panel = _panel(admin, section, var_dir / "demo-keys")
        draw = _draw(desk, section, panel, sim)
        sim.set(draw.session_at)
        draw = draw_answers.reveal_draw(actor=desk, draw=draw)
        session = services.create_session(actor=desk, section=section)
        session = services.form_committee_from_draw(actor=desk, session=session, draw=draw)
        members = [m.user for m in session.members.select_related("user").order_by("pk")]
        _review(desk, session, members, sim)
        _score(desk, session, members, sim)
        _sign(session, members, var_dir / "demo-keys", sim)
        _result_and_contract(tenderer, section, real_today, sim)
        if clock.now() >= real_now:
            raise RuntimeError("the demo result would end in the future")
    session.refresh_from_db()
    return _result(True, section, session)


def _tenderer_admin(section: Section) -> User:
    m = (
        Membership.objects.select_related("user")
        .filter(entity_id=section.project.tenderer_id, role=MemberRole.ADMIN)
        .order_by("user__username")
        .first()
    )
    if m is None:
        raise RuntimeError("the demo tenderer has no admin")
    return m.user


# --- the experts ----------------------------------------------------------------------------------


def _person_id(k: int) -> str:
    """A resident ID of Changzhou the demo pool cannot have (its days stop at 28), and that
    does not also read as a USCC (a certificate carrying it must be a person's)."""
    for n in range(k * 10, k * 10 + 10):
        rid = make_resident_id(f"{REGION}19720529{n:03d}")
        try:
            validate_uscc(rid)
        except IdentifierError:
            return rid
    raise RuntimeError("no resident ID")  # pragma: no cover - one in 31 is a USCC


def _employers(section: Section) -> list[Entity]:
    """Consulting firms (agents) that are no party of the section: not the tenderer, its agent
    or a bidder."""
    bidders = set(_opening_bidders(section))
    rows = Entity.objects.filter(status=EntityStatus.ACTIVE, is_agent=True, is_bidder=False)
    rows = rows.exclude(pk=section.project.tenderer_id).exclude(pk__in=bidders)
    if section.project.agent_id:
        rows = rows.exclude(pk=section.project.agent_id)
    found = list(rows.order_by("pk")[:3])
    if not found:
        raise RuntimeError("no neutral employer for the demo experts")
    return found


def _opening_bidders(section: Section) -> list[int]:
    return list(
        Bid.objects.filter(section=section, entity__isnull=False).values_list(
            "entity_id", flat=True
        )
    )


def _panel(admin: User, section: Section, keys_root: Path) -> list[User]:
    """Seven Changzhou experts with accounts, in the pool, with bound person certificates."""
    employers = _employers(section)
    users = []
    for k, (username, name, specialty, level, title, years) in enumerate(PANEL, start=1):
        rid = _person_id(k)
        user = create_user(actor=SYSTEM, username=username, password=DEMO_PASSWORD,
                           roles=[Role.EXPERT], display_name=f"评标专家 {name}", resident_id=rid,
                           check_password=False)  # fmt: skip
        experts.register_expert(actor=admin, username=username, data=ExpertData(
            name=name, resident_id=rid, phone=f"1385190{k:04d}", title_level=level,
            title_name=title, years_in_field=years, employer=employers[k % len(employers)].uscc,
            region=REGION, primary_specialty=specialty, other_specialties=[],
        ))  # fmt: skip
        users.append(user)
    issue_person_keystores(keys_root, users)
    return users


def _draw(desk: User, section: Section, panel: list[User], sim: clock.FrozenClock) -> Draw:
    """The draw for the next working day 09:00, and every invited expert confirms."""
    now = clock.now()
    day = calendar.add_working_days(now.astimezone(clock.CHINA).date(), 1)
    session_at = datetime.combine(day, time(9, 0), tzinfo=clock.CHINA)
    _check_region_pool(day)
    draw = draw_services.request_draw(actor=desk, section=section, session_at=session_at,
                                      quotas=QUOTAS, include_regions=[REGION])  # fmt: skip
    for user in panel:
        for row in draw_selectors.my_invitations(user):
            if row.draw_id == draw.pk and row.status == DrawnStatus.NOTIFIED:
                sim.advance(minutes=3)
                draw_answers.answer_invitation(actor=user, invitation=row, accept=True)
    draw.refresh_from_db()
    return draw


def _check_region_pool(day: date) -> None:
    """Everyone the draw may pick must be able to answer and sign: has an account."""
    ids = selectors.draw_candidates(
        specialties=[q.specialty for q in QUOTAS], day=day, regions=[REGION]
    )
    without = Expert.objects.filter(pk__in=ids, user__isnull=True).count()
    if without:
        raise RuntimeError(f"{without} expert(s) without an account could be drawn in {REGION}")


# --- the evaluation -----------------------------------------------------------------------------


def _review(
    desk: User, session: EvaluationSession, members: list[User], sim: clock.FrozenClock
) -> None:
    """The automated checks; every member confirms them (a bid without a valid qualification on
    the deadline is rejected: the demo's first bidder's expired in June)."""
    services_review.start_review(actor=desk, session=session)
    sim.advance(minutes=30)
    findings = list(session.findings.values_list("pk", flat=True))
    for user in members:
        sim.advance(minutes=2)
        services_review.cast_votes(actor=user, session=session,
                                   votes=[(f, True, "") for f in findings])  # fmt: skip
    sim.advance(minutes=5)
    services_review.start_scoring(actor=desk, session=session)


def _score(
    desk: User, session: EvaluationSession, members: list[User], sim: clock.FrozenClock
) -> None:
    """Every member scores every valid bid (the cheaper, the better its technical offer here, so
    the demo's result is the same on every run); then the report."""
    session.refresh_from_db()
    for bid in session.bids.filter(low_price=LowPriceOutcome.PENDING):
        services_scoring.decide_low_price(actor=members[0], session=session, bid=bid.label,
                                          accepted=True, note="成本构成说明合理")  # fmt: skip
    valid = sorted((b for b in session.bids.all() if b.valid), key=lambda b: (b.price, b.label))
    criteria = config.scheme(session.scheme).scored_criteria
    for k, user in enumerate(members):
        sim.advance(minutes=15)
        entries = [
            services_scoring.ScoreEntry(bid.label, c.id, _points(c.max_points, n, k), "符合招标文件要求")
            for n, bid in enumerate(valid) for c in criteria
        ]  # fmt: skip
        if entries:
            services_scoring.submit_scores(actor=user, session=session, entries=entries)
    sim.advance(minutes=10)
    services_report.build_report(actor=desk, session=session)


def _points(maximum: Decimal, bid: int, member: int) -> str:
    share = SHARES[bid % len(SHARES)] + Decimal("0.02") * (member % 3 - 1)
    return str(min(maximum, (maximum * share).quantize(Decimal(1))))


def _sign(
    session: EvaluationSession, members: list[User], keys_root: Path, sim: clock.FrozenClock
) -> None:
    """Every member signs the report bytes with the keystore the demo PKI wrote for them."""
    session.refresh_from_db()
    data = bytes(session.report or b"")
    for user in members:
        sim.advance(minutes=3)
        keystore = keys.load_keystore(keys_root / user.username / "key.pem")
        sigfile = signatures.sign_detached(data, keystore, name=services_report.REPORT_NAME)
        services_report.sign_report(actor=user, session=session, sigfile=sigfile)


# --- the result and the contract ----------------------------------------------------------------


def _result_and_contract(
    tenderer: User, section: Section, real_today: date, sim: clock.FrozenClock
) -> None:
    """The publicity from the afternoon of the evaluation for the minimum period (R25); the
    award the hour after it ends; the contract the next day."""
    sim.advance(hours=3)
    ends = periods.earliest_end(clock.now(), award.rules_for(section))
    award.publish_candidates(actor=tenderer, section=section, ends_at=ends)
    sim.set(ends + timedelta(hours=1))
    notice = award.issue_award(actor=tenderer, section=section)
    sim.advance(days=1)
    _contract(tenderer, section, notice, real_today, sim)
    sim.advance(days=1)
    _refund_deposits(section)


def _contract(
    tenderer: User, section: Section, notice: AwardNotice, real_today: date,
    sim: clock.FrozenClock,
) -> Contract:  # fmt: skip
    """Recorded, published, and its 三金一款: the performance deposit (a bank guarantee, paid),
    the advance payment (due in two days from the real today: the tracker warns of it) and the
    quality deposit."""
    contract = contracts.record_contract(
        actor=tenderer, section=section, amount=notice.amount, signed_on=clock.today(),
        security_amount=yuan(notice.amount * Decimal("0.05")),
        security_form=SecurityForm.BANK_GUARANTEE,
    )  # fmt: skip
    sim.advance(hours=2)
    contracts.publish_contract(actor=tenderer, contract=contract)
    performance = contract.obligations.get(kind=ObligationKind.PERFORMANCE_DEPOSIT)
    contracts.settle_obligation(actor=tenderer, obligation=performance,
                                status=ObligationStatus.PAID, on=clock.today(),
                                reference="BG-DEMO-0001")  # fmt: skip
    contracts.add_obligation(
        actor=tenderer, contract=contract, kind=ObligationKind.PROGRESS_PAYMENT,
        name="预付款（合同价10%）", amount=yuan(notice.amount * Decimal("0.10")),
        due_on=real_today + timedelta(days=2),
    )  # fmt: skip
    completion = clock.today() + timedelta(days=section.duration_days or 540)
    contracts.add_obligation(
        actor=tenderer, contract=contract, kind=ObligationKind.QUALITY_DEPOSIT,
        name="工程质量保证金（3%）", amount=yuan(notice.amount * Decimal("0.03")),
        due_on=completion, refund_due_on=completion + timedelta(days=730),
    )  # fmt: skip
    return contract


def _refund_deposits(section: Section) -> None:
    """The center's finance refunds the bid deposits the contract made due (R12: within five
    days of the signing)."""
    finance = User.objects.get(username="caiwu")
    for deposit in Deposit.objects.filter(section=section, status=DepositStatus.REFUND_DUE):
        deposits.mark_refunded(actor=finance, deposit=deposit,
                               reference=f"RF-DEMO-{deposit.pk:04d}")  # fmt: skip
