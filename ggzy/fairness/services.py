"""Fair-competition review writes: install and edit the rule list, review a project's documents,
record a reason on a finding, and the publication guard ``require_publishable``. Each write
appends its ledger event in the same transaction; a project's events go on ``project:<id>`` so
the project timeline shows them."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from ggzy.accounts.gate import allowed, require
from ggzy.core import clock
from ggzy.core.errors import Conflict, NotAuthenticated, PermissionDenied, ValidationFailed
from ggzy.fairness import defaults, matching
from ggzy.fairness.models import FairnessRule, Finding, Resolution, Review, Severity
from ggzy.ledger.context import actor_ref
from ggzy.ledger.services import append_event
from ggzy.tendering.models import Project, TenderDocument
from ggzy.tendering.states import DocumentKind

SYSTEM_REVIEWER = "system:fairness"
REVIEWED_KINDS = (DocumentKind.TENDER, DocumentKind.CLARIFICATION)
MAX_REASON_CHARS = 2000
RULES_SUBJECT = "fairness:rules"


def _is_system(actor: Any) -> bool:
    return isinstance(actor, str) and actor.startswith("system:")


def _subject(project: Project) -> str:
    return f"project:{project.public_id}"


def _text(value: Any, field_name: str, *, max_length: int, required: bool = True) -> str:
    if not isinstance(value, str):
        raise ValidationFailed(f"{field_name} 须为文本 (text required)", code="bad_text",
                               detail={"field": field_name})  # fmt: skip
    text: str = value.strip()
    if "\x00" in text:
        raise ValidationFailed("含有空字符 (NUL character)", code="nul_character",
                               detail={"field": field_name})  # fmt: skip
    if required and not text:
        raise ValidationFailed(f"请填写{field_name} ({field_name} required)", code="required",
                               detail={"field": field_name})  # fmt: skip
    if len(text) > max_length:
        raise ValidationFailed(f"{field_name}不超过{max_length}字 (too long)", code="too_long",
                               detail={"field": field_name, "max_length": max_length})  # fmt: skip
    return text


# --- the rule list ------------------------------------------------------------------------------


@dataclass
class RuleData:
    code: str
    title: str
    patterns: list[str]
    source: str
    severity: str = Severity.BLOCKING
    exclude_patterns: list[str] = field(default_factory=list)
    source_text: str = ""
    active: bool = True
    position: int = 0


def _clean_patterns(patterns: Any, field_name: str, *, required: bool) -> list[str]:
    if not isinstance(patterns, list) or len(patterns) > matching.MAX_PATTERNS:
        raise ValidationFailed("匹配式须为列表，至多20条 (a list of at most 20 patterns)",
                               code="bad_patterns", detail={"field": field_name})  # fmt: skip
    cleaned = [p.strip() for p in patterns if isinstance(p, str) and p.strip()]
    if required and not cleaned:
        raise ValidationFailed("至少一条匹配式 (at least one pattern)", code="bad_patterns",
                               detail={"field": field_name})  # fmt: skip
    for pattern in cleaned:
        if problem := matching.check_pattern(pattern):
            raise ValidationFailed("匹配式无效 (bad regular expression)", code="bad_pattern",
                                   detail={"field": field_name, "pattern": pattern[:100],
                                           "problem": problem})  # fmt: skip
    return cleaned


def clean_rule(data: RuleData) -> dict[str, Any]:
    if data.severity not in Severity.values:
        raise ValidationFailed("级别无效 (bad severity)", code="bad_severity")
    return {
        "title": _text(data.title, "title", max_length=200),
        "patterns": _clean_patterns(data.patterns, "patterns", required=True),
        "exclude_patterns": _clean_patterns(
            data.exclude_patterns, "exclude_patterns", required=False
        ),
        "source": _text(data.source, "source", max_length=200),
        "source_text": _text(data.source_text, "source_text", max_length=5000, required=False),
        "severity": data.severity,
        "active": bool(data.active),
        "position": max(0, min(int(data.position), 32767)),
    }


def _rule_payload(rule: FairnessRule) -> dict[str, Any]:
    return {"code": rule.code, "version": rule.version, "title": rule.title,
            "patterns": rule.patterns, "exclude_patterns": rule.exclude_patterns,
            "source": rule.source, "severity": rule.severity, "active": rule.active}  # fmt: skip


def install_default_rules(*, actor: Any) -> int:
    """Create the default rules (``defaults.RULES``) that do not exist yet. Idempotent: a rule the
    center has edited is left as it is. Returns the number of rules created."""
    if not _is_system(actor):
        require(actor, "fairness.edit_rules")
    now, created = clock.now(), []
    with transaction.atomic():
        existing = set(FairnessRule.objects.values_list("code", flat=True))
        for position, spec in enumerate(defaults.RULES):
            if spec["code"] in existing:
                continue
            values = clean_rule(RuleData(
                code=spec["code"], title=spec["title"], patterns=list(spec["patterns"]),
                source=spec["source"], severity=spec["severity"],
                exclude_patterns=list(spec.get("exclude_patterns", [])),
                source_text=spec.get("source_text", ""), position=position,
            ))  # fmt: skip
            FairnessRule.objects.create(code=spec["code"], version=1, updated_at=now,
                                        updated_by=actor_ref(actor), **values)  # fmt: skip
            created.append(spec["code"])
        if created:
            append_event(actor=actor, event_type="fairness.rules_installed",
                         subject=RULES_SUBJECT, payload={"rules": created})  # fmt: skip
    return len(created)


def save_rule(*, actor: Any, data: RuleData) -> FairnessRule:
    """Create a rule or change one (its version moves on). Center admins only."""
    require(actor, "fairness.edit_rules")
    code = _text(data.code, "code", max_length=40)
    values = clean_rule(data)
    with transaction.atomic():
        rule = FairnessRule.objects.select_for_update().filter(code=code).first()
        if rule is None:
            rule = FairnessRule(code=code, version=1)
        elif all(getattr(rule, k) == v for k, v in values.items()):
            return rule  # nothing changed: no new version, no event
        else:
            rule.version += 1
        for key, value in values.items():
            setattr(rule, key, value)
        rule.updated_at, rule.updated_by = clock.now(), actor_ref(actor)
        rule.save()
        append_event(actor=actor, event_type="fairness.rule_saved",
                     subject=f"fairness-rule:{rule.code}", payload=_rule_payload(rule))  # fmt: skip
    return rule


def active_rules() -> list[FairnessRule]:
    return list(FairnessRule.objects.filter(active=True).order_by("position", "code"))


def rules_digest(rules: list[FairnessRule]) -> str:
    signature = [[r.code, r.version] for r in sorted(rules, key=lambda r: r.code)]
    return hashlib.sha256(json.dumps(signature).encode()).hexdigest()


# --- reviews ------------------------------------------------------------------------------------


def reviewed_documents(project: Project) -> list[TenderDocument]:
    return list(project.documents.filter(kind__in=REVIEWED_KINDS).order_by("uploaded_at", "pk"))


def documents_digest(documents: list[TenderDocument]) -> str:
    return hashlib.sha256(" ".join(sorted(d.sha256 for d in documents)).encode()).hexdigest()


def may_run_review(actor: Any, project: Project) -> bool:
    return allowed(actor, "fairness.review") or allowed(actor, "tendering.edit", project)


def _require_reviewer(actor: Any, project: Project) -> None:
    if _is_system(actor) or may_run_review(actor, project):
        return
    if not getattr(actor, "is_authenticated", False):
        raise NotAuthenticated("请先登录 (sign in first)", detail={"permission": "fairness.review"})
    raise PermissionDenied("无权执行此操作 (not permitted)",
                           detail={"permission": "fairness.review"})  # fmt: skip


def latest_review(project: Project) -> Review | None:
    return Review.objects.filter(project=project).order_by("-created_at", "-pk").first()


def _carried_reasons(previous: Review | None) -> dict[tuple[str, str], Finding]:
    """Reasons recorded in the previous review, by (rule, clause): an unchanged clause keeps its."""
    if previous is None:
        return {}
    rows = previous.findings.filter(resolution=Resolution.REASON_RECORDED).select_related("rule")
    return {(f.rule.code, f.clause_digest): f for f in rows}


def review_project(*, actor: Any, project: Project) -> Review:
    """Run every active rule over every tender and clarification document of ``project`` and
    store the report. It supersedes the previous review; a finding whose rule and clause are
    unchanged keeps the reason recorded on it."""
    _require_reviewer(actor, project)
    with transaction.atomic():
        project = Project.objects.select_for_update().get(pk=project.pk)  # one review at a time
        rules = active_rules()
        compiled = [c for r in rules if (c := matching.compile_rule(
            r.code, tuple(r.patterns), tuple(r.exclude_patterns))) is not None]  # fmt: skip
        by_code = {r.code: r for r in rules}
        documents = reviewed_documents(project)
        previous = latest_review(project)
        carried = _carried_reasons(previous)
        now = clock.now()
        review = Review.objects.create(
            project=project,
            rules=[{"code": r.code, "version": r.version} for r in rules],
            rules_digest=rules_digest(rules),
            documents=[
                {"document": d.public_id, "name": d.name, "kind": d.kind, "sha256": d.sha256}
                for d in documents
            ],
            documents_digest=documents_digest(documents),
            created_at=now,
            created_by=actor_ref(actor),
            supersedes=previous,
        )
        findings = []
        for document in documents:
            for hit in matching.screen(document.text, compiled):
                rule = by_code[hit.rule_code]
                clause_digest = matching.digest(hit.clause.norm)
                kept = carried.get((rule.code, clause_digest))
                findings.append(Finding(
                    review=review, public_id=secrets.token_hex(16), document=document,
                    document_name=document.name, rule=rule, rule_version=rule.version,
                    clause=hit.quote, clause_digest=clause_digest, matched=hit.matched,
                    position=hit.clause.start, severity=rule.severity,
                    resolution=kept.resolution if kept else Resolution.OPEN,
                    reason=kept.reason if kept else "",
                    resolved_by=kept.resolved_by if kept else "",
                    resolved_at=kept.resolved_at if kept else None,
                ))  # fmt: skip
        Finding.objects.bulk_create(findings)
        append_event(actor=actor, event_type="fairness.reviewed", subject=_subject(project),
                     payload=_review_counts(review, findings))  # fmt: skip
    return review


def _review_counts(review: Review, findings: list[Finding]) -> dict[str, Any]:
    blocking = [f for f in findings if f.severity == Severity.BLOCKING]
    return {
        "review": review.pk,
        "supersedes": review.supersedes_id,
        "rules_digest": review.rules_digest,
        "documents": [d["sha256"] for d in review.documents],
        "findings": len(findings),
        "blocking": len(blocking),
        "blocking_open": sum(f.resolution == Resolution.OPEN for f in blocking),
        "warnings": len(findings) - len(blocking),
        "reasons_kept": sum(f.resolution == Resolution.REASON_RECORDED for f in findings),
    }


def record_reason(*, actor: Any, finding: Finding, reason: str) -> Finding:
    """Center staff record why a finding's clause is justified (e.g. a registered-capital
    threshold the qualification standard itself sets). A blocking finding with a reason no
    longer stops publication. Only findings of the project's latest review can be resolved."""
    require(actor, "fairness.review")
    reason = _text(reason, "reason", max_length=MAX_REASON_CHARS)
    with transaction.atomic():
        locked = (
            Finding.objects.select_for_update().select_related("review", "rule").get(pk=finding.pk)
        )
        project = locked.review.project
        current = latest_review(project)
        if current is None or current.pk != locked.review_id:
            raise Conflict("该审查结果已被新的审查取代 (superseded by a newer review)",
                           code="finding_superseded")  # fmt: skip
        if locked.resolution != Resolution.OPEN:
            raise Conflict("已记录理由 (a reason is already recorded)", code="already_resolved")
        locked.resolution, locked.reason = Resolution.REASON_RECORDED, reason
        locked.resolved_by, locked.resolved_at = actor_ref(actor), clock.now()
        locked.save(update_fields=["resolution", "reason", "resolved_by", "resolved_at"])
        append_event(actor=actor, event_type="fairness.reason_recorded", subject=_subject(project),
                     payload={"review": locked.review_id, "finding": locked.public_id,
                              "rule": locked.rule.code, "severity": locked.severity,
                              "clause_sha256": locked.clause_digest,
                              "reason": reason})  # fmt: skip
    return locked


