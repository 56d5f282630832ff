"""Back office for accounts: staff read users, roles and tokens; changes go through services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from ggzy.accounts.admin_gate import GatedAdminMixin, ReadOnlyAdmin
from ggzy.accounts.models import ApiToken, User, UserRole


class UserRoleInline(admin.TabularInline):
    model = UserRole
    extra = 0
    readonly_fields = ("role", "granted_at")
    can_delete = False

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False  # roles are granted through accounts.services.grant_role (a ledger event)

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(User)
class UserAdmin(GatedAdminMixin, DjangoUserAdmin):
    list_display = (
        "username",
        "display_name",
        "is_active",
        "is_staff",
        "locked_until",
        "last_login",
    )
    search_fields = ("username", "display_name", "email")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("OpenGGZY", {"fields": ("display_name", "phone", "failed_logins", "locked_until")}),
    )
    inlines = [UserRoleInline]

    def has_add_permission(self, request: Any, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = (
        "name",
        "user",
        "prefix",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    exclude = ("digest",)
