"""Back office for the expert pool: the taxonomy is edited here by the center admin (through the
taxonomy services, so each change is versioned and in the ledger); experts are read-only here —
their changes go through the pool's pages and services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest

from ggzy.accounts.admin_gate import GatedAdmin, ReadOnlyAdmin
from ggzy.core.errors import DomainError
from ggzy.experts import taxonomy
from ggzy.experts.models import (
    Expert,
    ExpertSpecialty,
    ExpertStatusChange,
    Rating,
    Specialty,
    SpecialtyVersion,
)


class SpecialtyForm(forms.ModelForm):
    class Meta:
        model = Specialty
        fields = ("code", "name", "is_works", "active")


class VersionInline(admin.TabularInline):
    model = SpecialtyVersion
    extra = 0
    can_delete = False
    fields = ("version", "changed_at", "changed_by", "changes")
    readonly_fields = fields

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Specialty)
class SpecialtyAdmin(GatedAdmin):
    change_permission_name = "experts.taxonomy"
    form = SpecialtyForm
    list_display = ("code", "name", "parent", "is_works", "active", "version")
    list_filter = ("active", "is_works")
    search_fields = ("code", "name")
    inlines = [VersionInline]

    def get_readonly_fields(self, request: Any, obj: Any = None) -> tuple[str, ...]:
        return ("code",) if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: Specialty, form: Any, change: bool) -> None:
        """Through the taxonomy services: versioned, in the ledger, refusals shown."""
        data = form.cleaned_data
        try:
            if change:
                saved = taxonomy.update_specialty(
                    actor=request.user, specialty=obj, name=data["name"],
                    active=data["active"], is_works=data["is_works"],
                )  # fmt: skip
            else:
                saved = taxonomy.create_specialty(actor=request.user, code=data["code"],
                                                  name=data["name"], is_works=data["is_works"])  # fmt: skip
                if not data["active"]:
                    saved = taxonomy.update_specialty(actor=request.user, specialty=saved,
                                                      active=False)  # fmt: skip
        except DomainError as exc:
            messages.error(request, exc.message)
            return
        obj.pk = saved.pk
        obj.refresh_from_db()

    def save_related(self, request: Any, form: Any, formsets: Any, change: bool) -> None:
        return  # versions are written by the service


class SpecialtyRowInline(admin.TabularInline):
    model = ExpertSpecialty
    extra = 0
    can_delete = False
    fields = ("specialty", "is_primary", "region", "status", "suspended_until")
    readonly_fields = fields

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


class StatusInline(SpecialtyRowInline):
    model = ExpertStatusChange
    fields = ("changed_at", "from_status", "to_status", "reason", "until", "actor")
    readonly_fields = fields


class RatingInline(SpecialtyRowInline):
    model = Rating
    fields = ("rated_at", "session_ref", "rater_kind", "score", "comment", "misconduct", "rated_by")
    readonly_fields = fields


@admin.register(Expert)
class ExpertAdmin(ReadOnlyAdmin):
    list_display = (
        "name",
        "status",
        "primary_specialty",
        "title_level",
        "years_in_field",
        "region",
    )
    list_filter = ("status", "title_level", "region")
    search_fields = ("name", "resident_id", "public_id")
    inlines = [SpecialtyRowInline, StatusInline, RatingInline]

    def get_readonly_fields(self, request: Any, obj: Any = None) -> list[str]:
        return [f.name for f in Expert._meta.fields]
