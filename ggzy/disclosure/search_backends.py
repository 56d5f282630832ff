"""The two full-text engines behind :mod:`ggzy.disclosure.search`, chosen by
``connection.vendor``: SQLite FTS5 (bm25) and PostgreSQL ``tsvector`` (``ts_rank``).

Both receive already-segmented terms and facet tokens and pass them as bound parameters; the
user's text is never part of the SQL. FTS5 gets every term as a double-quoted string (a literal
phrase: ``"`` doubled inside), PostgreSQL gets them through ``plainto_tsquery('simple', …)``,
which has no operators. A filter is a facet token ANDed to the terms, so the engines intersect
posting lists instead of scanning the matches; the dates are checked on the joined record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from django.db.backends.base.base import BaseDatabaseWrapper

from ggzy.disclosure.search_segment import required_terms

RECORD = "disclosure_publicrecord"
ENTRY = "disclosure_searchentry"
FTS = "disclosure_search_fts"
COUNT_CAP = 1000  # totals above it are reported as "more than 1000"
# bm25 weights of the FTS5 columns: title, shown text, documents' text, facets
BM25 = "bm25(disclosure_search_fts, 10.0, 3.0, 1.0, 0.0)"


@dataclass(frozen=True)
class Match:
    """What to find: every term (``any_term``: at least one), every facet, the date range."""

    terms: list[str]
    facets: list[str]
    any_term: bool = False
    published_from: datetime | None = None
    published_before: datetime | None = None


class Engine(Protocol):
    # every match is visited to rank it: where the engine can, the ranked query also counts
    # them (``count(*) OVER ()``), so a page needs no second query; ``None``: ask ``count``
    total: int | None

    def ranked(self, m: Match, *, limit: int, offset: int) -> list[tuple[int, float]]: ...

    def count(self, m: Match, *, cap: int) -> int: ...


def _dates(conn: BaseDatabaseWrapper, m: Match, alias: str) -> tuple[str, list[Any]]:
    sql, params = "", []
    if m.published_from is not None:
        sql += f" AND {alias}.published_at >= %s"
        params.append(conn.ops.adapt_datetimefield_value(m.published_from))
    if m.published_before is not None:
        sql += f" AND {alias}.published_at < %s"
        params.append(conn.ops.adapt_datetimefield_value(m.published_before))
    return sql, params


class SQLiteEngine:
    def __init__(self, conn: BaseDatabaseWrapper) -> None:
        self.conn = conn
        self.total: int | None = None

    @staticmethod
    def expression(m: Match) -> str:
        """The FTS5 query: quoted strings only, so nothing the user typed is syntax."""
        words = m.terms if m.any_term else required_terms(m.terms)
        quoted = ['"' + t.replace('"', '""') + '"' for t in words]
        terms = " OR ".join(quoted) if m.any_term else " AND ".join(quoted)
        facets = " AND ".join('"' + f + '"' for f in m.facets)
        return f"({terms}) AND {facets}" if facets else f"({terms})"

    def _from(self, m: Match) -> tuple[str, list[Any]]:
        dates, params = _dates(self.conn, m, "r")
        join = f" JOIN {RECORD} r ON r.id = {FTS}.rowid" if dates else ""
        return (f"FROM {FTS}{join} WHERE {FTS} MATCH %s{dates}",
                [self.expression(m), *params])  # fmt: skip

    def ranked(self, m: Match, *, limit: int, offset: int) -> list[tuple[int, float]]:
        where, params = self._from(m)
        sql = (f"SELECT {FTS}.rowid, {BM25} AS score {where} "
               f"ORDER BY score, {FTS}.rowid DESC LIMIT %s OFFSET %s")  # fmt: skip
        with self.conn.cursor() as cur:
            cur.execute(sql, [*params, limit, offset])
            # bm25() is negative, lower is better: the page shows its opposite
            # (FTS5's auxiliary functions cannot sit beside a window function: no total here)
            return [(int(pk), -float(score)) for pk, score in cur.fetchall()]

    def count(self, m: Match, *, cap: int) -> int:
        where, params = self._from(m)
        with self.conn.cursor() as cur:
            cur.execute(f"SELECT count(*) FROM (SELECT 1 {where} LIMIT %s)", [*params, cap])
            return int(cur.fetchone()[0])


class PostgresEngine:
    def __init__(self, conn: BaseDatabaseWrapper) -> None:
        self.conn = conn
        self.total: int | None = None

    @staticmethod
    def _terms(m: Match) -> tuple[str, list[Any]]:
        if m.any_term:
            return (" || ".join(["plainto_tsquery('simple', %s)"] * len(m.terms)),
                    list(m.terms))  # fmt: skip
        return "plainto_tsquery('simple', %s)", [" ".join(required_terms(m.terms))]

    def _from(self, m: Match) -> tuple[str, list[Any]]:
        terms, params = self._terms(m)
        matched = f"({terms})"
        if m.facets:
            matched += " && plainto_tsquery('simple', %s)"
            params.append(" ".join(m.facets))
        dates, date_params = _dates(self.conn, m, "r")
        join = f" JOIN {RECORD} r ON r.id = e.record_id" if dates else ""
        return (f"FROM {ENTRY} e{join} WHERE e.search_vector @@ ({matched}){dates}",
                [*params, *date_params])  # fmt: skip

    def ranked(self, m: Match, *, limit: int, offset: int) -> list[tuple[int, float]]:
        # ranked by the terms alone (the facets only filter), by ts_rank: term frequency with
        # the weights (title A, shown text B, documents C), normalization 1 dividing by
        # 1 + log(length). ts_rank_cd (cover density) cost a third more per match and every
        # match is ranked. The rank is taken in the subquery, so the window that counts the
        # matches holds two numbers per match, not the vectors (which spill work_mem to disk)
        terms, term_params = self._terms(m)
        where, params = self._from(m)
        sql = (f"SELECT record_id, score, count(*) OVER () FROM (SELECT e.record_id, "
               f"ts_rank(e.search_vector, ({terms}), 1) AS score {where}) ranked "
               f"ORDER BY score DESC, record_id DESC LIMIT %s OFFSET %s")  # fmt: skip
        with self.conn.cursor() as cur:
            cur.execute(sql, [*term_params, *params, limit, offset])
            rows = cur.fetchall()
        self.total = int(rows[0][2]) if rows else None
        return [(int(pk), float(score)) for pk, score, _ in rows]

    def count(self, m: Match, *, cap: int) -> int:
        where, params = self._from(m)
        with self.conn.cursor() as cur:
            cur.execute(f"SELECT count(*) FROM (SELECT 1 {where} LIMIT %s) t", [*params, cap])
            return int(cur.fetchone()[0])


def engine_for(conn: BaseDatabaseWrapper) -> Engine:
    if conn.vendor == "sqlite":
        return SQLiteEngine(conn)
    if conn.vendor == "postgresql":
        return PostgresEngine(conn)
    raise NotImplementedError(f"no full-text search for {conn.vendor}")
