"""What a live draw reads from the pool: the section's parties and related entities, who served
the same tenderer lately, who was drawn for the section before — and, per stratum, the
candidates (``PoolSource``, the ``draw_select.Source`` of a live draw).

Reads go to the draw table ``experts_expertspecialty`` through two indexes: ``expertspec_draw
(specialty, status, region, expert)`` for a stratum's size and, for a small stratum, its id list;
``expertspec_probe (expert, specialty, status, region, suspended_until)`` for the probes of a
large one (is expert k a candidate? an index-only lookup). Avoidance facts are read for the few
candidates examined only, in the same round trip as the probe: the expert row by primary key,
open declared conflicts with the section's parties, unavailability that day. A draw of three
quotas makes about a dozen queries, whatever the size of the pool.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db import connection

from ggzy.experts import draw_seal, draw_select
from ggzy.experts.draw_models import Draw
from ggzy.experts.draw_select import (
    Parties,
    StratumSpec,
    Stream,
    first_batch,
    id_probes,
    stratum_key,
)
from ggzy.experts.draw_states import DrawnStatus
from ggzy.experts.states import IN_POOL, ExpertStatus

TABLE = "experts_expertspecialty"
COUNT_CAP = 5_001  # rows counted per stratum at most: just past the threshold


def _in(values: Iterable[Any]) -> tuple[str, list[Any]]:
    items = list(values)
    return ", ".join(["%s"] * len(items)), items


def _rows(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return list(cur.fetchall())


# --- the draw's context ----------------------------------------------------------------------------


def parties_of(
    section_id: int, tenderer: int, agent: int | None
) -> tuple[Parties, dict[str, list[int]]]:
    """The bidders (known once the opening unsealed the register), the tenderer and the agent,
    the entities related to one of them by the same legal representative ID, and each legal
    representative ID -> the parties it represents. One query: the parties, and every other
    entity sharing a legal representative ID with one of them."""
    named = [tenderer] + ([agent] if agent else [])
    marks, params = _in(named)
    bidders_sql = (
        "SELECT b.entity_id FROM bidding_bid b WHERE b.section_id = %s AND b.entity_id IS NOT NULL"
    )
    party_sql = f"(id IN ({bidders_sql}) OR id IN ({marks}))"
    rows = _rows(
        f"SELECT id, legal_representative_id, {party_sql}, id IN ({bidders_sql}) "
        f"FROM registry_entity WHERE {party_sql} OR (legal_representative_id <> '' AND "
        f"legal_representative_id IN (SELECT legal_representative_id FROM registry_entity "
        f"WHERE {party_sql}))",
        [section_id, *params, section_id, section_id, *params, section_id, *params],
    )
    bidders = frozenset(int(pk) for pk, _, _, is_bidder in rows if is_bidder)
    reps: dict[str, list[int]] = {}
    for pk, rep, is_party, _ in rows:
        if is_party and rep:
            reps.setdefault(rep.upper(), []).append(int(pk))
    related: dict[int, list[int]] = {}
    for pk, rep, is_party, _ in rows:
        if not is_party and rep and rep.upper() in reps:
            related.setdefault(int(pk), []).extend(reps[rep.upper()])
    parties = Parties(bidders, tenderer, agent, {k: sorted(set(v)) for k, v in related.items()})
    return parties, {k: sorted(v) for k, v in reps.items()}


def drawn_before(draw: Draw, tenderer: int, day: date) -> tuple[dict[str, list[str]], set[str]]:
    """Who to avoid from earlier draws, by invitee tag, in one query: experts who confirmed for
    a project of the same tenderer evaluated within the window before ``day`` (tag -> those
    draws), and experts drawn for the same section by an earlier draw (any answer)."""
    start = day - timedelta(days=draw.avoid_days)
    rows = _rows(
        # two index paths, not one OR: the section's draws; the tenderer's projects' draws
        "SELECT x.invitee_tag, d.public_id, 1 FROM experts_drawnexpert x "
        "JOIN experts_draw d ON d.id = x.draw_id WHERE d.section_id = %s AND d.id <> %s "
        "UNION ALL SELECT x.invitee_tag, d.public_id, 0 FROM tendering_project p "
        "JOIN tendering_section s ON s.project_id = p.id JOIN experts_draw d ON d.section_id = s.id "
        "JOIN experts_drawnexpert x ON x.draw_id = d.id WHERE p.tenderer_id = %s "
        "AND d.section_id <> %s AND x.status = %s AND d.evaluation_date >= %s "
        "AND d.evaluation_date <= %s",
        [draw.section_id, draw.pk, tenderer, draw.section_id, DrawnStatus.CONFIRMED, start, day],
    )
    served: dict[str, set[str]] = {}
    previous: set[str] = set()
    for tag, public_id, same_section in rows:
        if same_section:
            previous.add(tag)
        else:
            served.setdefault(tag, set()).add(public_id)
    return {k: sorted(v) for k, v in served.items()}, previous


def subtrees(
    regions: Iterable[str], specialties: Iterable[str]
) -> tuple[dict[str, set[str]], dict[str, list[int]]]:
    """Each region code named -> it and every region under it; each specialty code -> its id and
    the ids of every sub-specialty, as ``selectors.subtree_ids`` has it (``A01`` covers
    ``A01.*``, a class ``A`` every ``A…``). One query (a recursive one for the regions)."""
    named_r = sorted(set(regions))
    named_s = sorted({c.strip().upper() for c in specialties})
    parts, params = [], []
    if named_r:
        _, p = _in(named_r)
        parts.append("SELECT 0, t.root, t.code, 0 FROM t")
        params += p
    if named_s:
        where = []
        for code in named_s:
            where.append("code = %s OR code LIKE %s")
            params += [code, (code if len(code) == 1 else code + ".") + "%"]
        parts.append(f"SELECT 1, '', code, id FROM experts_specialty WHERE {' OR '.join(where)}")
    trees_r: dict[str, set[str]] = {code: set() for code in named_r}
    trees_s: dict[str, list[int]] = {code: [] for code in named_s}
    if not parts:
        return trees_r, trees_s
    sql = " UNION ALL ".join(parts)
    if named_r:
        sql = (
            "WITH RECURSIVE t(root, code) AS (SELECT code, code FROM registry_region WHERE code IN "
            f"({_in(named_r)[0]}) UNION ALL SELECT t.root, r.code FROM registry_region r JOIN t "
            f"ON r.parent_id = t.code) {sql}"
        )
    for kind, root, code, pk in _rows(sql, params):
        if kind == 0:
            trees_r[root].add(code)
            continue
        for name in named_s:
            below = name if len(name) == 1 else name + "."
            if code == name or code.startswith(below):
                trees_s[name].append(int(pk))
    return trees_r, {k: sorted(v) for k, v in trees_s.items()}


def max_expert_id() -> int:
    rows = _rows("SELECT max(id) FROM experts_expert", [])
    return int(rows[0][0] or 0)


# --- a stratum's candidates and their facts -----------------------------------------------------


def _where(
    spec: StratumSpec, status_sql: str, status_params: list[Any], alias: str = ""
) -> tuple[str, list[Any]]:
    a = f"{alias}." if alias else ""
    marks, params = _in(spec.specialties)
    sql = f"{a}specialty_id IN ({marks}) AND {status_sql}"
    params += status_params
    if spec.include is not None:
        if not spec.include:
            sql += " AND 1 = 0"
        else:
            m, p = _in(spec.include)
            sql += f" AND {a}region_id IN ({m})"
            params += p
    if spec.exclude:
        m, p = _in(spec.exclude)
        sql += f" AND {a}region_id NOT IN ({m})"
        params += p
    return sql, params


def _branches(spec: StratumSpec, day: date) -> tuple[str, list[Any]]:
    """The stratum's rows as two index ranges: active; suspended with the suspension lapsed."""
    active, p1 = _where(spec, "status = %s", [ExpertStatus.ACTIVE])
    lapsed, p2 = _where(spec, "status = %s AND suspended_until < %s", [ExpertStatus.SUSPENDED, day])
    sql = (
        f"SELECT expert_id FROM {TABLE} WHERE {active} "
        f"UNION ALL SELECT expert_id FROM {TABLE} WHERE {lapsed}"
    )
    return sql, [*p1, *p2]


