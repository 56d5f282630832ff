"""The automated qualification and compliance checks (资格性/符合性审查) of each opened bid,
against the registry, the deposits and the signed opening record. They only *propose*: each
committee member confirms or overrules every finding, and the majority decides.

The messages name no bidder — the members read them beside anonymous labels — and a related
bidder is named by its label.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Q

from ggzy.bidding.deposits import deposit_status
from ggzy.bidding.states import BidStatus
from ggzy.evaluation.states import CheckKind
from ggzy.registry.models import Entity, EntityStatus, Qualification

HELD = frozenset({"not_required", "paid", "guaranteed", "exempt"})


@dataclass(frozen=True)
class Check:
    kind: CheckKind
    passed: bool
    message: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Subject:
    """What a check looks at: the bid's label, entity, and its row in the opening record."""

    label: str
    entity: Entity
    decryption: str
    price: Any


def qualification(entity: Entity, day: date) -> Check:
    """The bidder is active, its business licence runs on ``day`` (the bid deadline) and it
    holds at least one qualification certificate valid that day."""
    problems = []
    if entity.status != EntityStatus.ACTIVE:
        problems.append("entity_not_active")
    if (entity.licence_valid_from and entity.licence_valid_from > day) or (
        entity.licence_valid_until and entity.licence_valid_until < day
    ):
        problems.append("licence_expired")
    valid = Qualification.objects.filter(entity=entity).filter(
        Q(valid_from__isnull=True) | Q(valid_from__lte=day),
        Q(valid_until__isnull=True) | Q(valid_until__gte=day),
    )
    if not valid.exists():
        problems.append("no_valid_qualification")
    if problems:
        return Check(
            CheckKind.QUALIFICATION,
            False,
            "投标截止日资质或营业执照无效 (no valid qualification on the deadline)",
            {"problems": problems, "as_of": day.isoformat()},
        )
    return Check(CheckKind.QUALIFICATION, True, "资质有效", {"as_of": day.isoformat()})


def related_bidders(subjects: list[Subject]) -> dict[str, Check]:
    """R48 (条例34): bids of entities sharing a legal representative void each other."""
    by_person: dict[str, list[str]] = {}
    for s in subjects:
        person = (s.entity.legal_representative_id or "").strip().upper()
        if person:
            by_person.setdefault(person, []).append(s.label)
    out: dict[str, Check] = {}
    for s in subjects:
        person = (s.entity.legal_representative_id or "").strip().upper()
        others = sorted(x for x in by_person.get(person, []) if x != s.label) if person else []
        if others:
            out[s.label] = Check(
                CheckKind.RELATED_BIDDERS,
                False,
                "与其他投标人法定代表人为同一人，相关投标均无效（R48）"
                " (same legal representative as another bidder)",
                {"related": others, "rule": "R48"},
            )
        else:
            out[s.label] = Check(CheckKind.RELATED_BIDDERS, True, "未发现关联投标人")
    return out


def deposit(section: Any, entity: Entity) -> Check:
    status = deposit_status(section, entity)
    if status in HELD:
        return Check(CheckKind.DEPOSIT, True, "保证金已缴纳或无需缴纳", {"status": status})
    return Check(
        CheckKind.DEPOSIT, False, "未按要求缴纳投标保证金 (deposit not paid)", {"status": status}
    )


def decryption(subject: Subject) -> Check:
    if subject.decryption == BidStatus.OPENED and subject.price is not None:
        return Check(CheckKind.DECRYPTION, True, "投标文件已解密")
    return Check(
        CheckKind.DECRYPTION,
        False,
        "投标文件未能解密或无开标报价（R39）(not decrypted)",
        {"decryption": subject.decryption},
    )


def run_checks(section: Any, subjects: list[Subject], day: date) -> dict[str, list[Check]]:
    """Every check of every bid, by label."""
    related = related_bidders(subjects)
    return {
        s.label: [
            qualification(s.entity, day),
            related[s.label],
            deposit(section, s.entity),
            decryption(s),
        ]
        for s in subjects
    }
