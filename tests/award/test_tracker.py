"""三金一款 and the warnings: obligations with their due dates and statuses, the warnings the
center sees (and the CLI lists) before and after each due date."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from ggzy.award import selectors, services, services_contract
from ggzy.award.models import Obligation
from ggzy.core.errors import Conflict, ValidationFailed
from ggzy.ledger.models import Event
from tests.award import world as w
from tests.award.test_award import awarded, contract
from tests.award.test_publicity import award_events, publish
from tests.award.world import cn
from tests.conftest import make_user


def kinds(rows) -> list[tuple[str, str, date]]:  # type: ignore[no-untyped-def]
    return [(x.kind, x.level, x.due) for x in rows]


def test_obligations_are_entered_paid_and_refunded(world) -> None:  # type: ignore[no-untyped-def]
    awarded(world)
    world.at(cn(2026, 12, 21, 9))
    row = contract(world)
    quality = services_contract.add_obligation(
        actor=world.tenderer, contract=row, kind="quality_deposit", name="质量保证金（3%）",
        amount="270000.00", due_on=date(2027, 6, 30), refund_due_on=date(2028, 6, 30))  # fmt: skip
    first = services_contract.add_obligation(
        actor=world.tenderer, contract=row, kind="progress_payment", name="第一期进度款",
        amount="4500000.00", due_on=date(2027, 3, 31))  # fmt: skip
    services_contract.add_obligation(
        actor=world.tenderer, contract=row, kind="progress_payment", name="第二期进度款",
        amount="4500000.00", due_on=date(2027, 9, 30))  # fmt: skip
    before = award_events(world)
    # the schedule may not exceed the contract amount
    with pytest.raises(ValidationFailed) as exc:
        services_contract.add_obligation(
            actor=world.tenderer, contract=row, kind="progress_payment", name="超额",
            amount="0.01", due_on=date(2027, 12, 31))  # fmt: skip
    assert exc.value.code == "payments_exceed_contract"
    with pytest.raises(ValidationFailed) as exc:  # a payment is not refunded
        services_contract.add_obligation(
            actor=world.tenderer, contract=row, kind="progress_payment", name="x", amount="1",
            due_on=date(2027, 1, 1), refund_due_on=date(2027, 2, 1))  # fmt: skip
    assert exc.value.code == "refund_not_applicable"
    with pytest.raises(ValidationFailed) as exc:  # the performance deposit comes with the contract
        services_contract.add_obligation(
            actor=world.tenderer, contract=row, kind="performance_deposit", name="x",
            amount="1", due_on=date(2027, 1, 1))  # fmt: skip
    assert exc.value.code == "bad_obligation_kind"
    assert award_events(world) == before and Obligation.objects.count() == 4
    # a payment is paid once; a deposit is paid, then refunded
    paid = services_contract.settle_obligation(actor=world.tenderer, obligation=first,
                                               status="paid", on=date(2026, 12, 21),
                                               reference="ZF001")  # fmt: skip
    assert (paid.status, paid.paid_on, paid.reference) == ("paid", date(2026, 12, 21), "ZF001")
    with pytest.raises(Conflict) as refused:
        services_contract.settle_obligation(actor=world.tenderer, obligation=first,
                                            status="refunded", on=date(2026, 12, 21))  # fmt: skip
    assert refused.value.code == "wrong_state"
    with pytest.raises(Conflict):
        services_contract.settle_obligation(actor=world.tenderer, obligation=quality,
                                            status="refunded", on=date(2026, 12, 21))  # fmt: skip
    with pytest.raises(ValidationFailed) as exc:
        services_contract.settle_obligation(actor=world.tenderer, obligation=quality,
                                            status="paid", on=date(2026, 12, 22))  # fmt: skip
    assert exc.value.code == "date_in_future"
    services_contract.settle_obligation(actor=world.tenderer, obligation=quality, status="paid",
                                        on=date(2026, 12, 21))  # fmt: skip
    refunded = services_contract.settle_obligation(actor=world.tenderer, obligation=quality,
                                                   status="refunded", on=date(2026, 12, 21))  # fmt: skip
    assert refunded.status == "refunded" and refunded.refunded_on == date(2026, 12, 21)
    settled = [json.loads(e.payload)["status"]
               for e in Event.objects.filter(event_type="award.obligation_settled")]  # fmt: skip
    assert settled == ["paid", "paid", "refunded"]


def test_a_deposit_refunded_before_it_was_paid_is_refused(world) -> None:  # type: ignore[no-untyped-def]
    awarded(world)
    world.at(cn(2026, 12, 21, 10))
    row = contract(world)  # signed Sunday 20, with a performance deposit of 900,000
    world.at(cn(2026, 12, 28, 10))
    deposit = Obligation.objects.get(contract=row)
    services_contract.settle_obligation(actor=world.tenderer, obligation=deposit, status="paid",
                                        on=date(2026, 12, 27))  # fmt: skip
    before = award_events(world)
    with pytest.raises(ValidationFailed) as exc:
        services_contract.settle_obligation(actor=world.tenderer, obligation=deposit,
                                            status="refunded", on=date(2026, 12, 21))  # fmt: skip
    assert exc.value.code == "refunded_before_paid"
    deposit.refresh_from_db()
    assert deposit.status == "paid" and deposit.refunded_on is None
    assert award_events(world) == before
    # the same day it was paid is fine
    refunded = services_contract.settle_obligation(actor=world.tenderer, obligation=deposit,
                                                   status="refunded", on=date(2026, 12, 27))  # fmt: skip
    assert refunded.refunded_on == date(2026, 12, 27)


def test_a_payment_before_the_contract_is_refused(world) -> None:  # type: ignore[no-untyped-def]
    awarded(world)  # the notice is issued on Friday 18
    world.at(cn(2026, 12, 21, 10))
    row = contract(world)  # signed Sunday 20
    payment = services_contract.add_obligation(
        actor=world.tenderer, contract=row, kind="progress_payment", name="预付款",
        amount="900000.00", due_on=date(2026, 12, 31))  # fmt: skip
    deposit = Obligation.objects.get(contract=row, kind="performance_deposit")
    before = award_events(world)
    with pytest.raises(ValidationFailed) as exc:
        services_contract.settle_obligation(actor=world.tenderer, obligation=payment,
                                            status="paid", on=date(2026, 12, 19))  # fmt: skip
    assert exc.value.code == "paid_before_contract"
    # the performance deposit is given to obtain the contract (条例58): from the notice on
    with pytest.raises(ValidationFailed) as exc:
        services_contract.settle_obligation(actor=world.tenderer, obligation=deposit,
                                            status="paid", on=date(2026, 12, 17))  # fmt: skip
    assert exc.value.code == "paid_before_award"
    assert award_events(world) == before
    assert set(Obligation.objects.values_list("status", flat=True)) == {"due"}
    paid = services_contract.settle_obligation(actor=world.tenderer, obligation=deposit,
                                               status="paid", on=date(2026, 12, 19))  # fmt: skip
    assert paid.paid_on == date(2026, 12, 19)
    paid = services_contract.settle_obligation(actor=world.tenderer, obligation=payment,
                                               status="paid", on=date(2026, 12, 20))  # fmt: skip
    assert paid.paid_on == date(2026, 12, 20)


@pytest.mark.parametrize(
    ("values", "code"),
    [
        ({"amount": "100.005"}, "bad_amount"),
        ({"due_on": date(9999, 12, 31)}, "bad_date"),
        ({"due_on": date(1, 1, 1)}, "bad_date"),
        ({"refund_due_on": date(9999, 12, 31)}, "bad_date"),
    ],
)
def test_obligation_refusals_change_nothing(world, values, code) -> None:  # type: ignore[no-untyped-def]
    awarded(world)
    world.at(cn(2026, 12, 21, 10))
    row = contract(world)
    before = award_events(world)
    with pytest.raises(ValidationFailed) as exc:
        services_contract.add_obligation(actor=world.tenderer, contract=row, **{
            "kind": "quality_deposit", "name": "质量保证金", "amount": "100.00",
            "due_on": date(2027, 6, 30), "refund_due_on": date(2028, 6, 30)} | values)  # fmt: skip
    assert exc.value.code == code
    assert Obligation.objects.count() == 1  # the performance deposit only
    assert award_events(world) == before


def test_warnings_before_and_after_the_contract_due_date(world) -> None:  # type: ignore[no-untyped-def]
    staff = make_user("center_ops_2", "center_operations")
    # the report is signed and not yet published: the publicity must start by Thursday 17
    assert kinds(selectors.warnings(staff)) == [("publicity_start", "upcoming", date(2026, 12, 17))]
    awarded(world)
    # R28's report to the supervisor is filed at once (tests/award/test_withdrawal.py warns on it)
    services.file_award_report(actor=world.tenderer, section=world.section, reference="BG-1")
    # the contract is due Sunday 17 January; 3 days ahead it warns, after it is overdue
    assert selectors.warnings(staff, today=date(2027, 1, 13)) == []
    assert kinds(selectors.warnings(staff, today=date(2027, 1, 14))) == [
        ("contract_signing", "upcoming", date(2027, 1, 17))
    ]
    late = selectors.warnings(staff, today=date(2027, 1, 19))
    assert kinds(late) == [("contract_signing", "overdue", date(2027, 1, 17))]
    assert late[0].days_overdue == 2 and late[0].rule == "R26"
    assert kinds(selectors.warnings(staff, today=date(2027, 1, 21))) == [
        ("contract_signing", "escalated", date(2027, 1, 17))
    ]
    # configurable windows
    assert kinds(selectors.warnings(staff, today=date(2027, 1, 10), before=7)) == [
        ("contract_signing", "upcoming", date(2027, 1, 17))
    ]
    # a bidder sees no warnings; the tenderer sees its own
    assert selectors.warnings(world.bidder(1).user, today=date(2027, 1, 19)) == []
    assert kinds(selectors.warnings(world.tenderer, today=date(2027, 1, 19))) == kinds(late)


def test_warnings_for_objections_deposits_and_obligations(db, region, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    world = w.signed_world(frozen_clock, deposit="200000.00")
    staff = make_user("center_ops_2", "center_operations")
    publicity = publish(world)
    loser = world.bidder(2)
    services.raise_objection(actor=loser.user, publicity=publicity, entity=loser.entity,
                             reason="异议")  # fmt: skip
    # raised Monday 14: the answer is due by the end of Thursday 17 (R9)
    assert kinds(selectors.warnings(staff, today=date(2026, 12, 18))) == [
        ("objection_reply", "overdue", date(2026, 12, 17))
    ]
    services.answer_objection(actor=world.tenderer,
                              objection=publicity.objections.get(), reply="已核实")  # fmt: skip
    world.at(cn(2026, 12, 18, 10))
    services.issue_award(actor=world.tenderer, section=world.section)
    row = contract(world, signed_on=date(2026, 12, 18))
    services_contract.add_obligation(actor=world.tenderer, contract=row, kind="progress_payment",
                                     name="预付款", amount="900000.00",
                                     due_on=date(2026, 12, 28))  # fmt: skip
    found = selectors.warnings(staff, today=date(2026, 12, 24))
    # the performance deposit was due on signing (18th), the deposits' refunds on the 23rd
    # (works: 5 days), the advance payment on the 28th (4 days ahead: not yet)
    assert sorted(kinds(found)) == sorted(
        [("obligation_due", "escalated", date(2026, 12, 18))]
        + [("deposit_refund", "overdue", date(2026, 12, 23))] * 3
    )
    assert {x.rule for x in found if x.kind == "deposit_refund"} == {"R12"}
    # the CLI lists the same, one JSON object per line
    out = StringIO()
    call_command("award", "warnings", "--today", "2026-12-24", "--json", stdout=out)
    lines = [json.loads(x) for x in out.getvalue().splitlines()]
    assert [(x["kind"], x["level"], x["due"]) for x in lines] == [
        (x.kind, x.level, x.due.isoformat()) for x in found
    ]
    text = StringIO()
    call_command("award", "warnings", "--today", "2026-12-24", stdout=text)
    assert "deposit_refund" in text.getvalue() and "R12" in text.getvalue()
    assert Decimal(row.amount) == Decimal("9000000.00")


def test_cli_list_and_show(world) -> None:  # type: ignore[no-untyped-def]
    awarded(world)
    out = StringIO()
    call_command("award", "show", world.section.public_id, stdout=out)
    text = out.getvalue()
    assert "stage=awarded" in text and "verified" in text
    assert w.entity_of(world, 1).name in text
    out = StringIO()
    call_command("award", "list", stdout=out)
    assert world.section.public_id in out.getvalue()
