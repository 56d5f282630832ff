"""Supervision writes: raise (or refresh) an alert, the regulators' work on it — assign, annotate,
dismiss with a reason, escalate, reopen — and the thresholds they tune.

Every write checks the actor's right (``supervision.manage`` to work alerts,
``supervision.configure`` for thresholds), runs in one transaction and appends its ledger event
there. Alert events go on ``alert:<public_id>`` and carry the rule and the section, never the
evidence: the ledger's payloads are readable by center staff, the evidence (bidders' hardware,
accounts, scores) only by the supervision roles through :mod:`ggzy.supervision.selectors`."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from ggzy.accounts.gate import allowed, require
from ggzy.core import clock
from ggzy.core.errors import Conflict, NotFound, ValidationFailed
from ggzy.ledger.services import append_event
from ggzy.supervision.models import Alert, AlertKind, AlertNote, AlertStatus, NoteKind, Setting
from ggzy.tendering import checks
from ggzy.tendering.models import Section

SYSTEM = "system:supervision"
MAX_TEXT = 4000
ESCALATION_TARGETS = {
    "complaint": "投诉处理",
    "credit": "信用记录",
    "inspection": "纪检监察",
    "police": "公安机关",
}


def _text(value: Any, field: str, *, max_length: int = MAX_TEXT) -> str:
    """A required text of at most ``max_length`` characters (the platform's one text check)."""
    return checks.text(value, field, max_length=max_length)


def canonical(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      default=str)  # fmt: skip


def _no_floats(value: Any) -> Any:
    """Thresholds for the ledger, which takes no floats: each float as its shortest exact text."""
    if isinstance(value, dict):
        return {k: _no_floats(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_no_floats(v) for v in value]
    return repr(value) if isinstance(value, float) else value


def _event(actor: Any, alert: Alert, event_type: str, **payload: Any) -> None:
    append_event(actor=actor, event_type=event_type, subject=f"alert:{alert.public_id}",
                 payload={"code": alert.code, "kind": alert.kind,
                          "section": alert.section.public_id if alert.section else None,
                          "status": alert.status, **payload})  # fmt: skip


def _note(alert: Alert, kind: NoteKind, author: Any, text: str = "") -> None:
    user = author if getattr(author, "pk", None) else None
    AlertNote.objects.create(alert=alert, kind=kind, author=user, text=text, at=clock.now())


# --- raising ------------------------------------------------------------------------------------


def raise_alert(
    *,
    kind: AlertKind | str,
    code: str,
    key: str,
    title: str,
    evidence: dict[str, Any],
    section: Section | None = None,
    rule: str = "",
    score: float | None = None,
) -> tuple[Alert, bool, bool]:
    """Raise the alert named by ``key``, or refresh it: ``(alert, new, changed)``.

    The same evidence again changes nothing (the nightly pass re-runs every rule). New evidence
    replaces the old, is noted, and reopens an alert that had been dismissed — the regulator
    dismissed what they saw, not what came later; an escalated alert stays escalated."""
    digest = hashlib.sha256(canonical(evidence).encode()).hexdigest()
    now = clock.now()
    with transaction.atomic():
        alert = Alert.objects.select_for_update().filter(key=key).first()
        if alert is None:
            alert = Alert.objects.create(
                public_id=secrets.token_hex(16), key=key, kind=kind, code=code, rule=rule,
                section=section, title=title[:300], score=score, evidence=evidence,
                evidence_sha256=digest, raised_at=now, refreshed_at=now,
            )  # fmt: skip
            _note(alert, NoteKind.RAISED, None, title[:300])
            _event(SYSTEM, alert, "supervision.alert_raised", evidence_sha256=digest)
            return alert, True, True
        if alert.evidence_sha256 == digest:
            return alert, False, False
        alert.evidence, alert.evidence_sha256, alert.refreshed_at = evidence, digest, now
        alert.title, alert.score = title[:300], score
        reopened = alert.status == AlertStatus.DISMISSED
        if reopened:
            alert.status, alert.closed_at = AlertStatus.OPEN, None
        alert.save()
        _note(alert, NoteKind.REOPEN if reopened else NoteKind.REFRESHED, None,
              "证据已更新，重新打开 (new evidence: reopened)" if reopened else "")  # fmt: skip
        _event(SYSTEM, alert, "supervision.alert_refreshed", evidence_sha256=digest,
               reopened=reopened)  # fmt: skip
        return alert, False, True


# --- the inbox ----------------------------------------------------------------------------------


def _locked(actor: Any, alert: Alert) -> Alert:
    require(actor, "supervision.manage")
    # no select_related: the section is nullable, and PostgreSQL cannot lock the nullable side
    # of the outer join it would need
    return Alert.objects.select_for_update().get(pk=alert.pk)


def _open_only(alert: Alert) -> None:
    if alert.status in (AlertStatus.DISMISSED, AlertStatus.ESCALATED):
        raise Conflict("预警已办结，请先重新打开 (the alert is closed; reopen it first)",
                       code="alert_closed", detail={"status": alert.status})  # fmt: skip


def assign(*, actor: Any, alert: Alert, assignee: Any) -> Alert:
    """Give the alert to a regulator or inspector (who may work it)."""
    with transaction.atomic():
        alert = _locked(actor, alert)
        _open_only(alert)
        if not allowed(assignee, "supervision.manage"):
            raise ValidationFailed("只能指派给行政监督或纪检监察人员 (the assignee cannot work alerts)",
                                   code="bad_assignee", detail={"field": "assignee"})  # fmt: skip
        alert.assignee, alert.status = assignee, AlertStatus.ASSIGNED
        alert.save(update_fields=["assignee", "status"])
        _note(alert, NoteKind.ASSIGN, actor, assignee.get_username())
        _event(actor, alert, "supervision.alert_assigned", assignee=assignee.get_username())
    return alert


def annotate(*, actor: Any, alert: Alert, text: str) -> AlertNote:
    text = _text(text, "批注")
    with transaction.atomic():
        alert = _locked(actor, alert)
        note = AlertNote.objects.create(alert=alert, kind=NoteKind.NOTE, author=actor, text=text,
                                        at=clock.now())  # fmt: skip
        _event(actor, alert, "supervision.alert_noted",
               text_sha256=hashlib.sha256(text.encode()).hexdigest())  # fmt: skip
    return note


def dismiss(*, actor: Any, alert: Alert, reason: str) -> Alert:
    """Close the alert as not a problem; the reason is required and kept."""
    reason = _text(reason, "排除理由")
    with transaction.atomic():
        alert = _locked(actor, alert)
        _open_only(alert)
        alert.status, alert.outcome, alert.closed_at = AlertStatus.DISMISSED, reason, clock.now()
        alert.save(update_fields=["status", "outcome", "closed_at"])
        _note(alert, NoteKind.DISMISS, actor, reason)
        _event(actor, alert, "supervision.alert_dismissed",
               reason_sha256=hashlib.sha256(reason.encode()).hexdigest())  # fmt: skip
    return alert


def escalate(*, actor: Any, alert: Alert, target: str, text: str) -> Alert:
    """Hand the alert over (``target``: a complaint case, a credit record, the inspectors, the
    police) with the decision's text; the alert is closed as escalated."""
    if target not in ESCALATION_TARGETS:
        raise ValidationFailed("移交去向无效 (unknown escalation target)", code="bad_target",
                               detail={"field": "target", "allowed": sorted(ESCALATION_TARGETS)})  # fmt: skip
    text = _text(text, "移交说明")
    with transaction.atomic():
        alert = _locked(actor, alert)
        _open_only(alert)
        alert.status, alert.closed_at = AlertStatus.ESCALATED, clock.now()
        alert.outcome = f"{ESCALATION_TARGETS[target]}: {text}"
        alert.save(update_fields=["status", "outcome", "closed_at"])
        _note(alert, NoteKind.ESCALATE, actor, alert.outcome)
        _event(actor, alert, "supervision.alert_escalated", target=target)
    return alert


def reopen(*, actor: Any, alert: Alert, reason: str) -> Alert:
    reason = _text(reason, "重新打开理由")
    with transaction.atomic():
        alert = _locked(actor, alert)
        if alert.status not in (AlertStatus.DISMISSED, AlertStatus.ESCALATED):
            raise Conflict("预警未办结 (the alert is not closed)", code="alert_not_closed",
                           detail={"status": alert.status})  # fmt: skip
        alert.status = AlertStatus.ASSIGNED if alert.assignee_id else AlertStatus.OPEN
        alert.closed_at = None
        alert.save(update_fields=["status", "closed_at"])
        _note(alert, NoteKind.REOPEN, actor, reason)
        _event(actor, alert, "supervision.alert_reopened")
    return alert


def assignee_by_username(actor: Any, username: Any) -> Any:
    """The user an alert is to be assigned to; only for who may assign (no one else learns
    which user names exist)."""
    require(actor, "supervision.manage")
    if not isinstance(username, str) or not username.strip() or "\x00" in username:
        raise ValidationFailed("请填写被指派人 (assignee required)", code="required",
                               detail={"field": "assignee"})  # fmt: skip
    user = get_user_model().objects.filter(username=username.strip()[:150], is_active=True).first()
    if user is None:
        raise NotFound("用户不存在 (no such user)", code="user_not_found",
                       detail={"field": "assignee"})  # fmt: skip
    return user


# --- thresholds ---------------------------------------------------------------------------------

# name → (description, validator): a validator takes the submitted mapping and returns the
# normalised one, raising ValueError with a message naming the setting and its allowed range
VALIDATORS: dict[str, tuple[str, Callable[[dict[str, Any]], dict[str, Any]]]] = {}


def register_setting(
    name: str, description: str, validator: Callable[[dict[str, Any]], dict[str, Any]]
) -> None:
    VALIDATORS[name] = (description, validator)


def setting_value(name: str) -> dict[str, Any]:
    """The tuned values of ``name`` (``{}``: the module's defaults)."""
    row = Setting.objects.filter(name=name).only("value").first()
    return dict(row.value) if row else {}


def update_setting(*, actor: Any, name: str, value: Any) -> Setting:
    require(actor, "supervision.configure")
    if name not in VALIDATORS:
        raise NotFound("没有这组阈值 (no such settings group)", code="setting_not_found",
                       detail={"name": name[:64], "known": sorted(VALIDATORS)})  # fmt: skip
    if not isinstance(value, dict):
        raise ValidationFailed("阈值须为键值对象 (an object of thresholds)", code="bad_thresholds")
    try:
        normalised = VALIDATORS[name][1](value)
    except (ValueError, TypeError) as exc:
        raise ValidationFailed(f"阈值超出范围 (threshold out of range): {exc}",
                               code="threshold_out_of_range",
                               detail={"name": name, "error": str(exc)}) from None  # fmt: skip
    with transaction.atomic():
        row = Setting.objects.select_for_update().filter(name=name).first()
        now = clock.now()
        if row is None:
            row = Setting.objects.create(name=name, value=normalised, version=1, updated_by=actor,
                                         updated_at=now)  # fmt: skip
        else:
            row.value, row.version, row.updated_by, row.updated_at = (
                normalised, row.version + 1, actor, now)  # fmt: skip
            row.save()
        append_event(actor=actor, event_type="supervision.settings_changed",
                     subject=f"supervision:settings:{name}",
                     payload={"name": name, "version": row.version,
                              "value": _no_floats(normalised)})  # fmt: skip
    return row
