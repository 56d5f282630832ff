"""Property tests (hypothesis): random pools and random relations — no drawn expert ever
violates a rule. Once on the selection engine with an in-memory pool (hundreds of examples), once
through the services on the database (the live pool, the live avoidance facts), each checked by
an oracle written here from the rules, not by the engine's own ``reasons``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ggzy.core import clock
from ggzy.experts import draw_record, draw_verify
from ggzy.experts.draw_models import DrawnExpert
from ggzy.experts.draw_select import Parties, QuotaSpec, RegionRule, run_draw
from ggzy.experts.draw_services import DrawUnfillable, QuotaTerms
from ggzy.experts.models import DeclaredConflict, Expert, ExpertSpecialty, Specialty, Unavailability
from ggzy.experts.states import drawable_on
from ggzy.registry.models import Entity
from tests.experts import draw_world
from tests.experts.draw_memory import MemoryPool, Person

REGIONS = ("320100", "320200", "520100")
BIDDERS, TENDERER, AGENT, RELATED, NEUTRAL = (100, 101), 102, 103, 104, (105, 106, 107)
PARTIES = Parties(frozenset(BIDDERS), TENDERER, AGENT, {RELATED: [100]})
AVOIDED = {*BIDDERS, TENDERER, AGENT, RELATED}


# --- the engine, in memory ------------------------------------------------------------------------

person = st.builds(
    dict,
    region=st.sampled_from(REGIONS),
    specialties=st.sets(st.integers(1, 3), min_size=1, max_size=3),
    employer=st.sampled_from([*AVOIDED, *NEUTRAL]),
    drawable=st.integers(0, 4).map(lambda n: n != 0),  # mostly drawable
    unavailable=st.integers(0, 4).map(lambda n: n == 0),
    declared=st.lists(st.sampled_from([*AVOIDED, *NEUTRAL]), max_size=2),
    represents=st.lists(st.sampled_from([*BIDDERS, TENDERER, *NEUTRAL]), max_size=1),
    served=st.integers(0, 5).map(lambda n: ("d-old",) if n == 0 else ()),
    previous=st.integers(0, 6).map(lambda n: n == 0),
)
quota = st.tuples(
    st.sets(st.integers(1, 3), min_size=1, max_size=2),
    st.integers(1, 4),
    st.integers(0, 2),
    st.integers(0, 2),
)
rule = st.builds(
    RegionRule,
    include=st.one_of(
        st.none(), st.lists(st.sampled_from(REGIONS), min_size=1, max_size=3, unique=True)
    ),
    exclude=st.lists(st.sampled_from(REGIONS), max_size=1, unique=True),
    home=st.just(["320100"]),
    other_only=st.booleans(),
)


def broken_rules(p: Person) -> list[str]:
    """The oracle: what a drawn expert must never be (R21/R22 and the pool's own rules)."""
    out = []
    if not p.drawable:
        out.append("not drawable")
    if p.unavailable:
        out.append("unavailable")
    if p.employer in AVOIDED:
        out.append("employer is a party or related to one")
    if set(p.declared) & AVOIDED:
        out.append("declared conflict with a party")
    if set(p.represents) & {*BIDDERS, TENDERER, AGENT}:
        out.append("legal representative of a party")
    if p.served:
        out.append("served the tenderer within the window")
    if p.previous:
        out.append("drawn for the section before")
    return out


@settings(max_examples=300, deadline=None)
@given(
    people=st.lists(person, min_size=0, max_size=40),
    quotas=st.lists(quota, min_size=1, max_size=3),
    region_rule=rule,
    seed=st.binary(min_size=32, max_size=32),
    force=st.sampled_from(["", "list", "ids"]),
)
def test_the_engine_never_draws_an_expert_who_breaks_a_rule(
    people: list[dict[str, Any]],
    quotas: list[tuple[Any, ...]],
    region_rule: RegionRule,
    seed: bytes,
    force: str,
) -> None:
    pool = MemoryPool(
        [
            Person(
                id=i + 1,
                region=p["region"],
                specialties=frozenset(p["specialties"]),
                employer=p["employer"],
                drawable=bool(p["drawable"]),
                unavailable=p["unavailable"],
                declared=tuple(p["declared"]),
                represents=tuple(p["represents"]),
                served=p["served"],
                previous=p["previous"],
            )
            for i, p in enumerate(people)
        ],
        force=force,
    )
    by_id = {p.id: p for p in pool.people}
    specs = [
        QuotaSpec(f"Q{n}", sorted(s), c, b, min(m, c)) for n, (s, c, b, m) in enumerate(quotas)
    ]
    outcome = run_draw(seed, specs, region_rule, PARTIES, pool.source)
    seen: set[int] = set()
    for q in outcome:
        picks = q.picks()
        for expert, _role, other in picks:
            p = by_id[expert]
            assert not broken_rules(p), (p, broken_rules(p))
            assert p.specialties & set(q.spec.specialties)
            assert region_rule.include is None or p.region in region_rule.include
            assert p.region not in region_rule.exclude
            assert not (region_rule.other_only and p.region in region_rule.home)
            assert other == (p.region not in region_rule.home)
            assert expert not in seen  # never twice in one draw
            seen.add(expert)
        if q.filled:
            assert len(picks) == q.spec.needed
            mains = [o for _, r, o in picks if r == "main"]
            assert len(mains) == q.spec.count
            assert region_rule.other_only or sum(mains) >= q.spec.min_other
        else:  # every candidate of the short stratum was examined: none was left out
            short = next(s for s in q.strata if not s.filled)
            examined = {c["id"] for c in short.candidates()}
            assert examined == {p.id for p in pool.candidates(short.spec)}


# --- the services, on the database --------------------------------------------------------------


@pytest.fixture
def dw(users, region, frozen_clock) -> draw_world.DrawWorld:  # type: ignore[no-untyped-def]
    return draw_world.make_world(users, bidders=2)


def _db_oracle(dw: draw_world.DrawWorld, expert: Expert, day: Any, related: set[int]) -> list[str]:
    parties = {*(b.pk for b in dw.bidders), dw.tenderer.pk, dw.agent.pk}
    reps = set(
        Entity.objects.filter(pk__in=parties)
        .exclude(legal_representative_id="")
        .values_list("legal_representative_id", flat=True)
    )
    out = []
    if not drawable_on(expert.status, expert.suspended_until, day):
        out.append("not drawable on the day")
    if Unavailability.objects.filter(expert=expert, start__lte=day, end__gte=day).exists():
        out.append("unavailable")
    if expert.employer_id in parties:
        out.append("employer is a party")
    if expert.employer.legal_representative_id and expert.employer.legal_representative_id in reps:
        out.append("employer related to a party")
    if DeclaredConflict.objects.filter(
        expert=expert, withdrawn_at__isnull=True, entity_id__in=parties | related
    ).exists():
        out.append("declared conflict")
    if expert.resident_id in reps:
        out.append("legal representative of a party")
    return out


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_drawn_expert_ever_violates_a_rule_on_the_database(dw, users, data) -> None:  # type: ignore[no-untyped-def]
    day = dw.session_at.astimezone(clock.CHINA).date()
    with transaction.atomic():
        related = draw_world.entity(
            users["bidder"],
            name="关联公司",
            legal_representative_id=dw.bidders[0].legal_representative_id,
        )
        employers = [*dw.bidders, dw.tenderer, dw.agent, related, *dw.employers]
        n = data.draw(st.integers(4, 30), label="experts")
        rows = []
        for _ in range(n):
            status = data.draw(st.sampled_from(["active"] * 6 + ["suspended", "retired"]))
            until = (
                day + timedelta(days=data.draw(st.integers(-3, 3)))
                if status == "suspended"
                else None
            )
            rows.append(
                {
                    "employer": data.draw(st.sampled_from(employers)),
                    "region": data.draw(st.sampled_from(["320100", "320200", "520100"])),
                    "specialties": data.draw(
                        st.lists(
                            st.sampled_from(["A01.01", "A01.02", "A02", "B01"]),
                            min_size=1,
                            max_size=2,
                            unique=True,
                        )
                    ),
                    "status": status,
                    "suspended_until": until,
                }
            )
        experts = draw_world.bulk_pool(rows)
        for e in experts:
            if data.draw(st.integers(0, 4)) == 0:
                Unavailability.objects.create(expert=e, start=day, end=day, recorded_at=clock.now())
            if data.draw(st.integers(0, 4)) == 0:
                DeclaredConflict.objects.create(
                    expert=e,
                    entity=data.draw(st.sampled_from(employers)),
                    reason="申报",
                    declared_at=clock.now(),
                )
        codes = data.draw(
            st.lists(st.sampled_from(["A", "A01", "A02", "B"]), min_size=1, max_size=2, unique=True)
        )
        quotas = [
            QuotaTerms(c, data.draw(st.integers(1, 3)), data.draw(st.integers(0, 1))) for c in codes
        ]
        terms = data.draw(
            st.sampled_from([{}, {"other_regions_only": True}, {"include_regions": ["320000"]}])
        )
        try:
            draw = dw.draw(quotas, **terms)
        except DrawUnfillable as exc:
            assert exc.detail["quotas"], exc.detail
            for q in exc.detail["quotas"]:
                assert q["eligible"] < q["needed"]
        else:
            for row in DrawnExpert.objects.filter(draw=draw).select_related("draw"):
                expert = Expert.objects.select_related("employer").get(
                    pk=draw_record.identity(row)["expert"]
                )
                assert not _db_oracle(dw, expert, day, {related.pk}), _db_oracle(
                    dw, expert, day, {related.pk}
                )
                subtree = {s.pk for s in Specialty.objects.filter(code__startswith=row.quota.code)}
                assert ExpertSpecialty.objects.filter(
                    expert=expert, specialty_id__in=subtree
                ).exists()
                if terms.get("other_regions_only"):
                    assert expert.region_id != "320100"
                if terms.get("include_regions"):
                    assert expert.region_id.startswith("32")
            ids = [draw_record.identity(r)["expert"] for r in draw.drawn.select_related("draw")]
            assert len(ids) == len(set(ids)) == sum(q.count + q.backups for q in quotas)
            assert draw_verify.verify_draw(draw)["ok"]
        transaction.set_rollback(True)
