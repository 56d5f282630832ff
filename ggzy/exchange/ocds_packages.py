"""OCDS packages: the release package and the record package of one section, and the batched
reads behind ``ggzy export ocds`` and the API.

The compiled release of a record is made by ``ocdsmerge`` with the merge rules of the OCDS
1.1.5 release schema with the bids extension, written out below (``MERGE_RULES``), so that
nothing ever loads or downloads a schema at run time; ``tests/exchange`` checks that they are
exactly the rules ``ocdsmerge`` derives from the local schema file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import ocdsmerge
from django.conf import settings
from django.db.models import QuerySet

from ggzy.award.models import Candidate
from ggzy.catalog.models import Procedure, Ruleset
from ggzy.core import clock
from ggzy.core.errors import DomainError, NotFound
from ggzy.exchange.ocds import BIDS_EXTENSION, Process, prefix, stamp
from ggzy.exchange.ocds_fields import (
    COLUMNS,
    Cand,
    Clar,
    Doc,
    Loaded,
    Org,
    SectionRow,
    section_row,
)
from ggzy.registry.models import Entity
from ggzy.tendering.models import Clarification, Section, TenderDocument
from ggzy.tendering.states import ProjectStatus

VERSION = "1.1"
BATCH = 500

_WHOLE = "wholeListMerge"
MERGE_RULES: dict[tuple[str, ...], str] = {
    ("id",): "omitWhenMerged",
    ("date",): "omitWhenMerged",
    ("tag",): "omitWhenMerged",
    **{
        path: _WHOLE
        for path in [
            ("parties", "additionalIdentifiers"),
            ("parties", "roles"),
            ("buyer", "additionalIdentifiers"),
            ("tender", "procuringEntity", "additionalIdentifiers"),
            ("tender", "items", "additionalClassifications"),
            ("tender", "additionalProcurementCategories"),
            ("tender", "submissionMethod"),
            ("tender", "tenderers", "additionalIdentifiers"),
            ("tender", "amendments", "changes"),
            ("tender", "amendment", "changes"),
            ("awards", "suppliers", "additionalIdentifiers"),
            ("awards", "items", "additionalClassifications"),
            ("awards", "amendments", "changes"),
            ("awards", "amendment", "changes"),
            ("contracts", "items", "additionalClassifications"),
            ("contracts", "implementation", "transactions", "payer", "additionalIdentifiers"),
            ("contracts", "implementation", "transactions", "payee", "additionalIdentifiers"),
            ("contracts", "relatedProcesses", "relationship"),
            ("contracts", "amendments", "changes"),
            ("contracts", "amendment", "changes"),
            ("relatedProcesses", "relationship"),
            ("bids", "details", "tenderers", "additionalIdentifiers"),
        ]
    },
}
MERGER = ocdsmerge.Merger(merge_rules=MERGE_RULES)


class MalformedOcid(DomainError):
    status = 400
    code = "malformed_ocid"


def section_public_id(ocid: str) -> str:
    """The section behind an ocid of this platform (``malformed_ocid`` otherwise)."""
    match = re.fullmatch(re.escape(prefix()) + r"-([0-9a-f]{32})", ocid)
    if match is None:
        raise MalformedOcid(
            "ocid 格式不正确 (malformed ocid)", detail={"expected": f"{prefix()}-<32 hex>"}
        )
    return match.group(1)


def sections() -> QuerySet[Section, tuple[Any, ...]]:
    """Every section of a published project, as ``ocds_fields.COLUMNS`` (the section's own
    fields, its project's, opening's, publicity's, award notice's and contract's), in pk order.
    The rest comes from :func:`load`."""
    return (
        Section.objects.filter(project__status=ProjectStatus.PUBLISHED)
        .order_by("pk")
        .values_list(*COLUMNS)
    )


def load(batch: list[SectionRow]) -> Loaded:
    """What ``batch`` reads besides its own rows, in six queries whatever its size."""
    projects = {s.project.pk for s in batch}
    publicities = [s.award_publicity.pk for s in batch if s.award_publicity is not None]
    loaded = Loaded(procedures=dict(Procedure.objects.values_list("code", "name")))
    rules = Ruleset.objects.filter(pk__in={s.project.ruleset_id for s in batch})
    for pk, values in rules.values_list("pk", "rules"):
        loaded.clarification_days[pk] = int(values.get("clarification_before_deadline_days", 15))
    documents = TenderDocument.objects.filter(project_id__in=projects, published_at__isnull=False)
    for doc in documents.order_by("uploaded_at", "pk").values_list(
        "project_id", "pk", "public_id", "kind", "name", "content_type", "published_at"
    ):
        loaded.documents.setdefault(doc[0], []).append(Doc(*doc[1:]))
    clarifications = Clarification.objects.filter(project_id__in=projects).order_by("number")
    for clar in clarifications.values_list(
        "project_id", "number", "title", "body", "affects_bids", "issued_at", "document_id"
    ):
        loaded.clarifications.setdefault(clar[0], []).append(Clar(*clar[1:]))
    candidates = Candidate.objects.filter(publicity_id__in=publicities).order_by("rank")
    for cand in candidates.values_list(
        "publicity_id", "pk", "rank", "price", "entity_id", "withdrawn_at", "withdrawal_ground"
    ):
        loaded.candidates.setdefault(cand[0], []).append(Cand(*cand[1:]))
    orgs = {s.project.tenderer_id for s in batch} | {
        s.project.agent_id for s in batch if s.project.agent_id is not None
    }
    orgs |= {c.entity_id for rows in loaded.candidates.values() for c in rows}
    for pk, uscc, name in Entity.objects.filter(pk__in=orgs).values_list("pk", "uscc", "name"):
        loaded.orgs[pk] = Org(uscc, name)
    return loaded


def batches(*, now: datetime, size: int = BATCH) -> Iterator[tuple[list[SectionRow], Loaded]]:
    """The sections of projects published by ``now``, in batches of ``size`` with what they
    read (keyset paging: flat memory, a fixed number of queries per batch)."""
    last = 0
    base = sections().filter(project__published_at__lte=now)
    while True:
        batch = [section_row(values) for values in base.filter(pk__gt=last)[:size]]
        if not batch:
            return
        yield batch, load(batch)
        last = batch[-1].pk


def get_process(ocid: str, *, now: datetime | None = None) -> Process:
    """The disclosed process of ``ocid`` (``ocid_not_found`` when it is not public)."""
    public_id = section_public_id(ocid)
    now = now or clock.now()
    values = sections().filter(public_id=public_id).first()
    section = section_row(values) if values is not None else None
    process = Process(section, now, load([section])) if section is not None else None
    if process is None or not process.disclosed():
        raise NotFound("该交易过程不存在或尚未公开 (no such contracting process)",
                       code="ocid_not_found", detail={"ocid": ocid})  # fmt: skip
    return process


def publisher() -> dict[str, Any]:
    return {
        "name": str(getattr(settings, "GGZY_PLATFORM_NAME", "OpenGGZY")),
        "uid": str(getattr(settings, "GGZY_PLATFORM_ID", "openggzy")),
    }


def base_url() -> str:
    return str(getattr(settings, "GGZY_PUBLIC_URL", "http://127.0.0.1:8000")).rstrip("/")


def package_uri(kind: str, ocid: str | None = None, *, base: str | None = None) -> str:
    root = f"{base or base_url()}/api/v1/ocds/{kind}"
    return f"{root}/{ocid}" if ocid else root


def _frame(uri: str, now: datetime) -> dict[str, Any]:
    return {
        "uri": uri,
        "version": VERSION,
        "publishedDate": stamp(now),
        "publisher": publisher(),
        "extensions": [BIDS_EXTENSION],
    }


def release_package(releases: list[dict[str, Any]], *, uri: str, now: datetime) -> dict[str, Any]:
    return {**_frame(uri, now), "releases": releases}


def record(ocid: str, releases: list[dict[str, Any]]) -> dict[str, Any]:
    """The record of one ocid: every release embedded, and the compiled release."""
    return {
        "ocid": ocid,
        "releases": releases,
        "compiledRelease": MERGER.create_compiled_release(releases),
    }


def record_package(records: list[dict[str, Any]], *, uri: str, now: datetime) -> dict[str, Any]:
    return {**_frame(uri, now), "records": records}


def process_release_package(process: Process, *, base: str | None = None) -> dict[str, Any]:
    uri = package_uri("releases", process.ocid, base=base)
    return release_package(process.releases(), uri=uri, now=process.now)


def process_record_package(process: Process, *, base: str | None = None) -> dict[str, Any]:
    uri = package_uri("records", process.ocid, base=base)
    return record_package([record(process.ocid, process.releases())], uri=uri, now=process.now)


def changed_since(releases: list[dict[str, Any]], since: datetime | None) -> bool:
    """Whether a process has a release dated at or after ``since``."""
    return since is None or any(datetime.fromisoformat(r["date"]) >= since for r in releases)
