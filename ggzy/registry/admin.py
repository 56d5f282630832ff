"""Back office for the registry: staff read everything; changes go through the services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from ggzy.accounts.admin_gate import ReadOnlyAdmin
from ggzy.registry.models import (
    ContactPerson,
    Entity,
    EntityVersion,
    Membership,
    Qualification,
    Region,
)


@admin.register(Region)
class RegionAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "parent")
    search_fields = ("code", "name")


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


class QualificationInline(ReadOnlyInline):
    model = Qualification


class ContactInline(ReadOnlyInline):
    model = ContactPerson


class MembershipInline(ReadOnlyInline):
    model = Membership


class VersionInline(ReadOnlyInline):
    model = EntityVersion
    fields = ("version", "changed_at", "changed_by", "changes")
    readonly_fields = fields


@admin.register(Entity)
class EntityAdmin(ReadOnlyAdmin):
    list_display = ("name", "uscc", "entity_type", "region", "status", "version", "registered_at")
    list_filter = ("entity_type", "status", "is_bidder", "is_tenderer", "is_agent", "region")
    search_fields = ("name", "uscc", "legal_representative")
    inlines = [QualificationInline, ContactInline, MembershipInline, VersionInline]

    def get_readonly_fields(self, request: Any, obj: Any = None) -> list[str]:
        return [f.name for f in Entity._meta.fields]
