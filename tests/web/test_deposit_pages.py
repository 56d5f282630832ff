"""The deposit pages through the Django test client: the finance desk (a bank's CSV file, one
notice, refunds with their R12/R13 dates), a section's deposits for staff (sealed before the
deadline, R42; a shared payer account flagged) and the bidder's electronic guarantee. Time is
frozen; the world is tests/bidding/deposit_world.py's."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from ggzy.accounts.roles import Role
from ggzy.bidding import deposits as svc
from ggzy.bidding.models import BankNotification, Deposit
from ggzy.ledger.models import Event
from tests.bidding.deposit_world import *  # noqa: F403 - the dep_ fixtures
from tests.bidding.deposit_world import DepWorld, guarantee_doc, sign_guarantee
from tests.conftest import make_user
from tests.web.support import signed_in, text

pytestmark = pytest.mark.django_db

HEADER = ",".join(svc.CSV_COLUMNS)


def open_deposit(w: DepWorld, section: Any, method: str = "transfer", *, other: bool = False):
    entity, user = (w.other_bidder, w.other_user) if other else (w.bidder, w.bidder_user)
    return svc.open_deposit(actor=user, section=section, entity=entity, method=method)


def credited(w: DepWorld) -> str:
    return (w.clock.moment - timedelta(minutes=3)).isoformat()


def csv_row(w: DepWorld, reference: str, account: str, amount: str, payer: str = "6217001") -> str:
    return f"{reference},{account},{amount},{payer},南京第72建设有限公司,中国银行,{credited(w)}"


def csv_file(*lines: str) -> SimpleUploadedFile:
    body = "\n".join([HEADER, *lines]) + "\n"
    return SimpleUploadedFile("notices.csv", body.encode(), content_type="text/csv")


def pay(w: DepWorld, deposit: Deposit, reference: str, payer: str = "6217001") -> None:
    svc.record_bank_notice(actor=svc.BANK, bank_reference=reference,
                           virtual_account=deposit.virtual_account, amount=str(deposit.amount),
                           payer_account=payer, payer_name="付款人", credited_at=credited(w))  # fmt: skip


def notice_form(w: DepWorld, deposit: Deposit, **overrides: str) -> dict[str, str]:
    at = (w.clock.moment - timedelta(minutes=3)).astimezone(svc.clock.CHINA)
    data = {
        "bank_reference": "BR-FORM-1",
        "virtual_account": deposit.virtual_account or "",
        "amount": str(deposit.amount),
        "payer_account": "6217000000000001",
        "payer_name": "南京第72建设有限公司",
        "payer_bank": "中国银行南京分行",
        "credited_at": at.strftime("%Y-%m-%dT%H:%M"),
    }
    data.update(overrides)
    return {f"notice-{k}": v for k, v in data.items()}


def assert_login_redirect(response: Any) -> None:
    assert response.status_code == 302 and response["Location"].startswith("/login/")


# --- the finance desk ---------------------------------------------------------------------------


def test_the_desk_is_for_center_finance_only(dep_world):
    w = dep_world
    admin = make_user("dep_admin", Role.CENTER_ADMIN)
    ops = signed_in(w.operations).get("/staff/deposits/")
    assert ops.status_code == 200
    assert 'id="bank-import"' in text(ops) and 'id="refund-list"' in text(ops)
    # the center administrator records notices but does not pay refunds (bidding.refund)
    page = signed_in(admin).get("/staff/deposits/")
    assert page.status_code == 200
    assert 'id="bank-import"' in text(page) and 'id="refund-list"' not in text(page)
    for user in (w.bidder_user, w.intake, w.regulator, w.tenderer_user):
        assert signed_in(user).get("/staff/deposits/").status_code == 403
    assert_login_redirect(Client().get("/staff/deposits/"))


def test_a_bank_file_with_a_good_and_a_bad_row_reports_both_and_pays_the_good_one(
    dep_world, dep_section
):
    w = dep_world
    deposit = open_deposit(w, dep_section)
    upload = csv_file(
        csv_row(w, "BR-1", deposit.virtual_account, str(deposit.amount)),
        csv_row(w, "BR-2", "32010000000000000", "100.00"),
        csv_row(w, "BR-3", deposit.virtual_account, "lots"),
    )
    response = signed_in(w.operations).post("/staff/deposits/import/", {"file": upload})
    assert response.status_code == 200
    page = text(response)
    assert "共 3 行：入账 1 笔，拒绝 2 笔。" in page
    line2 = page.split('id="import-line-2"')[1].split("</tr>")[0]
    assert "BR-1" in line2 and "paid" in line2 and "已入账" in line2
    line3 = page.split('id="import-line-3"')[1].split("</tr>")[0]
    assert "unknown_account" in line3 and "虚拟子账号不存在" in line3
    line4 = page.split('id="import-line-4"')[1].split("</tr>")[0]
    assert "invalid" in line4 and "bad_amount" in line4 and "金额格式错误" in line4
    deposit.refresh_from_db()
    assert deposit.status == "paid" and deposit.payer_account == "6217001"
    assert list(BankNotification.objects.values_list("bank_reference", "outcome")) == [
        ("BR-1", "paid"),
        ("BR-2", "unknown_account"),
    ]


def test_a_bank_file_without_the_header_is_refused_whole(dep_world, dep_section):
    w = dep_world
    upload = SimpleUploadedFile("x.csv", b"reference,amount\nBR-1,100\n", content_type="text/csv")
    response = signed_in(w.operations).post("/staff/deposits/import/", {"file": upload})
    assert response.status_code == 400
    assert "CSV 缺少列" in text(response) and "virtual_account" in text(response)
    assert not BankNotification.objects.exists()


def test_only_finance_may_post_bank_notices(dep_world, dep_section):
    w = dep_world
    deposit = open_deposit(w, dep_section)
    seq = Event.objects.count()
    upload = csv_file(csv_row(w, "BR-1", deposit.virtual_account, str(deposit.amount)))
    assert (
        signed_in(w.regulator).post("/staff/deposits/import/", {"file": upload}).status_code == 403
    )
    form = notice_form(w, deposit)
    assert signed_in(w.bidder_user).post("/staff/deposits/notices/", form).status_code == 403
    assert_login_redirect(Client().post("/staff/deposits/notices/", form))
    assert not BankNotification.objects.exists() and Event.objects.count() == seq
    deposit.refresh_from_db()
    assert deposit.status == "pending"


def test_one_notice_pays_and_a_short_one_shows_the_refusal(dep_world, dep_section):
    w = dep_world
    deposit = open_deposit(w, dep_section)
    client = signed_in(w.operations)
    short = client.post("/staff/deposits/notices/", notice_form(w, deposit, amount="100.00"))
    assert short.status_code == 400
    assert "到账金额不足" in text(short) and "amount_short" in text(short)
    deposit.refresh_from_db()
    assert deposit.status == "pending"
    good = client.post("/staff/deposits/notices/", notice_form(w, deposit, bank_reference="BR-2"))
    assert good.status_code == 302 and good["Location"] == "/staff/deposits/"
    deposit.refresh_from_db()
    assert deposit.status == "paid" and deposit.payer_account == "6217000000000001"


# --- refunds ------------------------------------------------------------------------------------


def _refund_due(w: DepWorld, section: Any) -> Deposit:
    deposit = open_deposit(w, section)
    pay(w, deposit, "BR-R1")
    return svc.schedule_refund(deposit=deposit, trigger="withdrawn", at=w.clock.moment)


def test_refunds_show_rule_and_due_date_and_overdue_ones_warn(dep_world, dep_section):
    w = dep_world
    deposit = _refund_due(w, dep_section)
    client = signed_in(w.operations)
    row = text(client.get("/staff/deposits/")).split(f'id="refund-{deposit.pk}"')[1]
    row = row.split("</tr>")[0]
    assert "R12" in row and deposit.refund_due.isoformat() in row and "逾期" not in row
    w.clock.advance(days=8)
    late = (w.clock.moment.astimezone(svc.clock.CHINA).date() - deposit.refund_due).days
    assert late > 0
    row = text(client.get("/staff/deposits/")).split(f'id="refund-{deposit.pk}"')[1]
    row = row.split("</tr>")[0]
    assert 'class="warning"' in row and f"逾期 {late} 日" in row


def test_procurement_refunds_count_working_days_r13(dep_world, dep_procurement):
    w = dep_world
    deposit = _refund_due(w, dep_procurement)
    row = text(signed_in(w.operations).get("/staff/deposits/"))
    row = row.split(f'id="refund-{deposit.pk}"')[1].split("</tr>")[0]
    assert "R13" in row and "个工作日" in row


def test_mark_refunded_records_the_reference(dep_world, dep_section):
    w = dep_world
    deposit = _refund_due(w, dep_section)
    url = f"/staff/deposits/{deposit.pk}/refunded/"
    # others: not finance (403), the admin who may not refund (not found), signed out (login)
    assert signed_in(w.bidder_user).post(url, {"reference": "X"}).status_code == 403
    admin = make_user("dep_admin", Role.CENTER_ADMIN)
    assert signed_in(admin).post(url, {"reference": "X"}).status_code == 404
    assert_login_redirect(Client().post(url, {"reference": "X"}))
    deposit.refresh_from_db()
    assert deposit.status == "refund_due" and deposit.refund_reference == ""
    client = signed_in(w.operations)
    response = client.post(url, {"reference": "TK-2026-001"}, follow=True)
    assert response.status_code == 200 and "已登记退还" in text(response)
    deposit.refresh_from_db()
    assert deposit.status == "refunded" and deposit.refund_reference == "TK-2026-001"
    assert f'id="refund-{deposit.pk}"' not in text(response)
    again = client.post(url, {"reference": "TK-OTHER"}, follow=True)
    assert "refund_not_due" in text(again)
    assert signed_in(w.operations).post("/staff/deposits/999999/refunded/",
                                        {"reference": "X"}).status_code == 404  # fmt: skip


# --- a section's deposits -----------------------------------------------------------------------


def test_a_sections_deposits_are_sealed_until_the_deadline(dep_world, dep_section):
    w = dep_world
    open_deposit(w, dep_section)
    url = f"/staff/sections/{dep_section.public_id}/deposits/"
    response = signed_in(w.operations).get(url)
    assert response.status_code == 200
    page = text(response)
    assert 'id="deposits-sealed"' in page and "R42" in page
    assert w.bidder.name not in page and 'id="section-deposits"' not in page


def test_after_the_deadline_staff_see_deposits_and_a_shared_payer_account(dep_world, dep_section):
    w = dep_world
    mine, theirs = open_deposit(w, dep_section), open_deposit(w, dep_section, other=True)
    pay(w, mine, "BR-A", payer="6222000011112222")
    pay(w, theirs, "BR-B", payer="6222000011112222")
    w.clock.advance(days=21)
    url = f"/staff/sections/{dep_section.public_id}/deposits/"
    for user in (w.operations, w.regulator, w.intake):
        response = signed_in(user).get(url)
        assert response.status_code == 200
        page = text(response)
        assert w.bidder.name in page and w.other_bidder.name in page
        assert 'id="shared-payers"' in page and page.count("同一付款账号") == 2


def test_a_sections_deposits_page_is_not_for_bidders(dep_world, dep_section):
    w = dep_world
    open_deposit(w, dep_section)
    w.clock.advance(days=21)
    url = f"/staff/sections/{dep_section.public_id}/deposits/"
    assert signed_in(w.bidder_user).get(url).status_code == 403
    assert signed_in(w.tenderer_user).get(url).status_code == 403
    assert_login_redirect(Client().get(url))
    assert signed_in(w.operations).get("/staff/sections/nope/deposits/").status_code == 404


# --- the bidder's electronic guarantee ----------------------------------------------------------


def _guarantee_post(w: DepWorld, section: Any, **overrides: Any) -> dict[str, Any]:
    doc = guarantee_doc(w, section, **overrides)
    sig = sign_guarantee(w, doc)
    return {
        "document": SimpleUploadedFile("guarantee.json", doc, content_type="application/json"),
        "signature": SimpleUploadedFile("guarantee.sig.json", json.dumps(sig).encode()),
    }


def test_the_bid_page_offers_the_guarantee_form_on_a_pending_guarantee(dep_world, dep_section):
    w = dep_world
    deposit = open_deposit(w, dep_section, "guarantee")
    url = f"/projects/{dep_section.project.public_id}/sections/{dep_section.public_id}/bid/"
    page = text(signed_in(w.bidder_user).get(url))
    assert f'action="/workspace/deposits/{deposit.pk}/guarantee/"' in page
    assert f"/workspace/deposits/{deposit.pk}/guarantee/" in text(
        signed_in(w.bidder_user).get("/workspace/bids/")
    )


def test_a_refused_guarantee_shows_the_services_message_and_code(dep_world, dep_section):
    w = dep_world
    deposit = open_deposit(w, dep_section, "guarantee")
    url = f"/workspace/deposits/{deposit.pk}/guarantee/"
    client = signed_in(w.bidder_user)
    assert client.get(url).status_code == 200
    data = _guarantee_post(w, dep_section, applicant=w.other_bidder.uscc)
    response = client.post(url, data)
    assert response.status_code == 400
    page = text(response)
    assert "保函申请人不是本投标人" in page and "guarantee_wrong_applicant" in page
    deposit.refresh_from_db()
    assert deposit.status == "pending" and deposit.guarantee_signature_id is None


def test_a_verified_guarantee_secures_the_deposit(dep_world, dep_section):
    w = dep_world
    deposit = open_deposit(w, dep_section, "guarantee")
    url = f"/workspace/deposits/{deposit.pk}/guarantee/"
    response = signed_in(w.bidder_user).post(url, _guarantee_post(w, dep_section))
    assert response.status_code == 302
    deposit.refresh_from_db()
    assert deposit.status == "guaranteed" and deposit.guarantee_number == "BH2026-0001"


def test_the_guarantee_page_is_the_bidders_own(dep_world, dep_section):
    w = dep_world
    deposit = open_deposit(w, dep_section, "guarantee")
    url = f"/workspace/deposits/{deposit.pk}/guarantee/"
    assert signed_in(w.other_user).get(url).status_code == 404
    assert signed_in(w.other_user).post(url, _guarantee_post(w, dep_section)).status_code == 404
    assert signed_in(w.operations).get(url).status_code == 404  # staff: not before the deadline
    assert_login_redirect(Client().get(url))
    missing = signed_in(w.bidder_user).post(url, {})
    assert missing.status_code == 400
    deposit.refresh_from_db()
    assert deposit.status == "pending"
