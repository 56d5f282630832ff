"""Venues (场地) and remote evaluation (远程异地评标).

A trading center's premises in a region (``Site``) hold rooms (``Venue``): opening halls,
evaluation rooms, witness rooms. A ``Booking`` keeps a venue for one section's opening or
evaluation; two live bookings of a venue never overlap. A ``RemoteSession`` lays out one
section's evaluation over one main venue and any number of secondary venues (``SessionVenue``,
each with its witness), experts are assigned to venue bookings (``ExpertAssignment``), and each
venue's witness records what happens there (``WitnessEvent``, 见证记录).
"""

from __future__ import annotations

from datetime import time

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ggzy.venues.states import (
    BookingState,
    EventKind,
    Purpose,
    SessionState,
    VenueKind,
    VenueRole,
    VenueStatus,
)

User = settings.AUTH_USER_MODEL
CODE_REGEX = r"^[A-Z0-9][A-Z0-9-]{0,15}$"


class Site(models.Model):
    """A trading center's premises (交易场所) in a region, with its working hours: openings and
    evaluations are booked inside them on working days unless staff override with a reason."""

    code = models.CharField(_("场所代码"), max_length=16, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    region = models.ForeignKey(
        "registry.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("所在地区")
    )
    address = models.CharField(_("地址"), max_length=200)
    opens_at = models.TimeField(_("开放时间"), default=time(8, 30))
    closes_at = models.TimeField(_("关闭时间"), default=time(17, 30))
    active = models.BooleanField(_("启用"), default=True)
    updated_at = models.DateTimeField(_("更新时间"))

    class Meta:
        ordering = ["region", "code"]
        verbose_name = _("交易场所")
        verbose_name_plural = _("交易场所")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closes_at__gt=models.F("opens_at")), name="site_hours_order"
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Venue(models.Model):
    """A room at a site: an opening hall, an evaluation room or a witness room, with its seats
    and equipment. A closed venue takes no new bookings."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="venues")
    code = models.CharField(_("场地代码"), max_length=16)
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=16, choices=VenueKind.choices)
    capacity = models.PositiveSmallIntegerField(_("座位数"))
    video_recording = models.BooleanField(_("录音录像"), default=True)
    remote_link = models.BooleanField(_("远程音视频连线"), default=False)
    status = models.CharField(
        _("状态"), max_length=8, choices=VenueStatus.choices, default=VenueStatus.ACTIVE
    )
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(_("更新时间"))

    class Meta:
        ordering = ["site", "code"]
        verbose_name = _("场地")
        verbose_name_plural = _("场地")
        constraints = [
            models.UniqueConstraint(fields=["site", "code"], name="uniq_venue_code"),
            models.CheckConstraint(
                condition=models.Q(capacity__gte=1) & models.Q(capacity__lte=500),
                name="venue_capacity_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.site.name} {self.name}"

    @property
    def label(self) -> str:
        return f"{self.site.code}/{self.code}"


class Booking(models.Model):
    """A venue kept for one section's opening or evaluation, ``[start, end)``. Live bookings
    (held, confirmed) of one venue never overlap: the booking service checks under a row lock on
    the venue, and PostgreSQL holds the exclusion constraint ``booking_no_overlap``."""

    public_id = models.CharField(max_length=32, unique=True)
    venue = models.ForeignKey(Venue, on_delete=models.PROTECT, related_name="bookings")
    start = models.DateTimeField(_("开始时间"))
    end = models.DateTimeField(_("结束时间"))
    purpose = models.CharField(_("用途"), max_length=12, choices=Purpose.choices)
    section = models.ForeignKey(
        "tendering.Section", on_delete=models.PROTECT, related_name="+", verbose_name=_("标段")
    )
    booked_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(
        _("状态"), max_length=10, choices=BookingState.choices, default=BookingState.HELD
    )
    override_reason = models.CharField(_("非工作时间使用理由"), max_length=300, blank=True)
    state_reason = models.CharField(_("释放/取消原因"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("预订时间"))
    updated_at = models.DateTimeField(_("更新时间"))

    class Meta:
        ordering = ["start", "pk"]
        verbose_name = _("场地预订")
        verbose_name_plural = _("场地预订")
        indexes = [models.Index(fields=["venue", "start"], name="booking_venue_start")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="booking_time_order"
            )
        ]

    def __str__(self) -> str:
        return f"{self.venue} {self.start:%Y-%m-%d %H:%M}"


class RemoteSession(models.Model):
    """One section's evaluation laid out over a main venue and any secondary venues
    (远程异地评标). ``state`` is shared by every venue; the main venue's witness drives it.
    ``last_seq`` numbers the session's witness events, so a venue polls for what is new."""

    public_id = models.CharField(max_length=32, unique=True)
    section = models.ForeignKey(
        "tendering.Section", on_delete=models.PROTECT, related_name="+", verbose_name=_("标段")
    )
    state = models.CharField(
        _("状态"), max_length=12, choices=SessionState.choices, default=SessionState.SCHEDULED
    )
    last_seq = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("创建时间"))
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("远程异地评标")
        verbose_name_plural = _("远程异地评标")

    def __str__(self) -> str:
        return self.public_id


