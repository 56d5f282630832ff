"""The trust pages: the recognized CAs (一证通用), a signed document, QR signing (扫码签名) and
the signed-in person's bound certificates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import segno
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from ggzy.core import clock
from ggzy.core.errors import DomainError, NotAuthenticated, NotFound, PermissionDenied
from ggzy.trust import selectors, signing
from ggzy.trust.models import CertificateAuthority, SigningRequest
from ggzy.web.forms import SignRequestForm
from ggzy.web.views.common import error_page

# --- recognized CAs -------------------------------------------------------------------------


def _authority_row(authority: CertificateAuthority) -> dict[str, Any]:
    certificates = list(authority.certificates.all())
    crl = selectors.crl_state(authority)
    return {
        "authority": authority,
        "families": sorted({c.get_family_display() for c in certificates}),
        "roots": [c for c in certificates if c.is_root],
        "intermediates": [c for c in certificates if not c.is_root],
        "latest_crl": crl["latest"],
        "crl_overdue": crl["overdue"],
    }


def authorities(request: HttpRequest) -> HttpResponse:
    rows = selectors.authorities()
    return render(request, "web/trust/cas.html", {"rows": [_authority_row(a) for a in rows]})


# --- a signed document ----------------------------------------------------------------------


@login_required
def signature(request: HttpRequest, signature_id: int) -> HttpResponse:
    try:
        sig = selectors.get_signature_for(request.user, signature_id)
    except NotFound as exc:
        return error_page(request, 404, exc.message)
    event = selectors.ledger_event_for(f"signature:{sig.pk}", "trust.document_signed")
    return render(
        request,
        "web/trust/signature.html",
        {
            "sig": sig,
            "binding": sig.binding,
            "event": event,
            "validity": signing.signature_validity(sig),
        },
    )


# --- QR signing requests --------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def new_sign_request(request: HttpRequest) -> HttpResponse:
    form = SignRequestForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            req = signing.create_signing_request(
                actor=request.user,  # type: ignore[arg-type]
                document_name=form.cleaned_data["document_name"],
                digest_alg=form.cleaned_data["digest_alg"],
                document_digest=form.cleaned_data["document_digest"],
            )
        except (NotAuthenticated, PermissionDenied) as exc:
            return error_page(request, 403, exc.message)
        except DomainError as exc:
            form.show_refusal(exc)
        else:
            return redirect("web:sign_request", public_id=req.public_id)
    return render(request, "web/trust/sign_request_new.html", {"form": form})


def _remaining(expires_at: datetime) -> str:
    seconds = max(0, int((expires_at - clock.now()).total_seconds()))
    return _("%(minutes)d 分 %(seconds)02d 秒") % {
        "minutes": seconds // 60,
        "seconds": seconds % 60,
    }


def _status_context(request: HttpRequest, req: SigningRequest) -> dict[str, Any]:
    api_path = reverse("api:trust_sign_request", kwargs={"request_id": req.public_id})
    out = {"url": request.build_absolute_uri(api_path), "status": signing.request_status(req)}
    return {
        "req": req,
        "out": out,
        "final": out["status"] != "pending",
        "remaining": _remaining(req.expires_at),
    }


def _signing_request_or_404(public_id: str) -> SigningRequest | None:
    try:
        return selectors.get_signing_request(public_id)
    except NotFound:
        return None


@never_cache
def sign_request(request: HttpRequest, public_id: str) -> HttpResponse:
    """Readable by whoever holds the unguessable id, like the API endpoint the QR code names."""
    req = _signing_request_or_404(public_id)
    if req is None:
        return error_page(request, 404, _("签名请求不存在。"))
    context = _status_context(request, req)
    qr = segno.make(context["out"]["url"], error="m")
    context["qr_svg"] = mark_safe(  # segno's own markup, from a URL we built
        qr.svg_inline(scale=5, omitsize=True, title=_("扫码签名二维码"), svgclass="qr-code")
    )
    return render(request, "web/trust/sign_request.html", context)


@never_cache
def sign_request_status(request: HttpRequest, public_id: str) -> HttpResponse:
    """The status region alone, which the QR page polls (htmx) until signed or expired."""
    req = _signing_request_or_404(public_id)
    if req is None:
        return error_page(request, 404, _("签名请求不存在。"))
    return render(request, "web/trust/_sign_status.html", _status_context(request, req))


# --- my certificates ------------------------------------------------------------------------


@login_required
def my_certificates(request: HttpRequest) -> HttpResponse:
    bindings = selectors.bindings_for(request.user)
    return render(request, "web/trust/my_certificates.html", {"bindings": bindings})
