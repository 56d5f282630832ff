"""Bidding pages: the bidder's workspace (bids with their receipts, deposits, submission,
withdrawal, the live opening page where the bidder hands over its content key) and the center's
opening desk (openings due, the session's control page)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from ggzy.accounts.gate import allowed
from ggzy.bidding import bids as bidding
from ggzy.bidding import deposits
from ggzy.bidding import opening as openings
from ggzy.bidding.models import Bid, Opening, OpeningObjection
from ggzy.bidding.states import BidStatus, OpeningStatus
from ggzy.core import clock
from ggzy.core.errors import DomainError, NotAuthenticated, NotFound, PermissionDenied
from ggzy.registry import selectors as registry
from ggzy.tendering import selectors as tendering
from ggzy.tendering.models import Section
from ggzy.trust.envelopes import envelope_dir
from ggzy.web.forms_tendering import (
    BidUploadForm,
    ContentKeyForm,
    DepositForm,
    OpeningAnswerForm,
    OpeningObjectionForm,
)
from ggzy.web.views.common import error_page
from ggzy.web.views.tendering import (
    display_record,
    refused_page,
    section_for_page,
    show_refusal,
)


def _bid_section(actor: Any, bid: Bid) -> Section | None:
    """The section of one of the actor's own bids (from its sealed identity, which the owner's
    own views may read)."""
    section_id = bid.section.public_id if bid.section_id else bidding.identity(bid).get("section")
    try:
        return tendering.get_section(actor, str(section_id or ""))
    except NotFound:
        return None


def _bidder_entities(request: HttpRequest) -> list[tuple[str, str]]:
    return [(e.uscc, e.name) for e in registry.entities_for_user(request.user) if e.is_bidder]


def _opening_of(section: Section | None) -> Opening | None:
    if section is None:
        return None
    try:
        return openings.get_opening(section)
    except NotFound:
        return None


# --- bidder workspace -------------------------------------------------------------------------


@login_required
def my_bids(request: HttpRequest) -> HttpResponse:
    rows = []
    for bid in bidding.my_bids(request.user):
        section = _bid_section(request.user, bid)
        rows.append(
            {
                "bid": bid,
                "section": section,
                "receipt_seq": bidding.receipt_seq(bid),
                "can_withdraw": bid.status == BidStatus.RECEIVED and section is not None
                and section.bid_deadline is not None and clock.now() < section.bid_deadline,
                "opening": _opening_of(section),
            }
        )  # fmt: skip
    context = {
        "rows": rows,
        "deposits": list(deposits.my_deposits(request.user)),
        "invitations": list(tendering.my_invitations(request.user)[:100]),
        "can_bid": allowed(request.user, "bidding.submit"),
    }
    return render(request, "web/bidding/my_bids.html", context)


@login_required
def receipt(request: HttpRequest, bid_id: str) -> HttpResponse:
    try:
        bid = bidding.owned_bid(request.user, bid_id)
    except NotFound as exc:
        return error_page(request, 404, exc.message)
    return render(
        request, "web/bidding/receipt.html", {"bid": bid, "receipt": bidding.receipt(bid)}
    )


def _current_bid(request: HttpRequest, section: Section) -> Bid | None:
    for bid in bidding.my_bids(request.user):
        if bid.status == BidStatus.RECEIVED and bidding.section_of(bid, [section]):
            return bid
    return None


def _bid_context(request: HttpRequest, section: Section, **extra: Any) -> dict[str, Any]:
    entities = _bidder_entities(request)
    deposit_rows = [d for d in deposits.my_deposits(request.user) if d.section_id == section.pk]
    return {
        "section": section,
        "project": section.project,
        "phase": tendering.phase(section),
        "current": _current_bid(request, section),
        "form": extra.get("form") or BidUploadForm(),
        "deposit_form": extra.get("deposit_form") or (
            DepositForm(entities=entities, prefix="deposit") if entities else None),
        "deposits": deposit_rows,
    }  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def submit_bid(request: HttpRequest, public_id: str, section_id: str) -> HttpResponse:
    if not allowed(request.user, "bidding.submit"):
        return error_page(request, 403, _("只有投标人可以递交投标文件。"))
    section = section_for_page(request, section_id)
    if isinstance(section, HttpResponse):
        return section
    if section.project.public_id != public_id:
        return error_page(request, 404, _("标段不存在 (no such section)"))
    received = clock.now()  # the multipart body was read before the view ran
    form = BidUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["envelope"]
        replaces = _current_bid(request, section) if form.cleaned_data["replace"] else None
        with tempfile.NamedTemporaryFile(
            dir=envelope_dir(), prefix="bid-", suffix=".part", delete=False
        ) as tmp:
            for chunk in upload.chunks():
                tmp.write(chunk)
        path = Path(tmp.name)
        try:
            bid = bidding.submit_bid(actor=request.user, section_id=section.public_id,
                                     upload=path, replaces=replaces, received_at=received)  # fmt: skip
        except DomainError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, _("投标文件已递交，回执已签发。"))
            return redirect("web:bid_receipt", bid_id=bid.public_id)
        finally:
            path.unlink(missing_ok=True)
    status = 400 if form.errors else 200
    return render(request, "web/bidding/submit.html", _bid_context(request, section, form=form),
                  status=status)  # fmt: skip


@login_required
@require_POST
def open_deposit(request: HttpRequest, public_id: str, section_id: str) -> HttpResponse:
    section = section_for_page(request, section_id)
    if isinstance(section, HttpResponse):
        return section
    form = DepositForm(request.POST, entities=_bidder_entities(request), prefix="deposit")
    if form.is_valid():
        try:
            entity = registry.get_entity(actor=request.user, uscc=form.cleaned_data["entity"])
            deposits.open_deposit(actor=request.user, section=section, entity=entity,
                                  method=form.cleaned_data["method"],
                                  exemption_reason=form.cleaned_data["exemption_reason"])  # fmt: skip
        except (NotAuthenticated, PermissionDenied) as exc:
            return error_page(request, 403, exc.message)
        except DomainError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, _("保证金已办理。"))
            return redirect("web:bid_submit", public_id=public_id, section_id=section_id)
    context = _bid_context(request, section, deposit_form=form)
    return render(request, "web/bidding/submit.html", context, status=400)


@login_required
@require_POST
def withdraw(request: HttpRequest, bid_id: str) -> HttpResponse:
    try:
        bid = bidding.owned_bid(request.user, bid_id)
        bidding.withdraw_bid(actor=request.user, bid=bid)
    except (NotFound, NotAuthenticated, PermissionDenied) as exc:
        return refused_page(request, exc)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("投标文件已撤回。"))
    return redirect("web:my_bids")


# --- the bidder's live opening page ----------------------------------------------------------


def _record_context(opening: Opening | None) -> dict[str, Any]:
    closed = opening is not None and opening.status != OpeningStatus.DECRYPTING
    return {
        "opening": opening,
        "closed": closed,
        "record": display_record(opening.record) if closed and opening else None,
        "record_verified": bool(closed and opening and openings.verify_record(opening)),
    }


def _bidder_opening(request: HttpRequest, bid_id: str) -> tuple[Bid, Section] | HttpResponse:
    try:
        bid = bidding.owned_bid(request.user, bid_id)
    except NotFound as exc:
        return error_page(request, 404, exc.message)
    section = _bid_section(request.user, bid)
    if section is None:
        return error_page(request, 404, _("投标文件不存在 (no such bid)"))
    return bid, section


def _bidder_status_context(bid: Bid, section: Section) -> dict[str, Any]:
    opening = _opening_of(section)
    return {"bid": bid, "section": section, "phase": tendering.phase(section),
            **_record_context(opening)}  # fmt: skip


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def bidder_opening(request: HttpRequest, bid_id: str) -> HttpResponse:
    found = _bidder_opening(request, bid_id)
    if isinstance(found, HttpResponse):
        return found
    bid, section = found
    form = ContentKeyForm(request.POST or None)
    objection_form = OpeningObjectionForm(prefix="objection")
    if request.method == "POST" and form.is_valid():
        try:
            bid = openings.submit_key(
                actor=request.user, bid=bid, content_key=form.cleaned_data["content_key"]
            )
        except DomainError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, _("解密成功，投标文件已开启。"))
            return redirect("web:bid_opening", bid_id=bid.public_id)
    context = {**_bidder_status_context(bid, section), "form": form,
               "objection_form": objection_form}  # fmt: skip
    return render(request, "web/bidding/opening.html", context, status=400 if form.errors else 200)


@never_cache
@login_required
def bidder_opening_status(request: HttpRequest, bid_id: str) -> HttpResponse:
    found = _bidder_opening(request, bid_id)
    if isinstance(found, HttpResponse):
        return found
    bid, section = found
    return render(request, "web/bidding/_opening_status.html", _bidder_status_context(bid, section))


@login_required
@require_POST
def bidder_objection(request: HttpRequest, bid_id: str) -> HttpResponse:
    found = _bidder_opening(request, bid_id)
    if isinstance(found, HttpResponse):
        return found
    bid, section = found
    opening = _opening_of(section)
    form = OpeningObjectionForm(request.POST, prefix="objection")
    if opening is None or bid.entity is None:
        messages.error(request, _("开标尚未开始。"))
    elif form.is_valid():
        try:
            openings.raise_opening_objection(actor=request.user, opening=opening,
                                             entity=bid.entity, text=form.cleaned_data["text"])  # fmt: skip
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("现场异议已提交。"))
    return redirect("web:bid_opening", bid_id=bid.public_id)


# --- center operations: openings --------------------------------------------------------------


def _operations_only(request: HttpRequest) -> HttpResponse | None:
    if not openings.can_run(request.user):
        return error_page(request, 403, _("仅交易中心开标人员可访问。"))
    return None


@login_required
def staff_openings(request: HttpRequest) -> HttpResponse:
    if refused := _operations_only(request):
        return refused
    running = Opening.objects.filter(status=OpeningStatus.DECRYPTING).select_related(
        "section__project"
    )
    today = clock.today()
    context = {
        "due": [s for s in tendering.openings_due()],
        "today": today,
        "running": list(running),
    }
    return render(request, "web/bidding/staff_openings.html", context)


def _progress(section: Section, opening: Opening | None) -> dict[str, Any] | None:
    """How many keys have been handed over — known only once the register is unsealed."""
    if opening is None or opening.status == OpeningStatus.FAILED:
        return None
    statuses = list(Bid.objects.filter(section=section).values_list("status", flat=True))
    return {
        "total": opening.bid_count,
        "decrypted": statuses.count(BidStatus.OPENED),
        "failed": sum(s in (BidStatus.REVOKED, BidStatus.PLATFORM_FAILED) for s in statuses),
        "pending": statuses.count(BidStatus.RECEIVED),
    }


def _control_context(section: Section) -> dict[str, Any]:
    opening = _opening_of(section)
    objections = list(opening.objections.select_related("entity")) if opening else []
    return {
        "section": section,
        "project": section.project,
        "phase": tendering.phase(section),
        "progress": _progress(section, opening),
        "objections": objections,
        "answer_form": OpeningAnswerForm(),
        "deadline_passed": section.bid_deadline is not None and clock.now() >= section.bid_deadline,
        **_record_context(opening),
    }


def _staff_section(request: HttpRequest, section_id: str) -> Section | HttpResponse:
    if refused := _operations_only(request):
        return refused
    return section_for_page(request, section_id)


@never_cache
@login_required
def opening_control(request: HttpRequest, section_id: str) -> HttpResponse:
    section = _staff_section(request, section_id)
    if isinstance(section, HttpResponse):
        return section
    return render(request, "web/bidding/opening_control.html", _control_context(section))


@never_cache
@login_required
def opening_control_status(request: HttpRequest, section_id: str) -> HttpResponse:
    section = _staff_section(request, section_id)
    if isinstance(section, HttpResponse):
        return section
    return render(request, "web/bidding/_control_status.html", _control_context(section))


def _staff_act(request: HttpRequest, section_id: str, action: Any, done: str) -> HttpResponse:
    section = _staff_section(request, section_id)
    if isinstance(section, HttpResponse):
        return section
    try:
        action(section)
    except (NotAuthenticated, PermissionDenied) as exc:
        return error_page(request, 403, exc.message)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("web:opening_control", section_id=section.public_id)


def _close(request: HttpRequest, section: Section) -> Opening:
    return openings.close_opening(actor=request.user, opening=openings.get_opening(section))


@login_required
@require_POST
def start_opening(request: HttpRequest, section_id: str) -> HttpResponse:
    return _staff_act(request, section_id,
                      lambda s: openings.start_opening(actor=request.user, section=s),
                      _("开标已开始，等待投标人提交解密密钥。"))  # fmt: skip


@login_required
@require_POST
def close_opening(request: HttpRequest, section_id: str) -> HttpResponse:
    return _staff_act(request, section_id, lambda s: _close(request, s),
                      _("开标结束，开标记录已签名发布。"))  # fmt: skip


@login_required
@require_POST
def answer_objection(request: HttpRequest, section_id: str, objection_id: int) -> HttpResponse:
    def answer(section: Section) -> None:
        objection = OpeningObjection.objects.filter(
            pk=objection_id, opening__section=section
        ).first()
        if objection is None:
            raise NotFound("异议不存在 (no such objection)", code="objection_not_found")
        form = OpeningAnswerForm(request.POST)
        if not form.is_valid():
            raise DomainError(_("请填写答复内容。"), code="required")
        openings.answer_opening_objection(
            actor=request.user, objection=objection, answer=form.cleaned_data["answer"]
        )

    return _staff_act(request, section_id, answer, _("已答复。"))
