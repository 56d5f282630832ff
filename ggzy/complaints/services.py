"""Complaint writes: a bidder files (for its own entity), the regulator accepts or refuses,
transfers, pauses and resumes the decision clock, both add evidence, the regulator decides.

Every write checks the actor's right (``complaints.file`` plus membership of the entity,
``complaints.handle`` for the regulator), moves the status only through
:data:`ggzy.complaints.states.TRANSITIONS`, runs in one transaction and appends one ledger event
on ``complaint:<public_id>``. Payloads carry identifiers, dates, rules and digests of the texts —
never the texts themselves, nor anyone's personal data."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import transaction

from ggzy.accounts.gate import allowed, require
from ggzy.complaints import timers
from ggzy.complaints.models import Complaint, Evidence, Pause, Transfer
from ggzy.complaints.states import (
    OBJECTION_FOR_MATTER,
    Matter,
    ObjectionKind,
    Outcome,
    Party,
    PauseKind,
    Status,
    can_move,
    is_open,
)
from ggzy.core import clock
from ggzy.core.errors import Conflict, PermissionDenied, ValidationFailed
from ggzy.ledger import signing
from ggzy.ledger.chain import canonical_json
from ggzy.ledger.services import append_event
from ggzy.registry.models import Entity
from ggzy.tendering import checks
from ggzy.tendering.models import Section
from ggzy.tendering.states import ProjectStatus

MAX_TEXT = 10000
MAX_REASON = 4000
RECORD_VERSION = "ggzy-complaint-decision/1"
EVIDENCE_TYPES = {
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".txt": "text/plain",
    ".zip": "application/zip",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
}


def evidence_dir() -> Path:
    path = Path(settings.GGZY_COMPLAINTS_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def evidence_path(evidence: Evidence) -> Path:
    return evidence_dir() / evidence.storage_name


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _event(actor: Any, complaint: Complaint, event_type: str, **payload: Any) -> int:
    return append_event(actor=actor, event_type=event_type,
                        subject=f"complaint:{complaint.public_id}",
                        payload={"section": complaint.section.public_id,
                                 "regime": complaint.regime, "status": complaint.status,
                                 **payload})  # fmt: skip


def _choice(value: Any, choices: Any, field: str) -> str:
    if not isinstance(value, str) or value not in choices.values:
        raise ValidationFailed(f"{field}无效 (unknown {field})", code=f"bad_{field}",
                               detail={"field": field, "allowed": list(choices.values)})  # fmt: skip
    return value


def regime_of(section: Section) -> str:
    from ggzy.award.periods import regime_of as award_regime

    return award_regime(section.project.ruleset.rules)


# --- filing -------------------------------------------------------------------------------------


def _prior_objection(
    section: Section, entity: Entity, matter: str, ref: str
) -> tuple[str, date, date] | None:
    """The complainant's own earlier objection on this section for this matter:
    ``(kind, raised_on, answered_on)`` — answered_on the day of the answer, else its due day."""
    if not ref:
        return None
    kind = OBJECTION_FOR_MATTER[Matter(matter)]
    day = timers.local_date
    if kind == ObjectionKind.TENDERING:
        from ggzy.tendering.models import Objection

        t = Objection.objects.filter(public_id=ref[:32], project=section.project_id,
                                     entity=entity).first()  # fmt: skip
        if t is not None:
            return kind, day(t.raised_at), day(t.replied_at or t.reply_due)
    elif kind == ObjectionKind.AWARD:
        from ggzy.award.models import Objection as AwardObjection

        a = AwardObjection.objects.filter(public_id=ref[:32], publicity__section=section,
                                          entity=entity).first()  # fmt: skip
        if a is not None:
            return kind, day(a.raised_at), day(a.replied_at or a.reply_due)
    elif ref.isdigit():
        from ggzy.bidding.models import OpeningObjection

        o = OpeningObjection.objects.filter(pk=int(ref), opening__section=section,
                                            entity=entity).first()  # fmt: skip
        if o is not None:
            return kind, day(o.raised_at), day(o.answered_at or o.raised_at)
    raise ValidationFailed(
        "未找到本主体就该事项对本标段提出的异议 (no such objection of yours on this section "
        "for this matter)", code="objection_not_found",
        detail={"field": "objection", "expected_kind": kind.value},
    )  # fmt: skip


def _flags(rules: timers.ComplaintRules, *, matter: str, prior: Any, late: bool,
           last_day: date | None) -> list[dict[str, Any]]:  # fmt: skip
    flags: list[dict[str, Any]] = []
    if prior is None and matter in rules.objection_matters:
        source = "招标投标法实施条例第60条" if rules.regime == timers.WORKS else "政府采购法第55条"
        flags.append({"code": "no_prior_objection", "rule": rules.objection_rule, "source": source,
                      "message": "投诉前应先提出异议（质疑）(a prior objection is required)"})  # fmt: skip
    if late:
        flags.append({"code": "filed_late", "rule": rules.filing.rule,
                      "source": rules.filing.source,
                      "last_day": last_day.isoformat() if last_day else None,
                      "message": f"超过投诉期限（{rules.filing.label()}）(filed after the period)"})  # fmt: skip
    return flags


def file_complaint(
    *,
    actor: Any,
    section: Section,
    entity: Entity,
    matter: str,
    text: str,
    known_on: date,
    objection: str = "",
) -> Complaint:
    """A bidder complains for its own entity. The complaint is always recorded; one filed late
    or without the prior objection the law requires is flagged inadmissible with the rule."""
    require(actor, "complaints.file")
    require(actor, "entity.act", entity)
    matter = _choice(matter, Matter, "matter")
    text = checks.text(text, "text", max_length=MAX_TEXT)
    objection = checks.text(objection, "objection", max_length=64, required=False)
    today = clock.today()
    if not isinstance(known_on, date) or known_on > today:
        raise ValidationFailed("知道之日不能晚于今天 (known_on is in the future)",
                               code="known_on_in_future", detail={"field": "known_on"})  # fmt: skip
    if section.project.status != ProjectStatus.PUBLISHED:
        raise Conflict("项目未发布 (the project is not published)", code="section_not_published")
    regime = regime_of(section)
    rules = timers.rules_for(regime)
    prior = _prior_objection(section, entity, matter, objection)
    last_day = timers.filing_last_day(
        rules, known_on=known_on, objection_raised_on=prior[1] if prior else None,
        objection_answered_on=prior[2] if prior else None,
    )  # fmt: skip
    late = last_day is not None and today > last_day
    flags = _flags(rules, matter=matter, prior=prior, late=late, last_day=last_day)
    now = clock.now()
    with transaction.atomic():
        complaint = Complaint.objects.create(
            public_id=secrets.token_hex(16), section=section, entity=entity, filed_by=actor,
            regime=regime, matter=matter, text=text, known_on=known_on,
            objection_kind=prior[0] if prior else "", objection_ref=objection if prior else "",
            filed_at=now, filing_last_day=last_day, admissible=not flags, flags=flags,
            department=settings.GGZY_COMPLAINTS_DEPARTMENT,
            acceptance_due=timers.acceptance_due(today, rules),
        )  # fmt: skip
        _event(actor, complaint, "complaints.filed",
               uscc=entity.uscc, matter=matter, known_on=known_on.isoformat(),
               objection=complaint.objection_ref or None,
               filing_last_day=last_day.isoformat() if last_day else None,
               admissible=complaint.admissible, flags=[f["code"] for f in flags],
               rules=sorted({f["rule"] for f in flags}),
               acceptance_due=complaint.acceptance_due.isoformat(), text_sha256=_sha(text))  # fmt: skip
    return complaint


# --- the regulator ------------------------------------------------------------------------------


def _locked(actor: Any, complaint: Complaint) -> Complaint:
    require(actor, "complaints.handle")
    return Complaint.objects.select_for_update().select_related("section").get(pk=complaint.pk)


def _move(complaint: Complaint, source: str, target: str) -> None:
    """The one way a status changes: from ``source`` (what the action starts from) along the
    transition table."""
    if complaint.status != source or not can_move(source, target):
        raise Conflict("投诉当前状态不允许此操作 (not in this status)", code="bad_status",
                       detail={"status": complaint.status, "wanted": target})  # fmt: skip
    complaint.status = target


def accept(*, actor: Any, complaint: Complaint) -> Complaint:
    """受理: the decision clock starts (30 working days, R29 / R30). Accepting after the
    acceptance period is recorded as late."""
    today = clock.today()
    with transaction.atomic():
        c = _locked(actor, complaint)
        _move(c, Status.FILED, Status.ACCEPTED)
        rules = timers.rules_for(c.regime)
        c.accepted_at, c.handled_by = clock.now(), actor
        c.acceptance_late = today > c.acceptance_due
        c.decision_due = timers.decision_due(today, rules, 0)
        c.save()
        _event(actor, c, "complaints.accepted", late=c.acceptance_late,
               rule=rules.acceptance.rule, decision_due=c.decision_due.isoformat())  # fmt: skip
    return c


def refuse(*, actor: Any, complaint: Complaint, reason: str) -> Complaint:
    """不予受理, with the reason (the flags' rules, wrong jurisdiction, …)."""
    reason = checks.text(reason, "reason", max_length=MAX_REASON)
    today = clock.today()
    with transaction.atomic():
        c = _locked(actor, complaint)
        _move(c, Status.FILED, Status.REFUSED)
        c.refusal_reason, c.handled_by, c.closed_at = reason, actor, clock.now()
        c.acceptance_late = today > c.acceptance_due
        c.save()
        _event(actor, c, "complaints.refused", late=c.acceptance_late,
               reason_sha256=_sha(reason))  # fmt: skip
    return c


def transfer(*, actor: Any, complaint: Complaint, department: str, reason: str) -> Complaint:
    """移送 to another department: the case and its clocks go on unchanged."""
    department = checks.text(department, "department", max_length=200)
    reason = checks.text(reason, "reason", max_length=MAX_REASON)
    with transaction.atomic():
        c = _locked(actor, complaint)
        if not is_open(c.status):
            raise Conflict("投诉已办结 (the case is closed)", code="case_closed",
                           detail={"status": c.status})  # fmt: skip
        if department == c.department:
            raise ValidationFailed("已由该部门承办 (already with that department)",
                                   code="same_department", detail={"field": "department"})  # fmt: skip
        Transfer.objects.create(complaint=c, from_department=c.department,
                                to_department=department, reason=reason, by=actor,
                                at=clock.now())  # fmt: skip
        previous, c.department = c.department, department
        c.save(update_fields=["department"])
        _event(actor, c, "complaints.transferred", from_department=previous,
               to_department=department, reason_sha256=_sha(reason))  # fmt: skip
    return c


def pause(*, actor: Any, complaint: Complaint, kind: str, reason: str) -> Complaint:
    """Stop the decision clock for an expert review, a test or an inspection (条例61)."""
    kind = _choice(kind, PauseKind, "kind")
    reason = checks.text(reason, "reason", max_length=MAX_REASON)
    now = clock.now()
    with transaction.atomic():
        c = _locked(actor, complaint)
        _move(c, Status.ACCEPTED, Status.PAUSED)
        Pause.objects.create(complaint=c, kind=kind, reason=reason, started_at=now,
                             started_on=timers.local_date(now), started_by=actor)  # fmt: skip
        c.save(update_fields=["status"])
        _event(actor, c, "complaints.paused", kind=kind, reason_sha256=_sha(reason))
    return c


def resume(*, actor: Any, complaint: Complaint) -> Complaint:
    """The review is over: the decision's due date moves by the working days it took."""
    now = clock.now()
    with transaction.atomic():
        c = _locked(actor, complaint)
        _move(c, Status.PAUSED, Status.ACCEPTED)
        p = Pause.objects.select_for_update().get(complaint=c, ended_at__isnull=True)
        p.ended_at, p.ended_on, p.ended_by = now, timers.local_date(now), actor
        p.working_days = timers.paused_working_days(p.started_on, p.ended_on)
        p.save()
        assert c.accepted_at is not None
        c.paused_days += p.working_days
        rules = timers.rules_for(c.regime)
        c.decision_due = timers.decision_due(timers.local_date(c.accepted_at), rules,
                                             c.paused_days)  # fmt: skip
        c.save(update_fields=["status", "paused_days", "decision_due"])
        _event(actor, c, "complaints.resumed", paused_working_days=p.working_days,
               decision_due=c.decision_due.isoformat())  # fmt: skip
    return c


# --- evidence -----------------------------------------------------------------------------------


def _party(actor: Any, complaint: Complaint) -> str:
    if allowed(actor, "complaints.handle"):
        return Party.REGULATOR
    if allowed(actor, "complaints.file") and allowed(actor, "entity.act", complaint.entity):
        return Party.COMPLAINANT
    require(actor, "complaints.handle")  # raises: not signed in, or not permitted
    raise PermissionDenied("无权执行此操作 (not permitted)")  # pragma: no cover


def add_evidence(*, actor: Any, complaint: Complaint, name: str, stream: IO[bytes]) -> Evidence:
    """A file for the case, from either side, until the decision."""
    party = _party(actor, complaint)
    name = checks.text(name, "name", max_length=200)
    suffix = Path(name).suffix.lower()
    if suffix not in EVIDENCE_TYPES or "/" in name or "\\" in name:
        raise ValidationFailed("仅接受 .pdf .docx .txt .zip .jpg .png 文件 (file type not accepted)",
                               code="bad_file_type",
                               detail={"accepted": sorted(EVIDENCE_TYPES)})  # fmt: skip
    if not is_open(complaint.status):
        raise Conflict("投诉已办结，不能再提交证据 (the case is closed)", code="case_closed",
                       detail={"status": complaint.status})  # fmt: skip
    storage_name = f"{secrets.token_hex(16)}{suffix}"
    target = evidence_dir() / storage_name
    sha, size, limit = hashlib.sha256(), 0, settings.GGZY_COMPLAINT_EVIDENCE_MAX_BYTES
    try:
        with open(target, "xb") as out:
            while chunk := stream.read(1 << 20):
                size += len(chunk)
                if size > limit:
                    raise ValidationFailed("文件过大 (file too large)", code="file_too_large",
                                           detail={"max_bytes": limit})  # fmt: skip
                sha.update(chunk)
                out.write(chunk)
        if size == 0:
            raise ValidationFailed("文件为空 (empty file)", code="empty_file")
        with transaction.atomic():
            c = Complaint.objects.select_for_update().select_related("section").get(
                pk=complaint.pk)  # fmt: skip
            if not is_open(c.status):
                raise Conflict("投诉已办结，不能再提交证据 (the case is closed)",
                               code="case_closed", detail={"status": c.status})  # fmt: skip
            row = Evidence.objects.create(
                complaint=c, public_id=secrets.token_hex(16), party=party, name=name,
                content_type=EVIDENCE_TYPES[suffix], size=size, sha256=sha.hexdigest(),
                storage_name=storage_name, uploaded_by=actor, uploaded_at=clock.now(),
            )  # fmt: skip
            _event(actor, c, "complaints.evidence_added", evidence=row.public_id, party=party,
                   size=size, sha256=row.sha256)  # fmt: skip
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return row


# --- the decision -------------------------------------------------------------------------------


def build_record(c: Complaint, rules: timers.ComplaintRules) -> dict[str, Any]:
    section = c.section
    project = section.project
    assert c.closed_at is not None
    return {
        "version": RECORD_VERSION,
        "complaint": c.public_id,
        "project": project.name,
        "trading_code": project.trading_code,
        "section": section.code or section.public_id,
        "section_name": section.name,
        "complainant": {"name": c.entity.name, "uscc": c.entity.uscc},
        "regime": c.regime,
        "matter": c.matter,
        "filed_at": c.filed_at.astimezone(clock.CHINA).isoformat(),
        "accepted_at": c.accepted_at.astimezone(clock.CHINA).isoformat() if c.accepted_at else None,
        "decision_due": c.decision_due.isoformat() if c.decision_due else None,
        "paused_working_days": c.paused_days,
        "department": c.department,
        "outcome": c.outcome,
        "decision": c.decision_text,
        "decided_at": c.closed_at.astimezone(clock.CHINA).isoformat(),
        "rule": rules.decision.rule,
        "source": rules.decision.source,
    }


def decide(*, actor: Any, complaint: Complaint, outcome: str, text: str) -> Complaint:
    """处理决定: upheld, partly upheld or dismissed, with the decision's text, as a canonical
    record signed by the platform's ledger key; its SHA-256 and signature go in the ledger."""
    outcome = _choice(outcome, Outcome, "outcome")
    text = checks.text(text, "text", max_length=MAX_TEXT)
    now, today = clock.now(), clock.today()
    with transaction.atomic():
        c = _locked(actor, complaint)
        if c.status == Status.PAUSED:
            raise Conflict("暂停计时中，请先恢复计时 (the clock is paused: resume it first)",
                           code="case_paused")  # fmt: skip
        _move(c, Status.ACCEPTED, Status.DECIDED)
        rules = timers.rules_for(c.regime)
        c.outcome, c.decision_text, c.handled_by, c.closed_at = outcome, text, actor, now
        c.decision_late = c.decision_due is not None and today > c.decision_due
        c.decision_record = build_record(c, rules)
        data = canonical_json(c.decision_record)
        c.decision_sha256 = hashlib.sha256(data).hexdigest()
        c.decision_signature, c.decision_key_id = signing.sign(data), signing.key_id()
        c.save()
        _event(actor, c, "complaints.decided", outcome=outcome, late=c.decision_late,
               rule=rules.decision.rule, record_sha256=c.decision_sha256,
               signature=c.decision_signature, key_id=c.decision_key_id)  # fmt: skip
    return c


def verify_decision(c: Complaint) -> bool:
    """Whether the stored decision record still carries the platform's signature."""
    if not c.decision_record:
        return False
    data = canonical_json(c.decision_record)
    return hashlib.sha256(data).hexdigest() == c.decision_sha256 and signing.verify(
        signing.public_key_pem(), data, c.decision_signature
    )