# --- the publication guard ----------------------------------------------------------------------


def is_current(review: Review | None, project: Project) -> bool:
    """Whether ``review`` covers the project's documents as they are and the rules as they are."""
    return (
        review is not None
        and review.documents_digest == documents_digest(reviewed_documents(project))
        and review.rules_digest == rules_digest(active_rules())
    )


def open_blocking(review: Review) -> list[Finding]:
    return list(
        review.findings.filter(severity=Severity.BLOCKING, resolution=Resolution.OPEN)
        .select_related("rule")
        .order_by("document_name", "position", "pk")
    )


def ensure_current_review(project: Project) -> Review:
    """The latest review, made now (in its own transaction) if none covers the documents and
    rules as they are: a publication that is then refused still leaves the report behind."""
    review = latest_review(project)
    if not is_current(review, project):
        with transaction.atomic():
            review = review_project(actor=SYSTEM_REVIEWER, project=project)
    assert review is not None
    return review


def require_publishable(project: Project) -> None:
    """Called by ``publish_project`` inside its transaction: review the documents if no review
    covers them as they are now, then refuse while a blocking finding is open."""
    review = latest_review(project)
    if not is_current(review, project):
        review = review_project(actor=SYSTEM_REVIEWER, project=project)
    assert review is not None
    blocking = open_blocking(review)
    if blocking:
        raise Conflict(
            f"公平竞争审查发现{len(blocking)}处限制或排斥潜在投标人的条款，须修改文件或记录理由后方可发布"
            " (fair-competition review: blocking findings are open)",
            code="fair_competition_blocked",
            detail={"review": review.pk, "findings": [
                {"finding": f.public_id, "rule": f.rule.code, "title": f.rule.title,
                 "source": f.rule.source, "document": f.document_name, "clause": f.clause}
                for f in blocking[:50]
            ], "count": len(blocking)},
        )  # fmt: skip
