"""API schemas of the expert pool. Specialty codes, USCCs and region codes travel as strings and
are checked by the services (``checks``), so every refusal names its field and its own code."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from ggzy.core.schemas import EMAIL_PATTERN, StrictSchema

TitleLevelIn = Literal["senior", "associate_senior", "intermediate", "junior"]
StatusIn = Literal["pending", "rejected", "active", "suspended", "retired"]
REASON = Field(..., min_length=1, max_length=500)


class SpecialtyIn(StrictSchema):
    code: str = Field(..., min_length=1, max_length=16, description="如 A、A01、A01.02")
    name: str = Field(..., min_length=1, max_length=100)
    is_works: bool | None = Field(None, description="工程类专业（R20）；默认同上级")


class SpecialtyPatch(StrictSchema):
    name: str | None = Field(None, min_length=1, max_length=100)
    active: bool | None = None
    is_works: bool | None = None


class SpecialtyOut(StrictSchema):
    code: str
    name: str
    parent: str | None
    is_works: bool
    active: bool
    version: int


class ExpertIn(StrictSchema):
    name: str = Field(..., min_length=1, max_length=60)
    resident_id: str = Field(..., min_length=1, max_length=24)
    phone: str = Field(..., min_length=1, max_length=20)
    email: str = Field("", max_length=254, pattern=EMAIL_PATTERN)
    title_level: TitleLevelIn
    title_name: str = Field(..., min_length=1, max_length=60)
    senior_equivalent: str = Field("", max_length=200, description="无高级职称时的同等专业水平")
    years_in_field: int = Field(..., ge=0, le=70)
    employer: str = Field(..., min_length=1, max_length=24, description="工作单位统一社会信用代码")
    region: str = Field(..., min_length=1, max_length=6)
    primary_specialty: str = Field(..., min_length=1, max_length=16)
    other_specialties: list[str] = Field(default_factory=list, max_length=9)


class ExpertEntryIn(ExpertIn):
    username: str = Field("", max_length=150, description="关联的专家账户（可选）")


class ExpertPatch(StrictSchema):
    name: str | None = Field(None, min_length=1, max_length=60)
    phone: str | None = Field(None, min_length=1, max_length=20)
    email: str | None = Field(None, max_length=254, pattern=EMAIL_PATTERN)
    title_level: TitleLevelIn | None = None
    title_name: str | None = Field(None, min_length=1, max_length=60)
    senior_equivalent: str | None = Field(None, max_length=200)
    years_in_field: int | None = Field(None, ge=0, le=70)
    employer: str | None = Field(None, min_length=1, max_length=24)
    region: str | None = Field(None, min_length=1, max_length=6)
    primary_specialty: str | None = Field(None, min_length=1, max_length=16)
    other_specialties: list[str] | None = Field(None, max_length=9)


class ExpertReasonIn(StrictSchema):
    reason: str = REASON


class AccountLinkIn(StrictSchema):
    username: str = Field(..., max_length=150)


class SuspendIn(StrictSchema):
    reason: str = REASON
    until: date | None = Field(None, description="暂停至（含）；留空为无限期")


class PeriodIn(StrictSchema):
    start: date
    end: date
    reason: str = Field("", max_length=200)


class ConflictIn(StrictSchema):
    entity: str = Field(..., min_length=1, max_length=24, description="统一社会信用代码")
    reason: str = Field(..., min_length=1, max_length=300)


class RatingIn(StrictSchema):
    session_ref: str = Field(..., min_length=1, max_length=64, description="评标会编号（已签署）")
    rater_kind: Literal["center", "tenderer"]
    # strict: a misconduct flag suspends the expert; "yes" or a score of true must not pass
    score: int = Field(..., ge=1, le=5, strict=True)
    comment: str = Field("", max_length=1000)
    misconduct: bool = Field(False, strict=True)


class PartyOut(StrictSchema):
    uscc: str
    name: str


class StatusChangeOut(StrictSchema):
    from_status: str
    to_status: str
    reason: str
    until: date | None
    changed_at: datetime


class PeriodOut(StrictSchema):
    id: int
    start: date
    end: date
    reason: str


class ConflictOut(StrictSchema):
    id: int
    entity: PartyOut
    reason: str
    declared_at: datetime
    withdrawn_at: datetime | None


class RatingOut(StrictSchema):
    id: int
    session_ref: str
    rater_kind: str
    score: int
    comment: str
    misconduct: bool
    rated_at: datetime


class SeatOut(StrictSchema):
    """A session the expert sat on."""

    session: str
    project: str
    section: str
    status: str
    is_chair: bool
    signed_at: datetime | None


class SuspensionOut(StrictSchema):
    """A suspension (or its extension): by staff, or by the rating policy (``automatic``),
    naming the ratings that caused it."""

    changed_at: datetime
    from_status: str
    until: date | None
    reason: str
    automatic: bool
    ratings: list[int]


class ExpertHistoryOut(StrictSchema):
    public_id: str
    status: str
    suspended_until: date | None
    sessions: list[SeatOut]
    ratings: list[RatingOut]
    suspensions: list[SuspensionOut]


class RatedExpertOut(StrictSchema):
    public_id: str
    name: str
    is_chair: bool
    ratings: list[RatingOut]  # those given by the caller's sides


class RatingSessionOut(StrictSchema):
    session: str
    project: str
    section: str
    status: str
    signed_at: datetime | None
    rater_kinds: list[str]
    experts: list[RatedExpertOut]


class ExpertBriefOut(StrictSchema):
    public_id: str
    name: str
    status: str
    title_level: str
    years_in_field: int
    region: str
    primary_specialty: str
    employer: PartyOut


class ExpertOut(ExpertBriefOut):
    resident_id: str
    phone: str
    email: str
    title_name: str
    senior_equivalent: str
    region_name: str
    specialties: list[str]
    status_reason: str
    suspended_until: date | None
    applied_at: datetime
    approved_at: datetime | None
    username: str | None
    version: int
    status_history: list[StatusChangeOut]
    unavailability: list[PeriodOut]
    conflicts: list[ConflictOut]
    ratings: list[RatingOut]


class PoolOut(StrictSchema):
    count: int
    offset: int
    limit: int
    items: list[ExpertBriefOut]


class ExpertImportOut(StrictSchema):
    rows: int
    batch: str
    experts: list[str]
