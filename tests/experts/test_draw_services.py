"""The expert draw through its services: commit before drawing, the seed tied to the first signed
tree head, each avoidance rule (R21/R22), unfillable draws with their binding constraint,
answers and replacements, the reveal at the session start, and the verification — exact after
the pool has changed, failing when a record is tampered with."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from ggzy.core import clock
from ggzy.core.errors import Conflict, NotFound, ValidationFailed
from ggzy.experts import draw_answers, draw_record, draw_seal, draw_services, draw_verify, services
from ggzy.experts.draw_models import Draw, DrawnExpert, DrawNotification
from ggzy.experts.draw_services import DrawUnfillable, QuotaTerms
from ggzy.experts.draw_states import DrawnStatus, DrawStatus
from ggzy.experts.models import DeclaredConflict, Expert, ExpertSpecialty, Unavailability
from ggzy.ledger.models import Event, TreeHead
from ggzy.registry.models import Entity
from tests.experts import draw_world
from tests.experts.draw_world import DrawWorld, another_section, make_world


@pytest.fixture
def dw(users, region, frozen_clock) -> DrawWorld:  # type: ignore[no-untyped-def]
    return make_world(users)


def drawn_ids(draw: Draw, *, role: str | None = None) -> list[int]:
    rows = (
        DrawnExpert.objects.filter(draw=draw)
        .select_related("draw")
        .order_by("quota__position", "position")
    )
    return [draw_record.identity(r)["expert"] for r in rows if role is None or r.role == role]


def events(draw: Draw) -> list[Event]:
    return list(Event.objects.filter(subject=f"expert-draw:{draw.public_id}").order_by("seq"))


def pool_of(dw: DrawWorld, n: int, **overrides: object) -> list[Expert]:
    return [dw.expert(other_specialties=[], **overrides) for _ in range(n)]  # type: ignore[arg-type]


# --- commit, seed, sealing in the ledger ----------------------------------------------------


def test_the_secret_is_committed_before_the_draw_and_the_ledger_names_no_one(dw) -> None:  # type: ignore[no-untyped-def]
    experts = pool_of(dw, 8)
    draw = dw.draw([("A01", 3, 2)])
    assert draw.status == DrawStatus.DRAWN
    committed, drawn = events(draw)
    assert [committed.event_type, drawn.event_type] == [
        "experts.draw_committed",
        "experts.draw_drawn",
    ]
    terms = json.loads(committed.payload)
    assert terms["commitment"] == draw.commitment and len(draw.commitment) == 64
    assert "secret" not in terms and draw.revealed_secret == ""
    # the seed's tree head is the first signed head that includes the commitment
    head = TreeHead.objects.get(size=draw.tree_size)
    assert draw.commit_seq == committed.seq <= head.size and head.root == draw.tree_root
    assert not TreeHead.objects.filter(size__gte=committed.seq, size__lt=head.size).exists()
    # counts and pseudonyms only: no expert's id, public id or name
    public = json.loads(drawn.payload)
    assert [(d["role"], d["position"]) for d in public["drawn"]] == [
        ("main", 0),
        ("main", 1),
        ("main", 2),
        ("backup", 3),
        ("backup", 4),
    ]
    text = committed.payload + drawn.payload
    for e in experts:
        assert e.public_id not in text and e.name not in text
    assert set(drawn_ids(draw)) <= {e.pk for e in experts}
    assert len(set(drawn_ids(draw))) == 5
    # the rows hold no identity in clear until the session starts
    assert not DrawnExpert.objects.filter(draw=draw, expert__isnull=False).exists()
    assert draw_verify.verify_draw(draw)["ok"]


def test_mains_are_notified_backups_wait(dw) -> None:  # type: ignore[no-untyped-def]
    pool_of(dw, 6)
    draw = dw.draw([("A01", 3, 2)])
    rows = list(draw.drawn.order_by("position"))
    assert [r.status for r in rows] == ["notified"] * 3 + ["standby"] * 2
    assert DrawNotification.objects.count() == 3
    mains = {r.invitee_tag for r in rows if r.role == "main"}
    assert set(DrawNotification.objects.values_list("recipient_tag", flat=True)) == mains


def test_bad_terms_are_refused_with_their_own_codes(dw) -> None:  # type: ignore[no-untyped-def]
    pool_of(dw, 3)
    cases = [
        ({"quotas": [("Z99", 1, 0)]}, "unknown_specialty"),
        ({"quotas": [("A01", 1, 0), ("A01", 1, 0)]}, "duplicate_quota"),
        ({"quotas": [QuotaTerms("A01", 2, 0, 3)]}, "bad_quota"),
        ({"quotas": [("A01", 0, 0)]}, "bad_quota"),
        ({"session_at": clock.now() - timedelta(hours=1)}, "session_in_past"),
        ({"include_regions": ["999999"]}, "unknown_region"),
        ({"include_regions": ["320100"], "exclude_regions": ["320100"]}, "region_conflict"),
        ({"avoid_days": 5000}, "bad_avoid_days"),
    ]
    before = Event.objects.count()
    for terms, code in cases:
        quotas = terms.pop("quotas", [("A01", 1, 0)])
        with pytest.raises(ValidationFailed) as caught:
            dw.draw(quotas, **terms)
        assert caught.value.code == code, terms
    assert Event.objects.count() == before and not Draw.objects.exists()


def test_no_draw_before_the_opening_and_none_for_a_failed_section(dw, users) -> None:  # type: ignore[no-untyped-def]
    from ggzy.bidding.models import Opening

    pool_of(dw, 3)
    Opening.objects.filter(section=dw.section).delete()
    with pytest.raises(Conflict) as caught:
        dw.draw([("A01", 1, 0)])
    assert caught.value.code == "opening_not_held"
    draw_world.open_section(dw.section, dw.ops, [])
    dw.section.failed_at = clock.now()
    dw.section.save(update_fields=["failed_at"])
    with pytest.raises(Conflict) as caught:
        dw.draw([("A01", 1, 0)])
    assert caught.value.code == "section_failed"


def test_only_the_organizing_desk_requests_a_draw(dw, users) -> None:  # type: ignore[no-untyped-def]
    from ggzy.core.errors import PermissionDenied

    pool_of(dw, 3)
    for role in ("center_admin", "tenderer", "auditor", "expert"):
        with pytest.raises(PermissionDenied):
            draw_services.request_draw(
                actor=users[role],
                section=dw.section,
                session_at=dw.session_at,
                quotas=[QuotaTerms("A01", 1)],
            )


# --- avoidance -------------------------------------------------------------------------------


def test_every_avoidance_rule_keeps_its_experts_out(dw, users) -> None:  # type: ignore[no-untyped-def]
    day = (dw.session_at.astimezone(clock.CHINA)).date()
    related = draw_world.entity(
        users["bidder"],
        name="投标人关联公司",
        legal_representative_id=dw.bidders[0].legal_representative_id,
    )
    rep_employer = dw.employers[1]
    avoid: dict[str, Expert] = {
        "bidder": dw.expert(employer=dw.bidders[1], other_specialties=[]),
        "tenderer": dw.expert(employer=dw.tenderer, other_specialties=[]),
        "agent": dw.expert(employer=dw.agent, other_specialties=[]),
        "related": dw.expert(employer=related, other_specialties=[]),
        "declared": dw.expert(other_specialties=[]),
        "unavailable": dw.expert(other_specialties=[]),
        "suspended": dw.expert(other_specialties=[]),
        "retired": dw.expert(other_specialties=[]),
        "representative": dw.expert(
            employer=rep_employer,
            other_specialties=[],
            resident_id=dw.bidders[2].legal_representative_id,
        ),
    }
    services.declare_conflict(
        actor=dw.admin, expert=avoid["declared"], entity=dw.bidders[0], reason="亲属任职"
    )
    services.add_unavailability(actor=dw.admin, expert=avoid["unavailable"], start=day, end=day)
    services.suspend_expert(actor=dw.admin, expert=avoid["suspended"], reason="违规", until=day)
    services.retire_expert(actor=dw.admin, expert=avoid["retired"], reason="年龄")
    fine = pool_of(dw, 3)
    lapsed = dw.expert(other_specialties=[])
    services.suspend_expert(
        actor=dw.admin, expert=lapsed, reason="迟到", until=day - timedelta(days=1)
    )
    fine.append(lapsed)
    draw = dw.draw([("A01", 4, 0)])
    assert set(drawn_ids(draw)) == {e.pk for e in fine}
    # every skipped candidate's reason is in the sealed record
    _, record = draw_verify.unseal_inputs(draw)
    reasons = {
        c["id"]: c["reasons"]
        for q in record["quotas"]
        for s in q["strata"]
        for c in (s.get("list") or s["ids"])["candidates"]
    }
    expected = {
        "bidder": ["employer_bidder"],
        "tenderer": ["employer_tenderer"],
        "agent": ["employer_agent"],
        "related": ["employer_related"],
        "declared": ["declared_conflict"],
        "unavailable": ["unavailable"],
        "representative": ["legal_representative"],
    }
    for name, why in expected.items():
        if avoid[name].pk in reasons:  # examined before the draw had its four
            assert reasons[avoid[name].pk] == why, name
    # suspended (not lapsed) and retired experts are not candidates at all
    assert avoid["suspended"].pk not in reasons and avoid["retired"].pk not in reasons


def test_an_expert_who_served_the_tenderer_within_the_window_is_avoided(dw) -> None:  # type: ignore[no-untyped-def]
    experts = pool_of(dw, 4)
    first = dw.draw([("A01", 2, 0)])
    served = drawn_ids(first)
    DrawnExpert.objects.filter(draw=first).update(status=DrawnStatus.CONFIRMED)
    section = another_section(dw)
    second = draw_services.request_draw(
        actor=dw.ops, section=section, session_at=dw.session_at, quotas=[QuotaTerms("A01", 2)]
    )
    assert set(drawn_ids(second)) == {e.pk for e in experts} - set(served)
    # a window of 0 days before an evaluation two days later: the service is outside it
    third_section = another_section(dw)
    third = draw_services.request_draw(
        actor=dw.ops,
        section=third_section,
        session_at=dw.session_at + timedelta(days=3),
        quotas=[QuotaTerms("A01", 4)],
        avoid_days=0,
    )
    assert set(drawn_ids(third)) == {e.pk for e in experts}
    # but the same tenderer within 180 days: the unfillable draw names the rule
    with pytest.raises(DrawUnfillable) as caught:
        draw_services.request_draw(
            actor=dw.ops,
            section=another_section(dw),
            session_at=dw.session_at,
            quotas=[QuotaTerms("A01", 4)],
        )
    (quota,) = caught.value.detail["quotas"]
    assert quota["binding"] == "served_tenderer" and quota["removed"]["served_tenderer"] == 2


def test_a_top_up_draw_avoids_who_was_drawn_for_the_section(dw) -> None:  # type: ignore[no-untyped-def]
    experts = _owned_pool(dw, 5)
    first = dw.draw([("A01", 2, 0)])
    declined = drawn_ids(first, role="main")[0]
    draw_answers.answer_invitation(actor=Expert.objects.get(pk=declined).user,
                                   invitation=_row_of(first, declined), accept=False,
                                   reason="出差")  # fmt: skip
    second = dw.draw([("A01", 3, 0)], tops_up=first)
    assert set(drawn_ids(first)).isdisjoint(drawn_ids(second))
    assert set(drawn_ids(first)) | set(drawn_ids(second)) == {e.pk for e in experts}


def test_other_regions_only_and_a_minimum_from_other_regions(dw) -> None:  # type: ignore[no-untyped-def]
    home = pool_of(dw, 6)
    away = [dw.expert(other_specialties=[], region=r) for r in ("320200", "320300", "520100")]
    only = dw.draw([("A01", 3, 0)], other_regions_only=True)
    assert set(drawn_ids(only)) == {e.pk for e in away}
    # five mains of which at least two from other regions, two backups
    mixed = draw_services.request_draw(
        actor=dw.ops,
        section=another_section(dw),
        session_at=dw.session_at,
        quotas=[QuotaTerms("A01", 5, 2, 2)],
    )
    ids = drawn_ids(mixed, role="main")
    assert len(ids) == 5 and len(set(ids) & {e.pk for e in away}) >= 2
    assert set(drawn_ids(mixed)) <= {e.pk for e in home + away}
    assert draw_verify.verify_draw(mixed)["ok"]


# --- unfillable --------------------------------------------------------------------------------


def test_an_unfillable_draw_says_so_and_names_the_binding_constraint(dw) -> None:  # type: ignore[no-untyped-def]
    pool_of(dw, 2)
    [dw.expert(other_specialties=[], region="520100") for _ in range(6)]
    with pytest.raises(DrawUnfillable) as caught:
        dw.draw([("A01", 5, 2)], include_regions=["320000"])
    detail = caught.value.detail
    assert caught.value.code == "draw_unfillable" and caught.value.status == 409
    (quota,) = detail["quotas"]
    assert (quota["quota"], quota["needed"], quota["eligible"], quota["binding"]) == (
        "A01",
        7,
        2,
        "region",
    )
    assert quota["removed"] == {"region": 6}
    draw = Draw.objects.get(public_id=detail["draw"])
    assert draw.status == DrawStatus.UNFILLABLE and not draw.drawn.exists()
    # recorded: the event lists the same, and reveals the secret at once (nothing is sealed)
    last = events(draw)[-1]
    assert last.event_type == "experts.draw_unfillable"
    payload = json.loads(last.payload)
    assert payload["quotas"] == detail["quotas"] and payload["secret"] == draw.revealed_secret
    assert draw_verify.verify_draw(draw)["ok"]


def test_the_binding_constraint_is_the_filter_that_removed_most(dw) -> None:  # type: ignore[no-untyped-def]
    pool_of(dw, 1)
    [dw.expert(employer=dw.bidders[0], other_specialties=[]) for _ in range(3)]
    [dw.expert(other_specialties=[], region="520100")]
    with pytest.raises(DrawUnfillable) as caught:
        dw.draw([("A01", 3, 0)], include_regions=["320000"])
    (quota,) = caught.value.detail["quotas"]
    assert quota["binding"] == "employer_bidder"
    assert quota["removed"] == {"region": 1, "employer_bidder": 3} and quota["eligible"] == 1
    # too few of the specialty in the pool at all: the specialty binds
    with pytest.raises(DrawUnfillable) as caught:
        dw.draw([("B01", 1, 0)])
    assert caught.value.detail["quotas"][0]["binding"] == "specialty"


def test_two_quotas_competing_for_the_same_experts(dw) -> None:  # type: ignore[no-untyped-def]
    pool_of(dw, 3)  # A01.01 only: both A and A01 quotas draw from them
    with pytest.raises(DrawUnfillable) as caught:
        dw.draw([("A01", 2, 0), ("A", 2, 0)])
    (quota,) = caught.value.detail["quotas"]
    assert quota["quota"] == "A" and quota["binding"] == "already_drawn" and quota["eligible"] == 1


# --- answers and replacements ------------------------------------------------------------------


def _row_of(draw: Draw, expert_id: int) -> DrawnExpert:
    return next(
        r
        for r in draw.drawn.select_related("draw", "quota")
        if draw_record.identity(r)["expert"] == expert_id
    )


def _owned_pool(dw: DrawWorld, n: int) -> list[Expert]:
    from tests.conftest import make_user

    out = []
    for _ in range(n):
        user = make_user(f"dx{Expert.objects.count()}", "expert")
        out.append(dw.expert(owner=user, other_specialties=[]))
    return out


def test_a_decline_is_replaced_by_the_next_backup(dw) -> None:  # type: ignore[no-untyped-def]
    experts = _owned_pool(dw, 5)
    draw = dw.draw([("A01", 2, 2)])
    mains, backups = drawn_ids(draw, role="main"), drawn_ids(draw, role="backup")
    by_id = {e.pk: e for e in experts}
    row = _row_of(draw, mains[0])
    with pytest.raises(ValidationFailed):  # a decline needs a reason
        draw_answers.answer_invitation(actor=by_id[mains[0]].user, invitation=row, accept=False)
    draw_answers.answer_invitation(
        actor=by_id[mains[0]].user, invitation=row, accept=False, reason="已有其他评标安排"
    )
    row.refresh_from_db()
    first_backup = _row_of(draw, backups[0])
    assert (row.status, row.outcome, row.replaced_by_id) == (
        "replaced",
        "declined",
        first_backup.pk,
    )
    assert (first_backup.status, first_backup.seat) == ("notified", row.seat)
    types = [e.event_type for e in events(draw)]
    assert types[-2:] == ["experts.draw_declined", "experts.draw_replaced"]
    # the expert's own account does not appear in the public ledger
    assert all(e.actor != f"user:{by_id[mains[0]].user_id}" for e in events(draw))
    assert draw_seal.unseal("reason", draw.public_id, row.sealed_reason) == "已有其他评标安排"
    # the other main and the backup confirm: complete
    for expert_id in (mains[1], backups[0]):
        draw_answers.answer_invitation(
            actor=by_id[expert_id].user, invitation=_row_of(draw, expert_id), accept=True
        )
    draw.refresh_from_db()
    assert draw.status == DrawStatus.COMPLETE
    assert [e.event_type for e in events(draw)][-1] == "experts.draw_complete"
    assert draw_verify.verify_draw(draw)["ok"]


def test_no_answer_in_time_is_replaced_too(dw) -> None:  # type: ignore[no-untyped-def]
    _owned_pool(dw, 3)
    draw = dw.draw([("A01", 1, 1)])
    main = draw.drawn.get(role="main")
    clock_now = clock.now()
    assert main.answer_due == clock_now + timedelta(minutes=30)
    with clock.frozen(clock_now + timedelta(minutes=31)):
        assert draw_answers.expire_overdue() == 1
    main.refresh_from_db()
    assert (main.status, main.outcome) == ("replaced", "no_answer")
    assert draw.drawn.get(role="backup").status == "notified"
    types = [e.event_type for e in events(draw)]
    assert types[-2:] == ["experts.draw_no_answer", "experts.draw_replaced"]


def test_when_backups_run_out_the_quota_is_unfillable_and_staff_top_it_up(dw) -> None:  # type: ignore[no-untyped-def]
    experts = _owned_pool(dw, 4)
    by_id = {e.pk: e for e in experts}
    draw = dw.draw([("A01", 1, 1)])
    main, backup = drawn_ids(draw, role="main")[0], drawn_ids(draw, role="backup")[0]
    draw_answers.answer_invitation(
        actor=by_id[main].user, invitation=_row_of(draw, main), accept=False, reason="生病"
    )
    draw_answers.answer_invitation(
        actor=by_id[backup].user, invitation=_row_of(draw, backup), accept=False, reason="出差"
    )
    draw.refresh_from_db()
    assert draw.status == DrawStatus.UNFILLABLE
    assert draw.unfillable["quotas"] == [
        {"quota": "A01", "needed": 1, "seated": 0, "binding": "backups_exhausted", "eligible": 0}
    ]
    assert draw.quotas.get().exhausted_at is not None
    assert events(draw)[-1].event_type == "experts.draw_backups_exhausted"
    # a further draw for the section never draws the two again
    top = dw.draw([("A01", 1, 0)], tops_up=draw)
    assert drawn_ids(top)[0] in {e.pk for e in experts} - {main, backup}
    assert draw_verify.verify_draw(draw)["ok"] and draw_verify.verify_draw(top)["ok"]


def test_an_invitation_is_answered_once_and_by_its_expert_only(dw, users) -> None:  # type: ignore[no-untyped-def]
    experts = _owned_pool(dw, 2)
    by_id = {e.pk: e for e in experts}
    draw = dw.draw([("A01", 1, 0)])
    (main,) = drawn_ids(draw, role="main")
    other = next(e for e in experts if e.pk != main)
    row = _row_of(draw, main)
    with pytest.raises(NotFound):
        draw_answers.answer_invitation(actor=other.user, invitation=row, accept=True)
    draw_answers.answer_invitation(actor=by_id[main].user, invitation=row, accept=True)
    with pytest.raises(Conflict) as caught:
        draw_answers.answer_invitation(
            actor=by_id[main].user, invitation=row, accept=False, reason="改变主意"
        )
    assert caught.value.code == "invitation_closed"


# --- the reveal --------------------------------------------------------------------------------


def test_the_reveal_waits_for_the_session_then_publishes_the_secret(dw) -> None:  # type: ignore[no-untyped-def]
    pool_of(dw, 3)
    draw = dw.draw([("A01", 2, 1)])
    with pytest.raises(Conflict) as caught:
        draw_answers.reveal_draw(actor=dw.ops, draw=draw)
    assert caught.value.code == "session_not_started"
    with clock.frozen(draw.session_at):
        draw_answers.reveal_draw(actor=dw.ops, draw=draw)
        with pytest.raises(Conflict):
            draw_answers.reveal_draw(actor=dw.ops, draw=draw)
    draw.refresh_from_db()
    event = events(draw)[-1]
    assert event.event_type == "experts.draw_revealed"
    assert json.loads(event.payload)["secret"] == draw.revealed_secret
    assert {r.expert_id for r in draw.drawn.all()} == set(drawn_ids(draw))
    report = draw_verify.verify_draw(draw)
    assert report["ok"] and report["secret"] == "revealed" and report["seed"]


# --- verification --------------------------------------------------------------------------------


def test_the_verification_holds_after_the_pool_changes(dw) -> None:  # type: ignore[no-untyped-def]
    experts = pool_of(dw, 8)
    day = dw.session_at.astimezone(clock.CHINA).date()
    services.add_unavailability(actor=dw.admin, expert=experts[0], start=day, end=day)
    services.declare_conflict(
        actor=dw.admin, expert=experts[1], entity=dw.bidders[0], reason="亲属"
    )
    draw = dw.draw([("A01", 3, 2), ("A", 1, 0)])
    before = draw_verify.verify_draw(draw)
    assert before["ok"], before["checks"]
    # the pool moves on: retirements, moves, new employers, withdrawn conflicts, new experts
    for e in experts[2:5]:
        services.retire_expert(actor=dw.admin, expert=e, reason="退出")
    Unavailability.objects.all().delete()
    DeclaredConflict.objects.update(withdrawn_at=clock.now())
    Expert.objects.filter(pk__in=[e.pk for e in experts[5:]]).update(employer=dw.bidders[0])
    ExpertSpecialty.objects.filter(expert__in=experts[5:]).update(region_id="520100")
    pool_of(dw, 5)
    after = draw_verify.verify_draw(draw)
    assert after["ok"], after["checks"]
    assert [q["drawn"] for q in after["quotas"]] == [q["drawn"] for q in before["quotas"]]


def test_a_tampered_draw_does_not_verify(dw) -> None:  # type: ignore[no-untyped-def]
    pool_of(dw, 6)
    draw = dw.draw([("A01", 2, 1)])
    a, b = list(draw.drawn.order_by("position"))[:2]
    a.sealed_identity, b.sealed_identity = b.sealed_identity, a.sealed_identity  # swap who
    DrawnExpert.objects.bulk_update([a, b], ["sealed_identity"])
    report = draw_verify.verify_draw(draw)
    assert not report["ok"]
    assert [c["check"] for c in report["checks"] if not c["ok"]] == ["selection"]
    # a replaced seal of the inputs: the digest no longer matches the published one
    a.sealed_identity, b.sealed_identity = b.sealed_identity, a.sealed_identity
    DrawnExpert.objects.bulk_update([a, b], ["sealed_identity"])
    assert draw_verify.verify_draw(draw)["ok"]
    _, record = draw_verify.unseal_inputs(draw)
    record["quotas"][0]["strata"][0]["list"]["candidates"][0]["facts"]["employer"] = 1
    import zlib

    draw.sealed_inputs = draw_seal.seal_bytes(
        "inputs", draw.public_id, zlib.compress(json.dumps(record).encode())
    )
    draw.save(update_fields=["sealed_inputs"])
    failed = {c["check"] for c in draw_verify.verify_draw(draw)["checks"] if not c["ok"]}
    assert "inputs_digest" in failed


@pytest.mark.parametrize("method", ["ids", "fallback"])
def test_the_id_space_way_draws_and_verifies(dw, monkeypatch, method) -> None:  # type: ignore[no-untyped-def]
    from ggzy.experts import draw_select

    monkeypatch.setattr(draw_select, "LIST_MAX", 0)  # every stratum starts by probing ids
    if method == "fallback":
        monkeypatch.setattr(draw_select, "PROBE_LIMIT", 0)  # no probe allowed: the list way
    experts = pool_of(dw, 12) + [dw.expert(other_specialties=[], region="320200") for _ in range(3)]
    draw = dw.draw([QuotaTerms("A01", 3, 1, 1)])
    _, record = draw_verify.unseal_inputs(draw)
    strata = record["quotas"][0]["strata"]
    assert all("ids" in s for s in strata)
    assert all(("list" in s) == (method == "fallback") for s in strata)
    assert set(drawn_ids(draw)) <= {e.pk for e in experts}
    monkeypatch.undo()  # the verification replays whatever way was recorded
    assert draw_verify.verify_draw(draw)["ok"]


def test_a_draw_interrupted_after_its_commitment_is_drawn_later(dw, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    pool_of(dw, 3)

    def boom(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("the process died")

    monkeypatch.setattr(draw_services, "perform_draw", boom)
    with pytest.raises(RuntimeError):
        dw.draw([("A01", 1, 1)])
    monkeypatch.undo()
    draw = Draw.objects.get()
    assert draw.status == DrawStatus.COMMITTED
    draw = draw_services.perform_draw(draw)
    assert draw.status == DrawStatus.DRAWN and draw_verify.verify_draw(draw)["ok"]


def test_the_related_entity_is_found_through_the_registry(dw, users) -> None:  # type: ignore[no-untyped-def]
    from ggzy.experts import draw_pool

    twin = draw_world.entity(
        users["bidder"],
        name="同一法人公司",
        legal_representative_id=dw.tenderer.legal_representative_id,
    )
    parties, reps = draw_pool.parties_of(dw.section.pk, dw.tenderer.pk, dw.agent.pk)
    assert parties.bidders == {b.pk for b in dw.bidders}
    assert parties.related == {twin.pk: [dw.tenderer.pk]}
    assert reps[dw.tenderer.legal_representative_id] == [dw.tenderer.pk]
    assert Entity.objects.filter(pk__in=parties.avoided).count() == len(dw.bidders) + 3


# --- one original draw per section; top-ups only when short --------------------------------------


def _unchanged_but_refusal(before: tuple[int, int, int], section_id: str, code: str) -> None:
    """Nothing written by a refused request but its recorded refusal."""
    seq = before[2]
    assert (Draw.objects.count(), DrawnExpert.objects.count()) == before[:2]
    new = list(Event.objects.filter(seq__gt=seq).order_by("seq"))
    assert [(e.event_type, e.subject) for e in new] == [
        ("experts.draw_refused", f"section:{section_id}")
    ]
    assert json.loads(new[0].payload)["reason"] == code


def _counts() -> tuple[int, int, int]:
    last = Event.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    return Draw.objects.count(), DrawnExpert.objects.count(), last


def test_a_second_original_draw_for_a_section_with_one_is_refused_and_recorded(dw) -> None:  # type: ignore[no-untyped-def]
    # given a section whose draw drew experts
    experts = _owned_pool(dw, 6)
    first = dw.draw([("A01", 2, 1)])
    # when a fresh draw (no top-up) is requested beside it, then it is refused, recorded
    before = _counts()
    with pytest.raises(Conflict) as caught:
        dw.draw([("A01", 2, 1)])
    assert caught.value.code == "draw_exists" and caught.value.detail["draw"] == first.public_id
    _unchanged_but_refusal(before, dw.section.public_id, "draw_exists")
    # still refused once its backups ran out: that draw is topped up instead
    by_id = {e.pk: e for e in experts}
    for pk in [drawn_ids(first, role="main")[0], drawn_ids(first, role="backup")[0]]:
        draw_answers.answer_invitation(actor=by_id[pk].user, invitation=_row_of(first, pk),
                                       accept=False, reason="出差")  # fmt: skip
    first.refresh_from_db()
    assert first.status == DrawStatus.UNFILLABLE
    before = _counts()
    with pytest.raises(Conflict) as caught:
        dw.draw([("A01", 2, 1)])
    assert caught.value.code == "draw_exists"
    _unchanged_but_refusal(before, dw.section.public_id, "draw_exists")
    assert dw.draw([("A01", 1, 0)], tops_up=first).status == DrawStatus.DRAWN


def test_an_original_draw_that_drew_no_one_may_be_followed_by_a_new_one(dw) -> None:  # type: ignore[no-untyped-def]
    pool_of(dw, 2)
    with pytest.raises(DrawUnfillable):
        dw.draw([("A01", 3, 0)])
    assert dw.draw([("A01", 2, 0)]).status == DrawStatus.DRAWN


def test_a_top_up_is_refused_for_a_draw_whose_quotas_are_still_filled(dw) -> None:  # type: ignore[no-untyped-def]
    _owned_pool(dw, 6)
    first = dw.draw([("A01", 2, 1)])
    before = _counts()
    with pytest.raises(Conflict) as caught:
        dw.draw([("A01", 2, 0)], tops_up=first)
    assert caught.value.code == "nothing_to_top_up"
    _unchanged_but_refusal(before, dw.section.public_id, "nothing_to_top_up")


def test_a_session_more_than_a_year_ahead_is_refused(dw) -> None:  # type: ignore[no-untyped-def]
    pool_of(dw, 3)
    before = _counts()
    with pytest.raises(ValidationFailed) as caught:
        dw.draw([("A01", 1, 0)], session_at=clock.now() + timedelta(days=367))
    assert caught.value.code == "bad_session_at" and _counts() == before


# --- an unfillable draw: its secret public at once, whom it examined only after the session -----


def test_an_unfillable_draw_names_no_examined_expert_before_the_session(dw) -> None:  # type: ignore[no-untyped-def]
    pool = pool_of(dw, 2)
    with pytest.raises(DrawUnfillable) as caught:
        dw.draw([("A01", 3, 0)])
    draw = Draw.objects.get(public_id=caught.value.detail["draw"])
    assert clock.now() < draw.session_at and draw.revealed_at is None and draw.revealed_secret
    report = draw_verify.verify_draw(draw, identities=True)
    assert report["ok"] and report["secret"] == "revealed"
    text = json.dumps(report, default=str)
    assert [e.public_id for e in pool if e.public_id in text] == []
    # at the session the desk reveals it; then the auditor sees whom it examined
    with clock.frozen(draw.session_at):
        draw = draw_answers.reveal_draw(actor=dw.ops, draw=draw)
        text = json.dumps(draw_verify.verify_draw(draw, identities=True), default=str)
    assert sorted(e.public_id for e in pool if e.public_id in text) == sorted(
        e.public_id for e in pool
    )


# --- the verification checks the drawn event, the answers and every row -------------------------


def _rewrite_event(event: Event, payload: dict[str, object]) -> None:
    from ggzy.ledger.chain import canonical_json
    from tests.ledger.helpers import raw

    raw("UPDATE ledger_event SET payload = %s WHERE seq = %s",
        (canonical_json(payload).decode(), event.seq))  # fmt: skip


def _drawn_event(draw: Draw) -> Event:
    return next(e for e in events(draw) if e.event_type == "experts.draw_drawn")


def _failed(report: dict[str, object]) -> list[str]:
    return [c["check"] for c in report["checks"] if not c["ok"]]  # type: ignore[attr-defined]


def test_verify_fails_when_the_drawn_event_and_the_draw_are_rewritten_together(dw) -> None:  # type: ignore[no-untyped-def]
    import hashlib
    import zlib

    from ggzy.ledger.chain import canonical_json

    _owned_pool(dw, 6)
    draw = dw.draw([("A01", 2, 1)])
    assert draw_verify.verify_draw(draw)["ok"]
    # new sealed inputs, their digest in the draw row and in the drawn event (past the trigger)
    _, record = draw_verify.unseal_inputs(draw)
    record["nonce"] = "00" * 16
    body = canonical_json(record)
    draw.sealed_inputs = draw_seal.seal_bytes("inputs", draw.public_id, zlib.compress(body))
    draw.inputs_sha256 = hashlib.sha256(body).hexdigest()
    draw.save(update_fields=["sealed_inputs", "inputs_sha256"])
    drawn = _drawn_event(draw)
    _rewrite_event(drawn, json.loads(drawn.payload) | {"inputs_sha256": draw.inputs_sha256})
    report = draw_verify.verify_draw(draw)
    assert not report["ok"] and _failed(report) == ["drawn_event"]


def test_verify_fails_when_the_drawn_events_roles_are_rewritten(dw) -> None:  # type: ignore[no-untyped-def]
    _owned_pool(dw, 6)
    draw = dw.draw([("A01", 2, 1)])
    drawn = _drawn_event(draw)
    payload = json.loads(drawn.payload)
    payload["drawn"][0]["role"], payload["drawn"][2]["role"] = "backup", "main"
    _rewrite_event(drawn, payload)
    report = draw_verify.verify_draw(draw)
    assert not report["ok"] and set(_failed(report)) == {"drawn_event", "drawn_event_matches"}


def test_verify_fails_when_a_standby_backup_is_seated_without_a_replacement(dw) -> None:  # type: ignore[no-untyped-def]
    _owned_pool(dw, 6)
    draw = dw.draw([("A01", 2, 1)])
    backup = draw.drawn.get(role="backup")
    DrawnExpert.objects.filter(pk=backup.pk).update(status="confirmed", seat=0)
    report = draw_verify.verify_draw(draw)
    assert not report["ok"] and "answers" in _failed(report)


def test_verify_fails_when_a_rows_other_region_flag_is_altered(dw) -> None:  # type: ignore[no-untyped-def]
    _owned_pool(dw, 6)
    draw = dw.draw([("A01", 2, 1)])
    row = draw.drawn.get(role="backup")
    DrawnExpert.objects.filter(pk=row.pk).update(other_region=not row.other_region)
    report = draw_verify.verify_draw(draw)
    assert not report["ok"] and _failed(report) == ["selection"]


def test_verify_follows_answers_and_replacements(dw) -> None:  # type: ignore[no-untyped-def]
    experts = _owned_pool(dw, 6)
    by_id = {e.pk: e for e in experts}
    draw = dw.draw([("A01", 2, 1)])
    a, b = drawn_ids(draw, role="main")
    draw_answers.answer_invitation(actor=by_id[a].user, invitation=_row_of(draw, a), accept=True)
    draw_answers.answer_invitation(actor=by_id[b].user, invitation=_row_of(draw, b),
                                   accept=False, reason="出差")  # fmt: skip
    assert draw_verify.verify_draw(draw)["ok"]


# --- the reveal closes every open invitation ----------------------------------------------------


def test_invitations_still_open_at_the_reveal_count_as_no_answer_and_call_the_backup(dw) -> None:  # type: ignore[no-untyped-def]
    # given a draw made ten minutes before the session: its invitation is due at the start
    _owned_pool(dw, 6)
    draw = dw.draw([("A01", 1, 1)], session_at=clock.now() + timedelta(minutes=10))
    main = draw.drawn.get(role="main")
    assert main.answer_due == draw.session_at
    # when the desk reveals at exactly the session start
    with clock.frozen(draw.session_at):
        draw_answers.reveal_draw(actor=dw.ops, draw=draw)
    # then the unanswered main counts as no answer and the backup is called, with the full time
    main.refresh_from_db()
    backup = draw.drawn.get(role="backup")
    assert (main.status, main.outcome) == ("replaced", "no_answer")
    assert backup.status == "notified" and backup.answer_due == draw.session_at + timedelta(
        minutes=30
    )
    assert [e.event_type for e in events(draw)][-3:] == [
        "experts.draw_no_answer", "experts.draw_replaced", "experts.draw_revealed",
    ]  # fmt: skip
    assert draw_verify.verify_draw(draw)["ok"]
