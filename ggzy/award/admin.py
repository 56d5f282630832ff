"""The staff back office: results, notices, contracts and obligations, read-only (every change
goes through the services)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from ggzy.award.models import AwardNotice, Contract, Obligation, Publicity


class ReadOnly(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Publicity)
class PublicityAdmin(ReadOnly):
    list_display = ("public_id", "section", "regime", "starts_at", "ends_at", "published_at")
    list_select_related = ("section__project",)


@admin.register(AwardNotice)
class AwardNoticeAdmin(ReadOnly):
    list_display = ("public_id", "section", "entity", "amount", "issued_at", "validity_warning")
    list_select_related = ("section__project", "entity")


@admin.register(Contract)
class ContractAdmin(ReadOnly):
    list_display = ("public_id", "award", "amount", "signed_on", "late", "published_at",
                    "filed_at")  # fmt: skip
    list_select_related = ("award",)


@admin.register(Obligation)
class ObligationAdmin(ReadOnly):
    list_display = ("contract", "kind", "name", "amount", "due_on", "status")
    list_select_related = ("contract",)
