"""The watchlist (重点关注名单, the "+1" of Kunming's toolbox) kept by the regulators, and where it
is checked: a sign-in (Django's ``user_logged_in`` signal: supervision listens, accounts does not
know it), the opened bids of a section (the bidders are sealed until the opening, so a listed
bidder is seen there, not at the upload) and an evaluation committee once formed (the drawn
experts are sealed until then). A hit raises an alert — one per entry, subject and day for
sign-ins, so a listed person signing in all day is one alert a day."""

from __future__ import annotations

import logging
import secrets
from typing import Any

from django.db import transaction

from ggzy.accounts.gate import require
from ggzy.core import clock
from ggzy.core.errors import NotFound, ValidationFailed
from ggzy.ledger.context import client_addr
from ggzy.ledger.services import append_event
from ggzy.supervision import services, toolbox
from ggzy.supervision.models import AlertKind, WatchEntry
from ggzy.tendering import checks
from ggzy.tendering.models import Section

log = logging.getLogger(__name__)
KINDS = {k.value for k in toolbox.WatchKind}
KIND_LABELS = {
    "entity": "统一社会信用代码", "person": "身份证号码", "phone": "电话", "email": "电子邮箱",
    "account": "银行账号", "ip": "IP 地址或网段", "entity_name": "单位名称", "person_name": "姓名",
}  # fmt: skip


def entries(actor: Any, *, active: bool = True) -> list[WatchEntry]:
    require(actor, "supervision.view")
    rows = WatchEntry.objects.select_related("added_by")
    return list(rows.filter(active=True) if active else rows)


def add(*, actor: Any, kind: str, value: str, reason: str) -> WatchEntry:
    require(actor, "supervision.manage")
    if kind not in KINDS:
        raise ValidationFailed("类别无效 (unknown kind)", code="bad_kind",
                               detail={"field": "kind", "allowed": sorted(KINDS)})  # fmt: skip
    value = checks.text(value, "值", max_length=200)
    reason = checks.text(reason, "关注原因", max_length=500)
    try:  # the matcher's own checks (an IP entry must be an address or a network …)
        toolbox.Watchlist([toolbox.WatchEntry(kind, value, reason)], toolbox.WatchlistSettings())
    except ValueError as exc:
        raise ValidationFailed(f"值无效 (bad value): {exc}", code="bad_value",
                               detail={"field": "value"}) from None  # fmt: skip
    with transaction.atomic():
        row = WatchEntry.objects.create(public_id=secrets.token_hex(16), kind=kind, value=value,
                                        reason=reason, added_by=actor, added_at=clock.now())  # fmt: skip
        append_event(actor=actor, event_type="supervision.watch_added",
                     subject=f"supervision:watch:{row.public_id}",
                     payload={"kind": kind, "reason": reason})  # fmt: skip
    return row


def remove(*, actor: Any, public_id: str) -> WatchEntry:
    require(actor, "supervision.manage")
    with transaction.atomic():
        row = WatchEntry.objects.select_for_update().filter(public_id=str(public_id)[:32],
                                                            active=True).first()  # fmt: skip
        if row is None:
            raise NotFound("名单中没有该条目 (no such entry)", code="watch_not_found")
        row.active, row.removed_at = False, clock.now()
        row.save(update_fields=["active", "removed_at"])
        append_event(actor=actor, event_type="supervision.watch_removed",
                     subject=f"supervision:watch:{row.public_id}", payload={"kind": row.kind})  # fmt: skip
    return row


def _matcher() -> toolbox.Watchlist | None:
    rows = [toolbox.WatchEntry(r.kind, r.value, r.reason, r.public_id)
            for r in WatchEntry.objects.filter(active=True)]  # fmt: skip
    return toolbox.Watchlist(rows, toolbox.WatchlistSettings()) if rows else None


def _hits_evidence(hits: list[toolbox.WatchHit]) -> list[dict[str, str]]:
    return [{"entry": h.entry_id, "kind": str(h.kind), "field": h.field, "how": h.how,
             "reason": h.reason} for h in hits]  # fmt: skip


