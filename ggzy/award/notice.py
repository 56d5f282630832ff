"""The award notice's record (中标通知书): a plain structure, its canonical bytes (the ledger's
canonical JSON: sorted keys, no insignificant whitespace, UTF-8), and the platform's signature
over them with the ledger's signing key — as the opening record is signed — so anyone can check
a notice with the key served at ``/api/v1/ledger/key``."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from ggzy.award.models import AwardNotice
from ggzy.award.periods import AwardRules, contract_deadline
from ggzy.core import clock
from ggzy.ledger import signing
from ggzy.ledger.chain import canonical_json

RECORD_VERSION = "ggzy-award-notice/1"


def build_record(notice: AwardNotice, rules: AwardRules) -> dict[str, Any]:
    section = notice.section
    project = section.project
    publicity = notice.publicity
    winner = notice.winner
    return {
        "version": RECORD_VERSION,
        "notice": notice.public_id,
        "project": project.name,
        "trading_code": project.trading_code,
        "section": section.code or section.public_id,
        "section_name": section.name,
        "tenderer": {"name": project.tenderer.name, "uscc": project.tenderer.uscc},
        "winner": {
            "name": winner.entity.name,
            "uscc": winner.entity.uscc,
            "rank": winner.rank,
            "label": winner.label,
            "bid": winner.bid.public_id,
        },
        "amount": str(notice.amount),
        "report_sha256": publicity.report_sha256,
        "publicity": {
            "starts_at": _china(publicity.starts_at),
            "ends_at": _china(publicity.ends_at),
        },
        "reason": notice.reason or None,
        "deemed_chosen": notice.deemed,
        "issued_at": _china(notice.issued_at),
        "contract_deadline": contract_deadline(notice.issued_at, rules).isoformat(),
        "rule": rules.contract_within.rule,
    }


def _china(moment: datetime) -> str:
    return moment.astimezone(clock.CHINA).isoformat()


def record_bytes(record: dict[str, Any]) -> bytes:
    return canonical_json(record)


def sign(notice: AwardNotice, rules: AwardRules) -> None:
    """Fill in the record, its digest and the platform's signature (not saved)."""
    notice.record = build_record(notice, rules)
    data = record_bytes(notice.record)
    notice.record_sha256 = hashlib.sha256(data).hexdigest()
    notice.signature = signing.sign(data)
    notice.key_id = signing.key_id()


def verify(notice: AwardNotice) -> bool:
    """Whether the stored record still carries the platform's signature."""
    data = record_bytes(notice.record)
    return hashlib.sha256(data).hexdigest() == notice.record_sha256 and signing.verify(
        signing.public_key_pem(), data, notice.signature
    )
