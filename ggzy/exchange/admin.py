"""The staff back office for the national data exchange: batches and deliveries, read-only
(batches are built and pushed through ``ggzy exchange`` / the services, never edited)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from ggzy.exchange.models import Batch, Delivery, Receiver


class ReadOnly(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Batch)
class BatchAdmin(ReadOnly):
    list_display = ("batch_id", "dataset", "sequence", "record_count", "built_at", "key_id")
    list_filter = ("dataset",)
    exclude = ("content",)  # the bytes: through the API (exact) or ``ggzy exchange verify``


@admin.register(Delivery)
class DeliveryAdmin(ReadOnly):
    list_display = ("batch", "receiver", "status", "attempts", "last_status_code",
                    "acknowledged_at", "receipt_id")  # fmt: skip
    list_filter = ("status", "receiver")
    list_select_related = ("batch", "receiver")


@admin.register(Receiver)
class ReceiverAdmin(ReadOnly):
    list_display = ("name", "url", "active", "credential_ref", "updated_at")