# --- where it is checked ------------------------------------------------------------------------


def on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """``user_logged_in`` receiver: the user, their entities and their address."""
    matcher = _matcher()
    if matcher is None or user is None:
        return
    from ggzy.registry.models import Membership

    memberships = Membership.objects.filter(user=user).select_related("entity")
    subject = {
        "person": user.resident_id or None, "person_name": user.display_name or None,
        "phone": user.phone or None, "email": user.email or None,
        "entity": [m.entity.uscc for m in memberships],
        "entity_name": [m.entity.name for m in memberships],
        "ip": client_addr() or None,
    }  # fmt: skip
    hits = matcher.hits({k: v for k, v in subject.items() if v})
    day = clock.now().date().isoformat()
    for entry in sorted({h.entry_id for h in hits}):
        found = [h for h in hits if h.entry_id == entry]
        services.raise_alert(
            kind=AlertKind.WATCHLIST, code="WATCH-LOGIN",
            key=f"watch:login:{entry}:{user.pk}:{day}",
            title=f"重点关注对象登录：{user.display_name or user.username}（{found[0].reason}）",
            evidence={"user": user.username, "at": clock.now().isoformat(),
                      "hits": _hits_evidence(found)},
            rule="昆明“4+1”重点关注名单", score=80.0,
        )  # fmt: skip


def on_login_safely(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """A watchlist failure never stops a sign-in: it is logged and the user goes on."""
    try:
        on_login(sender, request, user, **kwargs)
    except Exception:
        log.exception("supervision: the watchlist check of a sign-in failed")


def section_detector(section: Section, bids: list[Any]) -> list[Any]:
    """The opened bids' bidders and the formed committee's members against the list."""
    matcher = _matcher()
    if matcher is None:
        return []
    from ggzy.evaluation.models import CommitteeMember

    out = []
    subjects: list[tuple[str, str, dict[str, Any]]] = []
    for bid in bids:
        entity = bid.entity
        if entity is None:
            continue
        contacts = list(entity.contacts.values_list("phone", "email"))
        subjects.append(("bid", entity.uscc, {
            "entity": entity.uscc, "entity_name": entity.name,
            "person:legal_representative": entity.legal_representative_id or None,
            "person_name:legal_representative": entity.legal_representative or None,
            "phone": [p for p, _ in contacts if p], "email": [e for _, e in contacts if e],
        }))  # fmt: skip
    members = CommitteeMember.objects.filter(session__section=section).select_related("user")
    for m in members:
        subjects.append(("expert", m.ref, {"person": m.user.resident_id or None,
                                           "person_name": m.name or None,
                                           "phone": m.user.phone or None}))  # fmt: skip
    for role, ref, subject in subjects:
        hits = matcher.hits({k: v for k, v in subject.items() if v})
        for entry in sorted({h.entry_id for h in hits}):
            found = [h for h in hits if h.entry_id == entry]
            label = "投标人" if role == "bid" else "评标委员会成员"
            name = subject.get("entity_name") or subject.get("person_name") or ref
            out.append(services.raise_alert(
                kind=AlertKind.WATCHLIST, code="WATCH-BID" if role == "bid" else "WATCH-EXPERT",
                key=f"watch:{role}:{entry}:{section.public_id}:{ref}"[:200],
                title=f"{section.project.name} {section.name}：重点关注{label} {name}"
                      f"（{found[0].reason}）",
                evidence={"section": section.public_id, "role": role, "name": name,
                          "hits": _hits_evidence(found)},
                section=section, rule="昆明“4+1”重点关注名单", score=80.0,
            ))  # fmt: skip
    return out


def entry_or_404(public_id: str) -> WatchEntry:
    row = WatchEntry.objects.filter(public_id=str(public_id)[:32]).first()
    if row is None:
        raise NotFound("名单中没有该条目 (no such entry)", code="watch_not_found")
    return row
