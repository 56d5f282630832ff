"""Deposits and guarantees: opening, bank notices (idempotent, each refusal its own code, kept for
supervision), the CSV import, guarantees verified with the trust service, refunds (R12/R13),
the R42 seal on staff listings, the API and the CLI."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from ggzy.accounts.services import issue_token
from ggzy.bidding import deposits as svc
from ggzy.bidding.models import BankNotification, Deposit
from ggzy.core.errors import Conflict, DomainError, NotAuthenticated, PermissionDenied
from ggzy.core.models import CalendarDay
from ggzy.ledger.models import Event
from ggzy.trust.models import DocumentSignature
from tests.api.support import api_client, assert_error, last_seq, register
from tests.bidding.deposit_world import *  # noqa: F403 - the dep_ fixtures
from tests.bidding.deposit_world import DepWorld, guarantee_doc, publish_section, sign_guarantee
from tests.conftest import make_user
from tests.trust import pki


def events_since(seq: int) -> list[tuple[str, str]]:
    return list(
        Event.objects.filter(seq__gt=seq).order_by("seq").values_list("event_type", "subject")
    )


def refused(exc: pytest.ExceptionInfo[DomainError]) -> str:
    return exc.value.code


def open_transfer(w: DepWorld, section: Any, entity: Any = None, user: Any = None) -> Deposit:
    return svc.open_deposit(
        actor=user or w.bidder_user, section=section, entity=entity or w.bidder, method="transfer"
    )


def notice(deposit: Deposit, w: DepWorld, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "bank_reference": "BR0001",
        "virtual_account": deposit.virtual_account,
        "amount": str(deposit.amount),
        "payer_account": "6217000000000001",
        "payer_name": "南京第72建设有限公司",
        "payer_bank": "中国银行南京分行",
        "credited_at": (w.clock.moment - timedelta(minutes=3)).isoformat(),
    }
    values.update(overrides)
    return values


# --- opening ------------------------------------------------------------------------------------


def test_open_transfer_gives_a_checked_virtual_account(dep_world, dep_section):
    seq = last_seq()
    deposit = open_transfer(dep_world, dep_section)
    assert deposit.status == "pending" and deposit.amount == Decimal("20000.00")
    assert svc.is_virtual_account(deposit.virtual_account)
    assert events_since(seq) == [("bidding.deposit_opened", f"deposit:{deposit.pk}")]
    payload = Event.objects.get(seq=seq + 1).payload
    assert dep_world.bidder.uscc not in payload and dep_section.code not in payload  # R42
    other = open_transfer(dep_world, dep_section, dep_world.other_bidder, dep_world.other_user)
    assert other.virtual_account != deposit.virtual_account


def test_virtual_account_check_digit():
    account = svc.new_virtual_account()
    assert len(account) == 17 and account.startswith(svc.ACCOUNT_PREFIX)
    wrong = account[:-1] + str((int(account[-1]) + 1) % 10)
    assert svc.is_virtual_account(account) and not svc.is_virtual_account(wrong)


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        ("twice", "deposit_exists"),
        ("after_deadline", "bidding_closed"),
        ("bad_method", "bad_deposit_method"),
        ("exempt", "exemption_not_allowed"),
        ("no_deposit", "no_deposit_required"),
        ("tenderer_entity", "not_a_bidder"),
    ],
)
def test_open_refusals_change_nothing(dep_world, dep_section, setup, code):
    w, section, entity, method = dep_world, dep_section, dep_world.bidder, "transfer"
    user = w.bidder_user
    if setup == "twice":
        open_transfer(w, section)
    elif setup == "after_deadline":
        w.clock.advance(days=21)
    elif setup == "bad_method":
        method = "cash"
    elif setup == "exempt":
        method = "exempt"
    elif setup == "no_deposit":
        section = publish_section(w, deposit="0", n=9)
    elif setup == "tenderer_entity":  # a bidder-role user acting for a tenderer-only entity
        user = make_user("dep_t2", "bidder")
        entity = register(user, 75, is_tenderer=True, is_bidder=False)
    count, seq = Deposit.objects.count(), last_seq()
    with pytest.raises(DomainError) as exc:
        svc.open_deposit(actor=user, section=section, entity=entity, method=method)
    assert refused(exc) == code
    assert Deposit.objects.count() == count and last_seq() == seq


def test_open_requires_bidder_role_and_acting_for_the_entity(dep_world, dep_section):
    with pytest.raises(PermissionDenied):  # a bidder, but not a member of that entity
        svc.open_deposit(actor=dep_world.other_user, section=dep_section,
                         entity=dep_world.bidder, method="transfer")  # fmt: skip
    with pytest.raises(PermissionDenied):
        svc.open_deposit(actor=dep_world.operations, section=dep_section,
                         entity=dep_world.bidder, method="transfer")  # fmt: skip
    assert not Deposit.objects.exists()


def test_ruleset_without_transfers_refuses_them_and_allows_exemption(
    dep_world, dep_no_cash_section
):
    w, section = dep_world, dep_no_cash_section
    with pytest.raises(DomainError) as exc:
        open_transfer(w, section)
    assert refused(exc) == "transfer_not_allowed"
    with pytest.raises(DomainError) as exc:
        svc.open_deposit(actor=w.bidder_user, section=section, entity=w.bidder, method="exempt")
    assert refused(exc) == "required"
    deposit = svc.open_deposit(actor=w.bidder_user, section=section, entity=w.bidder,
                               method="exempt", exemption_reason="小微企业免缴")  # fmt: skip
    assert deposit.status == "exempt" and deposit.virtual_account is None
    assert svc.deposit_satisfied(section, w.bidder)


def test_procurement_non_cash_only_still_takes_transfers(dep_world, dep_procurement):
    assert dep_procurement.project.ruleset.rules["deposit_non_cash_only"] is True
    assert open_transfer(dep_world, dep_procurement).virtual_account


# --- bank notices -------------------------------------------------------------------------------


def test_bank_notice_marks_paid_with_payer(dep_world, dep_section):
    deposit = open_transfer(dep_world, dep_section)
    seq = last_seq()
    row = svc.record_bank_notice(actor=svc.BANK, **notice(deposit, dep_world))
    deposit.refresh_from_db()
    assert row.outcome == "paid" and row.deposit_id == deposit.pk
    assert deposit.status == "paid" and deposit.paid_amount == Decimal("20000.00")
    assert deposit.payer_account == "6217000000000001"
    assert deposit.payer_name == "南京第72建设有限公司" and deposit.payer_bank == "中国银行南京分行"
    assert events_since(seq) == [("bidding.deposit_paid", f"deposit:{deposit.pk}")]
    assert "6217000000000001" not in Event.objects.get(seq=seq + 1).payload
    assert svc.deposit_status(dep_section, dep_world.bidder) == "paid"


def test_same_notice_twice_is_one_result_and_one_event(dep_world, dep_section):
    deposit = open_transfer(dep_world, dep_section)
    first = svc.record_bank_notice(actor=svc.BANK, **notice(deposit, dep_world))
    seq = last_seq()
    dep_world.clock.advance(minutes=10)
    again = svc.record_bank_notice(actor=svc.BANK, **notice(deposit, dep_world,
                                   credited_at=first.credited_at.isoformat()))  # fmt: skip
    assert again.pk == first.pk and again.outcome == "paid"
    assert last_seq() == seq and BankNotification.objects.count() == 1


def test_reused_reference_with_other_facts_is_a_recorded_conflict(dep_world, dep_section):
    deposit = open_transfer(dep_world, dep_section)
    svc.record_bank_notice(actor=svc.BANK, **notice(deposit, dep_world))
    seq = last_seq()
    with pytest.raises(Conflict) as exc:
        svc.record_bank_notice(actor=svc.BANK, **notice(deposit, dep_world, amount="1.00"))
    assert refused(exc) == "bank_reference_reused"
    assert events_since(seq) == [("bidding.bank_notice_refused", "bank-notice:BR0001")]
    assert BankNotification.objects.count() == 1


def test_unknown_account_is_kept_refused_and_recorded(dep_world, dep_section):
    deposit = open_transfer(dep_world, dep_section)
    seq = last_seq()
    facts = notice(deposit, dep_world, virtual_account="32010000000000000")
    with pytest.raises(DomainError) as exc:
        svc.record_bank_notice(actor=svc.BANK, **facts)
    assert refused(exc) == "unknown_account" and exc.value.status == 422
    row = BankNotification.objects.get()
    assert row.outcome == "unknown_account" and row.deposit is None
    assert events_since(seq) == [("bidding.bank_notice_refused", "bank-notice:BR0001")]
    assert '"reason":"unknown_account"' in Event.objects.get(seq=seq + 1).payload
    with pytest.raises(DomainError) as again:  # the same notice: the same answer, no new event
        svc.record_bank_notice(actor=svc.BANK, **facts)
    assert refused(again) == "unknown_account" and last_seq() == seq + 1
    deposit.refresh_from_db()
    assert deposit.status == "pending"


def test_short_amount_leaves_pending_then_a_full_payment_pays(dep_world, dep_section):
    deposit = open_transfer(dep_world, dep_section)
    with pytest.raises(DomainError) as exc:
        svc.record_bank_notice(actor=svc.BANK, **notice(deposit, dep_world, amount="19999.99"))
    assert refused(exc) == "amount_short"
    deposit.refresh_from_db()
    assert deposit.status == "pending"
    assert BankNotification.objects.get().outcome == "short"
    svc.record_bank_notice(actor=svc.BANK, **notice(deposit, dep_world, bank_reference="BR2"))
    deposit.refresh_from_db()
    assert deposit.status == "paid"


def test_credit_after_deadline_is_late(dep_world, dep_section):
    deposit = open_transfer(dep_world, dep_section)
    at = dep_world.clock.advance(days=21, minutes=1).isoformat()
    with pytest.raises(Conflict) as exc:
        svc.record_bank_notice(actor=svc.BANK, **notice(deposit, dep_world, credited_at=at))
    assert refused(exc) == "deposit_late"
    deposit.refresh_from_db()
    assert deposit.status == "pending" and BankNotification.objects.get().outcome == "late"


def test_credit_before_deadline_notified_after_it_counts(dep_world, dep_section):
    deposit = open_transfer(dep_world, dep_section)
    before = (dep_section.bid_deadline - timedelta(minutes=5)).isoformat()
    dep_world.clock.advance(days=21, hours=1)
    svc.record_bank_notice(actor=svc.BANK, **notice(deposit, dep_world, credited_at=before))
    deposit.refresh_from_db()
    assert deposit.status == "paid"


def test_second_payment_is_recorded_as_already_paid(dep_world, dep_section):
    deposit = open_transfer(dep_world, dep_section)
    svc.record_bank_notice(actor=svc.BANK, **notice(deposit, dep_world))
    with pytest.raises(Conflict) as exc:
        svc.record_bank_notice(actor=svc.BANK, **notice(deposit, dep_world, bank_reference="X2"))
    assert refused(exc) == "deposit_already_paid"
    assert BankNotification.objects.get(bank_reference="X2").outcome == "already_paid"


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("amount", "abc", "bad_amount"),
        ("amount", "-5", "bad_amount"),
        ("credited_at", "yesterday", "bad_time"),
        ("bank_reference", "", "required"),
        ("payer_account", "", "required"),
    ],
)
def test_malformed_notice_stores_nothing(dep_world, dep_section, field, value, code):
    deposit = open_transfer(dep_world, dep_section)
    seq = last_seq()
    with pytest.raises(DomainError) as exc:
        svc.record_bank_notice(actor=svc.BANK, **notice(deposit, dep_world, **{field: value}))
    assert refused(exc) == code
    assert not BankNotification.objects.exists() and last_seq() == seq


def test_future_credit_time_is_refused(dep_world, dep_section):
    deposit = open_transfer(dep_world, dep_section)
    later = (dep_world.clock.moment + timedelta(hours=1)).isoformat()
    with pytest.raises(DomainError) as exc:
        svc.record_bank_notice(actor=svc.BANK, **notice(deposit, dep_world, credited_at=later))
    assert refused(exc) == "credited_in_future"


def test_bank_notice_permissions(dep_world, dep_section):
    deposit = open_transfer(dep_world, dep_section)
    for actor in (
        dep_world.bidder_user,
        dep_world.regulator,
        make_user("dep_ar", "center_archive"),
        make_user("dep_opening_desk", "center_operations"),  # the opening desk is not finance
    ):
        with pytest.raises(PermissionDenied):
            svc.record_bank_notice(actor=actor, **notice(deposit, dep_world))
    with pytest.raises(NotAuthenticated):
        svc.record_bank_notice(actor="system:other", **notice(deposit, dep_world))
    row = svc.record_bank_notice(actor=dep_world.operations, **notice(deposit, dep_world))
    assert row.outcome == "paid"


def test_csv_import_applies_good_rows_and_reports_bad_ones(dep_world, dep_section):
    w = dep_world
    a = open_transfer(w, dep_section)
    b = open_transfer(w, dep_section, w.other_bidder, w.other_user)
    at = (w.clock.moment - timedelta(hours=1)).isoformat()
    csv_text = (
        "bank_reference,virtual_account,amount,payer_account,payer_name,payer_bank,credited_at\n"
        f"R1,{a.virtual_account},20000.00,6217001,甲公司,中国银行,{at}\n"
        f"R2,32019999999999999,20000.00,6217002,乙公司,中国银行,{at}\n"
        f"R3,{b.virtual_account},not-money,6217003,丙公司,中国银行,{at}\n"
        f"R4,{b.virtual_account},100.00,6217003,丙公司,中国银行,{at}\n"
        f"R1,{a.virtual_account},20000.00,6217001,甲公司,中国银行,{at}\n"
    )
    report = svc.import_bank_notices(actor=svc.BANK, csv_text=csv_text)
    assert (report.rows, report.paid, report.refused) == (5, 2, 3)
    assert [(r["line"], r["outcome"], r["code"]) for r in report.results] == [
        (2, "paid", None),
        (3, "unknown_account", "unknown_account"),
        (4, "invalid", "bad_amount"),
        (5, "short", "amount_short"),
        (6, "paid", None),  # the same notice again: the same result
    ]
    assert Deposit.objects.get(pk=a.pk).status == "paid"
    assert Deposit.objects.get(pk=b.pk).status == "pending"
    assert BankNotification.objects.count() == 3


def test_csv_without_the_columns_is_refused(dep_world):
    with pytest.raises(DomainError) as exc:
        svc.import_bank_notices(actor=svc.BANK, csv_text="a,b\n1,2\n")
    assert refused(exc) == "bad_csv"


# --- guarantees ---------------------------------------------------------------------------------


def open_guarantee(w: DepWorld, section: Any) -> Deposit:
    return svc.open_deposit(
        actor=w.bidder_user, section=section, entity=w.bidder, method="guarantee"
    )


def test_guarantee_verified_with_the_trust_service(dep_world, dep_section):
    w = dep_world
    deposit = open_guarantee(w, dep_section)
    assert deposit.status == "pending" and deposit.virtual_account is None
    doc = guarantee_doc(w, dep_section)
    seq = last_seq()
    deposit = svc.submit_guarantee(
        actor=w.bidder_user, deposit=deposit, document=doc, sigfile=sign_guarantee(w, doc)
    )
    assert deposit.status == "guaranteed" and deposit.guarantee_number == "BH2026-0001"
    assert deposit.guarantee_issuer == w.issuer.name
    assert deposit.guarantee_valid_until == dep_section.bid_deadline.date() + timedelta(days=120)
    sig = DocumentSignature.objects.get(pk=deposit.guarantee_signature_id)
    assert sig.entity_id == w.issuer.pk and sig.signer_id == w.issuer_user.pk
    assert [t for t, _ in events_since(seq)] == [
        "trust.document_signed",
        "bidding.guarantee_accepted",
    ]
    assert svc.deposit_satisfied(dep_section, w.bidder)


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("forged", "guarantee_signature_invalid"),
        ("wrong_applicant", "guarantee_wrong_applicant"),
        ("wrong_beneficiary", "guarantee_wrong_beneficiary"),
        ("wrong_section", "guarantee_wrong_section"),
        ("short_amount", "guarantee_amount_short"),
        ("expires_early", "guarantee_expires_early"),
        ("issuer_named_wrongly", "guarantee_issuer_mismatch"),
        ("unregistered_signer", "guarantee_issuer_not_registered"),
        ("not_json", "bad_guarantee_document"),
    ],
)
def test_bad_guarantees_are_refused_and_recorded(dep_world, dep_section, case, code):
    w = dep_world
    deposit = open_guarantee(w, dep_section)
    deadline = dep_section.bid_deadline
    overrides: dict[str, Any] = {
        "wrong_applicant": {"applicant": w.other_bidder.uscc},
        "wrong_beneficiary": {"beneficiary": w.bidder.uscc},
        "wrong_section": {"section": "GC-OTHER-001"},
        "short_amount": {"amount": "19999.99"},
        "expires_early": {"valid_until": (deadline + timedelta(days=30)).date().isoformat()},
        "issuer_named_wrongly": {"issuer_uscc": w.other_bidder.uscc},
    }.get(case, {})
    doc = guarantee_doc(w, dep_section, **overrides)
    signer = None
    if case == "unregistered_signer":  # a valid certificate, never bound on this platform
        signer = pki.entity_cert("ecdsa", w.other_bidder.uscc, "未登记机构")
    sigfile = sign_guarantee(w, doc, signer)
    if case == "forged":  # the bidder edits the amount after the bank signed
        doc = guarantee_doc(w, dep_section, amount="99999999.00")
    if case == "not_json":
        doc = b"not a guarantee"
        sigfile = sign_guarantee(w, doc)
    before, seq = DocumentSignature.objects.count(), last_seq()
    with pytest.raises(DomainError) as exc:
        svc.submit_guarantee(actor=w.bidder_user, deposit=deposit, document=doc, sigfile=sigfile)
    assert refused(exc) == code
    deposit.refresh_from_db()
    assert deposit.status == "pending" and deposit.guarantee_signature_id is None
    assert DocumentSignature.objects.count() == before
    assert events_since(seq) == [("bidding.guarantee_refused", f"deposit:{deposit.pk}")]


def test_one_guarantee_cannot_cover_two_deposits(dep_world, dep_section):
    w = dep_world
    first = open_guarantee(w, dep_section)
    doc = guarantee_doc(w, dep_section)
    svc.submit_guarantee(actor=w.bidder_user, deposit=first, document=doc,
                         sigfile=sign_guarantee(w, doc))  # fmt: skip
    second_section = publish_section(w, n=4)
    second = open_guarantee(w, second_section)
    doc2 = guarantee_doc(w, second_section)
    with pytest.raises(Conflict) as exc:
        svc.submit_guarantee(actor=w.bidder_user, deposit=second, document=doc2,
                             sigfile=sign_guarantee(w, doc2))  # fmt: skip
    assert refused(exc) == "guarantee_reused"


def test_guarantee_on_a_transfer_deposit_or_by_another_bidder(dep_world, dep_section):
    w = dep_world
    transfer = open_transfer(w, dep_section)
    doc = guarantee_doc(w, dep_section)
    with pytest.raises(Conflict) as exc:
        svc.submit_guarantee(actor=w.bidder_user, deposit=transfer, document=doc,
                             sigfile=sign_guarantee(w, doc))  # fmt: skip
    assert refused(exc) == "not_a_guarantee_deposit"
    with pytest.raises(PermissionDenied):
        svc.submit_guarantee(actor=w.other_user, deposit=transfer, document=doc,
                             sigfile=sign_guarantee(w, doc))  # fmt: skip


# --- refunds ------------------------------------------------------------------------------------


def paid(w: DepWorld, section: Any) -> Deposit:
    deposit = open_transfer(w, section)
    svc.record_bank_notice(actor=svc.BANK, **notice(deposit, w))
    return Deposit.objects.get(pk=deposit.pk)


def test_works_refund_due_in_calendar_days(dep_world, dep_section):
    deposit = paid(dep_world, dep_section)
    # Friday 2026-12-18 15:00 CST: five calendar days later is Wednesday 12-23
    signed = dep_section.bid_deadline + timedelta(days=4, hours=5)
    assert signed.astimezone(svc.clock.CHINA).date() == date(2026, 12, 18)
    seq = last_seq()
    deposit = svc.schedule_refund(deposit=deposit, trigger="contract_signed", at=signed)
    assert deposit.status == "refund_due" and deposit.refund_due == date(2026, 12, 23)
    assert deposit.refund_trigger == "contract_signed"
    assert events_since(seq) == [("bidding.refund_scheduled", f"deposit:{deposit.pk}")]
    again = svc.schedule_refund(deposit=deposit, trigger="award_notice", at=signed)
    assert again.refund_due == date(2026, 12, 23) and last_seq() == seq + 1


def test_procurement_refund_due_in_working_days_across_a_weekend(dep_world, dep_procurement):
    deposit = paid(dep_world, dep_procurement)
    friday = dep_procurement.bid_deadline + timedelta(days=4)  # Friday 2026-12-18, 10:00 CST
    assert friday.astimezone(svc.clock.CHINA).date() == date(2026, 12, 18)
    deposit = svc.schedule_refund(deposit=deposit, trigger="award_notice", at=friday)
    assert deposit.refund_due == date(2026, 12, 25)  # Mon..Fri of the next week


def test_procurement_refund_skips_a_holiday(dep_world, dep_procurement):
    CalendarDay.objects.create(day=date(2026, 12, 21), is_working_day=False, name="测试假日")
    deposit = paid(dep_world, dep_procurement)
    friday = dep_procurement.bid_deadline + timedelta(days=4)
    deposit = svc.schedule_refund(deposit=deposit, trigger="award_notice", at=friday)
    assert deposit.refund_due == date(2026, 12, 28)


def test_withdrawal_before_deadline_schedules_five_days(dep_world, dep_section):
    deposit = paid(dep_world, dep_section)
    deposit = svc.schedule_refund(deposit=deposit, trigger="withdrawn", at=dep_world.clock.moment)
    assert deposit.refund_due == date(2026, 11, 28)


def test_nothing_to_refund_and_bad_trigger(dep_world, dep_section):
    pending = open_transfer(dep_world, dep_section)
    seq = last_seq()
    assert svc.schedule_refund(deposit=pending, trigger="failed_tender",
                               at=dep_world.clock.moment).status == "pending"  # fmt: skip
    assert last_seq() == seq
    with pytest.raises(DomainError) as exc:
        svc.schedule_refund(deposit=pending, trigger="whim", at=dep_world.clock.moment)
    assert refused(exc) == "bad_refund_trigger"


def test_overdue_refund_warns_until_refunded(dep_world, dep_section):
    w = dep_world
    deposit = paid(w, dep_section)
    svc.schedule_refund(deposit=deposit, trigger="withdrawn", at=w.clock.moment)
    assert svc.overdue_refunds(date(2026, 11, 28)) == []
    warnings = svc.overdue_refunds(date(2026, 11, 30))
    assert [(x["deposit"], x["days_overdue"]) for x in warnings] == [(deposit.pk, 2)]
    w.clock.advance(days=7)
    assert [d.pk for d in svc.refunds(w.operations, overdue_only=True)] == [deposit.pk]
    with pytest.raises(PermissionDenied):
        svc.mark_refunded(actor=w.regulator, deposit=deposit, reference="TK1")
    seq = last_seq()
    done = svc.mark_refunded(actor=w.operations, deposit=deposit, reference="TK1")
    assert done.status == "refunded" and done.refund_reference == "TK1"
    assert done.refunded_at == w.clock.moment
    assert '"days_late":2' in Event.objects.get(seq=seq + 1).payload
    assert svc.overdue_refunds(date(2026, 12, 30)) == []
    assert svc.mark_refunded(actor=w.operations, deposit=deposit, reference="TK1").pk == done.pk
    assert last_seq() == seq + 1
    with pytest.raises(Conflict) as exc:
        svc.mark_refunded(actor=w.operations, deposit=deposit, reference="TK2")
    assert refused(exc) == "refund_not_due"


# --- reading: R42 -------------------------------------------------------------------------------


def test_staff_see_a_sections_deposits_only_after_the_deadline(dep_world, dep_section):
    w = dep_world
    mine = open_transfer(w, dep_section)
    theirs = open_transfer(w, dep_section, w.other_bidder, w.other_user)
    for staff in (w.operations, w.regulator):
        with pytest.raises(PermissionDenied) as exc:
            svc.deposits_for_section(staff, dep_section)
        assert refused(exc) == "sealed_until_deadline"
        with pytest.raises(DomainError) as exc:
            svc.get_deposit_for(staff, mine.pk)
        assert refused(exc) == "deposit_not_found"
    assert [d.pk for d in svc.deposits_for_section(w.bidder_user, dep_section)] == [mine.pk]
    assert [d.pk for d in svc.my_deposits(w.other_user)] == [theirs.pk]
    w.clock.advance(days=21)
    assert [d.pk for d in svc.deposits_for_section(w.regulator, dep_section)] == [
        mine.pk,
        theirs.pk,
    ]
    assert svc.get_deposit_for(w.operations, mine.pk).pk == mine.pk
    with pytest.raises(DomainError):
        svc.get_deposit_for(w.other_user, mine.pk)


# --- API ----------------------------------------------------------------------------------------

API = "/api/v1/bidding"


def token(user: Any) -> str:
    return issue_token(actor=user, name="dep")[1]


def test_api_open_pay_list_and_seal(dep_world, dep_section):
    w, http = dep_world, api_client()
    bidder, ops, reg = token(w.bidder_user), token(w.operations), token(w.regulator)
    url = f"{API}/sections/{dep_section.public_id}/deposits"
    r = http.call("POST", url, {"entity": w.bidder.uscc, "method": "transfer"}, token=bidder)
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["status"] == "pending" and body["amount"] == "20000.00"
    assert body["section_code"] == dep_section.code and body["refund_overdue"] is False
    assert_error(http.call("POST", url, {"entity": w.bidder.uscc, "method": "transfer"},
                           token=bidder), 409, "deposit_exists")  # fmt: skip
    assert_error(http.call("POST", url, {"entity": w.bidder.uscc, "method": "cash"},
                           token=bidder), 422, "validation_error")  # fmt: skip
    assert_error(http.call("POST", f"{API}/sections/nope/deposits",
                           {"entity": w.bidder.uscc, "method": "transfer"}, token=bidder),
                 404, "section_not_found")  # fmt: skip
    assert_error(http.call("POST", url, {"entity": w.bidder.uscc, "method": "transfer"}),
                 401)  # fmt: skip
    facts = {
        "bank_reference": "API1", "virtual_account": body["virtual_account"],
        "amount": "20000.00", "payer_account": "6217000000000001", "payer_name": "甲公司",
        "payer_bank": "中国银行", "credited_at": w.clock.moment.isoformat(),
    }  # fmt: skip
    assert_error(http.call("POST", f"{API}/bank-notices", facts, token=bidder), 403)
    r = http.call("POST", f"{API}/bank-notices", facts, token=ops)
    assert r.status_code == 200 and r.json()["outcome"] == "paid"
    assert http.call("POST", f"{API}/bank-notices", facts, token=ops).json()["id"] == r.json()["id"]
    unknown = {**facts, "bank_reference": "API2", "virtual_account": "32010000000000000"}
    assert_error(http.call("POST", f"{API}/bank-notices", unknown, token=ops), 422,
                 "unknown_account")  # fmt: skip
    mine = http.call("GET", f"{API}/deposits", token=bidder).json()
    assert [(d["id"], d["status"], d["payer_account"]) for d in mine] == [
        (body["id"], "paid", "6217000000000001")
    ]
    assert http.call("GET", f"{API}/deposits", token=ops).json() == []
    assert_error(http.call("GET", url, token=reg), 403, "sealed_until_deadline")
    assert [d["id"] for d in http.call("GET", url, token=bidder).json()] == [body["id"]]
    w.clock.advance(days=21)
    assert [d["id"] for d in http.call("GET", url, token=reg).json()] == [body["id"]]


def test_api_csv_import(dep_world, dep_section):
    w, http, ops = dep_world, api_client(), token(dep_world.operations)
    a = open_transfer(w, dep_section)
    at = w.clock.moment.isoformat()
    csv_text = (
        "bank_reference,virtual_account,amount,payer_account,payer_name,payer_bank,credited_at\n"
        f"C1,{a.virtual_account},20000.00,6217001,甲公司,中国银行,{at}\n"
        f"C2,32019999999999999,5.00,6217002,乙公司,中国银行,{at}\n"
    )
    url = f"{API}/bank-notices/import"
    r = http.call("POST", url, raw=csv_text.encode(), content_type="text/csv", token=ops)
    assert r.status_code == 200, r.content
    assert (r.json()["paid"], r.json()["refused"]) == (1, 1)
    assert [x["code"] for x in r.json()["results"]] == [None, "unknown_account"]
    assert_error(http.call("POST", url, raw=b"{}", content_type="application/json", token=ops),
                 415)  # fmt: skip
    assert_error(http.call("POST", url, raw=b"\xff\xfe", content_type="text/csv", token=ops),
                 422, "bad_csv")  # fmt: skip
    assert_error(http.call("POST", url, raw=csv_text.encode(), content_type="text/csv",
                           token=token(w.bidder_user)), 403)  # fmt: skip


def test_api_guarantee_and_refund(dep_world, dep_section):
    w, http = dep_world, api_client()
    bidder, ops = token(w.bidder_user), token(w.operations)
    url = f"{API}/sections/{dep_section.public_id}/deposits"
    created = http.call("POST", url, {"entity": w.bidder.uscc, "method": "guarantee"},
                        token=bidder).json()  # fmt: skip
    doc = guarantee_doc(w, dep_section)
    g_url = f"{API}/deposits/{created['id']}/guarantee"
    forged = {"document": pki.b64(guarantee_doc(w, dep_section, amount="1.00")),
              "sigfile": sign_guarantee(w, doc)}  # fmt: skip
    assert_error(http.call("POST", g_url, forged, token=bidder), 422,
                 "guarantee_signature_invalid")  # fmt: skip
    good = {"document": pki.b64(doc), "sigfile": sign_guarantee(w, doc)}
    assert_error(http.call("POST", g_url, good, token=token(w.other_user)), 404,
                 "deposit_not_found")  # fmt: skip
    r = http.call("POST", g_url, good, token=bidder)
    assert r.status_code == 200 and r.json()["status"] == "guaranteed"
    deposit = Deposit.objects.get(pk=created["id"])
    svc.schedule_refund(deposit=deposit, trigger="failed_tender", at=w.clock.moment)
    w.clock.advance(days=10)
    rows = http.call("GET", f"{API}/refunds", query={"overdue": "1"}, token=ops).json()
    assert [(x["deposit"]["id"], x["days_overdue"]) for x in rows] == [(deposit.pk, 5)]
    assert_error(http.call("GET", f"{API}/refunds", token=bidder), 403)
    r_url = f"{API}/deposits/{deposit.pk}/refunded"
    assert_error(http.call("POST", r_url, {"reference": "TK9"}, token=bidder), 403)  # its own
    assert_error(http.call("POST", r_url, {"reference": "TK9"}, token=token(w.other_user)), 404)
    r = http.call("POST", r_url, {"reference": "TK9"}, token=ops)
    assert r.status_code == 200 and r.json()["status"] == "refunded"
    assert_error(http.call("POST", r_url, {"reference": "TK10"}, token=ops), 409,
                 "refund_not_due")  # fmt: skip


# --- CLI ----------------------------------------------------------------------------------------


def test_cli_import_refunds_refunded(dep_world, dep_section, tmp_path):
    w = dep_world
    a = open_transfer(w, dep_section)
    at = w.clock.moment.isoformat()
    path = tmp_path / "notices.csv"
    path.write_text(
        "bank_reference,virtual_account,amount,payer_account,payer_name,payer_bank,credited_at\n"
        f"L1,{a.virtual_account},20000.00,6217001,甲公司,中国银行,{at}\n",
        encoding="utf-8",
    )
    out = StringIO()
    call_command("deposits", "import", str(path), stdout=out)
    assert "paid" in out.getvalue() and "1 applied, 0 refused" in out.getvalue()
    with pytest.raises(CommandError):  # the same file as another user without the right
        call_command("deposits", "--as", w.bidder_user.username, "import", str(path))
    path2 = tmp_path / "bad.csv"
    path2.write_text(path.read_text().replace("L1,", "L2,").replace(a.virtual_account,
                     "32010000000000000"), encoding="utf-8")  # fmt: skip
    with pytest.raises(CommandError, match="1 row"):
        call_command("deposits", "import", str(path2), stdout=StringIO())
    svc.schedule_refund(deposit=a, trigger="withdrawn", at=w.clock.moment)
    out = StringIO()
    call_command("deposits", "refunds", stdout=out)
    assert f"{a.pk}\t" in out.getvalue() and "OVERDUE" not in out.getvalue()
    w.clock.advance(days=8)
    with pytest.raises(CommandError, match="overdue"):
        call_command("deposits", "refunds", "--overdue", stdout=StringIO(), stderr=StringIO())
    out = StringIO()
    call_command("deposits", "--as", w.operations.username, "refunded", str(a.pk), "TK77",
                 stdout=out)  # fmt: skip
    assert "refunded (TK77)" in out.getvalue()
    assert Deposit.objects.get(pk=a.pk).status == "refunded"
    with pytest.raises(CommandError, match="refund_not_due"):
        call_command("deposits", "refunded", str(a.pk), "TK78")
    with pytest.raises(CommandError, match="no active user"):
        call_command("deposits", "--as", "nobody", "refunds")
