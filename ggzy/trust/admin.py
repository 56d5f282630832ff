"""Back office for the trust store: staff see everything; only center admins onboard CAs, change
their status and import CRLs — always through ``ggzy.trust.services`` (one ledger event each)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from ggzy.accounts.admin_gate import GatedAdmin, GatedAdminMixin, ReadOnlyAdmin
from ggzy.core.errors import DomainError
from ggzy.trust import services
from ggzy.trust.forms import CRLUploadForm, OnboardCAForm
from ggzy.trust.models import (
    CACertificate,
    CAStatusChange,
    CertificateAuthority,
    CertificateBinding,
    DocumentSignature,
    RevocationList,
    SealedEnvelope,
)
from ggzy.trust.states import CAStatus


def _refusal(exc: DomainError) -> str:
    return f"{exc.message} [{exc.code}]"


class ReadOnlyInline(GatedAdminMixin, admin.TabularInline):  # type: ignore[type-arg]
    """Rows shown under their CA; they change only through the services."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request: Any, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


class CertificateInline(ReadOnlyInline):
    model = CACertificate
    fields = ("subject", "family", "is_root", "serial", "fingerprint", "not_before", "not_after")
    readonly_fields = fields


class StatusChangeInline(ReadOnlyInline):
    model = CAStatusChange
    fields = ("at", "status", "by", "reason")
    readonly_fields = fields


def _status_action(status: str, label: str) -> Callable[..., None]:
    def action(
        modeladmin: CertificateAuthorityAdmin,
        request: HttpRequest,
        queryset: QuerySet[CertificateAuthority],
    ) -> None:
        for authority in queryset:
            try:
                services.set_ca_status(actor=request.user, authority=authority, status=status)
            except DomainError as exc:
                modeladmin.message_user(request, f"{authority}: {_refusal(exc)}", messages.ERROR)
            else:
                modeladmin.message_user(request, f"{authority}: {label}", messages.SUCCESS)

    action.__name__ = f"make_{status}"
    return admin.action(description=label, permissions=["change"])(action)