def _facts_sql(
    hits_sql: str, hits_params: list[Any], day: date, avoided: list[int]
) -> tuple[str, list[Any]]:
    """Rows ``(kind, expert, a, b, c)`` for the experts ``hits_sql`` selects (column ``id``):
    kind 0 the expert (employer, region, resident ID), 1 unavailable that day, 2 a declared
    conflict (entity) with an avoided entity."""
    sql = (
        f"WITH h AS ({hits_sql}) "
        "SELECT 0, x.id, x.employer_id, x.region_id, x.resident_id FROM experts_expert x "
        "JOIN h ON x.id = h.id "
        "UNION ALL SELECT 1, u.expert_id, NULL, NULL, NULL FROM experts_unavailability u "
        'JOIN h ON u.expert_id = h.id WHERE u.start <= %s AND u."end" >= %s'
    )
    params = [*hits_params, day, day]
    if avoided:
        marks, p = _in(avoided)
        sql += (
            " UNION ALL SELECT 2, c.expert_id, c.entity_id, NULL, NULL FROM "
            "experts_declaredconflict c JOIN h ON c.expert_id = h.id WHERE c.withdrawn_at IS NULL "
            f"AND c.entity_id IN ({marks})"
        )
        params += p
    return sql, params


@dataclass
class TableEstimate:
    """The planner's statistics of the draw table (``pg_stats``): rows, and the share of rows
    per specialty, region and status. Only sizes the first probes of a stratum; a wrong
    estimate costs a round trip, never a different draw."""

    rows_total: float = 0.0
    shares: dict[str, dict[str, float]] = field(default_factory=dict)
    rest: dict[str, float] = field(default_factory=dict)  # share of a value not in the list
    at: float = 0.0

    def share(self, column: str, value: Any) -> float:
        return self.shares.get(column, {}).get(str(value), self.rest.get(column, 0.0))

    def rows(self, spec: StratumSpec) -> float:
        if not self.rows_total:
            return 0.0
        specialty = sum(self.share("specialty_id", s) for s in spec.specialties)
        regions = set(self.shares.get("region_id", {}))
        if spec.include is not None:
            region = sum(self.share("region_id", r) for r in spec.include)
        else:
            region = 1.0 - sum(self.share("region_id", r) for r in spec.exclude if r in regions)
        # an expert has about 1.8 rows; a subtree quota counts some experts more than once
        per_expert = 1.0 if len(spec.specialties) == 1 else 1.5
        return (
            self.rows_total
            * specialty
            * max(region, 0.0)
            * self.share("status", "active")
            / per_expert
        )


