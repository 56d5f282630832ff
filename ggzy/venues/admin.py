"""Back office for venues: the center admin keeps sites and venues here (through the venue
services, so each change is checked and in the ledger); bookings and remote sessions are
read-only here — they change only through the booking desk's pages, API and CLI."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest

from ggzy.accounts.admin_gate import GatedAdmin, ReadOnlyAdmin
from ggzy.core.errors import DomainError
from ggzy.venues import services
from ggzy.venues.models import Booking, RemoteSession, SessionVenue, Site, Venue, WitnessEvent


class SiteForm(forms.ModelForm):
    class Meta:
        model = Site
        fields = ("code", "name", "region", "address", "opens_at", "closes_at", "active")


class VenueForm(forms.ModelForm):
    class Meta:
        model = Venue
        fields = ("site", "code", "name", "kind", "capacity", "video_recording", "remote_link",
                  "status")  # fmt: skip


class _ThroughServices(GatedAdmin):
    """Saves go through the services; a refusal is shown, nothing is saved."""

    change_permission_name = "venues.manage"

    def save_related(self, request: Any, form: Any, formsets: Any, change: bool) -> None:
        return


@admin.register(Site)
class SiteAdmin(_ThroughServices):
    form = SiteForm
    list_display = ("code", "name", "region", "opens_at", "closes_at", "active")
    list_filter = ("active", "region")
    search_fields = ("code", "name")

    def get_readonly_fields(self, request: Any, obj: Any = None) -> tuple[str, ...]:
        return ("code", "region") if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: Site, form: Any, change: bool) -> None:
        d = form.cleaned_data
        try:
            if change:
                fields = ("name", "address", "opens_at", "closes_at", "active")
                saved = services.update_site(actor=request.user, site=Site.objects.get(pk=obj.pk),
                                             changes={k: d[k] for k in fields})  # fmt: skip
            else:
                saved = services.create_site(
                    actor=request.user, code=d["code"], name=d["name"], region=d["region"],
                    address=d["address"], opens_at=d["opens_at"], closes_at=d["closes_at"],
                )  # fmt: skip
        except DomainError as exc:
            messages.error(request, f"{exc.message} [{exc.code}]")
            return
        obj.pk = saved.pk
        obj.refresh_from_db()


@admin.register(Venue)
class VenueAdmin(_ThroughServices):
    form = VenueForm
    list_display = ("label", "name", "kind", "capacity", "video_recording", "remote_link",
                    "status")  # fmt: skip
    list_filter = ("kind", "status", "site")
    search_fields = ("code", "name", "site__name")

    def get_readonly_fields(self, request: Any, obj: Any = None) -> tuple[str, ...]:
        return ("site", "code", "kind") if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: Venue, form: Any, change: bool) -> None:
        d = form.cleaned_data
        try:
            if change:
                fields = ("name", "capacity", "video_recording", "remote_link", "status")
                saved = services.update_venue(actor=request.user,
                                              venue=Venue.objects.get(pk=obj.pk),
                                              changes={k: d[k] for k in fields})  # fmt: skip
            else:
                saved = services.create_venue(
                    actor=request.user, site=d["site"], code=d["code"], name=d["name"],
                    kind=d["kind"], capacity=d["capacity"], video_recording=d["video_recording"],
                    remote_link=d["remote_link"],
                )  # fmt: skip
        except DomainError as exc:
            messages.error(request, f"{exc.message} [{exc.code}]")
            return
        obj.pk = saved.pk
        obj.refresh_from_db()


@admin.register(Booking)
class BookingAdmin(ReadOnlyAdmin):
    list_display = ("public_id", "venue", "start", "end", "purpose", "state")
    list_filter = ("state", "purpose", "venue__site")
    search_fields = ("public_id",)


class SessionVenueInline(admin.TabularInline):
    model = SessionVenue
    extra = 0
    can_delete = False
    fields = ("booking", "role", "witness", "state", "recording")
    readonly_fields = fields

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


class WitnessEventInline(SessionVenueInline):
    model = WitnessEvent
    fields = ("seq", "venue", "kind", "at", "expert", "digest", "note", "recorded_by")
    readonly_fields = fields


@admin.register(RemoteSession)
class RemoteSessionAdmin(ReadOnlyAdmin):
    list_display = ("public_id", "section", "state", "created_at", "started_at", "ended_at")
    list_filter = ("state",)
    inlines = [SessionVenueInline, WitnessEventInline]
