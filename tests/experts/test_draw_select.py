"""The selection engine on its own (``ggzy.experts.draw_select``): the random stream, the two ways
through a stratum, the id-list encoding, batch independence, the replay from the record — and
uniformity, a chi-square test over thousands of draws with a fixed list of seeds (deterministic:
the same seeds every run; scipy is not installed, so the critical values are written out)."""

from __future__ import annotations

import hashlib
import random
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ggzy.experts import draw_select
from ggzy.experts.draw_select import (
    Parties,
    QuotaSpec,
    RecordMismatch,
    RecordSource,
    RegionRule,
    Stream,
    decode_ids,
    encode_ids,
    id_probes,
    run_draw,
    shuffled_positions,
    stratum_key,
)
from ggzy.ledger.chain import canonical_json
from tests.experts.draw_memory import MemoryPool, Person

# chi-square critical values at α = 0.001 (upper tail), by degrees of freedom
CHI2_001 = {9: 27.877, 11: 31.264, 14: 36.123, 19: 43.820}
NO_PARTIES = Parties(frozenset({900}), 901, 902)
ANYWHERE = RegionRule(include=None, exclude=[], home=["320100"], other_only=False)


def seeds(n: int, tag: str = "uniformity") -> list[bytes]:
    return [hashlib.sha256(f"{tag}-{i}".encode()).digest() for i in range(n)]


def chi2(counts: Counter[int], keys: list[int], total: int) -> float:
    expected = total / len(keys)
    return sum((counts.get(k, 0) - expected) ** 2 / expected for k in keys)


def pool(n: int, *, regions: tuple[str, ...] = ("320100",), **extra: dict[int, dict]) -> MemoryPool:
    people = []
    for i in range(1, n + 1):
        kw = {"employer": 100 + i, **extra.get("by_id", {}).get(i, {})}
        people.append(
            Person(id=i * 3, region=regions[i % len(regions)], specialties=frozenset({1}), **kw)
        )
    return MemoryPool(people)


def picks(outcome: list[draw_select.QuotaOutcome]) -> list[tuple[int, str]]:
    return [(e, role) for q in outcome for e, role, _ in q.picks()]


# --- the stream and the two orders ----------------------------------------------------------


def test_the_stream_is_deterministic_and_separated_by_quota_stratum_and_method() -> None:
    seed = bytes(32)
    first = [Stream(seed, "A01", "all", "list").next64() for _ in range(3)]
    assert first == [Stream(seed, "A01", "all", "list").next64() for _ in range(3)]
    s = Stream(seed, "A01", "all", "list")
    assert [s.next64() for _ in range(3)] != [first[0]] * 3
    others = {
        Stream(seed, q, st_, m).next64()
        for q, st_, m in [("A01", "all", "ids"), ("A02", "all", "list"), ("A01", "rest", "list")]
    }
    assert first[0] not in others and len(others) == 3


def test_below_is_in_range_and_rejects_the_biased_tail() -> None:
    s = Stream(b"\x01" * 32, "Q", "all", "list")
    assert all(0 <= s.below(k) < k for k in (1, 2, 3, 7, 1000, 2**63 + 5) for _ in range(50))
    with pytest.raises(ValueError):
        s.below(0)

    class Fixed(Stream):  # a value in the rejected tail is skipped, the next one is used
        def __init__(self, values: list[int]) -> None:
            self.values = values

        def next64(self) -> int:
            return self.values.pop(0)

    k = 3
    tail = (1 << 64) - 1  # ≥ 2^64 − (2^64 mod 3): rejected
    assert Fixed([tail, 7]).below(k) == 7 % 3


@given(st.integers(min_value=0, max_value=300), st.binary(min_size=32, max_size=32))
def test_the_lazy_shuffle_is_a_permutation(n: int, seed: bytes) -> None:
    order = list(shuffled_positions(Stream(seed, "Q", "all", "list"), n))
    assert sorted(order) == list(range(n))


def test_id_probes_never_repeat_and_stay_in_the_id_space() -> None:
    probes = id_probes(Stream(bytes(32), "Q", "all", "ids"), 50, 10_000)
    got = [next(probes) for _ in range(50)]
    assert sorted(v for _, v in got) == list(range(1, 51))
    assert [i for i, _ in got] == sorted(i for i, _ in got)


@given(st.lists(st.integers(min_value=1, max_value=2**40), unique=True, max_size=300))
def test_id_lists_encode_and_decode(ids: list[int]) -> None:
    ids.sort()
    assert decode_ids(encode_ids(ids)) == ids