_ESTIMATE = TableEstimate()
ESTIMATE_SECONDS = 300


def table_estimate() -> TableEstimate:
    global _ESTIMATE
    if connection.vendor != "postgresql":
        return TableEstimate()
    now = time.monotonic()
    if _ESTIMATE.at and now - _ESTIMATE.at < ESTIMATE_SECONDS:
        return _ESTIMATE
    out = TableEstimate(at=now)
    rows = _rows(
        "SELECT s.attname, s.most_common_vals::text, s.most_common_freqs, s.n_distinct, "
        "c.reltuples FROM pg_stats s JOIN pg_class c ON c.relname = s.tablename "
        "WHERE s.schemaname = current_schema() AND s.tablename = %s "
        "AND s.attname IN ('specialty_id', 'region_id', 'status')",
        [TABLE],
    )
    for column, values, freqs, distinct, total in rows:
        out.rows_total = max(float(total or 0), 0.0)
        names = [v.strip('"') for v in (values or "{}").strip("{}").split(",") if v]
        shares = {n: float(f) for n, f in zip(names, freqs or [], strict=False)}
        out.shares[column] = shares
        distinct = float(distinct or 0)
        if distinct < 0:
            distinct = -distinct * out.rows_total
        others = distinct - len(shares)
        out.rest[column] = max(0.0, 1.0 - sum(shares.values())) / others if others > 0 else 0.0
    _ESTIMATE = out
    return out


