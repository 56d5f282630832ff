"""``ggzy venues list [--site S] [--kind K] | bookings [--site S] [--from DATE] [--days N] |
book VENUE --section ID --purpose P --start T --end T [--override-reason R] --as U |
release BOOKING [--reason R] --as U | sessions [--state S]``.

``VENUE`` is ``SITE/CODE`` (``NJ/E1``); times are ISO 8601 with an offset
(``2026-12-14T13:00+08:00``). Every write goes through the services as the user named by
``--as``; a refusal is one line, ``[code] message``."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ggzy.core.clock import CHINA
from ggzy.core.errors import DomainError


def _user(username: str) -> Any:
    from ggzy.accounts.models import User

    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise CommandError(f"[user_not_found] 用户不存在 (no such active user): {username}")
    return user


def _venue(label: str) -> Any:
    from ggzy.venues.models import Venue

    site, _sep, code = label.upper().partition("/")
    venue = Venue.objects.select_related("site").filter(site__code=site, code=code).first()
    if venue is None:
        raise CommandError(f"[venue_not_found] 场地不存在 (no such venue): {label}")
    return venue


def _booking(public_id: str) -> Any:
    from ggzy.venues.models import Booking

    booking = (
        Booking.objects.select_related("venue__site", "section").filter(public_id=public_id).first()
    )
    if booking is None:
        raise CommandError(f"[booking_not_found] 预订不存在 (no such booking): {public_id}")
    return booking


def _moment(value: str, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"[bad_time] {name} 应为 ISO 8601 时间: {value}") from None
    if moment.tzinfo is None:
        raise CommandError(f"[naive_datetime] {name} 须带时区 (e.g. +08:00): {value}")
    return moment


def _line(b: Any) -> str:
    start, end = b.start.astimezone(CHINA), b.end.astimezone(CHINA)
    return (f"{b.public_id}  {b.venue.label:<8} {start:%Y-%m-%d %H:%M}–{end:%H:%M}  "
            f"{b.purpose:<10} {b.state:<9} {b.section.public_id}")  # fmt: skip


class Command(BaseCommand):
    help = (
        "Venues and remote evaluation (场地与远程异地评标): list, bookings, book, release, sessions"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        ls = sub.add_parser("list", help="venues with their seats and equipment")
        ls.add_argument("--site", default="")
        ls.add_argument("--kind", default="")
        bk = sub.add_parser("bookings", help="bookings from a day (default: today) on")
        bk.add_argument("--site", default="")
        bk.add_argument("--from", dest="start", default="")
        bk.add_argument("--days", type=int, default=7)
        book = sub.add_parser("book", help="hold a venue for a section's opening or evaluation")
        book.add_argument("venue", help="SITE/CODE, e.g. NJ/E1")
        book.add_argument("--section", required=True, help="the section's public id")
        book.add_argument("--purpose", required=True, choices=["opening", "evaluation"])
        book.add_argument("--start", required=True)
        book.add_argument("--end", required=True)
        book.add_argument("--override-reason", default="")
        book.add_argument("--as", dest="username", required=True)
        rel = sub.add_parser("release", help="give a booking's slot back")
        rel.add_argument("booking")
        rel.add_argument("--reason", default="")
        rel.add_argument("--as", dest="username", required=True)
        ss = sub.add_parser("sessions", help="remote evaluation sessions and their venues")
        ss.add_argument("--state", default="")
        ss.add_argument("--json", action="store_true", help="one session state per line")

    def handle(self, *args: Any, action: str, **opts: Any) -> None:
        try:
            getattr(self, f"_{action}")(opts)
        except DomainError as exc:
            raise CommandError(f"[{exc.code}] {exc.message}") from exc

    def _list(self, opts: dict[str, Any]) -> None:
        from ggzy.venues.models import Venue

        qs = Venue.objects.select_related("site").order_by("site__code", "code")
        if opts["site"]:
            qs = qs.filter(site__code=opts["site"].upper())
        if opts["kind"]:
            qs = qs.filter(kind=opts["kind"])
        for v in qs:
            flags = ",".join(f for f, on in (("video", v.video_recording),
                                             ("remote", v.remote_link)) if on)  # fmt: skip
            self.stdout.write(f"{v.label:<8} {v.kind:<16} {v.capacity:>3} seats  {v.status:<6} "
                              f"{flags:<12} {v.site.name} {v.name}")  # fmt: skip

    def _bookings(self, opts: dict[str, Any]) -> None:
        from ggzy.core import clock
        from ggzy.venues.models import Booking

        try:
            day = date.fromisoformat(opts["start"]) if opts["start"] else clock.today()
        except ValueError:
            raise CommandError(f"[bad_date] 日期应为 YYYY-MM-DD: {opts['start']}") from None
        from ggzy.venues.checks import in_range

        if not in_range(day):
            raise CommandError(f"[date_out_of_range] 日期超出范围: {day}")
        start = datetime(day.year, day.month, day.day, tzinfo=CHINA)
        qs = Booking.objects.select_related("venue__site", "section").filter(
            end__gt=start, start__lt=start + timedelta(days=max(1, min(opts["days"], 366)))
        )
        if opts["site"]:
            qs = qs.filter(venue__site__code=opts["site"].upper())
        for b in qs.order_by("start", "pk"):
            self.stdout.write(_line(b))

    def _book(self, opts: dict[str, Any]) -> None:
        from ggzy.tendering.models import Section
        from ggzy.venues import services

        section = (
            Section.objects.select_related("project").filter(public_id=opts["section"]).first()
        )
        if section is None:
            raise CommandError(
                f"[section_not_found] 标段不存在 (no such section): {opts['section']}"
            )
        booking = services.book_venue(
            actor=_user(opts["username"]), venue=_venue(opts["venue"]), section=section,
            purpose=opts["purpose"], start=_moment(opts["start"], "--start"),
            end=_moment(opts["end"], "--end"), override_reason=opts["override_reason"],
        )  # fmt: skip
        self.stdout.write(_line(booking))

    def _release(self, opts: dict[str, Any]) -> None:
        from ggzy.venues import services

        booking = services.release_booking(actor=_user(opts["username"]),
                                           booking=_booking(opts["booking"]),
                                           reason=opts["reason"])  # fmt: skip
        self.stdout.write(_line(booking))

    def _sessions(self, opts: dict[str, Any]) -> None:
        from ggzy.venues.models import RemoteSession

        qs = RemoteSession.objects.select_related("section__project").order_by("-created_at")
        if opts["state"]:
            qs = qs.filter(state=opts["state"])
        for s in qs:
            venues = list(s.venues.select_related("booking__venue__site", "witness")
                          .order_by("role", "pk"))  # fmt: skip
            if opts["json"]:
                self.stdout.write(json.dumps({
                    "session": s.public_id, "section": s.section.public_id, "state": s.state,
                    "last_seq": s.last_seq,
                    "venues": [{"venue": v.booking.venue.label, "role": v.role, "state": v.state,
                                "witness": v.witness.username, "recording": v.recording}
                               for v in venues],
                }, ensure_ascii=False))  # fmt: skip
                continue
            where = " + ".join(f"{v.booking.venue.label}({v.role[0]}:{v.state})" for v in venues)
            self.stdout.write(f"{s.public_id}  {s.state:<11} {s.section.project.name}  {where}")
