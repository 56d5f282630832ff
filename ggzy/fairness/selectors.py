"""Fair-competition review reads, with access built in: a report is shown to whoever may see
the project's private side (center and supervision staff, the tenderer's and agent's members).
To anyone else an existing project looks exactly like a missing one."""

from __future__ import annotations

from typing import Any

from ggzy.accounts.gate import allowed, is_authenticated
from ggzy.core.errors import NotAuthenticated, NotFound
from ggzy.fairness.models import FairnessRule, Finding, Resolution, Review, Severity
from ggzy.fairness.services import is_current, latest_review, may_run_review
from ggzy.tendering.models import Project


def _project_not_found() -> NotFound:
    return NotFound("项目不存在 (no such project)", code="project_not_found")


def get_project_for(actor: Any, public_id: str) -> Project:
    """The project whose review ``actor`` may see; 401 for anonymous, 404 otherwise."""
    if not is_authenticated(actor):
        raise NotAuthenticated("请先登录 (sign in first)")
    project = Project.objects.filter(public_id=str(public_id)[:64]).first()
    if project is None or not allowed(actor, "tendering.view_private", project):
        raise _project_not_found()
    return project


def get_finding_for(actor: Any, public_id: str) -> Finding:
    if not is_authenticated(actor):
        raise NotAuthenticated("请先登录 (sign in first)")
    finding = (
        Finding.objects.select_related("review__project", "rule")
        .filter(public_id=str(public_id)[:64])
        .first()
    )
    if finding is None or not allowed(actor, "tendering.view_private", finding.review.project):
        raise NotFound("审查发现不存在 (no such finding)", code="finding_not_found")
    return finding


def rule_view(rule: FairnessRule) -> dict[str, Any]:
    return {
        "code": rule.code,
        "title": rule.title,
        "severity": rule.severity,
        "source": rule.source,
        "source_text": rule.source_text,
        "patterns": list(rule.patterns),
        "exclude_patterns": list(rule.exclude_patterns),
        "version": rule.version,
    }


def active_rule_views() -> list[dict[str, Any]]:
    return [rule_view(r) for r in FairnessRule.objects.filter(active=True)]


def finding_view(finding: Finding) -> dict[str, Any]:
    return {
        "id": finding.public_id,
        "rule": finding.rule.code,
        "rule_version": finding.rule_version,
        "title": finding.rule.title,
        "source": finding.rule.source,
        "severity": finding.severity,
        "severity_label": str(Severity(finding.severity).label),
        "document": finding.document_name,
        "clause": finding.clause,
        "matched": finding.matched,
        "position": finding.position,
        "resolution": finding.resolution,
        "resolution_label": str(Resolution(finding.resolution).label),
        "reason": finding.reason,
        "resolved_by": finding.resolved_by,
        "resolved_at": finding.resolved_at,
    }


def report(actor: Any, project: Project) -> dict[str, Any]:
    """The project's latest review as its report (``review`` is None before the first one)."""
    review: Review | None = latest_review(project)
    findings = [finding_view(f) for f in review.findings.select_related("rule")] if review else []
    current = is_current(review, project)
    blocking_open = [
        f for f in findings if f["severity"] == Severity.BLOCKING and f["resolution"] == "open"
    ]
    return {
        "project": project.public_id,
        "project_name": project.name,
        "review": None
        if review is None
        else {
            "id": review.pk,
            "created_at": review.created_at,
            "created_by": review.created_by,
            "rules": review.rules,
            "documents": review.documents,
            "current": current,
        },
        "findings": findings,
        "counts": {
            "findings": len(findings),
            "blocking": sum(f["severity"] == Severity.BLOCKING for f in findings),
            "blocking_open": len(blocking_open),
            "warnings": sum(f["severity"] == Severity.WARNING for f in findings),
        },
        "publishable": current and not blocking_open,
        "may_review": may_run_review(actor, project),
        "may_record_reason": allowed(actor, "fairness.review"),
    }
