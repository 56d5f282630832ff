"""Read-only back-office views of the ledger: staff look, nobody edits."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from ggzy.ledger.models import Event, TreeHead


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("seq", "recorded_at", "event_type", "subject", "actor", "client_addr")
    list_filter = ("event_type",)
    search_fields = ("subject", "event_type", "actor", "hash")


@admin.register(TreeHead)
class TreeHeadAdmin(ReadOnlyAdmin):
    list_display = ("size", "root", "alg", "key_id")