class SessionVenue(models.Model):
    """One venue booking of a session, main or secondary, with its witness (见证人) and its own
    state and recording flag."""

    session = models.ForeignKey(RemoteSession, on_delete=models.CASCADE, related_name="venues")
    booking = models.OneToOneField(Booking, on_delete=models.PROTECT, related_name="session_venue")
    role = models.CharField(_("主副场"), max_length=10, choices=VenueRole.choices)
    witness = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(
        max_length=12, choices=SessionState.choices, default=SessionState.SCHEDULED
    )
    recording = models.BooleanField(default=False)

    class Meta:
        ordering = ["session", "role", "pk"]  # main first ("main" < "secondary")
        verbose_name = _("评标场地")
        verbose_name_plural = _("评标场地")
        constraints = [
            models.UniqueConstraint(
                fields=["session"], condition=models.Q(role="main"), name="one_main_venue"
            ),
            models.UniqueConstraint(fields=["session", "witness"], name="one_venue_per_witness"),
        ]

    @property
    def is_main(self) -> bool:
        return self.role == VenueRole.MAIN


class ExpertAssignment(models.Model):
    """An expert placed at a venue booking: for an evaluation, inside its session (one venue per
    expert per session); for an opening, with no session (R62 keeps evaluators away)."""

    booking = models.ForeignKey(Booking, on_delete=models.PROTECT, related_name="assignments")
    session = models.ForeignKey(
        RemoteSession, null=True, blank=True, on_delete=models.CASCADE, related_name="assignments"
    )
    expert = models.ForeignKey("experts.Expert", on_delete=models.PROTECT, related_name="+")
    assigned_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    assigned_at = models.DateTimeField()
    checked_in_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["booking", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["booking", "expert"], name="uniq_booking_expert"),
            models.UniqueConstraint(fields=["session", "expert"], name="one_venue_per_expert"),
        ]


class WitnessEvent(models.Model):
    """One entry of a venue's witness log (见证记录), numbered per session. Each is also a
    ledger event (``ledger_ref``) on ``venue-session:<public_id>``."""

    session = models.ForeignKey(RemoteSession, on_delete=models.CASCADE, related_name="events")
    venue = models.ForeignKey(SessionVenue, on_delete=models.PROTECT, related_name="events")
    seq = models.PositiveIntegerField()
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    at = models.DateTimeField()
    expert = models.ForeignKey(
        "experts.Expert", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    digest = models.CharField(max_length=64, blank=True)
    note = models.CharField(max_length=1000, blank=True)
    state_after = models.CharField(max_length=12, choices=SessionState.choices)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    ledger_ref = models.BigIntegerField()

    class Meta:
        ordering = ["session", "seq"]
        verbose_name = _("见证记录")
        verbose_name_plural = _("见证记录")
        constraints = [models.UniqueConstraint(fields=["session", "seq"], name="uniq_witness_seq")]
