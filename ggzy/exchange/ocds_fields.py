"""The OCDS field values shared by the releases: the codes the platform's data maps to, the
identifiers (ocid, party ids from the USCC), amounts and dates. See ``ggzy.exchange.ocds``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from functools import cache
from typing import Any, NamedTuple

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.utils import translation

from ggzy.core.clock import CHINA
from ggzy.tendering.models import Section

CURRENCY = "CNY"
SCHEME = "CN-USCC"  # 统一社会信用代码 (GB 32100), org-id.guide's scheme for China
BIDS_EXTENSION = (
    "https://raw.githubusercontent.com/open-contracting-extensions/ocds_bid_extension/"
    "v1.1.5/extension.json"
)

# catalog procedure → (procurementMethod, the method's name is procurementMethodDetails)
PROCUREMENT_METHOD: dict[str, str] = {
    "open_tender": "open",
    "invited_tender": "selective",
    "competitive_negotiation": "selective",
    "competitive_consultation": "selective",
    "inquiry": "selective",
    "single_source": "direct",
    "listing": "open",
    "auction": "open",
}
# project subject type (采购标的类型) → mainProcurementCategory
CATEGORY: dict[str, str] = {"works": "works", "goods": "goods", "services": "services"}
AWARD_CRITERIA: dict[str, str] = {
    "lowest_price": "priceOnly",
    "comprehensive": "ratedCriteria",
    "benchmark": "ratedCriteria",
}
# a bid in the signed opening record → bidStatus: decrypted bids await the evaluation; a bid
# that could not be decrypted is treated as revoked or withdrawn (R39)
BID_STATUS: dict[str, str] = {
    "opened": "pending",
    "revoked": "withdrawn",
    "platform_failed": "withdrawn",
    "withdrawn": "withdrawn",
}
DOCUMENT_TYPE: dict[str, str] = {
    "tender": "biddingDocuments",
    "clarification": "clarifications",
    "drawing": "technicalSpecifications",
}


def prefix() -> str:
    return str(getattr(settings, "GGZY_OCDS_PREFIX", "ocds-ggzy00"))


def ocid_of(section: Section | SectionRow) -> str:
    return f"{prefix()}-{section.public_id}"


def amount(value: Decimal) -> int | float:
    """A Decimal amount as a JSON number with exactly its digits (an int when whole). A float
    that would not print back to the same digits is refused rather than rounded."""
    if value == value.to_integral_value():
        return int(value)
    number = float(value)
    if Decimal(repr(number)) != value:
        raise ValueError(f"{value} cannot be written exactly as a JSON number")
    return number


def money(value: Decimal) -> dict[str, Any]:
    return {"amount": amount(value), "currency": CURRENCY}


def stamp(moment: datetime) -> str:
    """RFC 3339 in UTC."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def day_start(day: date) -> str:
    """A date (e.g. the day a contract was signed) as the start of that day in China."""
    return stamp(datetime.combine(day, time(0), tzinfo=CHINA))


def related(obj: Any, name: str) -> Any:
    """A reverse one-to-one (``section.opening`` …) or ``None``, without a query when it was
    selected."""
    try:
        return getattr(obj, name)
    except ObjectDoesNotExist:
        return None


def party_id(uscc: str) -> str:
    return f"{SCHEME}-{uscc}"


def party(uscc: str, name: str, roles: Iterable[str]) -> dict[str, Any]:
    """An organisation: its USCC and registered name, nothing about people."""
    return {
        "id": party_id(uscc),
        "name": name,
        "identifier": {"scheme": SCHEME, "id": uscc, "legalName": name},
        "roles": list(roles),
    }


def ref(uscc: str, name: str) -> dict[str, str]:
    return {"id": party_id(uscc), "name": name}


# --- what a batch of sections reads besides its own rows (ggzy.exchange.ocds_packages.load) ---


class Org(NamedTuple):
    uscc: str
    name: str


class Doc(NamedTuple):
    id: int
    public_id: str
    kind: str
    name: str
    content_type: str
    published_at: datetime | None


