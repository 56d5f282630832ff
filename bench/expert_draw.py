"""The expert draw (专家抽取) from a pool of 1,000,000 experts on PostgreSQL (issue 5: p95 < 100
ms with three specialty quotas and five avoidance rules; ``verify-draw`` reproduces 1,000 of
1,000 recorded draws).

    .venv/bin/python bench/expert_draw.py                    # 1,000,000 experts, 1,000 draws
    .venv/bin/python bench/expert_draw.py --quick            # 100,000 experts, 200 draws

Setup (not timed), in a fresh PostgreSQL database: 16 cities in two provinces, a taxonomy of 6
classes × 4 groups × 3 leaves (two leaves rare, ~0.1 % of the pool each), 2,000 employer entities
(some sharing a legal representative with a party: R48's relation), 50 tenderers with 20 opened
sections each (5 bidders per section from 60 bidder entities; an agent on each project), and the
pool written with COPY straight into ``experts_expert`` and the draw table
``experts_expertspecialty`` (≈ 1.8 rows per expert): 95 % active, 2 % suspended (half of those
lapsed by the session day), the rest retired or pending; 20 % of experts work for a party entity;
≈ 5 % are unavailable on any session day; 20,000 declared conflicts with parties. ``VACUUM
ANALYZE`` after loading.

Timed: ``draw_services.request_draw`` end to end — terms checked, the draw and its commitment
written and committed, the commitment chained, the first signed tree head covering it, the
selection, the sealed inputs, the sealed drawn rows, the notifications and the drawn event — for
each of ``--draws`` draws, one per section, with three quotas (a leaf with 5 + 2 and at least 2
from other regions, a group with 2 + 1, a leaf — sometimes a rare one — with 2 + 1) and region
terms varied (a third exclude a city, a quarter are other-regions-only, a quarter keep to one
province). Five avoidance rules are live in every draw: employer a party (bidder, tenderer or
agent), employer related to a party, declared conflict, served the same tenderer within 180 days
(every main of every earlier draw is marked confirmed), unavailable that day; suspended and retired
experts are not candidates at all. Of the total, "selection" is the reading of the section's
parties and related entities, the earlier draws, the strata's sizes, the probes with their
avoidance facts, and the engine itself; "signed tree head" is ``covering_head`` (the ledger
signing a head over the commitment). The rest is the writes: four commits, the ledger's chaining
after each, the seals and the notifications.

Baseline, same run, same quotas: the plain ``SELECT expert_id FROM experts_expertspecialty WHERE
specialty_id IN (…) AND status = 'active' [AND region …] ORDER BY random() LIMIT n`` per quota (no
avoidance, no distinct experts, nothing recorded), summed per draw.

Then the pool is changed (a fifth of the drawn experts retired, a tenth of the pool moved to other
regions, employers changed, every unavailability and declared conflict replaced, 5 % more experts
added), half of the draws are revealed (the secret published), and every recorded draw is verified
with ``draw_verify.verify_draw``: the exact matches are counted.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import common  # noqa: E402

CITIES = [f"32{n:02d}00" for n in range(1, 9)] + [f"34{n:02d}00" for n in range(1, 9)]
PROVINCES = {"320000": "江苏省", "340000": "安徽省"}
CLASSES = "ABCDEF"
SECTIONS_PER_TENDERER = 20


def _copy(table: str, columns: list[str], rows: Any) -> int:
    from django.db import connection

    n = 0
    with (
        connection.cursor() as cur,
        cur.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)
            n += 1
    return n


def _reset_sequence(table: str) -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(SELECT coalesce(max(id), 1) FROM {table}))"
        )


def load_world(n_experts: int, n_tenderers: int, rng: random.Random) -> dict[str, Any]:
    """Everything the draws need, written fast (see the module docstring)."""
    from django.conf import settings
    from django.db import connection, transaction

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from ggzy.accounts.roles import Role
    from ggzy.bidding.models import Bid, Opening
    from ggzy.catalog.services import install_default_catalog
    from ggzy.core import clock
    from ggzy.core.identifiers import make_resident_id, make_uscc
    from ggzy.experts.models import Specialty
    from ggzy.registry.models import Entity, Region
    from ggzy.tendering import services as tendering
    from ggzy.tendering.models import Section
    from tests.api.support import register
    from tests.api.tender_world import project_body
    from tests.conftest import make_user

    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    for code, name in PROVINCES.items():
        Region.objects.get_or_create(code=code, defaults={"name": name})
    for code in CITIES:
        Region.objects.get_or_create(
            code=code, defaults={"name": f"市{code}", "parent_id": code[:2] + "0000"}
        )
    install_default_catalog(actor="system:bench")
    now = clock.now()
    # taxonomy: class A..F, groups A01..A04, leaves A01.01..A01.03
    specs = []
    for c in CLASSES:
        specs.append(Specialty(code=c, name=f"类{c}", is_works=c == "A", updated_at=now))
    Specialty.objects.bulk_create(specs)
    by_code = {s.code: s for s in Specialty.objects.all()}
    groups = [
        Specialty(
            code=f"{c}{g:02d}",
            name=f"组{c}{g:02d}",
            parent=by_code[c],
            is_works=c == "A",
            updated_at=now,
        )
        for c in CLASSES
        for g in range(1, 5)
    ]
    Specialty.objects.bulk_create(groups)
    by_code = {s.code: s for s in Specialty.objects.all()}
    leaves = [
        Specialty(
            code=f"{g.code}.{k:02d}",
            name=f"专业{g.code}.{k:02d}",
            parent=g,
            is_works=g.is_works,
            updated_at=now,
        )
        for g in groups
        for k in range(1, 4)
    ]
    Specialty.objects.bulk_create(leaves)
    by_code = {s.code: s for s in Specialty.objects.all()}
    leaf_codes = [s.code for s in leaves]
    rare = ["F04.02", "F04.03"]
    weights = [0.03 if c in rare else 1.0 for c in leaf_codes]

    # entities: 2,000 employers; 60 bidders, 10 agents among them; 50 tenderers (services)
    ops = make_user("bench_ops", Role.CENTER_OPERATIONS)
    make_user("bench_admin", Role.CENTER_ADMIN)
    tenderer_user = make_user("bench_tenderer", Role.TENDERER)
    reps = [
        make_resident_id(
            f"110105{1950 + n % 40}{1 + n // 40 % 12:02d}{1 + n // 480 % 28:02d}{n % 1000:03d}"
        )
        for n in range(3000)
    ]
    employers = [
        Entity(
            uscc=make_uscc(f"9132010{n:010d}"),
            name=f"单位{n}",
            entity_type="enterprise",
            is_bidder=not 60 <= n < 70,
            is_agent=60 <= n < 70,
            legal_representative=f"代表{n}",
            legal_representative_id=reps[n],
            address="地址",
            region_id=rng.choice(CITIES),
            registered_at=now,
            updated_at=now,
        )
        for n in range(2000)
    ]
    Entity.objects.bulk_create(employers)
    ents = list(Entity.objects.order_by("pk").values_list("pk", flat=True))
    bidders, agents = ents[:60], ents[60:70]
    tenderers = []
    for n in range(n_tenderers):
        tenderers.append(
            register(
                tenderer_user,
                5000 + n,
                name=f"招标人{n}",
                is_bidder=False,
                is_tenderer=True,
                entity_type="institution",
                legal_representative_id=reps[2000 + n],
            )
        )
    tenderer_ids = [t.pk for t in tenderers]
    parties = bidders + agents + tenderer_ids
    # R48's relation: 150 employers share a legal representative with a party
    related = ents[100:250]
    for pk in related:
        owner = rng.choice(parties)
        rep = Entity.objects.filter(pk=owner).values_list("legal_representative_id", flat=True)[0]
        Entity.objects.filter(pk=pk).update(legal_representative_id=rep)
    timings["entities_s"] = time.perf_counter() - t0

    # sections: one project per tenderer (services), 20 sections each, opened, 5 bidders each
    t = time.perf_counter()
    sections = []
    for n, tenderer in enumerate(tenderers):
        project = tendering.register_project(
            actor=tenderer_user,
            tenderer=tenderer,
            terms=tendering.ProjectTerms(**project_body(region=rng.choice(CITIES))),
        )
        project.agent_id = agents[n % len(agents)]
        project.save(update_fields=["agent"])
        first = Section.objects.get(project=project, number=1)
        first.code = f"B-{n:03d}-01"
        first.save(update_fields=["code"])
        extra = [
            Section(
                project=project,
                number=k,
                public_id=f"{n:04d}{k:04d}".ljust(32, "0"),
                code=f"B-{n:03d}-{k:02d}",
                name=f"第{k}标段",
                estimated_price=first.estimated_price,
                deposit=first.deposit,
                qualification_requirements="资格",
                evaluation_method=first.evaluation_method,
                bid_validity_days=90,
            )
            for k in range(2, SECTIONS_PER_TENDERER + 1)
        ]
        Section.objects.bulk_create(extra)
        sections.extend(Section.objects.filter(project=project).order_by("number"))
    bids, openings = [], []
    for s in sections:
        chosen = rng.sample(bidders, 5)
        for k, e in enumerate(chosen):
            bids.append(
                Bid(
                    public_id=f"{s.pk:012d}{k:04d}".ljust(32, "0"),
                    section_tag="t",
                    bidder_tag="t",
                    owner_tag="t",
                    sealed_identity="",
                    envelope_id=f"{s.pk:012d}{k:04d}".ljust(32, "1"),
                    storage_name="x",
                    size=1,
                    file_sha256="0" * 64,
                    manifest_digest="0" * 64,
                    status="opened",
                    received_at=now,
                    section=s,
                    entity_id=e,
                )
            )
        openings.append(
            Opening(
                section=s,
                status="closed",
                started_at=now,
                started_by=ops,
                closed_at=now,
                bid_count=5,
            )
        )
    Bid.objects.bulk_create(bids, batch_size=2000)
    Opening.objects.bulk_create(openings, batch_size=2000)
    timings["sections_s"] = time.perf_counter() - t

    # the pool
    t = time.perf_counter()
    base_day = (now + timedelta(days=2)).date()
    party_set = parties
    leaf_ids = [by_code[c].pk for c in leaf_codes]
    rare_ids = {by_code[c].pk for c in rare}
    leaf_class = {by_code[c].pk: c[0] for c in leaf_codes}
    leaves_by_class: dict[str, list[int]] = {}
    for pk, c in leaf_class.items():
        leaves_by_class.setdefault(c, []).append(pk)

    pool_rows: list[tuple[Any, ...]] = []
    pool_extra: list[tuple[Any, ...]] = []

    def experts() -> Any:
        for i in range(1, n_experts + 1):
            r = rng.random()
            status, until = "active", None
            if r < 0.02:
                status = "suspended"
                until = base_day + timedelta(days=rng.randint(-30, 30))
            elif r < 0.035:
                status = "retired"
            elif r < 0.05:
                status = "pending"
            employer = rng.choice(party_set) if rng.random() < 0.2 else rng.choice(ents)
            region = CITIES[(i * 7 + rng.randint(0, 3)) % len(CITIES)]
            primary = rng.choices(leaf_ids, weights)[0]
            pool_rows.append((i, primary, region, status, until))
            extra = set()
            if rng.random() < 0.5:  # a second leaf of the same class (never a rare one)
                extra.add(
                    rng.choice(
                        [x for x in leaves_by_class[leaf_class[primary]] if x not in rare_ids]
                    )
                )
            if rng.random() < 0.3:
                extra.add(rng.choices(leaf_ids, weights)[0])
            extra.discard(primary)
            for s in extra:
                pool_extra.append((i, s, region, status, until))
            yield (
                i,
                f"{i:032x}",
                f"专家{i}",
                f"3201{i:014d}",
                "13900000000",
                "",
                "senior",
                "高级工程师",
                "",
                15,
                employer,
                region,
                primary,
                status,
                "",
                until,
                now,
                now if status != "pending" else None,
                "",
                1,
                now,
            )

    cols = [
        "id",
        "public_id",
        "name",
        "resident_id",
        "phone",
        "email",
        "title_level",
        "title_name",
        "senior_equivalent",
        "years_in_field",
        "employer_id",
        "region_id",
        "primary_specialty_id",
        "status",
        "status_reason",
        "suspended_until",
        "applied_at",
        "approved_at",
        "approved_by",
        "version",
        "updated_at",
    ]
    with transaction.atomic():
        _copy("experts_expert", cols, experts())
        es_cols = [
            "expert_id",
            "specialty_id",
            "is_primary",
            "region_id",
            "status",
            "suspended_until",
        ]
        _copy(
            "experts_expertspecialty",
            es_cols,
            ((i, s, True, reg, st, u) for i, s, reg, st, u in pool_rows),
        )
        _copy(
            "experts_expertspecialty",
            es_cols,
            ((i, s, False, reg, st, u) for i, s, reg, st, u in pool_extra),
        )
    rows_es = len(pool_rows) + len(pool_extra)
    pool_rows.clear()
    pool_extra.clear()
    _reset_sequence("experts_expert")
    _reset_sequence("experts_expertspecialty")
    timings["pool_s"] = time.perf_counter() - t

    t = time.perf_counter()
    unavailable = (
        (i, start, start + timedelta(days=rng.randint(0, 9)), "出差", now)
        for i in range(1, n_experts + 1)
        if rng.random() < 0.15
        for start in [base_day + timedelta(days=rng.randint(-5, 32))]
    )
    with transaction.atomic():
        n_unavail = _copy(
            "experts_unavailability",
            ["expert_id", "start", '"end"', "reason", "recorded_at"],
            unavailable,
        )
        conflicts = {(rng.randint(1, n_experts), rng.choice(parties)) for _ in range(20_000)}
        _copy(
            "experts_declaredconflict",
            ["expert_id", "entity_id", "reason", "declared_at"],
            ((e, p, "亲属", now) for e, p in sorted(conflicts)),
        )
    _reset_sequence("experts_unavailability")
    _reset_sequence("experts_declaredconflict")
    with connection.cursor() as cur:
        for table in (
            "experts_expert",
            "experts_expertspecialty",
            "experts_unavailability",
            "experts_declaredconflict",
            "registry_entity",
            "bidding_bid",
        ):
            cur.execute(f"VACUUM ANALYZE {table}")
    timings["avoidance_s"] = time.perf_counter() - t
    timings["setup_s"] = time.perf_counter() - t0
    return {
        "ops": ops.pk,
        "sections": [s.pk for s in sections],
        "base_day": base_day.isoformat(),
        "leaf_codes": leaf_codes,
        "rare": rare,
        "groups": [g.code for g in groups],
        "rows_es": rows_es,
        "unavailability_rows": n_unavail,
        "conflicts": len(conflicts),
        "timings": timings,
    }


def draw_plan(world: dict[str, Any], n: int, rng: random.Random) -> list[dict[str, Any]]:
    plans = []
    for k in range(n):
        leaf, leaf2 = rng.sample([c for c in world["leaf_codes"] if c not in world["rare"]], 2)
        group = rng.choice([g for g in world["groups"] if not leaf.startswith(g)])
        third = rng.choice(world["rare"]) if k % 10 == 0 else leaf2
        quotas = [(leaf, 5, 2, 2), (group, 2, 1, 0), (third, 2, 1, 0)]
        terms: dict[str, Any] = {}
        r = rng.random()
        if r < 0.25:
            terms["other_regions_only"] = True
            quotas[0] = (leaf, 5, 2, 0)
        elif r < 0.5:
            terms["include_regions"] = [rng.choice(list(PROVINCES))]
        if rng.random() < 0.33:
            terms["exclude_regions"] = [rng.choice(CITIES)]
            terms["include_regions"] = [c for c in terms.get("include_regions", [])]
        if set(terms.get("include_regions", [])) & set(terms.get("exclude_regions", [])):
            terms.pop("exclude_regions")
        plans.append(
            {
                "section": world["sections"][k % len(world["sections"])],
                "day_offset": k % 30,
                "quotas": quotas,
                "terms": terms,
            }
        )
    return plans


def _baseline_sql(
    quota: tuple[str, int, int, int], terms: dict[str, Any], home: str
) -> tuple[str, list[Any]]:
    from ggzy.experts import selectors

    specs = selectors.subtree_ids([quota[0]])
    sql = (
        f"SELECT expert_id FROM experts_expertspecialty WHERE specialty_id IN "
        f"({', '.join(['%s'] * len(specs))}) AND status = 'active'"
    )
    params: list[Any] = list(specs)
    if terms.get("include_regions"):
        inc = sorted(selectors.region_codes(terms["include_regions"]))
        sql += f" AND region_id IN ({', '.join(['%s'] * len(inc))})"
        params += inc
    exc = set(selectors.region_codes(terms.get("exclude_regions", [])))
    if terms.get("other_regions_only"):
        exc |= selectors.region_codes([home])
    if exc:
        sql += f" AND region_id NOT IN ({', '.join(['%s'] * len(exc))})"
        params += sorted(exc)
    return sql + " ORDER BY random() LIMIT %s", [*params, quota[1] + quota[2]]


def confirm_all_mains(draw: Any) -> None:
    """What ``draw_answers.answer_invitation(accept=True)`` writes for every main seat, without
    the expert's account (the pool's experts have none)."""
    from django.db import transaction

    from ggzy.experts.draw_models import DrawnExpert
    from ggzy.experts.draw_record import event

    with transaction.atomic():
        for row in DrawnExpert.objects.filter(draw=draw, role="main", status="notified")\
                .select_related("quota"):  # fmt: skip
            row.status = "confirmed"
            row.save(update_fields=["status"])
            event("system:bench-answer", draw, "experts.draw_confirmed",
                  {"quota": row.quota.code, "seat": row.seat, "pseudonym": row.pseudonym})  # fmt: skip


def child(args: argparse.Namespace) -> None:
    common.child_setup()
    from django.db import connection

    from ggzy.accounts.models import User
    from ggzy.core import clock
    from ggzy.experts import draw_answers, draw_select, draw_services, draw_verify
    from ggzy.experts.draw_models import Draw
    from ggzy.experts.draw_services import QuotaTerms
    from ggzy.ledger import signing
    from ggzy.tendering.models import Section

    signing.ensure_key()
    rng = random.Random(args.seed)
    common.log(f"loading {args.experts:,} experts")
    world = load_world(args.experts, args.tenderers, rng)
    common.log(
        f"loaded in {world['timings']['setup_s']:.0f} s ({world['rows_es']:,} draw-table rows)"
    )
    ops = User.objects.get(pk=world["ops"])
    sections = {
        s.pk: s for s in Section.objects.select_related("project").filter(pk__in=world["sections"])
    }
    plans = draw_plan(world, args.draws, rng)
    base = datetime.now(UTC).replace(hour=1, minute=0, second=0, microsecond=0) + timedelta(days=2)

    # where a draw's time goes: the selection (reading the parties, earlier draws, the strata's
    # sizes, the probes with their avoidance facts, and the engine), the signed tree head
    phase: dict[str, float] = {"select": 0.0, "tree_head": 0.0}
    patched: list[tuple[Any, str, Any]] = []

    def timed(owner: Any, name: str, label: str) -> None:
        original = getattr(owner, name)

        def wrapper(*a: Any, **kw: Any) -> Any:
            t = time.perf_counter()
            try:
                return original(*a, **kw)
            finally:
                phase[label] += time.perf_counter() - t

        patched.append((owner, name, original))
        setattr(owner, name, wrapper)

    from ggzy.experts import draw_pool

    for owner, name in ((draw_pool, "parties_of"), (draw_pool, "drawn_before"),
                        (draw_services, "draw_terms"), (draw_pool.PoolContext, "prepare"),
                        (draw_pool.PoolContext, "prefetch"), (draw_services, "run_draw")):  # fmt: skip
        timed(owner, name, "select")
    timed(draw_services, "covering_head", "tree_head")
    select_times: list[float] = []
    head_times: list[float] = []
    totals: list[float] = []
    draw_ids: list[int] = []
    unfillable = 0
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    for k, plan in enumerate(plans):
        section = sections[plan["section"]]
        quotas = [QuotaTerms(c, n, b, m) for c, n, b, m in plan["quotas"]]
        phase["select"] = phase["tree_head"] = 0.0
        t = time.perf_counter()
        try:
            draw = draw_services.request_draw(
                actor=ops,
                section=section,
                quotas=quotas,
                session_at=base + timedelta(days=plan["day_offset"]),
                **plan["terms"],
            )
        except draw_services.DrawUnfillable as exc:
            unfillable += 1
            draw = Draw.objects.get(public_id=exc.detail["draw"])
        totals.append(time.perf_counter() - t)
        select_times.append(phase["select"])
        head_times.append(phase["tree_head"])
        draw_ids.append(draw.pk)
        # the served-the-same-tenderer rule gets data: every main of every draw confirms —
        # with the answer event the service writes, so that verify-draw's answers check holds
        # (the experts of this pool have no accounts to answer with; not timed)
        confirm_all_mains(draw)
        if (k + 1) % 100 == 0:
            common.log(
                f"draws: {k + 1}/{len(plans)}, these 100: p50 "
                f"{common.percentile(totals[-100:], 50) * 1000:.1f} ms (selection "
                f"{common.percentile(select_times[-100:], 50) * 1000:.1f}, tree head "
                f"{common.percentile(head_times[-100:], 50) * 1000:.1f}), load "
                f"{__import__('os').getloadavg()[0]:.2f}"
            )
    for owner, name, original in patched:
        setattr(owner, name, original)
    if profiler is not None:
        import pstats

        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(45)

    # baseline: ORDER BY random() LIMIT n per quota, summed per draw
    base_times: list[float] = []
    with connection.cursor() as cur:
        for plan in plans:
            home = sections[plan["section"]].project.region_id
            queries = [_baseline_sql(q, plan["terms"], home) for q in plan["quotas"]]
            t = time.perf_counter()
            for sql, params in queries:
                cur.execute(sql, params)
                cur.fetchall()
            base_times.append(time.perf_counter() - t)

    methods: dict[str, int] = {}
    fallbacks = 0
    for draw in Draw.objects.filter(pk__in=draw_ids[:200]):
        _, record = draw_verify.unseal_inputs(draw)
        for q in record["quotas"]:
            for s in q["strata"]:
                m = "ids" if "ids" in s else "list"
                methods[m] = methods.get(m, 0) + 1
                fallbacks += "ids" in s and "list" in s

    # change the pool, reveal half, verify every draw
    common.log("changing the pool")
    t = time.perf_counter()
    change_pool(args.experts, rng)
    change_s = time.perf_counter() - t
    last = max(base + timedelta(days=p["day_offset"]) for p in plans)
    revealed = 0
    with clock.frozen(last + timedelta(hours=1)):
        for draw in Draw.objects.filter(pk__in=draw_ids[::2]):
            if draw.revealed_at is None:
                draw_answers.reveal_draw(actor=ops, draw=draw)
                revealed += 1
    common.log(f"verifying {len(draw_ids)} draws ({revealed} revealed)")
    verify_times: list[float] = []
    matches, failed = 0, []
    for draw in Draw.objects.filter(pk__in=draw_ids).order_by("pk"):
        t = time.perf_counter()
        report = draw_verify.verify_draw(draw)
        verify_times.append(time.perf_counter() - t)
        if report["ok"]:
            matches += 1
        else:
            failed.append(
                {"draw": draw.public_id, "checks": [c for c in report["checks"] if not c["ok"]]}
            )
    common.write_out(
        args.out,
        {
            "world": world,
            "draws": len(totals),
            "unfillable": unfillable,
            "draw_p50_s": common.percentile(totals, 50),
            "draw_p95_s": common.percentile(totals, 95),
            "draw_p99_s": common.percentile(totals, 99),
            "draw_max_s": max(totals),
            "select_p50_s": common.percentile(select_times, 50),
            "select_p95_s": common.percentile(select_times, 95),
            "head_p50_s": common.percentile(head_times, 50),
            "head_p95_s": common.percentile(head_times, 95),
            "base_p50_s": common.percentile(base_times, 50),
            "base_p95_s": common.percentile(base_times, 95),
            "base_max_s": max(base_times),
            "methods_first_200": methods,
            "fallbacks_first_200": fallbacks,
            "change_s": change_s,
            "revealed": revealed,
            "verified": len(verify_times),
            "matches": matches,
            "failed": failed[:5],
            "verify_p50_s": common.percentile(verify_times, 50),
            "verify_p95_s": common.percentile(verify_times, 95),
            "probe_limit": draw_select.PROBE_LIMIT,
        },
    )


def change_pool(n_experts: int, rng: random.Random) -> None:
    """After the draws: the pool moves on (see the module docstring)."""
    from django.db import connection, transaction

    from ggzy.experts import draw_seal
    from ggzy.experts.draw_models import DrawnExpert

    drawn = set()
    for row in DrawnExpert.objects.select_related("draw").iterator():
        drawn.add(draw_seal.unseal("identity", row.draw.public_id, row.sealed_identity)["expert"])
    retire = sorted(rng.sample(sorted(drawn), len(drawn) // 5))
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "UPDATE experts_expert SET status = 'retired', suspended_until = NULL "
            "WHERE id = ANY(%s)",
            [retire],
        )
        cur.execute(
            "UPDATE experts_expertspecialty SET status = 'retired', suspended_until = NULL "
            "WHERE expert_id = ANY(%s)",
            [retire],
        )
        cur.execute(
            "UPDATE experts_expert SET region_id = CASE WHEN region_id LIKE '32%%' "
            "THEN '340100' ELSE '320100' END WHERE id %% 10 = 3",
            [],
        )
        cur.execute(
            "UPDATE experts_expertspecialty s SET region_id = e.region_id FROM "
            "experts_expert e WHERE e.id = s.expert_id AND e.id %% 10 = 3",
            [],
        )
        cur.execute(
            "UPDATE experts_expert SET employer_id = (SELECT min(id) FROM registry_entity) "
            "WHERE id %% 20 = 7",
            [],
        )
        cur.execute("DELETE FROM experts_unavailability")
        cur.execute(
            'INSERT INTO experts_unavailability (expert_id, start, "end", reason, '
            "recorded_at) SELECT id, current_date, current_date + 60, '新', now() FROM "
            "experts_expert WHERE id %% 13 = 5",
            [],
        )
        cur.execute("UPDATE experts_declaredconflict SET withdrawn_at = now()")
        cur.execute(
            "INSERT INTO experts_expert (public_id, name, resident_id, phone, email, title_level, "
            "title_name, senior_equivalent, years_in_field, employer_id, region_id, "
            "primary_specialty_id, status, status_reason, applied_at, approved_at, approved_by, "
            "version, updated_at) SELECT md5('new' || g), '新专家', 'N' || lpad(g::text, 17, '0'), "
            "'1', '', 'senior', '高工', '', 10, e.employer_id, e.region_id, e.primary_specialty_id, "
            "'active', '', now(), now(), '', 1, now() FROM generate_series(1, %s) g "
            "JOIN experts_expert e ON e.id = g",
            [n_experts // 20],
        )
        cur.execute(
            "INSERT INTO experts_expertspecialty (expert_id, specialty_id, is_primary, "
            "region_id, status) SELECT id, primary_specialty_id, true, region_id, status "
            "FROM experts_expert WHERE name = '新专家'"
        )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="100,000 experts, 200 draws")
    p.add_argument("--experts", type=int, default=1_000_000)
    p.add_argument("--draws", type=int, default=1_000)
    p.add_argument("--tenderers", type=int, default=50)
    p.add_argument("--seed", type=int, default=20261202)
    p.add_argument("--keep", action="store_true", help="keep the database afterwards")
    p.add_argument("--profile", action="store_true", help="cProfile the draws (to stderr)")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        child(args)
        return 0
    if args.quick:
        args.experts, args.draws = min(args.experts, 100_000), min(args.draws, 200)
    if not common.pg_available():
        print("PostgreSQL not reachable on 127.0.0.1:5432: skipped")
        return 0
    info = common.machine_info()
    with common.fresh_db("postgresql", "expertdraw", keep=args.keep) as env:
        load = __import__("os").getloadavg()[0]
        r = common.run_child(
            "expert_draw.py",
            [
                "--experts",
                str(args.experts),
                "--draws",
                str(args.draws),
                "--tenderers",
                str(args.tenderers),
                "--seed",
                str(args.seed),
                *(["--profile"] if args.profile else []),
            ],
            env,
        )
        r["load_avg_before_after"] = [load, __import__("os").getloadavg()[0]]
    r.update(machine=info, args=vars(args))
    path = common.save_result("expert_draw", r)
    ms = 1000.0
    print(
        common.md_table(
            [
                "experts",
                "draws",
                "draw p50 / p95 / max ms",
                "of which selection p50 / p95 ms",
                "of which signed tree head p50 / p95 ms",
                "baseline ORDER BY random() p50 / p95 ms",
                "ratio p50 / p95 (draw ÷ baseline)",
                "verified exactly",
                "verify p50 ms",
            ],
            [
                [
                    args.experts,
                    r["draws"],
                    f"{r['draw_p50_s'] * ms:.1f} / {r['draw_p95_s'] * ms:.1f} / {r['draw_max_s'] * ms:.1f}",
                    f"{r['select_p50_s'] * ms:.1f} / {r['select_p95_s'] * ms:.1f}",
                    f"{r['head_p50_s'] * ms:.1f} / {r['head_p95_s'] * ms:.1f}",
                    f"{r['base_p50_s'] * ms:.1f} / {r['base_p95_s'] * ms:.1f}",
                    f"{r['draw_p50_s'] / r['base_p50_s']:.2f}× / {r['draw_p95_s'] / r['base_p95_s']:.2f}×",
                    f"{r['matches']} / {r['verified']}",
                    f"{r['verify_p50_s'] * ms:.1f}",
                ]
            ],
        )
    )
    w = r["world"]
    print(
        f"\ndraw-table rows {w['rows_es']:,}; unavailability rows {w['unavailability_rows']:,}; "
        f"declared conflicts {w['conflicts']:,}; unfillable draws {r['unfillable']}; strata "
        f"methods (first 200 draws) {r['methods_first_200']}, id-space fallbacks "
        f"{r['fallbacks_first_200']}; revealed before verifying {r['revealed']}; setup "
        f"{w['timings']['setup_s']:.0f} s (not timed); load avg "
        f"{r['load_avg_before_after'][0]:.2f} → {r['load_avg_before_after'][1]:.2f}\nraw: {path}"
    )
    if r["failed"]:
        print("first failures:", r["failed"])
    return 0 if r["matches"] == r["verified"] else 1


if __name__ == "__main__":
    sys.exit(main())