@admin.register(CertificateAuthority)
class CertificateAuthorityAdmin(GatedAdmin):
    """Recognized CAs. The change page is read-only: status moves by the list actions, CRLs come
    in through the import page linked from it."""

    change_permission_name = "trust.manage"
    list_display = (
        "code",
        "name",
        "status",
        "families",
        "certificate_count",
        "crl_updated",
        "status_changed_at",
    )
    list_filter = ("status",)
    search_fields = ("code", "name")
    inlines = [CertificateInline, StatusChangeInline]
    change_form_template = "admin/trust/certificateauthority/change_form.html"
    actions = [
        _status_action(CAStatus.SUSPENDED, "暂停 (suspend)"),
        _status_action(CAStatus.ACTIVE, "恢复 (reinstate)"),
        _status_action(CAStatus.RETIRED, "退出 (retire)"),
        "fetch_crl_now",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[CertificateAuthority]:
        return (
            super()
            .get_queryset(request)
            .prefetch_related("certificates")
            .annotate(
                n_certificates=Count("certificates", distinct=True),
                last_crl=Max("certificates__crls__this_update"),
            )
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in CertificateAuthority._meta.fields]

    @admin.display(description="算法 (families)")
    def families(self, obj: CertificateAuthority) -> str:
        return ", ".join(sorted({c.family for c in obj.certificates.all()})) or "-"

    @admin.display(description="证书数 (certificates)", ordering="n_certificates")
    def certificate_count(self, obj: Any) -> int:
        return int(obj.n_certificates)

    @admin.display(description="CRL 更新 (CRL last update)", ordering="last_crl")
    def crl_updated(self, obj: Any) -> Any:
        return obj.last_crl

    @admin.action(description="立即获取 CRL (fetch CRL now)", permissions=["change"])
    def fetch_crl_now(self, request: HttpRequest, queryset: QuerySet[CertificateAuthority]) -> None:
        for authority in queryset:
            self._fetch(request, authority)

    def _fetch(self, request: HttpRequest, authority: CertificateAuthority) -> None:
        try:
            crl = services.fetch_crl(actor=request.user, authority=authority)
        except DomainError as exc:
            self.message_user(request, f"{authority}: {_refusal(exc)}", messages.ERROR)
        else:
            self.message_user(
                request, f"{authority}: CRL 已导入 (CRL imported), {crl.entries}", messages.SUCCESS
            )

    # --- pages --------------------------------------------------------------------------------

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path(
                "<int:object_id>/crl/",
                wrap(self.crl_view),
                name="trust_certificateauthority_crl",
            ),
            *super().get_urls(),
        ]

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        """Onboard a CA from uploaded certificate files (services.onboard_ca)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = OnboardCAForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                authority = services.onboard_ca(
                    actor=request.user,
                    code=data["code"],
                    name=data["name"],
                    certificates=data["certificates"],
                    subject_id_attribute=data["subject_id_attribute"],
                    crl_url=data["crl_url"],
                )
            except DomainError as exc:
                form.add_error(None, _refusal(exc))
            else:
                self.message_user(request, f"{authority}: CA 已入驻 (CA onboarded)")
                return HttpResponseRedirect(
                    reverse("admin:trust_certificateauthority_change", args=[authority.pk])
                )
        return self._render(request, "onboard.html", form, title="新增 CA (onboard a CA)")

    def crl_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Import an uploaded CRL (services.import_crl) or fetch it now (services.fetch_crl)."""
        authority = get_object_or_404(CertificateAuthority, pk=object_id)
        if not self.has_change_permission(request, authority):
            raise PermissionDenied
        back = reverse("admin:trust_certificateauthority_change", args=[authority.pk])
        if request.method == "POST" and "_fetch" in request.POST:
            self._fetch(request, authority)
            return HttpResponseRedirect(back)
        form = CRLUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                crl = services.import_crl(
                    actor=request.user,
                    data=form.cleaned_data["crl"],
                    source=f"admin:{request.FILES['crl'].name}"[:500],
                    authority=authority,
                )
            except DomainError as exc:
                form.add_error(None, _refusal(exc))
            else:
                self.message_user(request, f"CRL 已导入 (CRL imported), {crl.entries}")
                return HttpResponseRedirect(back)
        return self._render(
            request,
            "crl.html",
            form,
            title=f"导入 CRL (import CRL) — {authority}",
            original=authority,
        )

    def _render(self, request: HttpRequest, page: str, form: Any, **context: Any) -> HttpResponse:
        return TemplateResponse(
            request,
            f"admin/trust/certificateauthority/{page}",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "form": form,
                **context,
            },
        )

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: Any = None,
    ) -> Any:
        if object_id is not None and request.method == "POST":
            raise PermissionDenied  # no direct edits: status and CRLs go through the services
        extra = {
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            "show_delete": False,
            "may_manage": self.has_change_permission(request),
        }
        return super().changeform_view(request, object_id, form_url, extra)


@admin.register(CertificateBinding)
class CertificateBindingAdmin(ReadOnlyAdmin):
    list_display = ("subject", "subject_identifier", "kind", "family", "holder", "bound_at")
    list_filter = ("kind", "family", "authority")
    search_fields = ("subject", "subject_identifier", "fingerprint")
    exclude = ("der",)


@admin.register(DocumentSignature)
class DocumentSignatureAdmin(ReadOnlyAdmin):
    list_display = ("document_name", "format", "signer", "entity", "recorded_at")
    list_filter = ("format", "digest_alg")
    search_fields = ("document_name", "document_digest")
    exclude = ("signature",)


@admin.register(SealedEnvelope)
class SealedEnvelopeAdmin(ReadOnlyAdmin):
    list_display = ("envelope_id", "section", "entity", "size", "received_at", "opened_at")
    search_fields = ("envelope_id", "section")


@admin.register(RevocationList)
class RevocationListAdmin(ReadOnlyAdmin):
    list_display = ("issuer", "number", "this_update", "next_update", "entries", "source")
    search_fields = ("fingerprint", "source")
