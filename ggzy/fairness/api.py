"""The fair-competition review API: a project's report, running a review, recording a reason on
a finding, and the public rule list."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Status
from pydantic import Field

from ggzy.api import PUBLIC
from ggzy.core.schemas import ErrorOut, StrictSchema
from ggzy.fairness import selectors, services

router = Router(tags=["fairness"])
ERRORS: dict[int, Any] = {c: ErrorOut for c in (401, 403, 404, 409, 422)}


class RuleOut(StrictSchema):
    code: str
    title: str
    severity: str
    source: str
    source_text: str
    patterns: list[str]
    exclude_patterns: list[str]
    version: int


class FindingOut(StrictSchema):
    id: str
    rule: str
    rule_version: int
    title: str
    source: str
    severity: str
    severity_label: str
    document: str
    clause: str
    matched: str
    position: int
    resolution: str
    resolution_label: str
    reason: str
    resolved_by: str
    resolved_at: datetime | None


class ReviewOut(StrictSchema):
    id: int
    created_at: datetime
    created_by: str
    rules: list[dict[str, Any]]
    documents: list[dict[str, Any]]
    current: bool


class ReportOut(StrictSchema):
    project: str
    project_name: str
    review: ReviewOut | None
    findings: list[FindingOut]
    counts: dict[str, int]
    publishable: bool
    may_review: bool
    may_record_reason: bool


class ReasonIn(StrictSchema):
    reason: str = Field(..., min_length=1, max_length=services.MAX_REASON_CHARS)


def _actor(request: HttpRequest) -> Any:
    auth = getattr(request, "auth", None)
    return auth if auth is not True else None


@router.get("/rules", response=list[RuleOut], auth=PUBLIC)
def rules(request: HttpRequest) -> list[dict[str, Any]]:
    """The active rule list of the fair-competition review (公平竞争审查规则). Public."""
    return selectors.active_rule_views()


@router.get("/projects/{public_id}/review", response={200: ReportOut, **ERRORS}, auth=PUBLIC)
def report(request: HttpRequest, public_id: str) -> Any:
    """The project's latest review: each finding quotes the clause and the rule (center and
    supervision staff, the project's tenderer and agent)."""
    actor = _actor(request)
    return selectors.report(actor, selectors.get_project_for(actor, public_id))


@router.post("/projects/{public_id}/review", response={201: ReportOut, **ERRORS})
def run_review(request: HttpRequest, public_id: str) -> Any:
    """Review the project's tender and clarification documents now (center intake, or the
    project's own tenderer and agent, to check before submitting)."""
    actor = _actor(request)
    project = selectors.get_project_for(actor, public_id)
    services.review_project(actor=actor, project=project)
    return Status(201, selectors.report(actor, project))


@router.post("/findings/{finding_id}/reason", response={200: FindingOut, **ERRORS})
def record_reason(request: HttpRequest, finding_id: str, payload: ReasonIn) -> Any:
    """Record why a finding's clause is justified (center intake); a blocking finding with a
    reason no longer stops publication."""
    actor = _actor(request)
    finding = selectors.get_finding_for(actor, finding_id)
    return selectors.finding_view(
        services.record_reason(actor=actor, finding=finding, reason=payload.reason)
    )
