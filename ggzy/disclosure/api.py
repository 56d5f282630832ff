"""Public records API (``/api/v1/disclosure``): the portal's lists with their filters, one
record, a project's disclosed timeline, and the cursor-paged change feed of every public record.
Public: anonymous callers are served; a bearer token, when sent, must be valid.

The query string is read whole, so an unknown parameter is refused (422 ``unknown_filter``)
rather than ignored; bad values get their own codes (``bad_filter``, ``bad_date``, ``bad_page``,
``bad_cursor``, ``bad_limit``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from ggzy.api import PUBLIC
from ggzy.core.schemas import ErrorOut
from ggzy.disclosure import selectors
from ggzy.disclosure.models import PublicRecord

router = Router(tags=["disclosure"])
ERRORS: dict[int, Any] = {c: ErrorOut for c in (401, 404, 422)}


class RecordsQueryIn(Schema):
    kind: str = Field("", description="announcement, clarification, objection_reply, opening, "
                                      "candidates, award, contract, failure, entity, external")  # fmt: skip
    category: str = ""
    region: str = Field("", description="行政区划代码 (region code)")
    procedure: str = ""
    status: str = ""
    source: str = Field("", description="platform, or an external system's code")
    date_from: str = Field("", description="YYYY-MM-DD, inclusive")
    date_to: str = Field("", description="YYYY-MM-DD, inclusive")
    page: str = Field("1", description=f"1–{selectors.MAX_PAGE}")


class ChangesQueryIn(Schema):
    after: str = Field("0", description="the cursor the last page returned (0: from the start)")
    limit: str = Field("100", description=f"1–{selectors.FEED_LIMIT}")


class RecordOut(Schema):
    key: str
    seq: int
    kind: str
    source: str
    project_code: str
    section_code: str
    title: str
    body: str
    category: str
    region: str
    procedure: str
    status: str
    published_at: datetime
    changed_at: datetime
    url: str
    data: dict[str, Any]


class RecordListOut(Schema):
    page: int
    has_next: bool
    records: list[RecordOut]


class ChangesOut(Schema):
    records: list[RecordOut]
    next_cursor: str
    has_more: bool


def record_out(row: PublicRecord) -> dict[str, Any]:
    return {name: getattr(row, name) for name in RecordOut.model_fields}


def _params(request: HttpRequest, allowed: tuple[str, ...]) -> dict[str, str]:
    unknown = sorted(set(request.GET) - set(allowed))
    if unknown:
        from ggzy.core.errors import ValidationFailed

        raise ValidationFailed(f"未知的参数 {unknown[0]} (unknown parameter)",
                               code="unknown_filter", detail={"field": unknown[0]})  # fmt: skip
    return {k: request.GET.get(k, "") for k in allowed}


@router.get("/records", response={200: RecordListOut, **ERRORS}, auth=PUBLIC)
def records(request: HttpRequest, query: Query[RecordsQueryIn]) -> Any:
    """Announcements, results, contracts … newest first, by category, region, procedure,
    status and date."""
    params = _params(request, (*selectors.FILTERS, "page"))
    filters = selectors.clean_filters({k: v for k, v in params.items() if k != "page"})
    page = selectors.listing(filters, selectors.page_number(params["page"]))
    return {"page": page.number, "has_next": page.has_next,
            "records": [record_out(r) for r in page.rows]}  # fmt: skip


@router.get("/record", response={200: RecordOut, **ERRORS}, auth=PUBLIC)
def record(request: HttpRequest, key: str = Query(..., max_length=120)) -> Any:
    """One record by its key (``announcement:<project>``, ``award:<section>`` …)."""
    return record_out(selectors.record(key))


@router.get("/projects/{project_code}", response={200: list[RecordOut], **ERRORS}, auth=PUBLIC)
def project_timeline(request: HttpRequest, project_code: str) -> Any:
    """A project's whole disclosed timeline: announcement, clarifications, replies to
    objections, opening record, candidates, result, contract — in the order disclosed."""
    return [record_out(r) for r in selectors.timeline(project_code)]


@router.get("/changes", response={200: ChangesOut, **ERRORS}, auth=PUBLIC)
def changes(request: HttpRequest, query: Query[ChangesQueryIn]) -> Any:
    """The change feed: every public record each time it changes, in a stable order. Keep
    ``next_cursor`` and pass it as ``after``; ``has_more`` says whether to ask again at once."""
    params = _params(request, ("after", "limit"))
    rows, cursor, more = selectors.changes(
        selectors.parse_cursor(params["after"]), selectors.parse_limit(params["limit"])
    )
    return {"records": rows, "next_cursor": str(cursor), "has_more": more}
