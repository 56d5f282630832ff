"""The staff back office: evaluation sessions and their rows, read-only (every change goes
through the services)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from ggzy.evaluation.models import (
    CommitteeMember,
    EvaluationSession,
    Finding,
    ReportSignature,
    SessionBid,
)


class ReadOnly(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MemberInline(admin.TabularInline):  # type: ignore[type-arg]
    model = CommitteeMember
    fields = ("ref", "name", "kind", "is_chair", "joined_at")
    readonly_fields = fields
    extra = 0
    can_delete = False


class BidInline(admin.TabularInline):  # type: ignore[type-arg]
    model = SessionBid
    fields = ("label", "entity", "price", "decryption", "invalid_reason", "low_price")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(EvaluationSession)
class EvaluationSessionAdmin(ReadOnly):
    list_display = ("public_id", "section", "status", "created_at", "signed_at")
    list_filter = ("status",)
    search_fields = ("public_id", "section__code", "section__name")
    exclude = ("report", "label_seed")
    inlines = [MemberInline, BidInline]


@admin.register(Finding)
class FindingAdmin(ReadOnly):
    list_display = ("session", "bid", "kind", "passed", "outcome")
    list_filter = ("kind", "passed", "outcome")


@admin.register(ReportSignature)
class ReportSignatureAdmin(ReadOnly):
    list_display = ("session", "member", "signature", "signed_at")
