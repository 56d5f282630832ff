"""API schemas of venues and remote evaluation. Codes and ids travel as strings and are checked
by the services and selectors, so every refusal names its field and has its own code."""

from __future__ import annotations

from datetime import datetime, time
from typing import Literal

from pydantic import Field

from ggzy.core.schemas import StrictSchema

KindIn = Literal["opening_hall", "evaluation_room", "witness_room"]
PurposeIn = Literal["opening", "evaluation"]
EventKindIn = Literal[
    "check_in_opened", "check_in", "session_started", "session_paused", "session_resumed",
    "session_ended", "recording_started", "recording_stopped", "incident",
]  # fmt: skip


class SiteIn(StrictSchema):
    code: str = Field(..., min_length=1, max_length=16, description="如 NJ、SZ-01")
    name: str = Field(..., min_length=1, max_length=100)
    region: str = Field(..., min_length=1, max_length=6, description="行政区划代码")
    address: str = Field(..., min_length=1, max_length=200)
    opens_at: time = time(8, 30)
    closes_at: time = time(17, 30)


class SitePatch(StrictSchema):
    name: str | None = Field(None, min_length=1, max_length=100)
    address: str | None = Field(None, min_length=1, max_length=200)
    opens_at: time | None = None
    closes_at: time | None = None
    active: bool | None = None


class SiteOut(StrictSchema):
    code: str
    name: str
    region: str
    region_name: str
    address: str
    opens_at: time
    closes_at: time
    active: bool


class VenueIn(StrictSchema):
    site: str = Field(..., min_length=1, max_length=16)
    code: str = Field(..., min_length=1, max_length=16)
    name: str = Field(..., min_length=1, max_length=100)
    kind: KindIn
    capacity: int = Field(..., ge=1, le=500)
    video_recording: bool = True
    remote_link: bool = False


class VenuePatch(StrictSchema):
    name: str | None = Field(None, min_length=1, max_length=100)
    capacity: int | None = Field(None, ge=1, le=500)
    video_recording: bool | None = None
    remote_link: bool | None = None
    status: Literal["active", "closed"] | None = None


class VenueOut(StrictSchema):
    id: int
    label: str
    site: str
    site_name: str
    region: str
    code: str
    name: str
    kind: str
    capacity: int
    video_recording: bool
    remote_link: bool
    status: str
    version: int


class BookingIn(StrictSchema):
    venue: int = Field(..., ge=1)
    section: str = Field(..., min_length=1, max_length=32, description="标段 public_id")
    purpose: PurposeIn
    start: datetime
    end: datetime
    override_reason: str = Field("", max_length=300, description="非工作时间使用的理由")


class BookingReasonIn(StrictSchema):
    reason: str = Field("", max_length=300)


class BookingCancelIn(StrictSchema):
    reason: str = Field(..., min_length=1, max_length=300)


class VenueAssignmentOut(StrictSchema):
    expert: str
    name: str
    assigned_at: datetime
    checked_in_at: datetime | None


class BookingOut(StrictSchema):
    id: str
    venue: VenueOut
    start: datetime
    end: datetime
    purpose: str
    state: str
    section: str | None
    project: str | None
    booked_by: str
    override_reason: str
    state_reason: str
    session: str | None
    experts: list[VenueAssignmentOut]


class VenueAssignIn(StrictSchema):
    expert: str = Field(..., min_length=1, max_length=32, description="专家 public_id")


class RemoteSessionIn(StrictSchema):
    booking: str = Field(..., min_length=1, max_length=32, description="主场预订")
    witness: str = Field(..., min_length=1, max_length=150, description="主场见证人用户名")


class SecondaryVenueIn(RemoteSessionIn):
    pass


class VenueWitnessIn(StrictSchema):
    witness: str = Field(..., min_length=1, max_length=150)


class WitnessEventIn(StrictSchema):
    kind: EventKindIn
    expert: str = Field("", max_length=32, description="签到的专家 public_id")
    digest: str = Field("", max_length=64, description="录像文件 SHA-256（停止录像时）")
    note: str = Field("", max_length=1000)


class WitnessEventOut(StrictSchema):
    seq: int
    booking: str
    venue: str
    role: str
    kind: str
    at: datetime
    expert: str | None
    digest: str
    note: str
    state: str
    witness: str


class SessionVenueOut(StrictSchema):
    booking: str
    venue: VenueOut
    role: str
    witness: str
    state: str
    recording: bool
    seats: int
    experts: list[VenueAssignmentOut]


class RemoteSessionOut(StrictSchema):
    id: str
    section: str
    project: str
    state: str
    started_at: datetime | None
    ended_at: datetime | None
    last_seq: int
    venues: list[SessionVenueOut]


class RemoteSessionStateOut(RemoteSessionOut):
    events: list[WitnessEventOut]