# --- uniformity --------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["list", "ids"])
def test_one_of_twenty_is_uniform(method: str) -> None:
    mem = pool(20)
    mem.force = method
    quota = [QuotaSpec("A", [1], 1, 0, 0)]
    counts: Counter[int] = Counter()
    runs = 4000
    for seed in seeds(runs, method):
        counts.update(e for e, _ in picks(run_draw(seed, quota, ANYWHERE, NO_PARTIES, mem.source)))
    assert sum(counts.values()) == runs
    assert chi2(counts, [p.id for p in mem.people], runs) < CHI2_001[19]


@pytest.mark.parametrize("method", ["list", "ids"])
def test_three_of_twelve_each_expert_and_each_position_uniform(method: str) -> None:
    mem = pool(12)
    mem.force = method
    quota = [QuotaSpec("A", [1], 2, 1, 0)]
    ids = [p.id for p in mem.people]
    anywhere: Counter[int] = Counter()
    first: Counter[int] = Counter()
    backup: Counter[int] = Counter()
    runs = 3000
    for seed in seeds(runs, "three" + method):
        got = picks(run_draw(seed, quota, ANYWHERE, NO_PARTIES, mem.source))
        assert len({e for e, _ in got}) == 3 and [r for _, r in got] == ["main", "main", "backup"]
        anywhere.update(e for e, _ in got)
        first[got[0][0]] += 1
        backup[got[2][0]] += 1
    assert chi2(anywhere, ids, 3 * runs) < CHI2_001[11]
    assert chi2(first, ids, runs) < CHI2_001[11]
    assert chi2(backup, ids, runs) < CHI2_001[11]