@dataclass
class PoolContext:
    """What every stratum of one live draw shares (and the facts read so far)."""

    day: date
    parties: Parties
    reps: dict[str, list[int]]  # legal representative ID -> parties
    served: dict[str, list[str]]
    previous: set[str]
    max_id: int = 0
    methods: dict[tuple[str, str], tuple[str, int]] = field(default_factory=dict)
    known: dict[int, dict[str, Any]] = field(default_factory=dict)
    probed: dict[tuple[str, str], tuple[set[int], set[int]]] = field(default_factory=dict)
    lists: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    queries: int = 0

    def prepare(self, specs: list[StratumSpec]) -> None:
        """The largest expert id, and each stratum's way (``list`` when it has at most
        ``LIST_MAX`` rows), in one query: counts that stop past the threshold."""
        limit = draw_select.LIST_MAX
        parts, params = ["(SELECT max(id) FROM experts_expert)"], []
        for spec in specs:
            if not spec.specialties:
                continue
            sql, p = _branches(spec, self.day)
            parts.append(f"(SELECT count(*) FROM ({sql} LIMIT %s) AS t{len(parts)})")
            params += [*p, COUNT_CAP]  # past the threshold, to size the probes (speed only)
        counts = list(_rows("SELECT " + ", ".join(parts), params)[0])
        self.queries += 1
        self.max_id = int(counts.pop(0) or 0)
        for spec in specs:
            rows = int(counts.pop(0)) if spec.specialties else 0
            self.methods[stratum_key(spec)] = ("list" if rows <= limit else "ids", rows)

    def first_batch(self, spec: StratumSpec) -> int:
        """The first probes of an id-space stratum: enough for its need at the share of the id
        space the planner's statistics give it (PostgreSQL), else the engine's default."""
        rows = table_estimate().rows(spec)
        density = rows / self.max_id if self.max_id and rows else 0.0
        return first_batch(spec.need, min(density, 1.0))

    def prefetch(self, seed: bytes, specs: list[StratumSpec]) -> None:
        """One round trip for the start of every stratum: the id list of each list-way
        stratum, and which of each id-space stratum's first probes (``first_batch``) are
        candidates, with those candidates' facts. Speed only: the engine asks for exactly
        these and gets them from here."""
        hits, hit_params, lists, list_params = [], [], [], []
        status = "(e.status = %s OR (e.status = %s AND e.suspended_until < %s))"
        for k, spec in enumerate(specs):
            key = stratum_key(spec)
            if not spec.specialties or key not in self.methods:
                continue
            if self.methods[key][0] == "list":
                sql, p = _branches(spec, self.day)
                lists.append(f"SELECT 4, {k}, expert_id, NULL, NULL FROM ({sql}) AS l{k}")
                list_params += p
                continue
            stream = Stream(seed, spec.quota, spec.name, "ids")
            probe = sorted(
                {
                    v
                    for _, (_, v) in zip(
                        range(self.first_batch(spec)),
                        id_probes(stream, self.max_id, draw_select.PROBE_LIMIT),
                        strict=False,
                    )
                }
            )
            self.probed[key] = (set(probe), set())
            cond, p = _where(
                spec, status, [ExpertStatus.ACTIVE, ExpertStatus.SUSPENDED, self.day], "e"
            )
            if connection.vendor == "postgresql":
                hits.append(
                    f"SELECT {k} AS k, e.expert_id AS id FROM unnest(%s::bigint[]) AS p(id) "
                    f"JOIN {TABLE} e ON e.expert_id = p.id WHERE {cond}"
                )
                hit_params += [probe, *p]
            else:
                marks, _ = _in(probe)
                hits.append(
                    f"SELECT {k} AS k, e.expert_id AS id FROM {TABLE} e "
                    f"WHERE e.expert_id IN ({marks}) AND {cond}"
                )
                hit_params += [*probe, *p]
        if not hits and not lists:
            return
        if hits:
            sql, params = _facts_sql(
                "SELECT DISTINCT id FROM hk", [], self.day, sorted(self.parties.avoided)
            )
            sql = sql.replace("WITH h AS", f"WITH hk AS ({' UNION ALL '.join(hits)}), h AS", 1)
            sql += " UNION ALL SELECT DISTINCT 3, k, id, NULL, NULL FROM hk"
            params = [*hit_params, *params]
        else:
            sql, params = "SELECT 0, 0, 0, NULL, NULL WHERE 1 = 0", []
        if lists:
            sql += " UNION ALL " + " UNION ALL ".join(lists)
            params += list_params
        keys = [stratum_key(spec) for spec in specs]
        found: dict[int, set[int]] = {}
        listed: dict[int, set[int]] = {}
        rest = []
        for row in _rows(sql, params):
            if row[0] == 3:
                found.setdefault(int(row[1]), set()).add(int(row[2]))
            elif row[0] == 4:
                listed.setdefault(int(row[1]), set()).add(int(row[2]))
            else:
                rest.append(row)
        self.queries += 1
        self._remember(rest)
        for k, key in enumerate(keys):
            if key in self.probed and k in range(len(specs)):
                self.probed[key] = (self.probed[key][0], found.get(k, set()))
            if self.methods.get(key, ("", 0))[0] == "list" and specs[k].specialties:
                self.lists[key] = sorted(listed.get(k, set()))

    def read_facts(self, sql: str, params: list[Any]) -> set[int]:
        """Run a facts query; remember the facts; return the experts it found."""
        rows = _rows(sql, params)
        self.queries += 1
        return self._remember(rows)

    def _remember(self, rows: list[tuple[Any, ...]]) -> set[int]:
        found: set[int] = set()
        for kind, expert, a, b, c in sorted(rows, key=lambda r: (r[0], r[1], r[2] or 0)):
            expert = int(expert)
            if kind == 0:
                tag = draw_seal.invitee_tag(expert)
                found.add(expert)
                self.known[expert] = {
                    "employer": int(a),
                    "region": b,
                    "declared": [],
                    "represents": self.reps.get((c or "").upper(), []),
                    "unavailable": False,
                    "served": self.served.get(tag, []),
                    "previous": tag in self.previous,
                }
            elif kind == 1:
                self.known[expert]["unavailable"] = True
            else:
                declared = self.known[expert]["declared"]
                if int(a) not in declared:
                    declared.append(int(a))
        return found

    def facts(self, ids: list[int]) -> dict[int, dict[str, Any]]:
        missing = sorted({v for v in ids if v not in self.known})
        if missing:
            if connection.vendor == "postgresql":
                hits, params = "SELECT unnest(%s::bigint[]) AS id", [missing]
            else:
                marks, params = _in(missing)
                hits = f"SELECT id FROM experts_expert WHERE id IN ({marks})"
            self.read_facts(*_facts_sql(hits, params, self.day, sorted(self.parties.avoided)))
        return {v: self.known[v] for v in ids if v in self.known}


