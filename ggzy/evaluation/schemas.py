"""Evaluation API schemas: strict input (unknown fields refused), plain output."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from ggzy.core.schemas import StrictSchema


class EvalSessionIn(StrictSchema):
    section: str = Field(min_length=1, max_length=32)


class EvalCommitteeIn(StrictSchema):
    # either the experts drawn and confirmed (public ids), or the draw itself (its public id):
    # then every expert who confirmed it (and its top-ups) is seated
    experts: list[str] = Field(default_factory=list, max_length=25)
    draw: str = Field("", max_length=32)
    # an expert's public id or a rep's username; with a draw, by default its first expert
    chair: str = Field("", max_length=150)
    tenderer_reps: list[str] = Field(default_factory=list, max_length=10)  # usernames


class FindingVoteIn(StrictSchema):
    finding: int = Field(ge=1, le=2**62)
    agrees: bool
    reason: str = Field("", max_length=500)


class FindingVotesIn(StrictSchema):
    votes: list[FindingVoteIn] = Field(min_length=1, max_length=5000)


class EvalScoreIn(StrictSchema):
    bid: str = Field(min_length=1, max_length=8)  # the anonymous label
    criterion: str = Field(min_length=1, max_length=16)
    points: str = Field(min_length=1, max_length=20)  # a decimal, as text
    justification: str = Field("", max_length=1000)


class EvalScoresIn(StrictSchema):
    scores: list[EvalScoreIn] = Field(min_length=1, max_length=20_000)


class EvalViewingIn(StrictSchema):
    bid: str = Field(min_length=1, max_length=8)
    action: Literal["start", "viewing", "stop"]


class EvalExtensionIn(StrictSchema):
    reason: str = Field(max_length=500)


class EvalLowPriceIn(StrictSchema):
    accepted: bool
    note: str = Field(max_length=500)


class ReportSignatureIn(StrictSchema):
    sigfile: dict[str, Any]


class EvalMemberOut(StrictSchema):
    ref: str
    name: str
    kind: str
    is_chair: bool
    scored: int
    complete: bool
    signed: bool


class SessionBidOut(StrictSchema):
    label: str
    valid: bool
    invalid_reason: str
    low_price: str
    # the center and supervision only (never a member's sheet)
    bidder: str | None = None
    price: str | None = None


class EvalSessionOut(StrictSchema):
    public_id: str
    section: str
    section_name: str
    status: str
    panel: str
    method: str
    label_commitment: str
    scoring_deadline: datetime | None
    extended: bool
    due_per_member: int
    members: list[EvalMemberOut]
    bids: list[SessionBidOut]
    report_sha256: str
    revealed: list[dict[str, Any]] | None


class EvalFindingOut(StrictSchema):
    id: int
    bid: str
    kind: str
    passed: bool
    message: str
    detail: dict[str, Any]
    outcome: bool | None
    votes: int
    overruled: int


class EvalScoresOut(StrictSchema):
    accepted: int


class ViewingSpanOut(StrictSchema):
    bid: str
    started_at: datetime
    last_seen_at: datetime
    ended_at: datetime | None
    seconds: int


class EvalExtensionOut(StrictSchema):
    asking: int
    members: int
    extended: bool
    scoring_deadline: datetime | None


class EvalReportOut(StrictSchema):
    sha256: str
    status: str
    report: dict[str, Any]
    signatures: list[dict[str, Any]]
    revealed: list[dict[str, Any]] | None


class ReportSignedOut(StrictSchema):
    member: str
    signature: int
    signed: int
    members: int
    status: str
