"""Who may be chosen: a candidate that drops out (条例55), state capital that binds the choice to
the first candidate still in the running (条例55), the purchaser's decision period after which
the first is deemed chosen (R31, 87号令68), and the written report to the supervisor (R28)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from ggzy.award import selectors, services
from ggzy.award.models import AwardNotice, Candidate
from ggzy.core.errors import Conflict, PermissionDenied, ValidationFailed
from ggzy.ledger.models import Event
from ggzy.tendering.models import Project
from tests.award import world as w
from tests.award.test_award import AWARD_AT, awarded
from tests.award.test_publicity import award_events, publish
from tests.award.world import cn, days
from tests.conftest import make_user

# the signed report ranks bidder1 (9.0M) first, bidder3 (9.3M) second, bidder2 (9.5M) third


def state_controlled(world: w.AwardWorld) -> None:
    Project.objects.filter(pk=world.section.project_id).update(state_controlled=True)
    world.section.project.refresh_from_db()


def withdraw(world: w.AwardWorld, rank: int, **kwargs) -> Candidate:  # type: ignore[no-untyped-def]
    values = {"ground": "gave_up", "reason": "书面声明放弃中标"} | kwargs
    return services.withdraw_candidate(actor=world.tenderer, section=world.section, rank=rank,
                                       **values)  # fmt: skip


def issue(world: w.AwardWorld, **kwargs) -> AwardNotice:  # type: ignore[no-untyped-def]
    return services.issue_award(actor=world.tenderer, section=world.section, **kwargs)


def test_state_capital_binds_the_award_to_the_first_candidate(world) -> None:  # type: ignore[no-untyped-def]
    state_controlled(world)
    publish(world)
    world.at(AWARD_AT)
    with pytest.raises(Conflict) as exc:  # a reason does not open another candidate
        issue(world, rank=2, reason="第二名报价更合理")
    assert exc.value.code == "first_candidate_required" and exc.value.detail["rank"] == 1
    assert not AwardNotice.objects.exists()
    assert award_events(world) == ["award.candidates_published"]
    assert issue(world).entity == w.entity_of(world, 1)


def test_after_the_first_withdraws_the_next_by_rank_is_chosen(world) -> None:  # type: ignore[no-untyped-def]
    state_controlled(world)
    publish(world)
    world.at(AWARD_AT)
    row = withdraw(world, 1, ground="no_security", reason="未按招标文件要求提交履约保证金")
    assert row.withdrawn_at == AWARD_AT and row.withdrawal_ground == "no_security"
    payload = json.loads(Event.objects.get(event_type="award.candidate_withdrawn").payload)
    assert payload["rank"] == 1 and payload["candidates_left"] == 2
    assert payload["uscc"] == w.entity_of(world, 1).uscc and "reason" not in payload
    with pytest.raises(Conflict) as exc:
        issue(world, rank=1)
    assert exc.value.code == "candidate_withdrawn"
    with pytest.raises(Conflict) as exc:  # rank 3 skips rank 2, still in the running
        issue(world, rank=3, reason="x")
    assert exc.value.code == "first_candidate_required" and exc.value.detail["rank"] == 2
    award = issue(world, rank=2)  # the first in the running needs no reason
    assert award.entity == w.entity_of(world, 3) and award.reason == ""
    assert award_events(world) == ["award.candidates_published", "award.candidate_withdrawn",
                                   "award.notice_issued"]  # fmt: skip


def test_without_state_capital_another_candidate_with_a_reason_stays_possible(world) -> None:  # type: ignore[no-untyped-def]
    publish(world)
    world.at(AWARD_AT)
    withdraw(world, 1)
    award = issue(world, rank=3, reason="第二名资格被撤销")
    assert award.entity == w.entity_of(world, 2)


def test_when_every_candidate_withdraws_no_award_is_possible(world) -> None:  # type: ignore[no-untyped-def]
    publish(world)
    world.at(AWARD_AT)
    for rank in (1, 2, 3):
        withdraw(world, rank)
    for rank in (1, 2, 3):
        with pytest.raises(Conflict) as exc:
            issue(world, rank=rank, reason="x")
        assert exc.value.code == "candidate_withdrawn"
    assert not AwardNotice.objects.exists()


@pytest.mark.parametrize(
    ("rank", "values", "error", "code"),
    [
        (1, {"ground": "bored"}, ValidationFailed, "bad_ground"),
        (1, {"reason": ""}, ValidationFailed, "required"),
        (4, {}, ValidationFailed, "candidate_not_found"),
        (True, {}, ValidationFailed, "candidate_not_found"),
    ],
)
def test_withdrawal_refusals_change_nothing(world, rank, values, error, code) -> None:  # type: ignore[no-untyped-def]
    publish(world)
    with pytest.raises(error) as exc:
        withdraw(world, rank, **values)
    assert exc.value.code == code
    assert not Candidate.objects.filter(withdrawn_at__isnull=False).exists()
    assert award_events(world) == ["award.candidates_published"]


def test_withdrawal_needs_the_manager_a_publicity_and_no_award(world) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Conflict) as exc:
        withdraw(world, 1)
    assert exc.value.code == "candidates_not_published"
    publish(world)
    bidder = world.bidder(2).user
    with pytest.raises(PermissionDenied):
        services.withdraw_candidate(actor=bidder, section=world.section, rank=1,
                                    ground="gave_up", reason="x")  # fmt: skip
    withdraw(world, 1)
    with pytest.raises(Conflict) as exc:
        withdraw(world, 1)
    assert exc.value.code == "candidate_withdrawn"
    world.at(AWARD_AT)
    issue(world, rank=2)
    with pytest.raises(Conflict) as exc:
        withdraw(world, 3)
    assert exc.value.code == "award_exists"
    assert Candidate.objects.filter(withdrawn_at__isnull=False).count() == 1


def test_r31_after_five_working_days_the_first_candidate_is_deemed_chosen(
    db, region, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    world = w.signed_world(frozen_clock, category="procurement", deposit="100000.00")
    services.publish_candidates(actor=world.tenderer, section=world.section,
                                ends_at=w.SIGNED + days(1))  # fmt: skip
    # the report was signed on Monday 14 December: the decision is due Monday 21 December
    staff = make_user("center_ops_9", "center_operations")
    found = [x for x in selectors.warnings(staff, today=date(2026, 12, 18))
             if x.kind == "award_decision"]  # fmt: skip
    assert [(x.level, x.due, x.rule) for x in found] == [("upcoming", date(2026, 12, 21), "R31")]
    world.at(cn(2026, 12, 22, 9))
    with pytest.raises(Conflict) as exc:
        issue(world, rank=2, reason="第二名服务更好")
    assert exc.value.code == "decision_period_over"
    assert exc.value.detail == {"rank": 1, "decision_due": "2026-12-21", "rule": "R31"}
    award = issue(world)
    assert award.deemed is True and award.record["deemed_chosen"] is True
    payload = json.loads(Event.objects.get(event_type="award.notice_issued").payload)
    assert payload["deemed_chosen"] is True
    assert "award_decision" not in {x.kind for x in selectors.warnings(staff)}


def test_r31_within_the_period_the_choice_is_the_purchasers(db, region, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    world = w.signed_world(frozen_clock, category="procurement", deposit="100000.00")
    services.publish_candidates(actor=world.tenderer, section=world.section,
                                ends_at=w.SIGNED + days(1))  # fmt: skip
    world.at(cn(2026, 12, 21, 17))  # the last day
    award = issue(world, rank=2, reason="第一名放弃")
    assert award.deemed is False and award.record["deemed_chosen"] is False


def test_r28_the_written_report_to_the_supervisor_within_15_days(world) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Conflict) as exc:
        services.file_award_report(actor=world.tenderer, section=world.section, reference="x")
    assert exc.value.code == "award_not_issued"
    awarded(world)  # Friday 18 December: the report is due Saturday 2 January
    staff = make_user("center_ops_8", "center_operations")
    found = [(x.level, x.due, x.rule) for x in selectors.warnings(staff, today=date(2026, 12, 31))
             if x.kind == "award_report"]  # fmt: skip
    assert found == [("upcoming", date(2027, 1, 2), "R28")]
    world.at(cn(2027, 1, 4, 9))  # two days late: recorded as it happened
    row = services.file_award_report(actor=world.tenderer, section=world.section,
                                     reference="宁建招报〔2027〕1号")  # fmt: skip
    assert row.report_filed_at == cn(2027, 1, 4, 9) and row.report_reference.endswith("1号")
    payload = json.loads(Event.objects.get(event_type="award.report_filed").payload)
    assert payload == {"notice": row.public_id, "reference": "宁建招报〔2027〕1号",
                       "due": "2027-01-02", "late": True}  # fmt: skip
    assert "award_report" not in {x.kind for x in selectors.warnings(staff)}
    with pytest.raises(Conflict) as exc:
        services.file_award_report(actor=world.tenderer, section=world.section, reference="y")
    assert exc.value.code == "report_filed"
    with pytest.raises(PermissionDenied):
        services.file_award_report(actor=world.bidder(1).user, section=world.section,
                                   reference="y")  # fmt: skip


def test_r28_procurement_files_the_contract_instead(db, region, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    world = w.signed_world(frozen_clock, category="procurement", deposit="100000.00")
    services.publish_candidates(actor=world.tenderer, section=world.section,
                                ends_at=w.SIGNED + days(1))  # fmt: skip
    world.at(AWARD_AT)
    issue(world)
    with pytest.raises(Conflict) as exc:
        services.file_award_report(actor=world.tenderer, section=world.section, reference="x")
    assert exc.value.code == "report_not_required"