class Clar(NamedTuple):
    number: int
    title: str
    body: str
    affects_bids: bool
    issued_at: datetime
    document_id: int | None


class Cand(NamedTuple):
    id: int
    rank: int
    price: Decimal
    entity_id: int
    withdrawn_at: datetime | None
    withdrawal_ground: str


@dataclass
class Loaded:
    """Rows shared by sections, or many per section, fetched once per batch."""

    orgs: dict[int, Org] = field(default_factory=dict)
    procedures: dict[str, str] = field(default_factory=dict)  # code → name
    clarification_days: dict[int, int] = field(default_factory=dict)  # ruleset id → R6 days
    documents: dict[int, list[Doc]] = field(default_factory=dict)  # project id → published
    clarifications: dict[int, list[Clar]] = field(default_factory=dict)  # project id →
    candidates: dict[int, list[Cand]] = field(default_factory=dict)  # publicity id → by rank


@cache
def source_labels(choices: type[models.Choices]) -> dict[str, str]:
    """A choice set's labels as written (Chinese), whatever language is active: the releases
    say ``"language": "zh"``."""
    with translation.override(None):
        return {str(value): str(label) for value, label in choices.choices}


# --- a section's own rows, read with values_list (no model instances: the export's hot path) ---


class ProjectRow(NamedTuple):
    pk: int
    public_id: str
    name: str
    status: str
    published_at: datetime | None
    procedure_id: str
    subject_type: str
    description: str
    funding_source: str
    budget: Decimal
    announcement: str
    tenderer_id: int
    agent_id: int | None
    agency_confirmed_at: datetime | None
    ruleset_id: int


class OpeningRow(NamedTuple):
    pk: int  # the row is None when there is no opening
    status: str
    closed_at: datetime | None
    record: dict[str, Any] | None


class PublicityRow(NamedTuple):
    pk: int  # the row is None when there is no publicity
    public_id: str
    starts_at: datetime
    ends_at: datetime


class ContractRow(NamedTuple):
    pk: int  # the row is None when there is no contract
    public_id: str
    published_at: datetime | None
    amount: Decimal
    signed_on: date


class NoticeRow(NamedTuple):
    pk: int  # the row is None when there is no award notice
    issued_at: datetime
    winner_id: int
    amount: Decimal
    reason: str


class SectionRow(NamedTuple):
    pk: int
    public_id: str
    name: str
    estimated_price: Decimal
    evaluation_method: str
    qualification_requirements: str
    duration_days: int | None
    documents_from: datetime | None
    original_deadline: datetime | None
    bid_deadline: datetime | None
    project: ProjectRow
    opening: OpeningRow | None
    award_publicity: PublicityRow | None
    award_notice: NoticeRow | None
    contract: ContractRow | None


def _columns(prefix: str, row: type[Any]) -> list[str]:
    return [f"{prefix}{'id' if name == 'pk' else name}" for name in row._fields]


SECTION_OWN = [n for n in SectionRow._fields if n not in (
    "project", "opening", "award_publicity", "award_notice", "contract")]  # fmt: skip
PARTS: list[tuple[str, type[Any]]] = [
    ("", SectionRow), ("project__", ProjectRow), ("opening__", OpeningRow),
    ("award_publicity__", PublicityRow), ("award_notice__", NoticeRow),
    ("award_notice__contract__", ContractRow),
]  # fmt: skip
COLUMNS: list[str] = [("id" if n == "pk" else n) for n in SECTION_OWN] + [
    c for prefix, row in PARTS[1:] for c in _columns(prefix, row)
]


def section_row(values: tuple[Any, ...]) -> SectionRow:
    """A row of ``COLUMNS`` as a :class:`SectionRow` (missing reverse rows as ``None``)."""
    at = len(SECTION_OWN)
    parts: list[Any] = []
    for _, row in PARTS[1:]:
        width = len(row._fields)
        part = values[at : at + width]
        parts.append(row._make(part) if part[0] is not None else None)
        at += width
    return SectionRow(*values[: len(SECTION_OWN)], *parts)
