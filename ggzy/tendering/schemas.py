"""API schemas for tender projects, sections, documents, clarifications and objections.

Money travels as strings (a float is refused before it reaches a service); times in request
bodies are ISO 8601 strings, read by ``checks.moment`` (a time without an offset is China time).
A section's terms stay a plain object here: ``checks.section_terms`` is the one place that knows
them, so a forbidden key such as ``min_price`` is refused with its rule (R59), not as "unknown".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from ggzy.core.schemas import StrictSchema

USCC = Field(..., min_length=18, max_length=18)
MONEY = Field(..., min_length=1, max_length=20)
MOMENT = Field(None, max_length=40)


# --- input --------------------------------------------------------------------------------------


class ProjectIn(StrictSchema):
    tenderer: str = USCC
    agent: str | None = Field(None, min_length=18, max_length=18)
    name: str = Field(..., max_length=200)
    category: str = Field(..., max_length=40)
    procedure: str = Field(..., max_length=40)
    region: str = Field(..., max_length=12)
    subject_type: str = Field("works", max_length=10)
    investment_project_code: str = Field("", max_length=40)
    funding_source: str = Field(..., max_length=120)
    state_controlled: bool = False
    budget: str = MONEY
    description: str = Field("", max_length=5000)
    sections: list[dict[str, Any]] = Field(..., min_length=1, max_length=50)


class ProjectEditIn(StrictSchema):
    """The same terms as at registration; tenderer and agent do not change."""

    name: str = Field(..., max_length=200)
    category: str = Field(..., max_length=40)
    procedure: str = Field(..., max_length=40)
    region: str = Field(..., max_length=12)
    subject_type: str = Field("works", max_length=10)
    investment_project_code: str = Field("", max_length=40)
    funding_source: str = Field(..., max_length=120)
    state_controlled: bool = False
    budget: str = MONEY
    description: str = Field("", max_length=5000)
    sections: list[dict[str, Any]] = Field(..., min_length=1, max_length=50)


class ReturnIn(StrictSchema):
    reason: str = Field(..., max_length=2000)


class PublishIn(StrictSchema):
    announcement: str = Field(..., max_length=20000)
    documents_from: str | None = MOMENT
    documents_until: str | None = MOMENT
    bid_deadline: str | None = MOMENT


class ClarificationIn(StrictSchema):
    title: str = Field(..., max_length=200)
    body: str = Field(..., max_length=20000)
    affects_bids: bool = True
    document: str | None = Field(None, max_length=32, description="an uploaded, unpublished file")


class ObjectionIn(StrictSchema):
    entity: str = USCC
    text: str = Field(..., max_length=10000)


class ReplyIn(StrictSchema):
    reply: str = Field(..., max_length=10000)


class InvitationsIn(StrictSchema):
    entities: list[str] = Field(
        ..., max_length=50, description="the invitees' USCCs (at least 3 in all, 法17)"
    )


# --- output -------------------------------------------------------------------------------------


class PartyOut(StrictSchema):
    uscc: str
    name: str


class SectionOut(StrictSchema):
    public_id: str
    number: int
    code: str | None
    name: str
    estimated_price: str
    max_price: str | None
    deposit: str
    qualification_requirements: str
    evaluation_method: str
    criteria: list[dict[str, Any]]
    technically_complex: bool
    high_social_impact: bool
    bid_validity_days: int
    duration_days: int | None
    documents_from: datetime | None
    documents_until: datetime | None
    bid_deadline: datetime | None
    original_deadline: datetime | None
    phase: str
    failure_reason: str


class SectionDetailOut(SectionOut):
    project: str
    project_name: str


class DocumentOut(StrictSchema):
    public_id: str
    kind: str
    name: str
    content_type: str
    size: int
    sha256: str
    sm3: str
    uploaded_at: datetime
    published_at: datetime | None


class ClarificationOut(StrictSchema):
    number: int
    title: str
    body: str
    affects_bids: bool
    document: str | None
    deadline_before: datetime
    deadline_after: datetime
    issued_at: datetime


class ProjectSummaryOut(StrictSchema):
    public_id: str
    trading_code: str | None
    name: str
    category: str
    procedure: str
    region: str
    status: str
    tenderer: PartyOut
    agent: PartyOut | None
    budget: str
    published_at: datetime | None
    sections: list[SectionOut]


class ProjectOut(ProjectSummaryOut):
    """The public view; ``status`` and ``return_reason`` (and unpublished documents) only for the
    project's members and center/supervision staff."""

    status: str = ""
    return_reason: str = ""
    agency_confirmed: bool | None = None  # private: has the tenderer confirmed its agent?
    subject_type: str
    investment_project_code: str
    funding_source: str
    state_controlled: bool
    description: str
    ruleset_version: int
    announcement: str
    documents: list[DocumentOut]
    clarifications: list[ClarificationOut]


class ProjectPageOut(StrictSchema):
    count: int
    offset: int
    limit: int
    items: list[ProjectSummaryOut]


class ObjectionOut(StrictSchema):
    public_id: str
    entity: PartyOut
    text: str
    raised_at: datetime
    reply_due: datetime
    status: str
    reply: str
    replied_at: datetime | None


class TimelineOut(StrictSchema):
    seq: int
    at: datetime
    type: str
    label: str


class DownloadOut(StrictSchema):
    document: str
    at: datetime
    user: str | None


class InvitationOut(StrictSchema):
    public_id: str
    entity: PartyOut
    invited_at: datetime