class PoolSource:
    """A stratum's candidates in the live pool."""

    def __init__(self, ctx: PoolContext, spec: StratumSpec) -> None:
        self.ctx, self.spec = ctx, spec

    def method(self) -> str:
        key = stratum_key(self.spec)
        if key not in self.ctx.methods:
            self.ctx.prepare([self.spec])
        return self.ctx.methods[key][0]

    def first_batch(self) -> int:
        return self.ctx.first_batch(self.spec)

    def list_ids(self) -> list[int]:
        if not self.spec.specialties:
            return []
        prefetched = self.ctx.lists.get(stratum_key(self.spec))
        if prefetched is not None:
            return prefetched
        sql, params = _branches(self.spec, self.ctx.day)
        self.ctx.queries += 1
        return [
            int(r[0])
            for r in _rows(
                f"SELECT DISTINCT expert_id FROM ({sql}) AS t ORDER BY expert_id", params
            )
        ]

    def max_id(self) -> int:
        return self.ctx.max_id

    def hits(self, ids: list[int]) -> set[int]:
        """Which probed ids are candidates — with their facts, in the same round trip."""
        if not ids or not self.spec.specialties:
            return set()
        probed = self.ctx.probed.get(stratum_key(self.spec))
        if probed is not None and probed[0].issuperset(ids):
            return {v for v in ids if v in probed[1]}
        status = "(e.status = %s OR (e.status = %s AND e.suspended_until < %s))"
        cond, params = _where(
            self.spec, status, [ExpertStatus.ACTIVE, ExpertStatus.SUSPENDED, self.ctx.day], "e"
        )
        probe = sorted(set(ids))
        if connection.vendor == "postgresql":
            hits = (
                f"SELECT DISTINCT e.expert_id AS id FROM unnest(%s::bigint[]) AS p(id) "
                f"JOIN {TABLE} e ON e.expert_id = p.id WHERE {cond}"
            )
            hit_params = [probe, *params]
        else:
            marks, _ = _in(probe)
            hits = (
                f"SELECT DISTINCT e.expert_id AS id FROM {TABLE} e "
                f"WHERE e.expert_id IN ({marks}) AND {cond}"
            )
            hit_params = [*probe, *params]
        return self.ctx.read_facts(
            *_facts_sql(hits, hit_params, self.ctx.day, sorted(self.ctx.parties.avoided))
        )

    def facts(self, ids: list[int]) -> dict[int, dict[str, Any]]:
        return self.ctx.facts(ids)


