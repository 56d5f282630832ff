"""Search API (``/api/v1/search``): full-text search over the public records. Public: anonymous
callers are served; a bearer token, when sent, must be valid.

The query string is read as a whole through :func:`ggzy.disclosure.search.parse_params`, so a
parameter that is not one of the search's is refused (400 ``unknown_filter``) rather than
ignored, and every bad value gets its own code (``query_empty``, ``query_too_long``,
``bad_filter``, ``bad_date``, ``bad_page``; 422)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from ggzy.api import PUBLIC
from ggzy.core.schemas import ErrorOut
from ggzy.disclosure import search

router = Router(tags=["search"])


class SearchQueryIn(Schema):
    """The query string, documented; it is read whole by ``search.parse_params`` (strings
    only here, so that each bad value gets the search's own code, not a generic 422)."""

    q: str = Field("", description="检索词，最多 100 字 (the words to find, ≤ 100 characters)")
    kind: str = Field("", description="announcement, award, contract, entity, …")
    category: str = ""
    region: str = Field("", description="行政区划代码 (region code)")
    procedure: str = ""
    status: str = ""
    source: str = Field("", description="外部交易系统代码 (external system's code)")
    date_from: str = Field("", description="YYYY-MM-DD, inclusive")
    date_to: str = Field("", description="YYYY-MM-DD, inclusive")
    limit: str = Field("20", description="1–100")
    offset: str = Field("0", description="0–10000")


class SearchHitOut(Schema):
    key: str
    kind: str
    source: str
    project_code: str
    section_code: str
    title: str
    title_html: str
    snippet_html: str
    score: float
    category: str
    region: str
    procedure: str
    status: str
    published_at: datetime
    url: str


class SearchPageOut(Schema):
    q: str
    terms: list[str]
    total: int
    total_exact: bool
    relaxed: bool
    limit: int
    offset: int
    filters: dict[str, str]
    hits: list[SearchHitOut]


def hit_out(hit: search.SearchHit) -> dict[str, Any]:
    r = hit.record
    return {"key": r.key, "kind": r.kind, "source": r.source, "project_code": r.project_code,
            "section_code": r.section_code, "title": r.title, "title_html": hit.title_html,
            "snippet_html": hit.snippet_html, "score": hit.score, "category": r.category,
            "region": r.region, "procedure": r.procedure, "status": r.status,
            "published_at": r.published_at, "url": r.url}  # fmt: skip


def page_out(page: search.SearchPage) -> dict[str, Any]:
    return {"q": page.q, "terms": page.terms, "total": page.total,
            "total_exact": page.total_exact, "relaxed": page.relaxed, "limit": page.limit,
            "offset": page.offset, "filters": page.filters,
            "hits": [hit_out(h) for h in page.hits]}  # fmt: skip


@router.get("", response={200: SearchPageOut, 400: ErrorOut, 401: ErrorOut, 422: ErrorOut},
            auth=PUBLIC)  # fmt: skip
def search_records(request: HttpRequest, params: Query[SearchQueryIn]) -> Any:
    """Records holding every word of ``q`` (if none does: any of them, ``relaxed``), best
    first, title and snippet HTML-escaped with the words in ``<mark>``. ``total`` stops
    counting at 1000 (``total_exact`` false beyond)."""
    return page_out(search.search(**search.parse_params(request.GET.dict())))
