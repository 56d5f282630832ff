"""Expert-pool services: applications and approval (R20), status changes, the calendar,
declared conflicts, ratings, the taxonomy — each refusal with its own code and nothing changed."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from ggzy.core import clock
from ggzy.core.errors import Conflict, DomainError, NotAuthenticated, PermissionDenied
from ggzy.experts import services, taxonomy
from ggzy.experts.models import Expert, ExpertSpecialty, ExpertStatusChange, Specialty
from ggzy.experts.rules import works_eligibility
from ggzy.ledger.models import Event
from tests.api.support import db_state, event_types_since, last_seq
from tests.conftest import make_user


def _refused(fn, code: str, recorded: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    """``fn`` refused with ``code``: no expert or specialty row changed, and the only ledger
    events are the refusals ``recorded`` for supervision."""
    seq, experts, rows = last_seq(), Expert.objects.count(), ExpertSpecialty.objects.count()
    with pytest.raises(DomainError) as info:
        fn()
    assert info.value.code == code, info.value.as_dict()
    assert (event_types_since(seq), Expert.objects.count(), ExpertSpecialty.objects.count()) == (
        list(recorded), experts, rows,
    )  # fmt: skip
    return info.value


# --- R20 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("years", "level", "equivalent", "unmet"),
    [
        (8, "associate_senior", "", ()),
        (30, "senior", "", ()),
        (7, "senior", "", ("years_in_field",)),
        (8, "intermediate", "", ("senior_title",)),
        (8, "intermediate", "注册一级建造师，主持大型项目", ()),
        (3, "junior", "", ("years_in_field", "senior_title")),
    ],
)
def test_r20_for_works_experts(years, level, equivalent, unmet):  # type: ignore[no-untyped-def]
    result = works_eligibility(works=True, years_in_field=years, title_level=level,
                               senior_equivalent=equivalent)  # fmt: skip
    assert result.unmet == unmet


def test_r20_does_not_apply_outside_works():
    assert works_eligibility(works=False, years_in_field=1, title_level="junior",
                             senior_equivalent="").ok  # fmt: skip


# --- applications -------------------------------------------------------------------------------


def test_an_expert_applies_and_staff_approve(xw):  # type: ignore[no-untyped-def]
    # when the expert applies
    seq = last_seq()
    expert = xw.pending()
    # then the application waits, with its specialties (primary first) in the draw table
    assert expert.status == "pending" and expert.user == xw.owner
    assert list(expert.specialty_rows.order_by("-is_primary").values_list(
        "specialty__code", "is_primary", "status", "region_id")) == [
        ("A01.01", True, "pending", "320100"), ("A02", False, "pending", "320100")]  # fmt: skip
    # when staff approve it
    approved = services.approve_application(actor=xw.staff, expert=expert)
    # then it is in the pool, the history and the ledger say so
    assert approved.status == "active" and approved.approved_at == clock.now()
    assert set(approved.specialty_rows.values_list("status", flat=True)) == {"active"}
    assert list(approved.status_history.values_list("from_status", "to_status")) == [
        ("", "pending"), ("pending", "active")]  # fmt: skip
    assert event_types_since(seq) == [
        "experts.application_submitted", "experts.application_approved"]  # fmt: skip
    payloads = "".join(Event.objects.filter(seq__gt=seq).values_list("payload", flat=True))
    assert expert.resident_id not in payloads and expert.name not in payloads  # no person named


def test_approval_refuses_a_works_expert_short_of_r20(xw):  # type: ignore[no-untyped-def]
    expert = xw.pending(years_in_field=7, title_level="intermediate", title_name="工程师")
    error = _refused(lambda: services.approve_application(actor=xw.staff, expert=expert),
                     "expert_ineligible", recorded=("experts.approval_refused",))  # fmt: skip
    assert error.detail["rule"] == "R20"
    assert error.detail["unmet"] == ["years_in_field", "senior_title"]
    expert.refresh_from_db()
    assert expert.status == "pending"
    refusal = Event.objects.order_by("-seq").first()
    assert refusal is not None and refusal.subject == f"expert:{expert.public_id}"
    assert json.loads(refusal.payload) == {"refused": True, "reason": "expert_ineligible",
                                           "unmet": ["years_in_field", "senior_title"]}  # fmt: skip


def test_a_goods_expert_is_not_held_to_r20(xw):  # type: ignore[no-untyped-def]
    expert = xw.pending(years_in_field=3, title_level="intermediate",
                        primary_specialty="B01", other_specialties=[])  # fmt: skip
    assert services.approve_application(actor=xw.staff, expert=expert).status == "active"


def test_rejected_applicant_may_apply_again(xw):  # type: ignore[no-untyped-def]
    expert = xw.pending()
    services.reject_application(actor=xw.staff, expert=expert, reason="职称证书不清晰")
    again = services.apply(actor=xw.owner, data=xw.data(resident_id=expert.resident_id))
    assert again.pk == expert.pk and again.status == "pending"
    assert list(again.status_history.values_list("to_status", flat=True)) == [
        "pending", "rejected", "pending"]  # fmt: skip


def test_apply_refusals(xw, users):  # type: ignore[no-untyped-def]
    _refused(lambda: services.apply(actor=users["bidder"], data=xw.data()), "forbidden")
    xw.active()
    _refused(lambda: services.apply(actor=xw.owner, data=xw.data()), "already_in_pool")
    other = make_user("expert2", "expert")
    taken = Expert.objects.get(user=xw.owner).resident_id
    _refused(
        lambda: services.apply(actor=other, data=xw.data(resident_id=taken)), "already_in_pool"
    )
    other.resident_id = xw.data().resident_id
    other.save()
    _refused(lambda: services.apply(actor=other, data=xw.data()), "resident_id_mismatch")


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("resident_id", "320102197001010010", "bad_resident_id"),  # check digit wrong
        ("resident_id", "32010219700101001", "bad_resident_id"),  # 17 characters
        ("resident_id", "320102197002300011", "bad_resident_id"),  # 30 February
        ("phone", "call me", "bad_phone"),
        ("title_level", "特级", "bad_title_level"),
        ("years_in_field", 71, "bad_years"),
        ("years_in_field", "八", "bad_years"),
        ("employer", "91320100MA1X0000XX", "bad_uscc"),
        ("employer", "91350100M000100Y43", "employer_not_registered"),
        ("region", "999999", "unknown_region"),
        ("primary_specialty", "Z99", "unknown_specialty"),
        ("other_specialties", ["A01.01"], "duplicate_specialty"),
        ("name", "  ", "required"),
    ],
)
def test_bad_fields_are_refused_with_their_code(xw, field, value, code):  # type: ignore[no-untyped-def]
    error = _refused(lambda: services.apply(actor=xw.owner, data=xw.data(**{field: value})), code)
    assert error.detail["field"] == field


def test_id_check_digit_x_is_accepted(xw):  # type: ignore[no-untyped-def]
    from ggzy.core.identifiers import make_resident_id

    number = next(make_resident_id(f"32010219800101{n:03d}") for n in range(1000)
                  if make_resident_id(f"32010219800101{n:03d}").endswith("X"))  # fmt: skip
    assert xw.pending(resident_id=number.lower()).resident_id == number


# --- staff entry and status ---------------------------------------------------------------------


def test_staff_enter_an_expert_directly_with_r20_checked(xw):  # type: ignore[no-untyped-def]
    expert = services.register_expert(actor=xw.staff, data=xw.data(), username=xw.owner.username)
    assert expert.status == "active" and expert.user == xw.owner
    _refused(lambda: services.register_expert(actor=xw.staff, data=xw.data(years_in_field=2)),
             "expert_ineligible")  # fmt: skip
    _refused(lambda: services.register_expert(actor=xw.staff, data=xw.data(),
                                              username="nobody"), "user_not_found")  # fmt: skip
    _refused(lambda: services.register_expert(actor=xw.owner, data=xw.data()), "forbidden")


def test_suspend_reinstate_retire(xw):  # type: ignore[no-untyped-def]
    expert = xw.active()
    until = clock.today() + timedelta(days=90)
    services.suspend_expert(actor=xw.staff, expert=expert, reason="评标中违规", until=until)
    expert.refresh_from_db()
    assert (expert.status, expert.suspended_until) == ("suspended", until)
    assert set(expert.specialty_rows.values_list("status", "suspended_until")) == {
        ("suspended", until)}  # fmt: skip
    _refused(lambda: services.suspend_expert(actor=xw.staff, expert=expert, reason="x"),
             "bad_expert_state")  # fmt: skip
    services.reinstate_expert(actor=xw.staff, expert=expert, reason="整改完成")
    services.retire_expert(actor=xw.staff, expert=expert, reason="年龄")
    _refused(lambda: services.reinstate_expert(actor=xw.staff, expert=expert, reason="x"),
             "bad_expert_state")  # fmt: skip
    change = ExpertStatusChange.objects.filter(expert=expert, to_status="suspended").get()
    assert (change.reason, change.until, change.actor) == (
        "评标中违规",
        until,
        f"user:{xw.staff.pk}",
    )
    assert list(expert.status_history.values_list("to_status", flat=True)) == [
        "pending", "active", "suspended", "active", "retired"]  # fmt: skip


def test_status_refusals(xw, users):  # type: ignore[no-untyped-def]
    expert = xw.active()
    _refused(lambda: services.suspend_expert(actor=xw.staff, expert=expert, reason=" "),
             "reason_required")  # fmt: skip
    _refused(lambda: services.suspend_expert(actor=xw.staff, expert=expert, reason="x",
             until=clock.today() - timedelta(days=1)), "until_in_past")  # fmt: skip
    _refused(lambda: services.suspend_expert(actor=users["regulator"], expert=expert, reason="x"),
             "forbidden")  # fmt: skip
    with pytest.raises(NotAuthenticated):
        services.retire_expert(actor=None, expert=expert, reason="x")  # type: ignore[arg-type]
    _refused(lambda: services.approve_application(actor=xw.staff, expert=expert),
             "bad_expert_state")  # fmt: skip


def test_staff_update_keeps_r20_and_the_draw_table(xw):  # type: ignore[no-untyped-def]
    expert = xw.active()
    services.update_expert(actor=xw.staff, expert=expert,
                           changes={"region": "320000", "other_specialties": []})  # fmt: skip
    assert list(expert.specialty_rows.values_list("specialty__code", "region_id")) == [
        ("A01.01", "320000")]  # fmt: skip
    _refused(lambda: services.update_expert(actor=xw.staff, expert=expert,
                                            changes={"years_in_field": 5}), "expert_ineligible")  # fmt: skip
    _refused(lambda: services.update_expert(actor=xw.staff, expert=expert,
                                            changes={"resident_id": "x"}), "field_not_editable")  # fmt: skip


# --- calendar, conflicts, ratings ---------------------------------------------------------------


def test_the_expert_keeps_their_own_calendar_and_conflicts(xw, users):  # type: ignore[no-untyped-def]
    expert = xw.active()
    today = clock.today()
    period = services.add_unavailability(actor=xw.owner, expert=expert, start=today,
                                         end=today + timedelta(days=2), reason="出差")  # fmt: skip
    conflict = services.declare_conflict(actor=xw.owner, expert=expert, entity=xw.employer,
                                         reason="配偶任职")  # fmt: skip
    _refused(lambda: services.declare_conflict(actor=xw.owner, expert=expert, entity=xw.employer,
                                               reason="again"), "conflict_exists")  # fmt: skip
    _refused(lambda: services.add_unavailability(actor=users["bidder"], expert=expert, start=today,
                                                 end=today), "forbidden")  # fmt: skip
    _refused(lambda: services.add_unavailability(actor=xw.owner, expert=expert, start=today,
                                                 end=today - timedelta(days=1)), "bad_period")  # fmt: skip
    _refused(lambda: services.add_unavailability(actor=xw.owner, expert=expert, start=today,
                                                 end=today + timedelta(days=400)), "period_too_long")  # fmt: skip
    services.withdraw_conflict(actor=xw.owner, expert=expert, conflict_id=conflict.pk)
    services.remove_unavailability(actor=xw.owner, expert=expert, period_id=period.pk)
    _refused(lambda: services.remove_unavailability(actor=xw.owner, expert=expert,
                                                    period_id=period.pk), "period_not_found")  # fmt: skip


# ratings: tests/experts/test_ratings.py


# --- taxonomy -----------------------------------------------------------------------------------


def test_taxonomy_is_hierarchical_and_versioned(xw, users):  # type: ignore[no-untyped-def]
    child = taxonomy.create_specialty(actor=xw.staff, code="a01.03", name="装饰装修")
    assert (child.code, child.parent.code, child.is_works) == ("A01.03", "A01", True)
    _refused(lambda: taxonomy.create_specialty(actor=xw.staff, code="C01", name="x"),
             "parent_not_found")  # fmt: skip
    _refused(lambda: taxonomy.create_specialty(actor=xw.staff, code="A01", name="x"),
             "specialty_exists")  # fmt: skip
    _refused(lambda: taxonomy.create_specialty(actor=xw.staff, code="A-1", name="x"),
             "bad_specialty_code")  # fmt: skip
    with pytest.raises(PermissionDenied):
        taxonomy.create_specialty(actor=users["center_operations"], code="A09", name="x")
    before = db_state()
    with pytest.raises(Conflict):
        taxonomy.update_specialty(actor=xw.staff, specialty=Specialty.objects.get(code="A01"),
                                  active=False)  # fmt: skip
    assert db_state() == before
    updated = taxonomy.update_specialty(actor=xw.staff, specialty=child, name="装饰装修工程",
                                        active=False)  # fmt: skip
    assert updated.version == 2
    assert updated.versions.get(version=2).changes == {
        "name": ["装饰装修", "装饰装修工程"], "active": [True, False]}  # fmt: skip
    _refused(lambda: xw.pending(primary_specialty="A01.03"), "specialty_inactive")


def test_a_child_of_a_works_specialty_cannot_be_made_non_works(xw):  # type: ignore[no-untyped-def]
    # given the works class A
    # when staff create a sub-specialty of it marked non-works, or unmark an existing one
    error = _refused(lambda: taxonomy.create_specialty(actor=xw.staff, code="A03", name="水利工程",
                                                       is_works=False), "works_inherited")  # fmt: skip
    # then both are refused: R20 cannot be escaped one level down
    assert error.detail == {"field": "is_works", "specialty": "A03"}
    before = db_state()
    with pytest.raises(Conflict) as info:
        taxonomy.update_specialty(actor=xw.staff, specialty=taxonomy.get_specialty("A02"),
                                  is_works=False)  # fmt: skip
    assert info.value.code == "works_inherited" and db_state() == before


def test_r20_reads_the_ancestors_of_a_specialty(xw):  # type: ignore[no-untyped-def]
    # given a sub-specialty of the works class stored as non-works (a row from before the rule)
    taxonomy.create_specialty(actor=xw.staff, code="A03", name="水利工程")
    Specialty.objects.filter(code="A03").update(is_works=False)
    # when staff enter a junior expert with only that specialty
    # then R20 applies: it is a works specialty through its parent
    _refused(lambda: services.register_expert(actor=xw.staff, data=xw.data(
        primary_specialty="A03", other_specialties=[], years_in_field=2,
        title_level="junior")), "expert_ineligible")  # fmt: skip


def test_reclassifying_a_parent_as_works_reclassifies_its_children(xw):  # type: ignore[no-untyped-def]
    # given the goods class B with its child B01, and no expert in the pool under it
    seq = last_seq()
    # when staff reclassify B as works
    taxonomy.update_specialty(actor=xw.staff, specialty=taxonomy.get_specialty("B"), is_works=True)
    # then B01 is a works specialty too, with its own version and ledger event
    b01 = taxonomy.get_specialty("B01")
    assert (b01.is_works, b01.version) == (True, 2)
    assert b01.versions.get(version=2).changes == {"is_works": [False, True]}
    assert event_types_since(seq) == ["experts.specialty_changed"] * 2
    # and a junior expert of B01 is now held to R20
    _refused(lambda: services.register_expert(actor=xw.staff, data=xw.data(
        primary_specialty="B01", other_specialties=[], years_in_field=2,
        title_level="junior")), "expert_ineligible")  # fmt: skip


def test_reclassifying_is_refused_while_experts_in_the_pool_would_fail_r20(xw):  # type: ignore[no-untyped-def]
    # given two goods experts of B01 short of R20, one of them suspended, and one meeting it
    junior = {"primary_specialty": "B01", "other_specialties": [], "years_in_field": 2,
              "title_level": "junior"}  # fmt: skip
    services.register_expert(actor=xw.staff, data=xw.data(**junior))
    services.suspend_expert(actor=xw.staff, reason="r",
                            expert=services.register_expert(actor=xw.staff, data=xw.data(**junior)))  # fmt: skip
    services.register_expert(actor=xw.staff, data=xw.data(primary_specialty="B01",
                                                          other_specialties=[]))  # fmt: skip
    before = db_state()
    # when staff reclassify the parent B as works
    with pytest.raises(Conflict) as info:
        taxonomy.update_specialty(actor=xw.staff, specialty=taxonomy.get_specialty("B"),
                                  is_works=True)  # fmt: skip
    # then it is refused, naming how many experts must be settled first; nothing changed
    assert (info.value.code, info.value.detail) == (
        "reclassification_blocked",
        {"rule": "R20", "experts": 2},
    )
    assert db_state() == before


def test_experts_keep_a_deactivated_specialty_through_a_profile_change(xw):  # type: ignore[no-untyped-def]
    # given an expert of A01.01 and A02, and A02 deactivated
    expert = xw.active(owned=False)
    taxonomy.update_specialty(actor=xw.staff, specialty=taxonomy.get_specialty("A02"),
                              active=False)  # fmt: skip
    # when staff change the expert's phone
    changed = services.update_expert(actor=xw.staff, expert=expert,
                                     changes={"phone": "13900000009"})  # fmt: skip
    # then the change is made and the expert keeps A02
    assert changed.phone == "13900000009"
    assert sorted(expert.specialty_rows.values_list("specialty__code", flat=True)) == [
        "A01.01", "A02"]  # fmt: skip
    # but A02 cannot be newly added to another expert
    other = services.register_expert(actor=xw.staff, data=xw.data(other_specialties=[]))
    _refused(lambda: services.update_expert(actor=xw.staff, expert=other,
                                            changes={"other_specialties": ["A02"]}),
             "specialty_inactive")  # fmt: skip


def test_staff_cannot_enter_themselves_into_the_pool(xw):  # type: ignore[no-untyped-def]
    # given a center admin who also holds an expert account
    both = make_user("admin_and_expert", "center_admin", "expert")
    # when they enter an expert linked to their own account
    # then it is refused, and the attempt is recorded for supervision
    _refused(lambda: services.register_expert(actor=both, data=xw.data(), username=both.username),
             "own_record", recorded=("experts.own_record_refused",))  # fmt: skip
    refusal = Event.objects.order_by("-seq").first()
    assert refusal is not None and refusal.subject == f"user:{both.pk}"
    assert json.loads(refusal.payload) == {"refused": True, "reason": "own_record"}


def test_a_decision_on_ones_own_record_is_refused_and_recorded(xw):  # type: ignore[no-untyped-def]
    # given a center admin's own application
    both = make_user("admin_and_expert2", "center_admin", "expert")
    mine = xw.pending(owner=both)
    # when they approve it
    _refused(lambda: services.approve_application(actor=both, expert=mine), "own_record",
             recorded=("experts.own_record_refused",))  # fmt: skip
    # then the application still waits, and the ledger holds the refusal on the record
    mine.refresh_from_db()
    assert mine.status == "pending"
    assert Event.objects.order_by("-seq").first().subject == f"expert:{mine.public_id}"  # type: ignore[union-attr]


def test_a_policy_suspension_never_shortens_or_ends_an_indefinite_one(xw):  # type: ignore[no-untyped-def]
    expert = xw.active()
    services.suspend_expert(actor=xw.staff, expert=expert, reason="违规，暂停至另行通知")
    expert.refresh_from_db()
    assert expert.status == "suspended" and expert.suspended_until is None
    seq = Event.objects.count()
    services.apply_policy_suspension(actor="system:rating-policy", expert=expert, reason="自动暂停",
                                     until=clock.today() + timedelta(days=10),
                                     cause={"policy": "rating"})  # fmt: skip
    expert.refresh_from_db()
    assert expert.suspended_until is None and Event.objects.count() == seq


def test_staff_link_an_expert_entered_without_an_account_once(xw):  # type: ignore[no-untyped-def]
    import json

    from ggzy.ledger.models import Event
    from tests.conftest import make_user

    expert = services.register_expert(actor=xw.staff, data=xw.data())  # e.g. from the import
    assert expert.user is None
    _refused(lambda: services.link_account(actor=xw.staff, expert=expert, username="nobody"),
             "user_not_found")  # fmt: skip
    _refused(lambda: services.link_account(actor=xw.staff, expert=expert, username=" "), "required")
    plain = make_user("not_an_expert", "bidder")
    _refused(lambda: services.link_account(actor=xw.staff, expert=expert,
                                           username=plain.username), "user_not_found")  # fmt: skip
    _refused(lambda: services.link_account(actor=xw.owner, expert=expert,
                                           username=xw.owner.username), "forbidden")  # fmt: skip
    _refused(lambda: services.link_account(actor=xw.staff, expert=expert,
                                           username=xw.staff.username), "own_record",
             ("experts.own_record_refused",))  # fmt: skip
    linked = services.link_account(actor=xw.staff, expert=expert, username=xw.owner.username)
    assert linked.user == xw.owner
    event = Event.objects.filter(event_type="experts.account_linked").get()
    assert json.loads(event.payload) == {"user": xw.owner.pk}
    other = services.register_expert(actor=xw.staff, data=xw.data())
    _refused(lambda: services.link_account(actor=xw.staff, expert=other,
                                           username=xw.owner.username), "user_taken")  # fmt: skip
    _refused(lambda: services.link_account(actor=xw.staff, expert=linked,
                                           username="whoever"), "expert_has_account")  # fmt: skip
