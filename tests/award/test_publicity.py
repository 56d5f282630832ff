"""The candidates' publicity (R24/R25) and objections to it (条例54, R9), through the services:
exact results, and refusals that change nothing — no row, no ledger event."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from ggzy.award import selectors, services
from ggzy.award.models import Candidate, Objection, Publicity
from ggzy.award.states import ObjectionStatus, Stage
from ggzy.core.errors import Conflict, NotAuthenticated, PermissionDenied, ValidationFailed
from ggzy.ledger.models import Event
from ggzy.tendering.models import Project
from tests.award import world as w
from tests.award.world import cn, days
from tests.conftest import make_user


def award_events(world: w.AwardWorld) -> list[str]:
    return list(Event.objects.filter(subject=f"award:{world.section.public_id}")
                .order_by("seq").values_list("event_type", flat=True))  # fmt: skip


def nothing_published(world: w.AwardWorld) -> None:
    assert not Publicity.objects.exists() and not Candidate.objects.exists()
    assert award_events(world) == []


def publish(world: w.AwardWorld, **kwargs) -> Publicity:  # type: ignore[no-untyped-def]
    kwargs.setdefault("ends_at", w.SIGNED + days(3))
    return services.publish_candidates(actor=world.tenderer, section=world.section, **kwargs)


def test_the_candidates_are_the_signed_reports_in_its_order(world) -> None:  # type: ignore[no-untyped-def]
    # given the signed report ranks bidder1 (9.0M), bidder3 (9.3M), bidder2 (9.5M)
    assert world.session.signed_at == w.SIGNED
    # when the tenderer publishes at once for exactly 3 days
    publicity = publish(world)
    # then the three candidates are the report's, ranked, with their prices and points
    rows = list(publicity.candidates.order_by("rank").values_list("rank", "entity_id", "price"))
    assert rows == [
        (1, w.entity_of(world, 1).pk, Decimal("9000000.00")),
        (2, w.entity_of(world, 3).pk, Decimal("9300000.00")),
        (3, w.entity_of(world, 2).pk, Decimal("9500000.00")),
    ]
    first = publicity.candidates.get(rank=1)
    assert first.total == Decimal("93.00")  # price 60 + 25 + 8
    assert publicity.starts_at == w.SIGNED and publicity.ends_at == w.SIGNED + days(3)
    assert publicity.report_sha256 == world.session.report_sha256
    assert publicity.regime == "works"
    assert selectors.stage_of(world.section) == Stage.PUBLICITY
    # and one ledger event says so, naming the bids and bidders
    assert award_events(world) == ["award.candidates_published"]
    payload = json.loads(Event.objects.get(event_type="award.candidates_published").payload)
    assert [c["uscc"] for c in payload["candidates"]] == [
        w.entity_of(world, n).uscc for n in (1, 3, 2)
    ]
    assert payload["ends_at"] == "2026-12-17T10:00:01+08:00"
    # a second publication is refused
    with pytest.raises(Conflict) as exc:
        publish(world)
    assert exc.value.code == "candidates_published"
    assert award_events(world) == ["award.candidates_published"]


def test_no_publicity_before_the_report_is_signed(db, region, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    world = w.unsigned_world(frozen_clock)
    assert world.session.status == "report"
    with pytest.raises(Conflict) as exc:
        publish(world)
    assert exc.value.code == "report_not_signed"
    nothing_published(world)


def test_r25_the_publicity_starts_by_the_third_day_after_the_report(world) -> None:  # type: ignore[no-untyped-def]
    # the report was signed on Monday 14: Thursday 17 is the last day to start
    world.at(cn(2026, 12, 17, 23, 59))  # Thursday 23:59 is still in time
    publicity = publish(world, ends_at=cn(2026, 12, 20, 23, 59))
    assert publicity.starts_at == cn(2026, 12, 17, 23, 59) and publicity.late is False
    payload = json.loads(Event.objects.get(event_type="award.candidates_published").payload)
    assert (payload["late"], payload["last_start_day"], payload["rule"]) == (
        False, "2026-12-17", "R25")  # fmt: skip


def test_r25_a_publicity_started_after_the_third_day_is_recorded_late(world) -> None:  # type: ignore[no-untyped-def]
    # on Friday 18 the last day (Thursday 17) has passed: refusing would leave no award possible
    world.at(cn(2026, 12, 18, 0, 0))
    # putting it off further is still refused
    with pytest.raises(Conflict) as exc:
        publish(world, starts_at=cn(2026, 12, 19, 9), ends_at=cn(2026, 12, 22, 9))
    assert exc.value.code == "publicity_too_late"
    assert exc.value.detail["last_start_day"] == "2026-12-17"
    nothing_published(world)
    # the 3 days' minimum is refused as ever
    with pytest.raises(ValidationFailed) as too_short:
        publish(world, ends_at=cn(2026, 12, 20, 23, 59))
    assert too_short.value.code == "publicity_too_short"
    nothing_published(world)
    # at once, for 3 days: recorded, flagged late, and the ledger says so
    publicity = publish(world, ends_at=cn(2026, 12, 21, 0, 0))
    assert publicity.late is True and publicity.starts_at == cn(2026, 12, 18, 0, 0)
    assert selectors.stage_of(world.section) == Stage.PUBLICITY
    payload = json.loads(Event.objects.get(event_type="award.candidates_published").payload)
    assert (payload["late"], payload["last_start_day"], payload["rule"]) == (
        True, "2026-12-17", "R25")  # fmt: skip
    # supervision sees it as a warning that stays
    staff = make_user("center_ops_2", "center_operations")
    warned = [(x.kind, x.level, x.due, x.days_overdue, x.rule)
              for x in selectors.warnings(staff) if x.kind == "publicity_started_late"]  # fmt: skip
    assert warned == [("publicity_started_late", "overdue", date(2026, 12, 17), 1, "R25")]
    # and the section can be awarded once the publicity has ended
    world.at(cn(2026, 12, 21, 9))
    assert services.issue_award(actor=world.tenderer, section=world.section).winner.rank == 1
    assert "publicity_started_late" in {x.kind for x in selectors.warnings(staff)}


def test_r25_a_scheduled_start_after_the_third_day_is_refused(world) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Conflict) as exc:
        publish(world, starts_at=cn(2026, 12, 18, 9), ends_at=cn(2026, 12, 21, 9))
    assert exc.value.code == "publicity_too_late"
    nothing_published(world)
    publicity = publish(world, starts_at=cn(2026, 12, 17, 9), ends_at=cn(2026, 12, 20, 9))
    assert selectors.stage_of(world.section) == Stage.SCHEDULED
    assert publicity.starts_at == cn(2026, 12, 17, 9)


def test_r25_the_publicity_lasts_at_least_3_days(world) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as exc:
        publish(world, ends_at=w.SIGNED + days(3) - days(1 / 86400))  # one second short
    assert exc.value.code == "publicity_too_short"
    assert exc.value.detail["earliest_end"] == "2026-12-17T10:00:01+08:00"
    nothing_published(world)


def test_a_publicity_cannot_start_in_the_past_nor_run_for_months(world) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as exc:
        publish(world, starts_at=w.SIGNED - days(1), ends_at=w.SIGNED + days(3))
    assert exc.value.code == "publicity_start_past"
    with pytest.raises(ValidationFailed) as exc:
        publish(world, ends_at=w.SIGNED + days(31))
    assert exc.value.code == "publicity_too_long"
    nothing_published(world)


def test_only_the_tenderer_side_publishes(world) -> None:  # type: ignore[no-untyped-def]
    for actor in (world.bidder(1).user, world.eval.staff, make_user("other_tenderer", "tenderer")):
        with pytest.raises(PermissionDenied):
            services.publish_candidates(actor=actor, section=world.section,
                                        ends_at=w.SIGNED + days(3))  # fmt: skip
    with pytest.raises(NotAuthenticated):
        services.publish_candidates(actor=None, section=world.section, ends_at=w.SIGNED + days(3))
    nothing_published(world)


def test_an_agent_the_tenderer_has_not_confirmed_cannot_publish(world) -> None:  # type: ignore[no-untyped-def]
    agent = w.unconfirmed_agent(world)
    with pytest.raises(PermissionDenied):
        services.publish_candidates(actor=agent, section=w.fresh(world),
                                    ends_at=w.SIGNED + days(3))  # fmt: skip
    assert not Publicity.objects.exists()
    assert award_events(world) == []


def test_a_confirmed_agent_publishes(world) -> None:  # type: ignore[no-untyped-def]
    agent = w.unconfirmed_agent(world)
    Project.objects.filter(pk=world.section.project_id).update(agency_confirmed_at=w.SIGNED)
    publicity = services.publish_candidates(actor=agent, section=w.fresh(world),
                                            ends_at=w.SIGNED + days(3))  # fmt: skip
    assert publicity.published_by == agent


def test_before_the_report_is_signed_the_stage_says_the_evaluation_is_not_finished(
    db, region, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    world = w.unsigned_world(frozen_clock)
    assert selectors.stage_of(world.section) == Stage.EVALUATING
    assert Stage.EVALUATING.label == "评标尚未完成"


def test_a_scheduled_publicity_shows_as_awaiting_to_the_public_until_it_starts(world) -> None:  # type: ignore[no-untyped-def]
    assert selectors.stage_of(world.section) == Stage.AWAITING  # signed, not published
    publish(world, starts_at=w.SIGNED + days(1), ends_at=w.SIGNED + days(4))
    staff = make_user("center_ops_2", "center_operations")
    assert selectors.visible_stage(world.tenderer, world.section) == Stage.SCHEDULED
    assert selectors.visible_stage(staff, world.section) == Stage.SCHEDULED
    for outsider in (None, world.bidder(1).user):
        assert selectors.visible_stage(outsider, world.section) == Stage.AWAITING
    world.at(w.SIGNED + days(1))
    assert selectors.visible_stage(None, world.section) == Stage.PUBLICITY


def test_r24_at_most_three_candidates(db, region, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    world = w.signed_world(frozen_clock, bidders=4,
                           prices=["9000000.00", "9500000.00", "9300000.00", "9100000.00"])  # fmt: skip
    publicity = publish(world)
    ranked = list(publicity.candidates.order_by("rank").values_list("entity_id", flat=True))
    assert ranked == [w.entity_of(world, n).pk for n in (1, 4, 3)]


# --- objections ---------------------------------------------------------------------------------


def test_a_bidder_objects_during_the_publicity_and_the_award_waits_for_the_answer(world) -> None:  # type: ignore[no-untyped-def]
    publicity = publish(world)
    loser = world.bidder(2)
    world.at(cn(2026, 12, 15, 15))
    objection = services.raise_objection(actor=loser.user, publicity=publicity,
                                         entity=loser.entity, reason="第一名业绩证明不实")  # fmt: skip
    # R9: 3 days from Tuesday 15 — due when Friday 18 ends
    assert objection.reply_due == cn(2026, 12, 19, 0)
    assert selectors.stage_of(world.section) == Stage.SUSPENDED
    # after the publicity, the award is refused while the objection is open
    world.at(cn(2026, 12, 18, 9))
    with pytest.raises(Conflict) as exc:
        services.issue_award(actor=world.tenderer, section=world.section)
    assert exc.value.code == "objection_unanswered"
    assert exc.value.detail == {"objections": [objection.public_id]}
    assert award_events(world) == ["award.candidates_published", "award.objection_raised"]
    # the tenderer answers in time; the award follows
    answered = services.answer_objection(actor=world.tenderer, objection=objection,
                                         reply="经核查，业绩证明真实有效。")  # fmt: skip
    assert answered.status == ObjectionStatus.ANSWERED and not answered.late
    services.issue_award(actor=world.tenderer, section=world.section)
    assert award_events(world)[-2:] == ["award.objection_answered", "award.notice_issued"]


def test_a_late_answer_is_recorded_as_late(world) -> None:  # type: ignore[no-untyped-def]
    publicity = publish(world)
    loser = world.bidder(3)
    objection = services.raise_objection(actor=loser.user, publicity=publicity,
                                         entity=loser.entity, reason="评分有误")  # fmt: skip
    world.at(cn(2026, 12, 18, 0, 0))  # due at the end of Thursday 17
    answered = services.answer_objection(actor=world.tenderer, objection=objection, reply="无误")
    assert answered.late
    payload = json.loads(Event.objects.get(event_type="award.objection_answered").payload)
    assert payload["late"] is True
    with pytest.raises(Conflict) as exc:
        services.answer_objection(actor=world.tenderer, objection=objection, reply="再答")
    assert exc.value.code == "already_answered"


def test_objections_refused_outside_the_window_or_from_outside_the_section(world) -> None:  # type: ignore[no-untyped-def]
    publicity = publish(world, starts_at=w.SIGNED + days(1), ends_at=w.SIGNED + days(4))
    loser = world.bidder(2)
    # before the publicity starts
    with pytest.raises(Conflict) as exc:
        services.raise_objection(actor=loser.user, publicity=publicity, entity=loser.entity,
                                 reason="异议")  # fmt: skip
    assert exc.value.code == "objection_window_closed"
    # a bidder user acting for an entity it is not a member of
    world.at(w.SIGNED + days(2))
    with pytest.raises(PermissionDenied):
        services.raise_objection(actor=loser.user, publicity=publicity,
                                 entity=world.bidder(3).entity, reason="异议")  # fmt: skip
    # an entity that did not bid on the section
    outsider = make_user("outsider", "bidder")
    from tests.api.support import register

    stranger = register(outsider, 77)
    with pytest.raises(PermissionDenied) as denied:
        services.raise_objection(actor=outsider, publicity=publicity, entity=stranger,
                                 reason="异议")  # fmt: skip
    assert denied.value.code == "not_a_bidder"
    # after it ends
    world.at(w.SIGNED + days(4))
    with pytest.raises(Conflict) as exc:
        services.raise_objection(actor=loser.user, publicity=publicity, entity=loser.entity,
                                 reason="异议")  # fmt: skip
    assert exc.value.code == "objection_window_closed"
    assert not Objection.objects.exists()
    assert award_events(world) == ["award.candidates_published"]


def test_a_report_whose_bytes_changed_is_not_published(world) -> None:  # type: ignore[no-untyped-def]
    from ggzy.evaluation.models import EvaluationSession

    EvaluationSession.objects.filter(pk=world.session.pk).update(report=b'{"bids":[]}')
    with pytest.raises(Conflict) as exc:
        publish(world)
    assert exc.value.code == "report_digest_mismatch"
    nothing_published(world)


def test_warning_windows_come_from_the_settings(world, settings) -> None:  # type: ignore[no-untyped-def]
    staff = make_user("center_ops_2", "center_operations")
    # the publicity must start by Thursday 17: with a 2-day window it warns from Tuesday 15
    settings.GGZY_AWARD_WARN_BEFORE_DAYS = 2
    assert selectors.warnings(staff) == []
    settings.GGZY_AWARD_WARN_BEFORE_DAYS = 3
    assert [x.kind for x in selectors.warnings(staff)] == ["publicity_start"]