@pytest.mark.parametrize("method", ["list", "ids"])
def test_avoided_experts_are_never_drawn_and_the_rest_stay_uniform(method: str) -> None:
    avoided = {
        2: {"unavailable": True},
        4: {"employer": 900},
        6: {"declared": (901,)},
        8: {"served": ("d1",)},
        10: {"drawable": False},
    }
    mem = pool(20, by_id=avoided)
    mem.force = method
    quota = [QuotaSpec("A", [1], 1, 0, 0)]
    counts: Counter[int] = Counter()
    runs = 3000
    for seed in seeds(runs, "avoid" + method):
        counts.update(e for e, _ in picks(run_draw(seed, quota, ANYWHERE, NO_PARTIES, mem.source)))
    eligible = [p.id for p in mem.people if p.id // 3 not in avoided]
    assert set(counts) == set(eligible)
    assert chi2(counts, eligible, runs) < CHI2_001[14]


def test_the_minimum_from_other_regions_is_met() -> None:
    mem = pool(30, regions=("320100", "320200", "320300"))
    rule = RegionRule(include=None, exclude=[], home=["320100"], other_only=False)
    quota = [QuotaSpec("A", [1], 5, 2, 3)]
    for seed in seeds(200, "other"):
        (q,) = run_draw(seed, quota, rule, NO_PARTIES, mem.source)
        mains = [other for _, role, other in q.picks() if role == "main"]
        assert len(mains) == 5 and sum(mains) >= 3


# --- batch independence, replay, fallback ------------------------------------------------------


def _record(outcome: list[draw_select.QuotaOutcome]) -> bytes:
    return canonical_json([s.as_record() for q in outcome for s in q.strata])


@pytest.mark.parametrize("method", ["list", "ids"])
def test_the_batch_size_never_changes_the_outcome(method: str) -> None:
    rng = random.Random(7)
    by_id = {i: {"unavailable": rng.random() < 0.3} for i in range(1, 60)}
    mem = pool(60, regions=("320100", "320200"), by_id=by_id)
    mem.force = method
    quotas = [QuotaSpec("A", [1], 4, 2, 1), QuotaSpec("B", [1], 3, 1, 0)]
    seed = seeds(1, "batch")[0]
    base = run_draw(seed, quotas, ANYWHERE, NO_PARTIES, mem.source)
    for batch in (1, 2, 5, 64, 10_000):
        again = run_draw(seed, quotas, ANYWHERE, NO_PARTIES, mem.source, batch=batch)
        assert picks(again) == picks(base) and _record(again) == _record(base)


@pytest.mark.parametrize("method", ["list", "ids"])
def test_the_record_replays_exactly_and_a_changed_fact_does_not(method: str) -> None:
    mem = pool(40, by_id={i: {"employer": 900} for i in range(1, 40, 4)})
    mem.force = method
    quotas = [QuotaSpec("A", [1], 5, 2, 0)]
    seed = seeds(1, "replay")[0]
    live = run_draw(seed, quotas, ANYWHERE, NO_PARTIES, mem.source)
    strata = {stratum_key(s.spec): s.as_record() for q in live for s in q.strata}
    replay = run_draw(
        seed, quotas, ANYWHERE, NO_PARTIES, lambda spec: RecordSource(strata[stratum_key(spec)])
    )
    assert picks(replay) == picks(live) and _record(replay) == _record(live)
    # one accepted candidate's employer changed to a bidder: the replay skips it and needs a
    # candidate the record does not have — it does not replay
    (record,) = strata.values()
    part = record.get("list") or record["ids"]
    taken = next(c for c in part["candidates"] if not c["reasons"])
    taken["facts"]["employer"] = 900
    with pytest.raises(RecordMismatch):
        run_draw(
            seed, quotas, ANYWHERE, NO_PARTIES, lambda spec: RecordSource(strata[stratum_key(spec)])
        )


def test_a_record_missing_a_candidate_does_not_replay() -> None:
    mem = pool(30)
    mem.force = "list"
    quotas = [QuotaSpec("A", [1], 3, 0, 0)]
    seed = seeds(1, "missing")[0]
    live = run_draw(seed, quotas, ANYWHERE, NO_PARTIES, mem.source)
    (record,) = [s.as_record() for q in live for s in q.strata]
    record["list"]["candidates"].pop(0)
    with pytest.raises(RecordMismatch):
        run_draw(seed, quotas, ANYWHERE, NO_PARTIES, lambda spec: RecordSource(record))
    record["list"]["n"] += 1  # the list no longer matches its count
    with pytest.raises(RecordMismatch):
        RecordSource(record).list_ids()


def test_an_id_space_stratum_falls_back_to_the_list_way(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(draw_select, "PROBE_LIMIT", 3)
    mem = pool(200, by_id={i: {"unavailable": True} for i in range(1, 200) if i % 10})
    mem.force = "ids"  # few eligible (1 in 10), few probes allowed: the id space gives up
    quotas = [QuotaSpec("A", [1], 4, 1, 0)]
    seed = seeds(1, "fallback")[0]
    (q,) = run_draw(seed, quotas, ANYWHERE, NO_PARTIES, mem.source)
    (s,) = q.strata
    assert s.ids_part is not None and s.list_part is not None and s.filled
    assert s.ids_part["probes"] == 3
    record = s.as_record()
    (again,) = run_draw(seed, quotas, ANYWHERE, NO_PARTIES, lambda spec: RecordSource(record))
    assert again.picks() == q.picks()


def test_a_quota_that_cannot_be_filled_examines_every_candidate() -> None:
    mem = pool(10, by_id={i: {"employer": 900} for i in range(1, 9)})
    quotas = [QuotaSpec("A", [1], 3, 1, 0)]
    (q,) = run_draw(seeds(1, "short")[0], quotas, ANYWHERE, NO_PARTIES, mem.source)
    (s,) = q.strata
    assert not q.filled and len(s.taken) == 2
    assert len(s.candidates()) == 10
    assert Counter(r for c in s.candidates() for r in c["reasons"]) == {"employer_bidder": 8}


def test_an_earlier_quota_takes_an_expert_first() -> None:
    mem = pool(6)
    quotas = [QuotaSpec("A", [1], 4, 0, 0), QuotaSpec("B", [1], 2, 0, 0)]
    got = run_draw(seeds(1, "two")[0], quotas, ANYWHERE, NO_PARTIES, mem.source)
    ids = [e for e, _ in picks(got)]
    assert len(ids) == 6 == len(set(ids))
    second = got[1].strata[0]
    assert all(c["reasons"] in ([], ["already_drawn"]) for c in second.candidates())


def test_the_recipe_in_the_docs_gives_the_same_stream() -> None:
    """docs/domains/experts.md, "Verifying": the seed and the stream by hand."""
    secret, root, draw_id = bytes(range(32)), "ab" * 32, "d" * 32
    seed = hashlib.sha256(secret + bytes.fromhex(root) + draw_id.encode()).digest()
    assert seed == draw_select.draw_seed(secret, root, draw_id)

    def stream(quota: str, stratum: str, method: str):  # type: ignore[no-untyped-def]
        j = 0
        while True:
            d = hashlib.sha256(
                seed
                + b"\0".join(
                    [b"ggzy-draw-stream/1", quota.encode(), stratum.encode(), method.encode(), b""]
                )
                + j.to_bytes(8, "big")
            ).digest()
            j += 1
            yield from (int.from_bytes(d[k : k + 8], "big") for k in (0, 8, 16, 24))

    def below(s, k):  # type: ignore[no-untyped-def]
        while True:
            x = next(s)
            if x < 2**64 - 2**64 % k:
                return x % k

    by_hand, ours = stream("A01", "all", "ids"), Stream(seed, "A01", "all", "ids")
    assert [below(by_hand, 1000) for _ in range(50)] == [ours.below(1000) for _ in range(50)]
