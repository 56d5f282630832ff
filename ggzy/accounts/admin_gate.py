"""Django admin rights from the access gate, so the back office follows the same roles.

Staff see the back office through ``backoffice.view`` (center roles); each admin class names the
permission that lets someone change its rows, or none when rows change only through services.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from ggzy.accounts.gate import allowed


def _gate(request: Any, permission: str | None) -> bool:
    user = request.user
    if getattr(user, "is_superuser", False):
        return True
    return permission is not None and user.is_staff and allowed(user, permission)


class GatedAdminMixin:
    change_permission_name: str | None = None

    def has_module_permission(self, request: Any) -> bool:
        return _gate(request, "backoffice.view")

    def has_view_permission(self, request: Any, obj: Any = None) -> bool:
        return _gate(request, "backoffice.view")

    def has_add_permission(self, request: Any, *args: Any) -> bool:
        return _gate(request, self.change_permission_name)

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return _gate(request, self.change_permission_name)

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


class GatedAdmin(GatedAdminMixin, admin.ModelAdmin):
    pass


class ReadOnlyAdmin(GatedAdmin):
    """Rows change only through services (and their ledger events), never in the admin."""

    def has_add_permission(self, request: Any, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False
