"""The award notice (signed by the platform), each bidder's own result (R61), the contract (R14,
R26/R27) and the deposits' refunds (R12/R13), through the services."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from ggzy.award import notice, selectors, services, services_contract
from ggzy.award.models import AwardNotice, Contract, Obligation
from ggzy.award.states import Stage
from ggzy.bidding.models import Deposit
from ggzy.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from ggzy.ledger import signing
from ggzy.ledger.chain import canonical_json
from ggzy.ledger.models import Event
from ggzy.tendering.models import Project
from tests.award import world as w
from tests.award.test_publicity import award_events, publish
from tests.award.world import cn, days
from tests.conftest import make_user

AWARD_AT = cn(2026, 12, 18, 10)  # Friday, after the publicity ended on Thursday 10:00:01


def awarded(world: w.AwardWorld, **kwargs) -> AwardNotice:  # type: ignore[no-untyped-def]
    publish(world)
    world.at(AWARD_AT)
    return services.issue_award(actor=world.tenderer, section=world.section, **kwargs)


def contract(world: w.AwardWorld, **kwargs) -> Contract:  # type: ignore[no-untyped-def]
    values = {"amount": "9000000.00", "signed_on": date(2026, 12, 20),
              "security_amount": "900000.00", "security_form": "bank_guarantee"} | kwargs  # fmt: skip
    return services_contract.record_contract(actor=world.tenderer, section=world.section, **values)


# --- the award notice ---------------------------------------------------------------------------


def test_the_award_waits_for_the_end_of_the_publicity(world) -> None:  # type: ignore[no-untyped-def]
    publish(world)
    world.at(w.SIGNED + days(3) - days(1 / 86400))
    with pytest.raises(Conflict) as exc:
        services.issue_award(actor=world.tenderer, section=world.section)
    assert exc.value.code == "publicity_running"
    assert not AwardNotice.objects.exists()
    assert award_events(world) == ["award.candidates_published"]


def test_the_award_notice_names_candidate_1_and_is_signed_by_the_platform(world) -> None:  # type: ignore[no-untyped-def]
    award = awarded(world)
    first = w.entity_of(world, 1)
    assert award.entity == first and award.winner.rank == 1
    assert award.amount == Decimal("9000000.00") and award.reason == ""
    record = award.record
    assert record["winner"]["uscc"] == first.uscc and record["amount"] == "9000000.00"
    assert record["contract_deadline"] == "2027-01-17" and record["rule"] == "R26"
    assert record["issued_at"] == "2026-12-18T10:00:00+08:00"
    assert record["publicity"] == {"starts_at": "2026-12-14T10:00:01+08:00",
                                   "ends_at": "2026-12-17T10:00:01+08:00"}  # fmt: skip
    assert record["report_sha256"] == world.session.report_sha256
    # the platform's signature over the canonical bytes, checkable with the public key
    data = canonical_json(record)
    assert signing.verify(signing.public_key_pem(), data, award.signature)
    assert award.key_id == signing.key_id() and notice.verify(award)
    # the ledger event carries the digest and the signature; record_seq points at it
    event = Event.objects.get(event_type="award.notice_issued")
    assert event.seq == award.record_seq
    payload = json.loads(event.payload)
    assert payload["record_sha256"] == award.record_sha256 and payload["rank"] == 1
    assert payload["validity_warning"] is False and payload["award_by"] == "2027-02-01"
    assert selectors.stage_of(world.section) == Stage.AWARDED
    # a changed record no longer verifies
    award.record["amount"] = "1.00"
    assert not notice.verify(award)
    with pytest.raises(Conflict) as exc:
        services.issue_award(actor=world.tenderer, section=world.section)
    assert exc.value.code == "award_exists"


def test_another_candidate_needs_a_recorded_reason(world) -> None:  # type: ignore[no-untyped-def]
    publish(world)
    world.at(AWARD_AT)
    with pytest.raises(ValidationFailed) as exc:
        services.issue_award(actor=world.tenderer, section=world.section, rank=2)
    assert exc.value.code == "reason_required"
    with pytest.raises(ValidationFailed) as exc:
        services.issue_award(actor=world.tenderer, section=world.section, rank=4, reason="x")
    assert exc.value.code == "candidate_not_found"
    assert not AwardNotice.objects.exists()
    assert award_events(world) == ["award.candidates_published"]
    award = services.issue_award(actor=world.tenderer, section=world.section, rank=2,
                                 reason="第一名放弃中标（条例55）")  # fmt: skip
    assert award.entity == w.entity_of(world, 3) and award.amount == Decimal("9300000.00")
    assert award.record["reason"] == "第一名放弃中标（条例55）"


def test_r37_an_award_later_than_30_working_days_before_validity_ends_is_flagged(world) -> None:  # type: ignore[no-untyped-def]
    publish(world)
    world.at(cn(2027, 2, 2, 9))  # validity ends 14 March; the last day was Monday 1 February
    award = services.issue_award(actor=world.tenderer, section=world.section)
    assert award.validity_warning is True


def test_no_award_once_the_bids_validity_has_expired(world) -> None:  # type: ignore[no-untyped-def]
    publish(world)
    # the bids were valid 90 days from the deadline of Monday 14 December: to 14 March 2027
    world.at(cn(2027, 3, 15, 0, 0))
    with pytest.raises(Conflict) as exc:
        services.issue_award(actor=world.tenderer, section=world.section)
    assert exc.value.code == "bid_validity_expired"
    assert exc.value.detail["validity_ends"] == "2027-03-14"
    assert not AwardNotice.objects.exists()
    assert award_events(world) == ["award.candidates_published"]
    # on the last valid day it is still given, flagged for R37
    world.at(cn(2027, 3, 14, 23, 59))
    assert services.issue_award(actor=world.tenderer, section=world.section).validity_warning


def test_an_agent_the_tenderer_has_not_confirmed_cannot_issue_the_award(world) -> None:  # type: ignore[no-untyped-def]
    publish(world)
    agent = w.unconfirmed_agent(world)
    world.at(w.SIGNED + days(4))
    with pytest.raises(PermissionDenied):
        services.issue_award(actor=agent, section=w.fresh(world))
    assert not AwardNotice.objects.exists()
    assert award_events(world) == ["award.candidates_published"]


def test_an_agent_the_tenderer_has_not_confirmed_does_not_see_the_tenderers_side(world) -> None:  # type: ignore[no-untyped-def]
    agent = w.unconfirmed_agent(world)
    assert not selectors.can_view_all(agent, w.fresh(world))
    with pytest.raises(NotFound):
        selectors.obligations_for(agent, w.fresh(world))
    assert selectors.warnings(agent) == [] and selectors.overview(agent) == []
    # confirmed, it does
    Project.objects.filter(pk=world.section.project_id).update(agency_confirmed_at=w.SIGNED)
    assert selectors.can_view_all(agent, w.fresh(world))
    assert [x.kind for x in selectors.warnings(agent)] == ["publicity_start"]


# --- R61: each bidder's own result --------------------------------------------------------------


def test_r61_a_losing_bidder_sees_its_own_score_and_rank_only(world) -> None:  # type: ignore[no-untyped-def]
    loser = world.bidder(2)
    with pytest.raises(NotFound):  # nothing before the publicity
        selectors.my_results(loser.user, world.section)
    awarded(world)
    rows = selectors.my_results(loser.user, world.section)
    assert len(rows) == 1
    row = rows[0]
    assert row["uscc"] == loser.entity.uscc and row["rank"] == 3 and row["of"] == 3
    assert row["price"] == "9500000.00" and row["valid"] is True and row["won"] is False
    assert row["candidate_rank"] == 3 and row["awarded"] is True
    expected_total = Decimal("9000000") / Decimal("9500000") * 60 + 33
    assert abs(Decimal(row["total"]) - expected_total) < Decimal("0.01")
    others = {world.bidder(n).entity.name for n in (1, 3)} | {world.bidder(n).entity.uscc
                                                              for n in (1, 3)}  # fmt: skip
    assert not others & set(map(str, row.values()))
    assert selectors.my_results(world.bidder(1).user, world.section)[0]["won"] is True
    with pytest.raises(NotFound):
        selectors.my_results(world.tenderer, world.section)


# --- the contract -------------------------------------------------------------------------------


def test_the_contract_is_recorded_with_its_due_dates_and_performance_deposit(world) -> None:  # type: ignore[no-untyped-def]
    awarded(world)
    world.at(cn(2026, 12, 21, 9))
    row = contract(world)
    assert row.amount == Decimal("9000000.00") and row.deadline == date(2027, 1, 17)
    assert row.late is False
    assert row.publication_due is None and row.filing_due is None  # works
    deposit = Obligation.objects.get(contract=row)
    assert (deposit.kind, deposit.amount, deposit.due_on, deposit.status) == (
        "performance_deposit",
        Decimal("900000.00"),
        date(2026, 12, 20),
        "due",
    )
    payload = json.loads(Event.objects.get(event_type="award.contract_recorded").payload)
    assert payload["late"] is False and payload["deadline"] == "2027-01-17"
    assert selectors.stage_of(world.section) == Stage.CONTRACTED


@pytest.mark.parametrize(
    ("values", "code"),
    [
        ({"amount": "8999999.99"}, "contract_amount_mismatch"),
        ({"security_amount": "900000.01"}, "performance_security_too_high"),
        ({"security_amount": "0.00"}, "bad_security_form"),
        ({"security_form": "none"}, "bad_security_form"),
        ({"signed_on": date(2026, 12, 22)}, "signed_in_future"),
        ({"signed_on": date(2026, 12, 17)}, "signed_before_award"),
        ({"amount": "1e400"}, "bad_amount"),
        ({"amount": "8999999.995"}, "bad_amount"),  # not rounded to the award's amount
        ({"amount": "9000000.001"}, "bad_amount"),
        ({"security_amount": "450000.005"}, "bad_amount"),
        ({"signed_on": date(1999, 12, 31)}, "bad_date"),
        ({"signed_on": date(9999, 12, 31)}, "bad_date"),
    ],
)
def test_contract_refusals_change_nothing(world, values, code) -> None:  # type: ignore[no-untyped-def]
    awarded(world)
    world.at(cn(2026, 12, 21, 9))
    before = award_events(world)
    with pytest.raises(ValidationFailed) as exc:
        contract(world, **values)
    assert exc.value.code == code
    assert not Contract.objects.exists() and not Obligation.objects.exists()
    assert award_events(world) == before


def test_r14_a_security_of_exactly_10_percent_is_accepted(world) -> None:  # type: ignore[no-untyped-def]
    awarded(world)
    world.at(cn(2026, 12, 21, 9))
    assert contract(world, security_amount="900000.00").security_amount == Decimal("900000.00")


def test_r14_performance_security_above_10_percent_by_a_fraction_of_a_cent_is_refused(
    db, region, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    world = w.signed_world(frozen_clock, prices=["9000000.05", "9500000.00", "9300000.00"])
    award = awarded(world)
    assert award.amount == Decimal("9000000.05")
    world.at(cn(2026, 12, 21, 10))
    # 10% of 9,000,000.05 is 900,000.005: 900,000.01 exceeds it
    with pytest.raises(ValidationFailed) as exc:
        contract(world, amount="9000000.05", security_amount="900000.01")
    assert exc.value.code == "performance_security_too_high"
    assert exc.value.detail["max"] == "900000.00"
    assert not Contract.objects.exists()
    assert award_events(world) == ["award.candidates_published", "award.notice_issued"]
    row = contract(world, amount="9000000.05", security_amount="900000.00")
    assert row.security_amount == Decimal("900000.00")


def test_a_contract_amount_a_fraction_of_a_cent_off_the_award_is_refused(world) -> None:  # type: ignore[no-untyped-def]
    awarded(world)
    world.at(cn(2026, 12, 21, 10))
    with pytest.raises(ValidationFailed) as exc:
        services_contract.record_contract(
            actor=world.tenderer, section=world.section, amount="8999999.995",
            signed_on=date(2026, 12, 20),
        )  # fmt: skip
    assert exc.value.code == "bad_amount"
    assert not Contract.objects.exists()
    # trailing zeros are no fraction of a cent
    row = contract(world, amount="9000000.000", security_amount="0", security_form="none")
    assert row.amount == Decimal("9000000.00")


def test_r26_a_contract_signed_after_30_days_is_recorded_as_late(world) -> None:  # type: ignore[no-untyped-def]
    awarded(world)
    world.at(cn(2027, 1, 20, 9))
    on_time = date(2027, 1, 17)  # the 30th day
    late = contract(world, signed_on=date(2027, 1, 18))
    assert late.late is True and late.deadline == on_time
    payload = json.loads(Event.objects.get(event_type="award.contract_recorded").payload)
    assert payload["late"] is True and payload["rule"] == "R26"
    with pytest.raises(Conflict) as exc:
        contract(world, signed_on=on_time)
    assert exc.value.code == "contract_exists"


def test_no_contract_before_the_award(world) -> None:  # type: ignore[no-untyped-def]
    publish(world)
    with pytest.raises(Conflict) as exc:
        contract(world, signed_on=date(2026, 12, 14))
    assert exc.value.code == "award_not_issued"
    assert not Contract.objects.exists()


# --- deposits (R12 works, R13 procurement) -----------------------------------------------------


def _deposits(world: w.AwardWorld) -> dict[int, tuple[str, str, date | None]]:
    rows = Deposit.objects.filter(section=world.section)
    by_entity = {d.entity_id: (d.status, d.refund_trigger, d.refund_due) for d in rows}
    return {n: by_entity[world.bidder(n).entity.pk] for n in (1, 2, 3)}


def test_r12_works_deposits_are_due_5_days_after_the_contract(db, region, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    world = w.signed_world(frozen_clock, deposit="200000.00")
    awarded(world)
    # the award notice refunds nothing under works tendering
    assert {s for s, _t, _d in _deposits(world).values()} == {"paid"}
    world.at(cn(2026, 12, 23, 9))
    contract(world, signed_on=date(2026, 12, 22))
    due = ("refund_due", "contract_signed", date(2026, 12, 27))  # calendar days
    assert _deposits(world) == {1: due, 2: due, 3: due}


def test_r13_procurement_losers_at_the_award_the_winner_at_the_contract(
    db, region, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    world = w.signed_world(frozen_clock, category="procurement", deposit="100000.00")
    assert world.section.project.category_id == "procurement"
    # R31: the result is published within 2 working days, for at least 1 working day
    publicity = services.publish_candidates(actor=world.tenderer, section=world.section,
                                            ends_at=w.SIGNED + days(1))  # fmt: skip
    assert publicity.regime == "procurement"
    world.at(AWARD_AT)  # Friday 18 December
    services.issue_award(actor=world.tenderer, section=world.section)
    losers = ("refund_due", "award_notice", date(2026, 12, 25))  # Mon 21 … Fri 25: 5 WD
    assert _deposits(world) == {1: ("paid", "", None), 2: losers, 3: losers}
    with pytest.raises(ValidationFailed) as exc:  # 政府采购法实施条例48: no cash
        contract(world, signed_on=date(2026, 12, 18), security_form="cash")
    assert exc.value.code == "performance_security_cash_not_allowed"
    row = contract(world, signed_on=date(2026, 12, 18))
    # R27: published within 2 working days (Tue 22), filed within 7 (Tue 29)
    assert (row.publication_due, row.filing_due) == (date(2026, 12, 22), date(2026, 12, 29))
    assert _deposits(world)[1] == ("refund_due", "contract_signed", date(2026, 12, 25))
    assert _deposits(world)[2] == losers  # the first trigger set the date
    # on Wednesday 23 the publication (due Tuesday 22) is overdue, the refunds (Friday 25) near
    staff = make_user("center_ops_2", "center_operations")
    found = selectors.warnings(staff, today=date(2026, 12, 23))
    assert sorted((x.kind, x.level, x.due, x.rule) for x in found) == [
        ("contract_publication", "overdue", date(2026, 12, 22), "R27"),
        *[("deposit_refund", "upcoming", date(2026, 12, 25), "R13")] * 3,
        ("obligation_due", "escalated", date(2026, 12, 18), ""),  # the performance security
    ]
    world.at(cn(2026, 12, 23, 9))
    published = services_contract.publish_contract(actor=world.tenderer, contract=row)
    assert published.published_at is not None
    payload = json.loads(Event.objects.get(event_type="award.contract_published").payload)
    assert payload == {"contract": row.public_id, "late": True, "due": "2026-12-22"}
    assert "contract_publication" not in {x.kind for x in selectors.warnings(staff)}
    # filing due Tuesday 29: warned from Saturday 26
    assert [x.kind for x in selectors.warnings(staff, today=date(2026, 12, 26))
            if x.kind.startswith("contract")] == ["contract_filing"]  # fmt: skip


def test_r13_publicity_shorter_than_one_working_day_is_refused(db, region, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    world = w.signed_world(frozen_clock, category="procurement")
    with pytest.raises(ValidationFailed) as exc:
        services.publish_candidates(actor=world.tenderer, section=world.section,
                                    ends_at=w.SIGNED + days(1) - days(1 / 86400))  # fmt: skip
    assert exc.value.code == "publicity_too_short"
