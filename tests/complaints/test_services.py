"""Filing, handling and deciding a complaint through the services, with the clock frozen."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from ggzy.complaints import selectors, services
from ggzy.complaints.models import Complaint, Evidence
from ggzy.complaints.states import Status
from ggzy.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from ggzy.core.models import CalendarDay
from ggzy.ledger.models import Event
from ggzy.tendering import services as tendering
from tests.complaints.conftest import procurement_section

TODAY = date(2026, 11, 23)  # the frozen clock's day (a Monday, China Standard Time)


def file(world, **overrides):  # type: ignore[no-untyped-def]
    values = {"actor": world.bidder.user, "section": world.section, "entity": world.bidder.entity,
              "matter": "documents", "text": "资格条件排斥潜在投标人", "known_on": TODAY}  # fmt: skip
    values.update(overrides)
    return services.file_complaint(**values)


def objection(world, project=None):  # type: ignore[no-untyped-def]
    return tendering.raise_objection(actor=world.bidder.user,
                                     project=project or world.bidding.project,
                                     entity=world.bidder.entity, text="资格条件过高")  # fmt: skip


def events(c: Complaint) -> list[str]:
    return list(Event.objects.filter(subject=f"complaint:{c.public_id}")
                .order_by("seq").values_list("event_type", flat=True))  # fmt: skip


def test_a_complaint_after_the_objection_is_admissible(world) -> None:  # type: ignore[no-untyped-def]
    o = objection(world)
    c = file(world, objection=o.public_id)
    assert c.admissible and c.flags == [] and c.regime == "works"
    assert c.objection_kind == "tendering" and c.status == Status.FILED
    # the objection is still waiting for its answer (due in 3 days): those days do not count
    assert c.filing_last_day == date(2026, 12, 7)  # 11-23 + 10 + 3 = Sun 12-06 -> Mon 12-07
    assert c.acceptance_due == date(2026, 11, 26)  # 3 working days (R29)
    assert events(c) == ["complaints.filed"]
    payload = json.loads(Event.objects.get(subject=f"complaint:{c.public_id}").payload)
    assert "资格" not in str(payload) and payload["admissible"] is True


def test_missing_prior_objection_is_flagged_with_the_rule(world) -> None:  # type: ignore[no-untyped-def]
    c = file(world)
    assert not c.admissible
    assert [(f["code"], f["rule"], f["source"]) for f in c.flags] == [
        ("no_prior_objection", "R29", "招标投标法实施条例第60条")
    ]


def test_a_late_complaint_is_recorded_but_flagged(world) -> None:  # type: ignore[no-untyped-def]
    o = objection(world)
    tendering.answer_objection(actor=world.bidding.tenderer, objection=o, reply="已复核")
    # knew on Tue 11-10: day 10 was Fri 11-20 (the answer came the same day: nothing excluded)
    c = file(world, known_on=TODAY - timedelta(days=13), objection=o.public_id)
    assert c.pk and not c.admissible
    assert [(f["code"], f["rule"], f["last_day"]) for f in c.flags] == [
        ("filed_late", "R29", "2026-11-20")
    ]
    # knew on Thu 11-12: day 10 was Sunday, so the period ran to Monday: in time
    assert file(world, known_on=TODAY - timedelta(days=11), objection=o.public_id).admissible


def test_the_last_day_itself_is_in_time(world) -> None:  # type: ignore[no-untyped-def]
    o = objection(world)
    tendering.answer_objection(actor=world.bidding.tenderer, objection=o, reply="已复核")
    c = file(world, known_on=TODAY - timedelta(days=10), objection=o.public_id)
    assert c.filing_last_day == TODAY and c.admissible


def test_procurement_without_a_challenge_is_flagged_r30(world) -> None:  # type: ignore[no-untyped-def]
    section = procurement_section(world)
    c = file(world, section=section)
    assert c.regime == "procurement" and c.filing_last_day is None
    assert [f["rule"] for f in c.flags] == ["R30"]
    assert c.acceptance_due == date(2026, 11, 30)  # 5 working days


def test_an_objection_of_another_section_or_entity_is_refused(world) -> None:  # type: ignore[no-untyped-def]
    other = world.bidding.bidders[1]
    o = tendering.raise_objection(actor=other.user, project=world.bidding.project,
                                  entity=other.entity, text="x")  # fmt: skip
    before = Complaint.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        file(world, objection=o.public_id)
    assert exc.value.code == "objection_not_found" and Complaint.objects.count() == before


def test_wrong_actor_is_refused_and_nothing_changes(world) -> None:  # type: ignore[no-untyped-def]
    other = world.bidding.bidders[1]
    n = Event.objects.count()
    with pytest.raises(PermissionDenied):
        file(world, actor=other.user)  # not a member of bidder1's entity
    with pytest.raises(PermissionDenied):
        file(world, actor=world.regulator)
    assert Event.objects.count() == n and not Complaint.objects.exists()
    c = file(world)
    n = Event.objects.count()
    for actor in (world.inspector, world.bidder.user):
        with pytest.raises(PermissionDenied):
            services.accept(actor=actor, complaint=c)
    with pytest.raises(NotFound):
        selectors.get_complaint(other.user, c.public_id)
    c.refresh_from_db()
    assert c.status == Status.FILED and Event.objects.count() == n


def test_acceptance_deadline_warning(world) -> None:  # type: ignore[no-untyped-def]
    c = file(world)
    assert selectors.warnings(world.regulator) == []
    world.clock.set(world.clock.moment + timedelta(days=2))  # Wed: 1 working day left
    [(row, ck)] = selectors.warnings(world.regulator)
    assert row == c and ck.deadline == "acceptance" and ck.days_left == 1
    world.clock.set(world.clock.moment + timedelta(days=2))  # Fri: past Thursday's due day
    [(row, ck)] = selectors.warnings(world.regulator)
    assert ck.overdue and ck.days_left == -1
    accepted = services.accept(actor=world.regulator, complaint=c)
    assert accepted.acceptance_late and events(c)[-1] == "complaints.accepted"


def test_pause_moves_the_decision_due_date(world) -> None:  # type: ignore[no-untyped-def]
    CalendarDay.objects.create(day=date(2026, 12, 2), is_working_day=False, name="假日")
    c = services.accept(actor=world.regulator, complaint=file(world))
    due = c.decision_due
    assert due == date(2027, 1, 5)  # 30 working days after Mon 11-23, one holiday (R29)
    services.pause(actor=world.regulator, complaint=c, kind="expert_review", reason="组织专家评审")
    world.clock.set(world.clock.moment + timedelta(days=10))  # Thu 12-03; 12-02 is a holiday
    [(_row, ck)] = selectors.open_cases(world.regulator)
    assert ck.paused and not ck.warning
    with pytest.raises(Conflict):
        services.decide(actor=world.regulator, complaint=c, outcome="upheld", text="成立")
    c = services.resume(actor=world.regulator, complaint=c)
    # paused Mon 11-23 -> Thu 12-03: 24,25,26,27,30,1,3 = 7 working days
    assert c.paused_days == 7 and c.decision_due == date(2027, 1, 14)
    assert events(c) == ["complaints.filed", "complaints.accepted", "complaints.paused",
                         "complaints.resumed"]  # fmt: skip


def test_transfer_evidence_and_a_signed_decision(world) -> None:  # type: ignore[no-untyped-def]
    import io

    c = services.accept(actor=world.regulator, complaint=file(world))
    due = c.decision_due
    c = services.transfer(actor=world.regulator, complaint=c, department="市住建局",
                          reason="属住建部门管辖")  # fmt: skip
    assert c.department == "市住建局" and c.decision_due == due
    e = services.add_evidence(actor=world.bidder.user, complaint=c, name="证据.txt",
                              stream=io.BytesIO(b"evidence"))  # fmt: skip
    assert e.party == "complainant" and len(e.sha256) == 64
    assert services.evidence_path(e).read_bytes() == b"evidence"
    services.add_evidence(actor=world.regulator, complaint=c, name="调查.pdf",
                          stream=io.BytesIO(b"%PDF-1"))  # fmt: skip
    with pytest.raises(ValidationFailed):
        services.add_evidence(actor=world.regulator, complaint=c, name="x.exe",
                              stream=io.BytesIO(b"MZ"))  # fmt: skip
    c = services.decide(actor=world.regulator, complaint=c, outcome="partly", text="部分成立")
    assert c.status == Status.DECIDED and services.verify_decision(c)
    last = Event.objects.filter(subject=f"complaint:{c.public_id}").order_by("seq").last()
    assert json.loads(last.payload)["record_sha256"] == c.decision_sha256
    with pytest.raises(Conflict):
        services.add_evidence(actor=world.bidder.user, complaint=c, name="晚.txt",
                              stream=io.BytesIO(b"late"))  # fmt: skip
    assert Evidence.objects.filter(complaint=c).count() == 2


def test_refuse_needs_a_reason(world) -> None:  # type: ignore[no-untyped-def]
    c = file(world)
    with pytest.raises(ValidationFailed):
        services.refuse(actor=world.regulator, complaint=c, reason="  ")
    c = services.refuse(actor=world.regulator, complaint=c, reason="未先提出异议（条例60）")
    assert c.status == Status.REFUSED
    with pytest.raises(Conflict):
        services.accept(actor=world.regulator, complaint=c)
