"""Reads of the public records: the portal's lists, a project's disclosed timeline, one record,
and the change feed. Everything here is public by construction (the projector wrote only what
may be disclosed); each read first lets the projector catch up, so a page is never behind the
ledger by more than the request that caused it.

Every list is a constant number of queries whatever the data size (the tests count them)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from ggzy.core import clock
from ggzy.core.errors import NotFound, ValidationFailed
from ggzy.disclosure import projector
from ggzy.disclosure.models import PublicRecord, RecordKind

PAGE_SIZE = 20
MAX_PAGE = 500
FEED_LIMIT = 1000
STATUSES = ("announced", "opened", "failed", "publicity", "awarded", "contracted", "issued",
            "answered", "active", "suspended", "cancelled")  # fmt: skip
FILTERS = ("kind", "category", "region", "procedure", "status", "source", "date_from", "date_to")
_CODE = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
_REGION = re.compile(r"^\d{6}$")
_SOURCE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def _bad(code: str, message: str, **detail: Any) -> ValidationFailed:
    return ValidationFailed(message, code=code, detail=detail or None)


def _date(name: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _bad("bad_date", f"日期格式应为 YYYY-MM-DD (bad date: {name})", field=name) from None


def clean_filters(params: Mapping[str, Any], *, extra: tuple[str, ...] = ()) -> dict[str, Any]:
    """The listing filters from query parameters: each checked, unknown names refused."""
    unknown = sorted(set(params) - set(FILTERS) - set(extra))
    if unknown:
        raise _bad("unknown_filter", f"未知的筛选条件 {unknown[0]} (unknown filter)",
                   field=unknown[0], allowed=list(FILTERS))  # fmt: skip
    out: dict[str, Any] = {}
    for name in FILTERS:
        raw = params.get(name)
        if raw is None or raw == "":
            continue
        value = str(raw)
        ok = {
            "kind": value in RecordKind.values,
            "category": bool(_CODE.match(value)),
            "procedure": bool(_CODE.match(value)),
            "region": bool(_REGION.match(value)),
            "status": value in STATUSES,
            "source": value == "platform" or bool(_SOURCE.match(value)),
        }.get(name, True)
        if not ok:
            raise _bad("bad_filter", f"筛选条件 {name} 的值无效 (bad filter value)", field=name)
        out[name] = _date(name, value) if name.startswith("date_") else value
    if "date_from" in out and "date_to" in out and out["date_from"] > out["date_to"]:
        raise _bad("bad_date", "起始日期晚于截止日期 (date_from after date_to)", field="date_from")
    return out


def _day(d: date) -> datetime:
    return datetime.combine(d, time.min, tzinfo=clock.CHINA)


def visible() -> QuerySet[PublicRecord]:
    projector.catch_up()
    return PublicRecord.objects.all()


def filtered(filters: Mapping[str, Any]) -> QuerySet[PublicRecord]:
    qs = visible()
    for name in ("kind", "category", "region", "procedure", "status"):
        if name in filters:
            qs = qs.filter(**{name: filters[name]})
    if "source" in filters:
        qs = qs.filter(source="" if filters["source"] == "platform" else filters["source"])
    if "date_from" in filters:
        qs = qs.filter(published_at__gte=_day(filters["date_from"]))
    if "date_to" in filters:
        qs = qs.filter(published_at__lt=_day(filters["date_to"] + timedelta(days=1)))
    return qs.order_by("-published_at", "-seq")


@dataclass
class Page:
    rows: list[PublicRecord]
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def page_number(raw: Any) -> int:
    try:
        number = int(str(raw or "1"))
    except ValueError:
        raise _bad("bad_page", "页码无效 (bad page)", field="page") from None
    if not 1 <= number <= MAX_PAGE:
        raise _bad("bad_page", f"页码应为1–{MAX_PAGE} (page 1–{MAX_PAGE})", field="page")
    return number


def listing(filters: Mapping[str, Any], number: int = 1, size: int = PAGE_SIZE) -> Page:
    """One page, newest first: one query (the page and one row more, to know if there is a
    next page), without counting the whole result."""
    start = (number - 1) * size
    rows = list(filtered(filters).defer("search_text")[start : start + size + 1])
    return Page(rows[:size], number, len(rows) > size)


def timeline(project_code: str) -> list[PublicRecord]:
    """Every disclosed record of a project, in the order it was disclosed."""
    code = str(project_code)[:64]
    rows = list(
        visible().filter(project_code=code).defer("search_text").order_by("published_at", "seq")
    )
    if not rows:
        raise NotFound("项目不存在或尚未公开 (no such disclosed project)",
                       code="project_not_found")  # fmt: skip
    return rows


def record(key: str) -> PublicRecord:
    row = visible().filter(key=str(key)[:120]).first()
    if row is None:
        raise NotFound("记录不存在 (no such record)", code="record_not_found")
    return row


# --- the change feed ---------------------------------------------------------------------------


def feed_delay() -> timedelta:
    """How old a change must be before the feed serves it (``GGZY_FEED_DELAY_SECONDS``).

    Positions are handed out and committed in order under the projector's lock, so a reader
    cannot see position n+1 before n; the delay is a second guard for records written by other
    paths (an import, an operator's repair) whose transaction might commit late."""
    return timedelta(seconds=float(getattr(settings, "GGZY_FEED_DELAY_SECONDS", 1)))


def parse_cursor(raw: Any) -> int:
    value = str(raw or "0")
    if not value.isdigit() or len(value) > 18:
        raise _bad("bad_cursor", "游标无效 (bad cursor)", field="after")
    return int(value)


def parse_limit(raw: Any, default: int = 100) -> int:
    value = str(raw if raw not in (None, "") else default)
    if not value.isdigit() or not 1 <= int(value) <= FEED_LIMIT:
        raise _bad("bad_limit", f"每页条数应为1–{FEED_LIMIT} (limit 1–{FEED_LIMIT})", field="limit")
    return int(value)


def changes(after: int, limit: int) -> tuple[list[dict[str, Any]], int, bool]:
    """Records changed after position ``after``, in position order: (rows, next cursor, more).
    A reader stores the cursor and asks again; replaying from 0 and keeping the last version of
    each key gives every public record exactly once."""
    projector.catch_up()
    settled = clock.now() - feed_delay()
    rows = list(
        PublicRecord.objects.filter(seq__gt=after)
        .order_by("seq")
        .values("key", "seq", "kind", "source", "project_code", "section_code", "title",
                "body", "category", "region", "procedure", "status", "published_at",
                "changed_at", "url", "data")[: limit + 1]
    )  # fmt: skip
    more = len(rows) > limit
    rows = rows[:limit]
    # stop before the first change that is not settled yet: never hand out a cursor past it
    for n, row in enumerate(rows):
        if row["changed_at"] > settled:
            rows, more = rows[:n], True
            break
    return rows, (rows[-1]["seq"] if rows else after), more
