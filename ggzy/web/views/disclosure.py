"""The public portal (一网尽览): every disclosed record of the platform — and of the connected
external trading systems — by category, region, procedure, status and date; a project's whole
disclosed timeline; RSS and Atom feeds. Readable without JavaScript. Everything shown comes from
the public records (:mod:`ggzy.disclosure`), which hold only what the rules disclose."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import path
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from ggzy.catalog.models import Category, Procedure
from ggzy.core.errors import DomainError, NotFound
from ggzy.disclosure import projector, selectors
from ggzy.disclosure.models import PublicRecord, RecordKind
from ggzy.web.views.common import error_page, region_choices

STATUS_LABELS = {
    "announced": gettext_lazy("招标中"), "opened": gettext_lazy("已开标"),
    "failed": gettext_lazy("流标"), "publicity": gettext_lazy("候选人公示"),
    "awarded": gettext_lazy("已定标"), "contracted": gettext_lazy("已签合同"),
}  # fmt: skip
FEED_SIZE = 50


def _choices() -> dict[str, Any]:
    return {
        "kinds": RecordKind.choices,
        "categories": list(Category.objects.order_by("code").values_list("code", "name")),
        "procedures": list(Procedure.objects.order_by("code").values_list("code", "name")),
        "regions": region_choices(),
        "statuses": list(STATUS_LABELS.items()),
    }


def _cached(name: str, variant: str, build: Callable[[], dict[str, str]]) -> dict[str, str]:
    """The page's rendered parts for this variant (its own parameters only: a link's other
    parameters neither split nor flood the cache) and language at the projection's current feed
    position: built once and kept ``GGZY_PORTAL_CACHE_SECONDS``. A new or changed public record
    moves the position, so a cached page is never behind the records; only what is rendered
    around them (catalog and region names) can be that old. The parts are rendered without the
    request: nothing of the visitor (name, CSRF token) is in them — base.html adds that."""
    seconds = settings.GGZY_PORTAL_CACHE_SECONDS
    if seconds <= 0:
        return build()
    position = projector.catch_up().position
    digest = hashlib.sha256(variant.encode()).hexdigest()
    key = f"disclosure:{name}:{get_language()}:{position}:{digest}"
    parts = cache.get(key)
    if parts is None:
        parts = build()
        cache.set(key, parts, seconds)
    return parts  # type: ignore[no-any-return]


def portal(request: HttpRequest) -> HttpResponse:
    # a link may carry other parameters (a campaign tag …): the page reads only its own
    params = {k: v for k, v in request.GET.items() if v != "" and k in (*selectors.FILTERS, "page")}
    query = urlencode({k: v for k, v in params.items() if k != "page"})

    def build() -> dict[str, str]:
        filters = selectors.clean_filters({k: v for k, v in params.items() if k != "page"})
        page = selectors.listing(filters, selectors.page_number(params.get("page")))
        for row in page.rows:
            row.status_label = str(STATUS_LABELS.get(row.status, row.status))  # type: ignore[attr-defined]
        return {"content": render_to_string("web/disclosure/portal_content.html", {
            "page": page, "filters": filters, "query": query, "status_labels": STATUS_LABELS,
            **_choices(),
        })}  # fmt: skip

    try:
        parts = _cached("portal", urlencode(sorted(params.items())), build)
    except DomainError as exc:
        return error_page(request, 400, exc.message)
    return render(request, "web/disclosure/portal.html",
                  {"content": mark_safe(parts["content"]), "query": query})  # fmt: skip


def timeline(request: HttpRequest, project_code: str) -> HttpResponse:
    def build() -> dict[str, str]:
        rows = selectors.timeline(project_code)
        head = next((r for r in rows if r.kind == RecordKind.ANNOUNCEMENT), rows[0])
        for row in rows:
            row.status_label = str(STATUS_LABELS.get(row.status, row.status))  # type: ignore[attr-defined]
        return {"title": head.title, "content": render_to_string(
            "web/disclosure/timeline_content.html",
            {"rows": rows, "head": head, "status_labels": STATUS_LABELS},
        )}  # fmt: skip

    try:
        parts = _cached("timeline", str(project_code), build)
    except NotFound as exc:
        return error_page(request, 404, exc.message)
    return render(request, "web/disclosure/timeline.html",
                  {"title": parts["title"], "content": mark_safe(parts["content"])})  # fmt: skip


class RecordFeed(Feed):  # type: ignore[type-arg]
    """The newest records, optionally of one kind, category and region (``?kind=…``)."""

    feed_type = Rss201rev2Feed
    link = "/disclosure/"

    def get_object(self, request: HttpRequest) -> dict[str, Any]:  # type: ignore[override]
        params = {k: v for k, v in request.GET.items() if v != "" and k in selectors.FILTERS}
        return selectors.clean_filters(params)

    def __call__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return super().__call__(request, *args, **kwargs)
        except DomainError as exc:
            return error_page(request, 400, exc.message)

    def title(self, obj: dict[str, Any]) -> str:
        parts = [str(dict(RecordKind.choices).get(obj.get("kind", ""), ""))]
        parts += [obj.get("category", ""), obj.get("region", "")]
        suffix = " · ".join(p for p in parts if p)
        return _("公共资源交易信息公开") + (f" · {suffix}" if suffix else "")

    def description(self, obj: dict[str, Any]) -> str:
        return _("公告、结果与合同，按发布时间排列")

    def items(self, obj: dict[str, Any]) -> list[PublicRecord]:
        return list(selectors.filtered(obj).defer("search_text")[:FEED_SIZE])

    def item_title(self, item: PublicRecord) -> str:
        return item.title

    def item_description(self, item: PublicRecord) -> str:
        return item.body[:1000]

    def item_link(self, item: PublicRecord) -> str:
        return item.url or f"/disclosure/projects/{item.project_code}/"

    def item_guid(self, item: PublicRecord) -> str:
        return f"{item.key}@{item.seq}"

    def item_pubdate(self, item: PublicRecord) -> Any:
        return item.published_at

    def item_updateddate(self, item: PublicRecord) -> Any:
        return item.changed_at

    def item_categories(self, item: PublicRecord) -> list[str]:
        return [c for c in (item.kind, item.category, item.region) if c]


class AtomRecordFeed(RecordFeed):
    feed_type = Atom1Feed
    subtitle = RecordFeed.description


URLS = [
    path("disclosure/", portal, name="disclosure"),
    path("disclosure/projects/<str:project_code>/", timeline, name="disclosure_project"),
    path("disclosure/feed.rss", RecordFeed(), name="disclosure_rss"),
    path("disclosure/feed.atom", AtomRecordFeed(), name="disclosure_atom"),
]


def systems(request: HttpRequest) -> HttpResponse:
    """The connected external trading systems (已接入的电子交易系统): public, no key shown."""
    from ggzy.exchange.ingest import connected_systems

    return render(request, "web/disclosure/systems.html", {"systems": list(connected_systems())})
