"""Full-text search over the public records (全文检索): announcements, documents' extracted
text, results and entities, in Chinese.

One interface, two engines chosen by ``connection.vendor`` (:mod:`.search_backends`): SQLite
FTS5 ranked by bm25 on the embedded database, a PostgreSQL ``tsvector`` with a GIN index ranked
by ``ts_rank`` in production. Both index the same thing, a :class:`SearchEntry` per record:
the words jieba finds (:mod:`.search_segment`) in the title, the shown text and the documents'
text, and the record's filter values as facet tokens.

* writing: :func:`index_records` / :func:`index_record` upsert entries (idempotent: an entry
  already at the record's ``seq`` is left alone), :func:`remove` drops one, :func:`reindex`
  rebuilds everything in batches;
* reading: :func:`search` segments the query the same way and finds the records holding every
  word (when none does and there are several words, those holding any of them, flagged
  ``relaxed``), best first, with the title and a snippet of the shown text highlighted;
  :func:`parse_params` turns an API or page query string into :func:`search`'s arguments.

A refusal is a :class:`ValidationFailed` with one of the codes in :data:`REFUSALS`."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connections, transaction

from ggzy.core.errors import ValidationFailed
from ggzy.disclosure import projector
from ggzy.disclosure import search_segment as seg
from ggzy.disclosure.models import PublicRecord, RecordKind, SearchEntry
from ggzy.disclosure.search_backends import COUNT_CAP, Match, engine_for

MAX_QUERY_CHARS = 100
MAX_LIMIT = 100
MAX_OFFSET = 10_000
MAX_FILTER_CHARS = 64
SNIPPET_CHARS = 120
FILTERS = ("kind", "category", "region", "procedure", "status", "source")
PARAMS = frozenset({"q", *FILTERS, "date_from", "date_to", "limit", "offset"})
REFUSALS = ("query_empty", "query_too_long", "unknown_filter", "bad_filter", "bad_date",
            "bad_page")  # fmt: skip
# control characters, lone surrogates and non-characters: never sent to a database
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


class UnknownFilter(ValidationFailed):
    """A query-string parameter the search does not have (400, not ignored)."""

    status = 400
    code = "unknown_filter"


# --- results ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchHit:
    record: PublicRecord
    score: float
    title_html: str  # HTML-escaped title, matched words in <mark>
    snippet_html: str  # HTML-escaped excerpt of the shown text, matched words in <mark>


@dataclass(frozen=True)
class SearchPage:
    q: str
    terms: list[str]
    hits: list[SearchHit]
    total: int  # exact when ``total_exact``, else a lower bound (COUNT_CAP)
    total_exact: bool
    limit: int
    offset: int
    relaxed: bool = False  # no record holds every word: these hold some of them
    filters: dict[str, str] = field(default_factory=dict)

    @property
    def has_next(self) -> bool:
        if len(self.hits) < self.limit or self.offset + self.limit > MAX_OFFSET:
            return False
        return not self.total_exact or self.offset + len(self.hits) < self.total


# --- indexing -----------------------------------------------------------------------------------


def entry_for(record: PublicRecord) -> SearchEntry:
    """The index entry of ``record`` (not saved)."""
    return SearchEntry(
        record_id=record.pk,
        record_seq=record.seq,
        title_tokens=seg.token_text(record.title),
        body_tokens=seg.token_text(record.body, limit=seg.MAX_TEXT_CHARS),
        text_tokens=seg.token_text(record.search_text, limit=seg.MAX_TEXT_CHARS),
        facets=seg.facet_text({name: getattr(record, name) for name in FILTERS}),
    )


def write_entries(entries: list[SearchEntry], *, using: str = "default") -> None:
    """Upsert ``entries`` in one statement (the FTS5 triggers / generated column follow)."""
    if entries:
        SearchEntry.objects.using(using).bulk_create(
            entries,
            update_conflicts=True,
            unique_fields=["record"],
            update_fields=["record_seq", "title_tokens", "body_tokens", "text_tokens", "facets"],
        )


def index_records(records: Iterable[PublicRecord], *, using: str = "default") -> int:
    """Index ``records`` (saved ones); entries already at the record's ``seq`` are skipped.
    Returns how many entries were written."""
    records = [r for r in records if r.pk is not None]
    current = dict(
        SearchEntry.objects.using(using)
        .filter(record_id__in=[r.pk for r in records])
        .values_list("record_id", "record_seq")
    )
    entries = [entry_for(r) for r in records if current.get(r.pk) != r.seq]
    with transaction.atomic(using=using):
        write_entries(entries, using=using)
    return len(entries)


def index_record(record: PublicRecord, *, using: str = "default") -> bool:
    """Index one record (the projector calls it after writing the record). True if written."""
    return index_records([record], using=using) == 1


def remove(key: str, *, using: str = "default") -> bool:
    """Drop the index entry of the record ``key``. True if there was one."""
    deleted, _ = SearchEntry.objects.using(using).filter(record__key=key).delete()
    return deleted > 0


def _batches(using: str, size: int) -> Iterator[list[PublicRecord]]:
    last = 0
    qs = PublicRecord.objects.using(using).order_by("pk")
    while batch := list(qs.filter(pk__gt=last)[:size]):
        yield batch
        last = batch[-1].pk


def reindex(*, batch_size: int = 2000, using: str = "default") -> int:
    """Rebuild the whole index from :class:`PublicRecord`: entries of records that are gone are
    dropped, every other record is indexed afresh, ``batch_size`` records a transaction."""
    count = 0
    with transaction.atomic(using=using):
        SearchEntry.objects.using(using).exclude(
            record_id__in=PublicRecord.objects.using(using).values("pk")
        ).delete()
    for batch in _batches(using, batch_size):
        with transaction.atomic(using=using):
            write_entries([entry_for(r) for r in batch], using=using)
        count += len(batch)
    return count


# --- query parsing ------------------------------------------------------------------------------


def _refuse(code: str, message: str, detail: Any = None) -> ValidationFailed:
    return ValidationFailed(message, code=code, detail=detail)


def _clean_query(q: str) -> tuple[str, list[str]]:
    q = _UNSAFE.sub(" ", q).strip()
    if len(q) > MAX_QUERY_CHARS:
        raise _refuse("query_too_long",
                      f"检索词过长，最多 {MAX_QUERY_CHARS} 个字符 (query longer than "
                      f"{MAX_QUERY_CHARS} characters)", {"max": MAX_QUERY_CHARS,
                                                          "length": len(q)})  # fmt: skip
    terms = seg.query_terms(q)
    if not terms:
        raise _refuse("query_empty", "请输入检索词 (the query has no words to search for)")
    return q, terms


def _clean_filters(values: Mapping[str, str | None]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in FILTERS:
        value = values.get(name)
        value = (value or "").strip()
        if not value:
            continue
        if len(value) > MAX_FILTER_CHARS or _UNSAFE.search(value):
            raise _refuse("bad_filter", f"筛选条件 {name} 的值无效 (bad value for {name})",
                          {"filter": name})  # fmt: skip
        if name == "kind" and value not in RecordKind.values:
            raise _refuse("bad_filter", f"没有这种公开记录类别 (no such kind): {value}",
                          {"filter": name, "allowed": list(RecordKind.values)})  # fmt: skip
        out[name] = value
    return out


def _parse_date(name: str, value: date | str | None) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise _refuse("bad_date", f"日期应为 YYYY-MM-DD (bad date for {name})",
                      {"filter": name, "value": value[:40]}) from None  # fmt: skip


def _day_start(d: date) -> datetime:
    return datetime.combine(d, time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))


def _parse_int(name: str, value: int | str, default: int) -> int:
    if isinstance(value, int):
        return value
    if value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise _refuse("bad_page", f"{name} 应为整数 ({name} must be an integer)",
                      {"param": name}) from None  # fmt: skip


def parse_params(params: Mapping[str, str]) -> dict[str, Any]:
    """An API or page query string as :func:`search`'s keyword arguments; a name that is not a
    parameter is refused (``unknown_filter``), values are checked by :func:`search`."""
    unknown = sorted(set(params) - PARAMS)
    if unknown:
        raise UnknownFilter(
            f"未知的筛选条件 (unknown filter): {', '.join(unknown)[:200]}",
            detail={"unknown": unknown[:20], "allowed": sorted(PARAMS)},
        )
    out: dict[str, Any] = {name: params[name] for name in PARAMS if name in params}
    out["q"] = params.get("q", "")
    out["limit"] = _parse_int("limit", params.get("limit", ""), 20)
    out["offset"] = _parse_int("offset", params.get("offset", ""), 0)
    return out


# --- highlighting -------------------------------------------------------------------------------


def _pattern(terms: list[str]) -> re.Pattern[str]:
    words = sorted(set(terms), key=len, reverse=True)
    return re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)


def mark(text: str, pattern: re.Pattern[str]) -> str:
    """``text`` HTML-escaped, with every match of ``pattern`` in ``<mark>``."""
    out, pos = [], 0
    for m in pattern.finditer(text):
        out.append(html.escape(text[pos : m.start()]))
        out.append(f"<mark>{html.escape(m.group())}</mark>")
        pos = m.end()
    out.append(html.escape(text[pos:]))
    return "".join(out)


def snippet(text: str, pattern: re.Pattern[str], *, width: int = SNIPPET_CHARS) -> str:
    """A window of ``text`` around its first match (or its start), highlighted."""
    text = " ".join(text.split())
    m = pattern.search(text)
    start = 0 if m is None else max(0, m.start() - width // 4)
    piece = text[start : start + width]
    return (("…" if start else "") + mark(piece, pattern)
            + ("…" if start + width < len(text) else ""))  # fmt: skip


# --- searching ----------------------------------------------------------------------------------


def search(
    q: str,
    *,
    kind: str | None = None,
    category: str | None = None,
    region: str | None = None,
    procedure: str | None = None,
    status: str | None = None,
    source: str | None = None,
    date_from: date | str | None = None,
    date_to: date | str | None = None,
    limit: int = 20,
    offset: int = 0,
    using: str = "default",
) -> SearchPage:
    """The records matching ``q`` and the filters, best first. An empty filter is no filter;
    ``date_from``/``date_to`` are inclusive days in the platform's time zone.

    The projector catches up first (as every listing does), so a record disclosed by the
    request before is found; it works on the default database, whatever ``using`` is."""
    if not 1 <= limit <= MAX_LIMIT or not 0 <= offset <= MAX_OFFSET:
        raise _refuse("bad_page", f"每页 1–{MAX_LIMIT} 条，偏移不超过 {MAX_OFFSET} (limit must be "
                      f"1–{MAX_LIMIT}, offset 0–{MAX_OFFSET})",
                      {"limit": limit, "offset": offset})  # fmt: skip
    q, terms = _clean_query(q if isinstance(q, str) else "")
    filters = _clean_filters({"kind": kind, "category": category, "region": region,
                              "procedure": procedure, "status": status,
                              "source": source})  # fmt: skip
    day_from, day_to = _parse_date("date_from", date_from), _parse_date("date_to", date_to)
    if day_from and day_to and day_from > day_to:
        raise _refuse(
            "bad_date",
            "开始日期晚于结束日期 (date_from is after date_to)",
            {"date_from": day_from.isoformat(), "date_to": day_to.isoformat()},
        )
    projector.catch_up()
    if day_from:
        filters["date_from"] = day_from.isoformat()
    if day_to:
        filters["date_to"] = day_to.isoformat()
    match = Match(
        terms=terms,
        facets=seg.facet_tokens((n, v) for n, v in filters.items() if n in FILTERS),
        published_from=_day_start(day_from) if day_from else None,
        published_before=_day_start(day_to + timedelta(days=1)) if day_to else None,
    )
    engine = engine_for(connections[using])
    ranked = engine.ranked(match, limit=limit, offset=offset)
    # no record holds every word: fall back to those holding any (a later page of such a
    # search finds the same: the all-words count is zero)
    relaxed = (not ranked and len(terms) > 1
               and (offset == 0 or engine.count(match, cap=1) == 0))  # fmt: skip
    if relaxed:
        match = replace(match, any_term=True)
        ranked = engine.ranked(match, limit=limit, offset=offset)
        relaxed = bool(ranked) or offset > 0
    if len(ranked) < limit and (ranked or offset == 0):
        total = offset + len(ranked)  # the last page: no count needed
    elif engine.total is not None:
        total = engine.total  # counted by the ranked query itself
    else:
        total = engine.count(match, cap=COUNT_CAP + 1)
    records = PublicRecord.objects.using(using).in_bulk([pk for pk, _ in ranked])
    pattern = _pattern(terms)
    hits = [
        SearchHit(record=records[pk], score=score, title_html=mark(records[pk].title, pattern),
                  snippet_html=snippet(records[pk].body, pattern))
        for pk, score in ranked if pk in records
    ]  # fmt: skip
    return SearchPage(q=q, terms=terms, hits=hits, total=min(total, COUNT_CAP),
                      total_exact=total <= COUNT_CAP, limit=limit, offset=offset,
                      relaxed=relaxed, filters=filters)  # fmt: skip
