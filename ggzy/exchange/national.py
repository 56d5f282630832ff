"""Building the national data-exchange batches (数据交换批次).

For one dataset, a build takes the rows of its source (:mod:`ggzy.exchange.national_datasets`),
keeps those that changed since the dataset's last batch — a record whose row digest differs from
the one last exported, or that was never exported; the cursor is the digest table, so a
publicity that becomes public by the clock's passing is picked up as surely as an edit — checks
each against the field configuration (a record that does not fit is refused, with its reasons,
never cut), and stores the accepted ones as one batch:

* the bytes: canonical JSON (sorted keys, no insignificant whitespace, UTF-8 — the ledger's
  ``canonical_json``), stored exactly as they will be sent;
* their SHA-256 and SM3 digests;
* the platform's signature over the bytes with the ledger's signing key (ECDSA P-256 with
  SHA-256, as the award notice and the opening record are signed), its key id and algorithm;
* one ledger event ``exchange.batch_built`` in the same transaction.

The dataset's cursor row is locked while building, so two builders never export one change
twice; a build that changes nothing stores nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction

from ggzy.accounts.gate import allowed, require
from ggzy.core import clock
from ggzy.core.errors import ValidationFailed
from ggzy.exchange import national_fields
from ggzy.exchange.models import Batch, Cursor, ExportedRecord
from ggzy.exchange.national_datasets import SOURCES
from ggzy.exchange.national_fields import Dataset, FieldConfig
from ggzy.ledger import signing
from ggzy.ledger.chain import canonical_json, hasher
from ggzy.ledger.services import append_event, record_refusal

FORMAT = "ggzy-national-batch/1"
SIGNATURE_ALG = "ecdsa-p256-sha256"
CLI = "system:cli"
# The center's back office reads (exchange.view); the center's administrator builds, pushes and
# keeps the receivers (exchange.manage): ggzy/accounts/roles.py.
VIEW_PERMISSION = "exchange.view"
MANAGE_PERMISSION = "exchange.manage"
DATA_TYPE_ADD, DATA_TYPE_UPDATE = "1", "2"


def can_view(actor: Any) -> bool:
    return actor == CLI or allowed(actor, VIEW_PERMISSION)


def require_manage(actor: Any) -> None:
    if actor != CLI:
        require(actor, MANAGE_PERMISSION)


def require_view(actor: Any) -> None:
    if actor != CLI:
        require(actor, VIEW_PERMISSION)


@dataclass
class BuildResult:
    dataset: str
    batch: Batch | None
    accepted: int = 0
    unchanged: int = 0
    refused: list[dict[str, Any]] = field(default_factory=list)
    sourced: bool = True  # False: the platform has no source for the dataset (land, property)

    def as_dict(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "batch": self.batch.batch_id if self.batch else None,
                "accepted": self.accepted, "unchanged": self.unchanged,
                "refused": self.refused, "sourced": self.sourced}  # fmt: skip


def digest_hex(data: bytes, alg: str) -> str:
    return hasher(alg)(data).hex()


def row_digest(row: dict[str, str]) -> str:
    return hashlib.sha256(canonical_json(row)).hexdigest()


def _platform_fields(config: FieldConfig, dataset: Dataset) -> dict[str, str]:
    missing = [n for n in ("PLATFORM_CODE", "PUB_SERVICE_PLAT_CODE") if not config.platform.get(n)]
    if dataset.works:
        missing += [n for n in ("TRADE_PLAT", "PUB_SERVICE_PLAT") if not config.platform.get(n)]
    if missing:
        raise ValidationFailed(
            "平台标识码未配置 (platform codes not configured)",
            code="platform_not_configured",
            detail={"missing": missing},
        )
    names = ["PLATFORM_CODE", "PUB_SERVICE_PLAT_CODE"]
    names += ["TRADE_PLAT", "PUB_SERVICE_PLAT"] if dataset.works else []
    return {n: config.platform[n] for n in names}


def _full_row(dataset: Dataset, row: dict[str, str], common: dict[str, str]) -> dict[str, str]:
    """Every configured field of the dataset, in the configuration's shape: the source's values,
    the platform's codes, ``""`` for what the platform does not have."""
    out = {name: "" for name in dataset.names}
    out.update({k: v for k, v in row.items()})
    out.update(common)
    return out


