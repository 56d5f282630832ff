from __future__ import annotations

from typing import Any

from django.contrib import admin

from ggzy.accounts.admin_gate import GatedAdmin, ReadOnlyAdmin
from ggzy.core.models import CalendarDay, IssuedTradingCode
from ggzy.core.services import set_calendar_day


@admin.register(CalendarDay)
class CalendarDayAdmin(GatedAdmin):
    """The center's holiday table; saves go through the service so each change is in the ledger."""

    list_display = ("day", "is_working_day", "name")
    list_filter = ("is_working_day",)
    date_hierarchy = "day"
    change_permission_name = "calendar.edit"

    def save_model(self, request: Any, obj: CalendarDay, form: Any, change: bool) -> None:
        saved = set_calendar_day(
            actor=request.user, day=obj.day, is_working_day=obj.is_working_day, name=obj.name
        )
        obj.pk = saved.pk


@admin.register(IssuedTradingCode)
class IssuedTradingCodeAdmin(ReadOnlyAdmin):
    list_display = ("code", "issued_at", "subject")
    search_fields = ("code", "subject")
