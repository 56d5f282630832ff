"""Every refusal of the evaluation services, each with its own code, and nothing changed by it;
R48 related bidders; blind sheets; R23 extensions; viewing spans; abnormally low prices."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from ggzy.accounts.models import UserRole
from ggzy.accounts.roles import Role
from ggzy.bidding import deposits
from ggzy.core import clock
from ggzy.core.errors import Conflict, DomainError, PermissionDenied, ValidationFailed
from ggzy.evaluation import selectors, services, services_report, services_review, services_scoring
from ggzy.evaluation.models import EvaluationSession, Score, ViewingSpan
from ggzy.evaluation.services_scoring import ScoreEntry
from ggzy.evaluation.states import LowPriceOutcome, SessionStatus
from ggzy.experts import services as expert_services
from ggzy.ledger.models import Event
from ggzy.registry.models import Qualification, Region
from ggzy.registry.services import add_member, update_entity
from ggzy.tendering.models import Section
from ggzy.venues import services as venues
from ggzy.venues import sessions as venue_sessions
from tests.conftest import make_user
from tests.evaluation import world as w
from tests.venues.world import ensure_regions

PRICES = ["9000000.00", "9500000.00", "9300000.00"]
TECH = {"c2": "25", "c3": "8"}


@pytest.fixture
def world(db, region, frozen_clock):  # type: ignore[no-untyped-def]
    return w.make_world(frozen_clock)


def _code(exc: pytest.ExceptionInfo[DomainError]) -> str:
    return exc.value.code


def _scoring(world) -> EvaluationSession:  # type: ignore[no-untyped-def]
    w.open_section(world, PRICES)
    session = w.seated(world)
    services_review.start_review(actor=world.staff, session=session)
    w.confirm_all(world, session)
    services_review.start_scoring(actor=world.staff, session=session)
    session.refresh_from_db()
    return session


def _events() -> int:
    return Event.objects.count()


# --- the session and the committee ---------------------------------------------------------------


def test_no_session_before_the_opening_record_is_signed(world):  # type: ignore[no-untyped-def]
    with pytest.raises(Conflict) as exc:
        services.create_session(actor=world.staff, section=world.section)
    assert _code(exc) == "opening_not_found"
    w.open_section(world, PRICES)
    with pytest.raises(PermissionDenied):
        services.create_session(actor=world.bidding.bidders[0].user, section=world.section)
    services.create_session(actor=world.staff, section=world.section)
    with pytest.raises(Conflict) as exc:
        services.create_session(actor=world.staff, section=world.section)
    assert _code(exc) == "session_exists"
    assert EvaluationSession.objects.count() == 1


def test_a_tampered_opening_record_is_not_signed(world):  # type: ignore[no-untyped-def]
    opening = w.open_section(world, PRICES)
    record = dict(opening.record)
    record["bids"] = [dict(record["bids"][0], price="1.00"), *record["bids"][1:]]
    type(opening).objects.filter(pk=opening.pk).update(record=record)
    with pytest.raises(Conflict) as exc:
        services.create_session(actor=world.staff, section=world.section)
    assert _code(exc) == "opening_not_signed"


def test_committee_size_odd_and_two_thirds_experts(world):  # type: ignore[no-untyped-def]
    w.open_section(world, PRICES)
    session = services.create_session(actor=world.staff, section=world.section)
    experts = [m.expert for m in world.members]
    with pytest.raises(ValidationFailed) as exc:
        services.form_committee(actor=world.staff, session=session, experts=experts[:4],
                                chair=experts[0])  # fmt: skip
    assert _code(exc) == "committee_too_small"
    assert set(exc.value.detail["violations"]) == {"committee_too_small", "committee_even"}
    # tenderer representatives count toward the size, not toward the two thirds (R17)
    rep1 = world.bidding.tenderer
    rep2 = make_user("tenderer_rep2", Role.TENDERER)
    add_member(actor=rep1, entity=world.bidding.tenderer_entity, username=rep2.username,
               role="operator")  # fmt: skip
    outsider = make_user("not_a_rep", Role.TENDERER)
    before = _events()
    with pytest.raises(ValidationFailed) as exc:
        services.form_committee(actor=world.staff, session=session, experts=experts[:3],
                                chair=experts[0], tenderer_reps=[rep1, rep2])  # fmt: skip
    assert _code(exc) == "experts_below_two_thirds"
    with pytest.raises(ValidationFailed) as exc:
        services.form_committee(actor=world.staff, session=session, experts=experts[:4],
                                chair=experts[0], tenderer_reps=[outsider])  # fmt: skip
    assert _code(exc) == "not_tenderer_rep"
    assert _events() == before and not session.members.exists()
    # four experts and the tenderer's representative: lawful
    services.form_committee(actor=world.staff, session=session, experts=experts[:4],
                            chair=experts[0], tenderer_reps=[rep1])  # fmt: skip
    assert session.members.count() == 5
    with pytest.raises(Conflict) as exc:
        services.form_committee(actor=world.staff, session=session, experts=experts,
                                chair=experts[0])  # fmt: skip
    assert _code(exc) == "committee_formed"


@pytest.mark.parametrize("panel", ["government_tender", "negotiation", "inquiry"])
def test_purchaser_representatives_sit_on_government_panels_r18_r19(world, panel):  # type: ignore[no-untyped-def]
    # given a government or negotiation/inquiry session, and the purchaser's representative
    w.open_section(world, PRICES)
    session = services.create_session(actor=world.staff, section=world.section)
    EvaluationSession.objects.filter(pk=session.pk).update(panel=panel)
    session.refresh_from_db()
    experts = [m.expert for m in world.members]
    rep = world.bidding.tenderer
    other = make_user("purchaser_rep2", Role.TENDERER)
    add_member(actor=rep, entity=world.bidding.tenderer_entity, username=other.username,
               role="operator")  # fmt: skip
    # when two representatives sit beside three experts / then the experts' two thirds holds
    with pytest.raises(ValidationFailed) as exc:
        services.form_committee(actor=world.staff, session=session, experts=experts[:3],
                                chair=experts[0], tenderer_reps=[rep, other])  # fmt: skip
    assert "experts_below_two_thirds" in exc.value.detail["violations"]
    assert not session.members.exists()
    # when they sit beside five experts / then the committee is formed (87号令47, 法38/40)
    services.form_committee(actor=world.staff, session=session, experts=experts,
                            chair=experts[0], tenderer_reps=[rep, other])  # fmt: skip
    kinds = sorted(session.members.values_list("kind", flat=True))
    assert kinds == ["expert"] * 5 + ["tenderer_rep"] * 2


@pytest.mark.parametrize("flag", ["technically_complex", "high_social_impact"])
def test_a_complex_or_high_impact_government_section_needs_seven_r18(world, flag):  # type: ignore[no-untyped-def]
    # given a government session whose section was declared technically complex (or of high
    # social impact) in its terms
    w.open_section(world, PRICES)
    Section.objects.filter(pk=world.section.pk).update(**{flag: True})
    session = services.create_session(actor=world.staff, section=world.section)
    EvaluationSession.objects.filter(pk=session.pk).update(panel="government_tender")
    session.refresh_from_db()
    experts = [m.expert for m in world.members]
    # when five experts are seated / then R18 asks for seven, and nothing is seated
    with pytest.raises(ValidationFailed) as exc:
        services.form_committee(actor=world.staff, session=session, experts=experts,
                                chair=experts[0])  # fmt: skip
    assert (exc.value.code, exc.value.detail["rule"], exc.value.detail["min"]) == (
        "committee_too_small", "R18", 7)  # fmt: skip
    assert not session.members.exists()


def test_committee_refuses_inactive_experts_and_employees_of_a_bidder(world):  # type: ignore[no-untyped-def]
    w.open_section(world, PRICES)
    session = services.create_session(actor=world.staff, section=world.section)
    experts = [m.expert for m in world.members]
    suspended = expert_services.suspend_expert(actor=world.pool_keeper, expert=experts[4],
                                               reason="多次迟到")  # fmt: skip
    with pytest.raises(Conflict) as exc:
        services.form_committee(actor=world.staff, session=session,
                                experts=[*experts[:4], suspended], chair=experts[0])  # fmt: skip
    assert _code(exc) == "expert_not_active"
    bidder_entity = world.bidding.bidders[0].entity
    employee = expert_services.approve_application(
        actor=world.pool_keeper,
        expert=expert_services.apply(actor=make_user("employee", Role.EXPERT),
                                     data=w.ew.expert_data(bidder_entity, name="投标人员工")),
    )  # fmt: skip
    with pytest.raises(Conflict) as exc:
        services.form_committee(actor=world.staff, session=session,
                                experts=[*experts[:4], employee], chair=experts[0])  # fmt: skip
    assert _code(exc) == "member_conflict" and exc.value.detail["rule"] == "R21"
    no_account = expert_services.register_expert(
        actor=world.pool_keeper, data=w.ew.expert_data(world.employer, name="无账号专家")
    )
    with pytest.raises(ValidationFailed) as exc:
        services.form_committee(actor=world.staff, session=session,
                                experts=[*experts[:4], no_account], chair=experts[0])  # fmt: skip
    assert _code(exc) == "expert_without_account"
    assert not session.members.exists()


def _declare(expert, entity):  # type: ignore[no-untyped-def]
    from ggzy.experts.models import DeclaredConflict

    return DeclaredConflict.objects.create(expert=expert, entity=entity, reason="亲属",
                                           declared_at=clock.now())  # fmt: skip


def test_a_typed_committee_is_refused_on_every_avoidance_rule_of_a_draw(world):  # type: ignore[no-untyped-def]
    from ggzy.experts.models import Expert, Unavailability

    w.open_section(world, PRICES)
    session = services.create_session(actor=world.staff, section=world.section)
    experts = [m.expert for m in world.members]
    project = world.section.project
    # the tenderer's employee; a declared conflict with a bidder; unavailable that day
    Expert.objects.filter(pk=experts[0].pk).update(employer_id=project.tenderer_id)
    _declare(experts[1], world.bidding.bidders[0].entity)
    Unavailability.objects.create(expert=experts[2], start=clock.today(), end=clock.today(),
                                  reason="出差", recorded_at=clock.now())  # fmt: skip
    experts = [Expert.objects.get(pk=e.pk) for e in experts]
    before = _events()
    with pytest.raises(Conflict) as exc:
        services.form_committee(actor=world.staff, session=session, experts=experts,
                                chair=experts[3])  # fmt: skip
    assert _code(exc) == "member_conflict" and exc.value.detail == {
        "experts": [experts[0].public_id, experts[1].public_id, experts[2].public_id],
        "rule": "R21",
        "reasons": {experts[0].public_id: ["employer_tenderer"],
                    experts[1].public_id: ["declared_conflict"],
                    experts[2].public_id: ["unavailable"]},
    }  # fmt: skip
    assert not session.members.exists() and _events() == before


def test_a_typed_committee_refuses_a_partys_legal_representative(world):  # type: ignore[no-untyped-def]
    from ggzy.registry.models import Entity

    w.open_section(world, PRICES)
    session = services.create_session(actor=world.staff, section=world.section)
    experts = [m.expert for m in world.members]
    bidder = world.bidding.bidders[0].entity
    Entity.objects.filter(pk=bidder.pk).update(legal_representative_id=experts[0].resident_id)
    with pytest.raises(Conflict) as exc:
        services.form_committee(actor=world.staff, session=session, experts=experts,
                                chair=experts[1])  # fmt: skip
    assert _code(exc) == "member_conflict"
    assert exc.value.detail["reasons"] == {experts[0].public_id: ["legal_representative"]}
    assert not session.members.exists()


def test_committee_refuses_a_center_or_supervision_account(world):  # type: ignore[no-untyped-def]
    # given an expert whose account also holds a center role (it would see the bidders)
    w.open_section(world, PRICES)
    session = services.create_session(actor=world.staff, section=world.section)
    experts = [m.expert for m in world.members]
    UserRole.objects.create(user=experts[2].user, role=Role.CENTER_INTAKE, granted_at=clock.now())
    before = _events()
    # when the committee is formed with it
    with pytest.raises(Conflict) as exc:
        services.form_committee(actor=world.staff, session=session, experts=experts,
                                chair=experts[0])  # fmt: skip
    # then it is refused, naming that expert, and nothing is seated
    assert _code(exc) == "member_is_staff"
    assert exc.value.detail == {"members": [experts[2].public_id]}
    assert not session.members.exists() and _events() == before


def test_committee_refuses_an_expert_placed_at_the_opening_r62(world):  # type: ignore[no-untyped-def]
    # given an expert placed at the opening hall of the section in ggzy.venues
    ensure_regions()
    site = venues.create_site(actor=world.pool_keeper, code="NJ", name="南京中心",
                              region=Region.objects.get(code="320100"), address="南京市")  # fmt: skip
    hall = venues.create_venue(actor=world.pool_keeper, site=site, code="H1", name="开标一室",
                               kind="opening_hall", capacity=50)  # fmt: skip
    deadline = world.section.bid_deadline
    booking = venues.book_venue(actor=world.staff, venue=hall, section=world.section,
                                purpose="opening", start=deadline - timedelta(minutes=30),
                                end=deadline + timedelta(hours=2), override_reason="开标")  # fmt: skip
    at_opening = world.members[0].expert
    venue_sessions.assign_expert(actor=world.staff, booking=booking, expert=at_opening)
    w.open_section(world, PRICES)
    session = services.create_session(actor=world.staff, section=world.section)
    experts = [m.expert for m in world.members]
    before = _events()
    # when the committee is formed with that expert
    with pytest.raises(Conflict) as exc:
        services.form_committee(actor=world.staff, session=session, experts=experts,
                                chair=experts[1])  # fmt: skip
    # then R62 refuses it, naming the expert, and nothing is seated
    assert _code(exc) == "evaluator_at_opening"
    assert exc.value.detail == {"experts": [at_opening.public_id], "rule": "R62"}
    assert not session.members.exists() and _events() == before


# --- the review ---------------------------------------------------------------------------------


def test_related_bidders_are_both_void_r48(world):  # type: ignore[no-untyped-def]
    # given two bidders with the same legal representative
    first, second, _ = world.bidding.bidders
    update_entity(actor=world.bidding.intake, entity=second.entity,
                  changes={"legal_representative_id": first.entity.legal_representative_id})  # fmt: skip
    w.open_section(world, PRICES)
    session = w.seated(world)
    services_review.start_review(actor=world.staff, session=session)
    related = session.findings.filter(kind="related_bidders", passed=False)
    labels = {f.bid.entity_id: f.bid.label for f in related}
    assert set(labels) == {first.entity.pk, second.entity.pk}
    for finding in related:  # each names the other by its label, never by name
        assert finding.detail["related"] == [x for x in labels.values() if x != finding.bid.label]
        assert first.entity.name not in json.dumps(finding.detail, ensure_ascii=False)
    w.confirm_all(world, session)
    services_review.start_scoring(actor=world.staff, session=session)
    invalid = {b.label: b.invalid_reason for b in session.bids.all() if not b.valid}
    assert set(invalid) == set(labels.values()) and all("R48" in r for r in invalid.values())
    # and an invalid bid is not scored
    with pytest.raises(Conflict) as exc:
        services_scoring.submit_scores(actor=world.members[0].user, session=session,
                                       entries=[ScoreEntry(next(iter(invalid)), "c2", "20")])  # fmt: skip
    assert _code(exc) == "bid_invalid"


def test_one_related_bid_upheld_voids_the_whole_group_r48(world):  # type: ignore[no-untyped-def]
    # given two related bidders, and a committee that overrules the finding of one of them only
    first, second, _ = world.bidding.bidders
    update_entity(actor=world.bidding.intake, entity=second.entity,
                  changes={"legal_representative_id": first.entity.legal_representative_id})  # fmt: skip
    w.open_section(world, PRICES)
    session = w.seated(world)
    services_review.start_review(actor=world.staff, session=session)
    overruled, upheld = session.findings.filter(kind="related_bidders", passed=False)
    others = session.findings.exclude(pk__in=[overruled.pk, upheld.pk])
    for member in world.members:
        votes = [(f, True, "") for f in others.values_list("pk", flat=True)]
        votes += [(overruled.pk, False, "经核实并非同一人"), (upheld.pk, True, "")]
        services_review.cast_votes(actor=member.user, session=session, votes=votes)
    # when the review closes
    services_review.start_scoring(actor=world.staff, session=session)
    # then both bids of the group are void under R48, not one of them
    both = session.bids.filter(pk__in=[overruled.bid_id, upheld.bid_id])
    assert [b.valid for b in both] == [False, False]
    assert all("R48" in b.invalid_reason for b in both)


def test_overruling_needs_a_reason_and_the_majority_decides(world):  # type: ignore[no-untyped-def]
    w.open_section(world, PRICES)
    session = w.seated(world)
    services_review.start_review(actor=world.staff, session=session)
    finding = session.findings.get(bid__label="A", kind="qualification")
    with pytest.raises(ValidationFailed) as exc:
        services_review.cast_votes(actor=world.members[0].user, session=session,
                            votes=[(finding.pk, False, "  ")])  # fmt: skip
    assert _code(exc) == "reason_required"
    for m in world.members[:3]:  # three of five overrule: the majority
        services_review.cast_votes(actor=m.user, session=session,
                            votes=[(finding.pk, False, "资质证书已过期，见附件")])  # fmt: skip
    finding.refresh_from_db()
    assert finding.outcome is False and finding.passed is True
    with pytest.raises(Conflict) as exc:
        services_review.cast_votes(actor=world.members[0].user, session=session,
                            votes=[(finding.pk, True, "")])  # fmt: skip
    assert _code(exc) == "already_voted"
    with pytest.raises(Conflict) as exc:
        services_review.start_scoring(actor=world.staff, session=session)
    assert _code(exc) == "review_incomplete"
    rest = list(session.findings.filter(outcome__isnull=True).values_list("pk", flat=True))
    for m in world.members:
        services_review.cast_votes(
            actor=m.user, session=session, votes=[(f, True, "") for f in rest]
        )
    services_review.start_scoring(actor=world.staff, session=session)
    assert "资质" in session.bids.get(label="A").invalid_reason
    with pytest.raises(PermissionDenied) as exc:
        services_review.cast_votes(
            actor=world.staff, session=session, votes=[(finding.pk, True, "")]
        )
    assert _code(exc) == "not_on_committee"


# --- scoring ------------------------------------------------------------------------------------


def test_scores_out_of_range_or_off_step_are_refused(world):  # type: ignore[no-untyped-def]
    session = _scoring(world)
    member = world.members[0].user
    for points, problem in (("31", "range"), ("-1", "range"), ("25.3", "step")):
        with pytest.raises(ValidationFailed) as exc:
            services_scoring.submit_scores(actor=member, session=session,
                                           entries=[ScoreEntry("A", "c2", points)])  # fmt: skip
        assert _code(exc) == "score_out_of_range" and exc.value.detail["problem"] == problem
    for bad, code in ((ScoreEntry("A", "price", "10"), "unknown_criterion"),
                      (ScoreEntry("A", "c2", "abc"), "bad_points"),
                      (ScoreEntry("A", "c2", "NaN"), "bad_points"),
                      (ScoreEntry("Z", "c2", "10"), "bid_not_found")):  # fmt: skip
        with pytest.raises(DomainError) as exc:
            services_scoring.submit_scores(actor=member, session=session, entries=[bad])
        assert _code(exc) == code
    assert not Score.objects.exists()


def test_a_score_from_an_expert_not_on_the_committee_is_refused_and_recorded(world):  # type: ignore[no-untyped-def]
    session = _scoring(world)
    outsider = w.make_experts(world, 1)[-1]
    with pytest.raises(PermissionDenied) as exc:
        services_scoring.submit_scores(actor=outsider.user, session=session,
                                       entries=[ScoreEntry("A", "c2", "20")])  # fmt: skip
    assert _code(exc) == "not_on_committee"
    refusal = Event.objects.filter(event_type="evaluation.score_refused").get()
    assert json.loads(refusal.payload)["reason"] == "not_on_committee"
    assert not Score.objects.exists()


def test_report_needs_every_score_and_then_no_score_is_taken(world):  # type: ignore[no-untyped-def]
    session = _scoring(world)
    w.score_all(world, session, {"A": TECH, "B": TECH})
    with pytest.raises(Conflict) as exc:
        services_report.build_report(actor=world.staff, session=session)
    assert _code(exc) == "scoring_incomplete"
    w.score_all(world, session, {"C": TECH})
    services_report.build_report(actor=world.staff, session=session)
    with pytest.raises(Conflict) as exc:
        services_scoring.submit_scores(actor=world.members[0].user, session=session,
                                       entries=[ScoreEntry("A", "c2", "20")])  # fmt: skip
    assert _code(exc) == "scoring_closed"
    session.refresh_from_db()
    # a signature over different bytes is refused
    data = bytes(session.report)
    with pytest.raises(ValidationFailed) as exc:
        services_report.sign_report(actor=world.members[0].user, session=session,
                                    sigfile=world.members[0].sign(data + b" "))  # fmt: skip
    assert _code(exc) == "signature_mismatch"
    # someone else's certificate is refused too
    with pytest.raises(ValidationFailed) as exc:
        services_report.sign_report(actor=world.members[0].user, session=session,
                                    sigfile=world.members[1].sign(data))  # fmt: skip
    assert _code(exc) == "certificate_not_bound"
    assert not session.signatures.exists()
    session = w.sign_all(world, session)
    with pytest.raises(Conflict) as exc:
        services_scoring.submit_scores(actor=world.members[0].user, session=session,
                                       entries=[ScoreEntry("A", "c2", "20")])  # fmt: skip
    assert _code(exc) == "report_signed"
    assert Event.objects.filter(event_type="evaluation.score_refused").count() == 1


def test_a_member_revises_a_score_while_scoring_is_open(world):  # type: ignore[no-untyped-def]
    session = _scoring(world)
    member = world.members[0].user
    services_scoring.submit_scores(actor=member, session=session,
                                   entries=[ScoreEntry("A", "c2", "20", "一般")])  # fmt: skip
    services_scoring.submit_scores(actor=member, session=session,
                                   entries=[ScoreEntry("A", "c2", "22.5", "较好")])  # fmt: skip
    row = Score.objects.get()
    assert (str(row.points), row.justification) == ("22.50", "较好")


# --- blind bids ---------------------------------------------------------------------------------


def test_the_scoring_sheet_never_names_a_bidder(world):  # type: ignore[no-untyped-def]
    session = _scoring(world)
    sheet = selectors.sheet(world.members[0].user, session)
    blob = json.dumps(sheet, ensure_ascii=False, default=str)
    for b in world.bidding.bidders:
        assert b.entity.name not in blob and b.entity.uscc not in blob
    for bid in session.bids.select_related("bid"):
        assert bid.bid.public_id not in blob
    assert [d["title"] for d in sheet["bids"]] == ["投标文件 A", "投标文件 B", "投标文件 C"]
    assert all(d["documents"] and "技术标" in d["documents"][0]["text"] for d in sheet["bids"])
    assert [c["id"] for c in sheet["criteria"]] == ["c2", "c3"]


# --- R23, viewing spans, abnormally low prices --------------------------------------------------


def test_more_than_a_third_asking_extends_the_time_r23(world):  # type: ignore[no-untyped-def]
    session = _scoring(world)
    deadline = session.scoring_deadline
    services_scoring.request_extension(actor=world.members[0].user, session=session,
                                       reason="技术标内容多")  # fmt: skip
    session.refresh_from_db()
    assert session.scoring_deadline == deadline  # 1 of 5: not more than a third
    with pytest.raises(Conflict) as exc:
        services_scoring.request_extension(actor=world.members[0].user, session=session,
                                           reason="再次")  # fmt: skip
    assert _code(exc) == "extension_already_requested"
    with pytest.raises(ValidationFailed) as exc:
        services_scoring.request_extension(actor=world.members[1].user, session=session, reason="")
    assert _code(exc) == "reason_required"
    services_scoring.request_extension(actor=world.members[1].user, session=session,
                                       reason="图纸复杂")  # fmt: skip
    session.refresh_from_db()
    assert session.scoring_deadline == deadline + timedelta(hours=services.EXTENSION_HOURS)
    assert Event.objects.filter(event_type="evaluation.time_extended").count() == 1


def test_no_extension_before_scoring_starts_r23(world):  # type: ignore[no-untyped-def]
    # given a session in its qualification review: no scoring deadline exists yet
    w.open_section(world, PRICES)
    session = w.seated(world)
    services_review.start_review(actor=world.staff, session=session)
    before = _events()
    # when a member asks for more time
    with pytest.raises(Conflict) as exc:
        services_scoring.request_extension(actor=world.members[0].user, session=session,
                                           reason="文件太多")  # fmt: skip
    # then it is refused with its own code and nothing is stored
    assert _code(exc) == "extension_not_scoring"
    session.refresh_from_db()
    assert session.extended_at is None and not session.extension_requests.exists()
    assert _events() == before
    # and the scoring time starts in full once the review closes
    w.confirm_all(world, session)
    services_review.start_scoring(actor=world.staff, session=session)
    session.refresh_from_db()
    assert session.scoring_deadline == session.scoring_started_at + timedelta(
        hours=services.SCORING_HOURS
    )


def test_viewing_spans_from_the_heartbeat(world):  # type: ignore[no-untyped-def]
    session = _scoring(world)
    member = world.members[0].user
    services_scoring.record_viewing(actor=member, session=session, bid="A", action="start")
    world.clock.set(world.clock.moment + timedelta(seconds=15))
    services_scoring.record_viewing(actor=member, session=session, bid="A", action="viewing")
    world.clock.set(world.clock.moment + timedelta(seconds=15))
    services_scoring.record_viewing(actor=member, session=session, bid="B", action="viewing")
    world.clock.set(world.clock.moment + timedelta(seconds=10))
    services_scoring.record_viewing(actor=member, session=session, bid="B", action="stop")
    spans = [(s.bid.label, s.seconds) for s in ViewingSpan.objects.select_related("bid")]
    assert spans == [("A", 30), ("B", 10)]
    with pytest.raises(Conflict) as exc:
        services_scoring.record_viewing(actor=member, session=session, bid="B", action="stop")
    assert _code(exc) == "not_viewing"
    # a page that went quiet: the span ended at its last heartbeat
    services_scoring.record_viewing(actor=member, session=session, bid="C", action="start")
    world.clock.set(world.clock.moment + timedelta(seconds=300))
    services_scoring.record_viewing(actor=member, session=session, bid="C", action="viewing")
    assert ViewingSpan.objects.filter(bid__label="C").order_by("pk").first().seconds == 0
    assert selectors.viewing_time(session)[0]["seconds"] == 30


def test_an_abnormally_low_price_waits_for_the_explanation(world):  # type: ignore[no-untyped-def]
    w.open_section(world, ["9000000.00", "9500000.00", "5000000.00"])
    session = w.seated(world)
    services_review.start_review(actor=world.staff, session=session)
    w.confirm_all(world, session)
    services_review.start_scoring(actor=world.staff, session=session)
    low = session.bids.get(low_price=LowPriceOutcome.PENDING)
    assert str(low.price) == "5000000.00"
    w.score_all(world, session, {b.label: TECH for b in session.bids.all()})
    with pytest.raises(Conflict) as exc:
        services_report.build_report(actor=world.staff, session=session)
    assert _code(exc) == "low_price_pending"
    with pytest.raises(PermissionDenied) as exc:
        services_scoring.decide_low_price(actor=world.members[1].user, session=session,
                                          bid=low.label, accepted=False, note="不能说明")  # fmt: skip
    assert _code(exc) == "chair_only"
    services_scoring.decide_low_price(actor=world.members[0].user, session=session,
                                      bid=low.label, accepted=False, note="成本说明不成立")  # fmt: skip
    result = services_report.build_report(actor=world.staff, session=session)
    assert low.label not in result.ranking and not result.bid(low.label).valid
    assert session.bids.get(pk=low.pk).low_price == LowPriceOutcome.REJECTED


def test_state_refusals(world):  # type: ignore[no-untyped-def]
    w.open_section(world, PRICES)
    session = services.create_session(actor=world.staff, section=world.section)
    with pytest.raises(Conflict) as exc:
        services_review.start_review(actor=world.staff, session=session)
    assert _code(exc) == "committee_not_formed"
    with pytest.raises(Conflict) as exc:
        services_review.start_scoring(actor=world.staff, session=session)
    assert _code(exc) == "wrong_state"
    assert session.status == SessionStatus.FORMING


def test_checks_deposit_qualification_and_decryption(db, region, frozen_clock):  # type: ignore[no-untyped-def]
    # given a section with a deposit nobody paid, a bidder whose qualification expired before
    # the deadline, and a bidder who never handed over its key
    world = w.make_world(frozen_clock, deposit="200000.00")
    expired = world.bidding.bidders[1].entity
    deadline = world.section.bid_deadline
    Qualification.objects.filter(entity=expired).update(
        valid_from=deadline.date() - timedelta(days=800),
        valid_until=deadline.date() - timedelta(days=1),
    )
    # and the first bidder pays its deposit into its virtual sub-account
    payer = world.bidding.bidders[0]
    deposit = deposits.open_deposit(actor=payer.user, section=world.section, entity=payer.entity,
                                    method="transfer")  # fmt: skip
    deposits.record_bank_notice(
        actor=make_user("finance", Role.CENTER_FINANCE), bank_reference="BANK-0001",
        virtual_account=deposit.virtual_account, amount=deposit.amount,
        payer_account="6217000000000001", payer_name=payer.entity.name,
        payer_bank="中国银行南京分行", credited_at=world.clock.moment,
    )  # fmt: skip
    w.open_section(world, PRICES, keep_key=2)
    session = w.seated(world)
    services_review.start_review(actor=world.staff, session=session)
    failed = {(f.bid.entity_id, f.kind) for f in session.findings.filter(passed=False)}
    bidders = [b.entity.pk for b in world.bidding.bidders]
    assert (bidders[0], "deposit") not in failed
    assert {(e, "deposit") for e in bidders[1:]} <= failed
    assert (expired.pk, "qualification") in failed
    assert (bidders[2], "decryption") in failed
    assert (bidders[0], "qualification") not in failed
    assert not any(kind == "related_bidders" for _, kind in failed)


def test_the_sheet_shows_the_start_of_a_long_chinese_document(tmp_path):  # type: ignore[no-untyped-def]
    # given a 90,000-byte Chinese document, which the 80,000-byte prefix cuts mid-character
    path = tmp_path / "tech.txt"
    path.write_text("中" * 30_000, encoding="utf-8")
    # when the sheet reads it / then it shows the first MAX_TEXT characters
    assert selectors._text(path) == "中" * selectors.MAX_TEXT
    # and a file that is not text shows none
    binary = tmp_path / "drawing.bin"
    binary.write_bytes(b"\xff\xfe" + b"\x00" * 10)
    assert selectors._text(binary) is None


# --- the committee from a draw ---------------------------------------------------------------------


def _drawn_and_confirmed(world, monkeypatch=None, draws: int = 1):  # type: ignore[no-untyped-def]
    from ggzy.experts import draw_answers, draw_services
    from ggzy.experts.draw_models import DrawnExpert
    from ggzy.experts.draw_services import QuotaTerms
    from tests.award import world as aw
    from tests.experts.draw_world import owner_invitation

    w.make_experts(world, 5)  # ten A01.01 experts with accounts
    w.open_section(world, PRICES)
    at = aw.cn(2026, 12, 14, 12)
    if monkeypatch is not None:  # a draw made before one original draw per section was the rule
        monkeypatch.setattr(draw_services, "_check_chain", lambda section, tops_up: None)
    out = [draw_services.request_draw(actor=world.staff, section=world.section, session_at=at,
                                      quotas=[QuotaTerms("A01.01", 5)]) for _ in range(draws)]  # fmt: skip
    for d in out:
        for m in world.members:
            try:
                row = owner_invitation(d, m.user)
            except DrawnExpert.DoesNotExist:
                continue
            draw_answers.answer_invitation(actor=m.user, invitation=row, accept=True)
    return out, at


def test_the_committee_is_seated_only_from_the_sections_first_draw(world, monkeypatch):  # type: ignore[no-untyped-def]
    (first, second), at = _drawn_and_confirmed(world, monkeypatch, draws=2)
    session = services.create_session(actor=world.staff, section=world.section)
    world.clock.set(at)
    before = _events()
    with pytest.raises(Conflict) as exc:
        services.form_committee_from_draw(actor=world.staff, session=session, draw=second)
    assert _code(exc) == "draw_not_first" and exc.value.detail["first"] == first.public_id
    assert not session.members.exists() and _events() == before


def test_seating_from_a_draw_reveals_it_and_rechecks_avoidance(world):  # type: ignore[no-untyped-def]
    from ggzy.experts.draw_models import Draw

    (draw,), at = _drawn_and_confirmed(world)
    session = services.create_session(actor=world.staff, section=world.section)
    world.clock.set(at)
    seated = [r.expert_id for r in Draw.objects.get(pk=draw.pk).drawn.all()]
    assert seated == [None] * 5  # sealed until the reveal
    # a conflict declared after the draw: the seating refuses it (the reveal, due, stays)
    from ggzy.experts.draw_record import identity

    row = draw.drawn.order_by("seat").first()
    expert = next(m.expert for m in world.members if m.expert.pk == identity(row)["expert"])
    conflict = _declare(expert, world.bidding.bidders[0].entity)
    with pytest.raises(Conflict) as exc:
        services.form_committee_from_draw(actor=world.staff, session=session, draw=draw)
    assert _code(exc) == "member_conflict"
    assert exc.value.detail["reasons"] == {expert.public_id: ["declared_conflict"]}
    assert not session.members.exists()
    draw.refresh_from_db()
    assert draw.revealed_at == at
    assert Event.objects.filter(subject=f"expert-draw:{draw.public_id}",
                                event_type="experts.draw_revealed").count() == 1  # fmt: skip
    # withdrawn: seated from the draw, with no second reveal
    type(conflict).objects.filter(pk=conflict.pk).update(withdrawn_at=clock.now())
    services.form_committee_from_draw(actor=world.staff, session=session, draw=draw)
    assert session.members.count() == 5