def build_batch(*, actor: Any, dataset: str) -> BuildResult:
    """Build the next batch of ``dataset`` (``None`` batch when nothing changed or every
    changed record was refused; the refusals are in the result either way)."""
    require_manage(actor)
    config = national_fields.load()
    ds = config.dataset(dataset)
    source = SOURCES.get(dataset)
    if source is None:
        return BuildResult(dataset, None, sourced=False)
    common = _platform_fields(config, ds)
    with transaction.atomic():
        cursor = _locked_cursor(dataset)
        now = clock.now()
        stamp = now.astimezone(clock.CHINA).strftime("%Y%m%d%H%M%S")
        seen = dict(ExportedRecord.objects.filter(dataset=dataset).values_list("key", "digest"))
        result = BuildResult(dataset, None)
        records: list[dict[str, Any]] = []
        digests: dict[str, str] = {}
        for key, row in source(config):
            full = _full_row(ds, row, common)
            digest = row_digest(full)  # before the timestamp: unchanged rows stay unchanged
            if seen.get(key) == digest:
                result.unchanged += 1
                continue
            full["DATA_TIMESTAMP"] = stamp
            reasons = config.check(ds, full)
            if reasons:
                result.refused.append({"key": key, "reasons": [r.as_dict() for r in reasons]})
                continue
            kind = DATA_TYPE_UPDATE if key in seen else DATA_TYPE_ADD
            records.append({"data_key": f"{dataset}:{key}", "data_type": kind, "context": full})
            digests[key] = digest
        result.accepted = len(records)
        if records:
            result.batch = _store(actor, cursor, ds, config, records, digests, result, now)
    if result.batch is None and result.refused:
        record_refusal(actor=actor, event_type="exchange.records_refused",
                       subject=f"exchange-dataset:{dataset}", reason="records_refused",
                       dataset=dataset, keys=[r["key"] for r in result.refused][:200])  # fmt: skip
    return result


def _locked_cursor(dataset: str) -> Cursor:
    try:
        with transaction.atomic():
            Cursor.objects.get_or_create(dataset=dataset)
    except IntegrityError:  # created concurrently: fine
        pass
    return Cursor.objects.select_for_update().get(dataset=dataset)


def _store(
    actor: Any,
    cursor: Cursor,
    ds: Dataset,
    config: FieldConfig,
    records: list[dict[str, Any]],
    digests: dict[str, str],
    result: BuildResult,
    now: Any,
) -> Batch:
    sequence = cursor.sequence + 1
    body = {
        "format": FORMAT,
        "dataset": {"no": ds.no, "table": ds.table, "label": ds.label},
        "sequence": sequence,
        "built_at": now.astimezone(clock.CHINA).isoformat(),
        "platform": {"PLATFORM_CODE": config.platform["PLATFORM_CODE"],
                     "PUB_SERVICE_PLAT_CODE": config.platform["PUB_SERVICE_PLAT_CODE"]},
        "config_digest": config.digest,
        "records": records,
    }  # fmt: skip
    # the batch id names the dataset, its sequence and the records it carries: a rebuilt batch
    # of other records can never reuse an id a receiver has seen
    records_digest = hashlib.sha256(canonical_json(records)).hexdigest()
    body["batch_id"] = f"NX{ds.no}-{sequence:08d}-{records_digest[:16]}"
    data = canonical_json(body)
    batch = Batch.objects.create(
        batch_id=body["batch_id"], dataset=ds.no, sequence=sequence, record_count=len(records),
        content=data.decode("utf-8"), sha256=digest_hex(data, "sha256"),
        sm3=digest_hex(data, "sm3"), signature=signing.sign(data),
        signature_alg=SIGNATURE_ALG, key_id=signing.key_id(), config_digest=config.digest,
        report={"refused": result.refused, "unchanged": result.unchanged}, built_at=now,
    )  # fmt: skip
    for key, digest in digests.items():
        ExportedRecord.objects.update_or_create(
            dataset=ds.no, key=key, defaults={"digest": digest, "batch": batch}
        )
    cursor.sequence, cursor.last_batch, cursor.built_at = sequence, batch, now
    cursor.save()
    batch.ledger_seq = append_event(
        actor=actor, event_type="exchange.batch_built", subject=f"exchange-batch:{batch.batch_id}",
        payload={"dataset": ds.no, "sequence": sequence, "records": len(records),
                 "refused": len(result.refused), "sha256": batch.sha256, "sm3": batch.sm3,
                 "key_id": batch.key_id, "signature_alg": SIGNATURE_ALG},
    )  # fmt: skip
    batch.save(update_fields=["ledger_seq"])
    return batch


def build_all(*, actor: Any, datasets: list[str] | None = None) -> list[BuildResult]:
    """One build per dataset (each in its own transaction)."""
    require_manage(actor)
    config = national_fields.load()
    names = datasets or list(config.datasets)
    for name in names:
        config.dataset(name)  # refuse an unknown name before building anything
    return [build_batch(actor=actor, dataset=name) for name in names]


def verify_batch(batch: Batch) -> bool:
    """Whether the stored bytes still match their digests and the platform's signature."""
    data = batch.data
    return (
        digest_hex(data, "sha256") == batch.sha256
        and digest_hex(data, "sm3") == batch.sm3
        and signing.verify(signing.public_key_pem(), data, batch.signature)
    )


def verify_bytes(data: bytes, signature: str, public_pem: str | None = None) -> bool:
    """What a receiver checks: the signature over exactly the bytes it received."""
    return signing.verify(public_pem or signing.public_key_pem(), data, signature)
