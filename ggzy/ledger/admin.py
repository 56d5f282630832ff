"""Read-only back-office views of the ledger: staff look, nobody edits."""

from __future__ import annotations

from django.contrib import admin

from ggzy.accounts.admin_gate import ReadOnlyAdmin
from ggzy.ledger.models import Event, TreeHead


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("seq", "recorded_at", "event_type", "subject", "actor", "client_addr")
    list_filter = ("event_type",)
    search_fields = ("subject", "event_type", "actor", "hash")


@admin.register(TreeHead)
class TreeHeadAdmin(ReadOnlyAdmin):
    list_display = ("size", "root", "alg", "key_id")