# --- the binding constraint of an unfillable stratum ---------------------------------------------


def pool_counts(spec: StratumSpec, day: date) -> dict[str, int]:
    """Distinct experts of the stratum's specialties in the pool, of those drawable on the day,
    and of those in the allowed regions (the stratum's candidates)."""
    if not spec.specialties:
        return {"specialty": 0, "status": 0, "region": 0}
    marks, params = _in(spec.specialties)
    smarks, sparams = _in(sorted(IN_POOL))
    drawable = StratumSpec(spec.quota, spec.name, spec.need, spec.specialties, None, [])
    sql1, p1 = _branches(drawable, day)
    sql2, p2 = _branches(spec, day)
    row = _rows(
        f"SELECT (SELECT count(DISTINCT expert_id) FROM {TABLE} WHERE specialty_id IN ({marks}) "
        f"AND status IN ({smarks})), (SELECT count(DISTINCT expert_id) FROM ({sql1}) AS a), "
        f"(SELECT count(DISTINCT expert_id) FROM ({sql2}) AS b)",
        [*params, *sparams, *p1, *p2],
    )[0]
    return {"specialty": int(row[0]), "status": int(row[1]), "region": int(row[2])}


def seating_conflicts(
    section_id: int, tenderer: int, agent: int | None, experts: list[int], day: date
) -> dict[int, list[str]]:
    """Expert id -> why a draw would have skipped them for this section on ``day`` (only those
    with a reason): the draw's own facts and ``draw_select.reasons``, so a committee typed in or
    seated later can never disagree with a draw. The window rules of a draw (served the same
    tenderer, drawn for the section before) are the draw's, not the seat's."""
    if not experts:
        return {}
    parties, reps = parties_of(section_id, tenderer, agent)
    ctx = PoolContext(day=day, parties=parties, reps=reps, served={}, previous=set())
    facts = ctx.facts(sorted(set(experts)))
    out: dict[int, list[str]] = {}
    for pk in experts:
        why = draw_select.reasons(facts.get(pk, {}), parties, already=False)
        if why:
            out[pk] = why
    return out
