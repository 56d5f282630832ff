"""Co-bidding network: a planted cartel is found, competitive markets are not flagged, the measures
equal hand-computed values, and the result does not depend on row order."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta
from itertools import combinations, pairwise, permutations

import polars as pl
import pytest
from scipy.stats import norm

from ggzy.supervision import network as nw

CARTEL = ["C1", "C2", "C3", "C4"]
D0 = date(2024, 1, 1)


def frame(rows: list[tuple[str, str, bool]], *, dated: bool = True) -> pl.DataFrame:
    """Bids from (tender, bidder, won) rows; tender Tn is dated D0 + n days."""
    data = {
        "tender_id": [r[0] for r in rows],
        "bidder_id": [r[1] for r in rows],
        "bidder_name": [f"{r[1]}有限公司" for r in rows],
        "winner": [r[2] for r in rows],
    }
    if dated:
        data["date"] = [D0 + timedelta(days=int(r[0][1:])) for r in rows]
    return pl.DataFrame(data)


def competitive_rows(rng: random.Random, tenders: range, pool: int) -> list[tuple[str, str, bool]]:
    rows = []
    firms = [f"F{i:03d}" for i in range(pool)]
    for t in tenders:
        bidders = rng.sample(firms, rng.randint(3, 8))
        winner = rng.choice(bidders)
        rows += [(f"T{t}", b, b == winner) for b in bidders]
    return rows


def market_with_cartel(seed: int = 1) -> pl.DataFrame:
    """400 competitive tenders among 150 firms; every 10th tender is the cartel's: its four
    members bid alone and take turns winning (C1, C2, C3, C4, C1, …)."""
    rng = random.Random(seed)
    rows = []
    for t in range(400):
        if t % 10 == 0:
            turn = CARTEL[(t // 10) % 4]
            rows += [(f"T{t}", c, c == turn) for c in CARTEL]
        else:
            rows += competitive_rows(rng, range(t, t + 1), 150)
    return frame(rows)


def test_planted_cartel_is_found_with_rotation() -> None:
    report = nw.analyse(market_with_cartel())
    flagged = report.groups.filter(pl.col("suspicious"))
    assert flagged["members"].to_list() == [CARTEL]
    g = flagged.row(0, named=True)
    assert g["group_id"] == nw.group_id(CARTEL)
    assert (g["size"], g["tenders"], g["won"], g["member_wins"]) == (4, 40, 40, 40)
    assert g["cohesion"] == 1.0
    assert g["exclusivity"] == 1.0  # the members never bid with anyone else
    assert g["hhi"] == pytest.approx(0.25)  # 10 wins each: Σ (1/4)² = 1/4
    assert g["evenness"] == pytest.approx(1.0)
    # C1 C2 C3 C4 C1 … : 40 runs, against 1 + (40² − 4·10²)/40 = 31 for random order
    assert (g["runs"], g["runs_expected"]) == (40, 31.0)
    assert g["runs_p"] < 0.001
    assert g["r053_pairs"] == 0
    assert g["reasons"] == ["tenders", "cohesion", "exclusivity", "win_share", "rotation"]
    assert g["score"] == pytest.approx(1.0)
    assert report.groups.row(0, named=True)["group_id"] == g["group_id"]  # ranked first


def test_cartel_members_that_also_bid_elsewhere_are_still_found() -> None:
    bids = market_with_cartel(seed=2)
    rng = random.Random(8)
    extra = []
    for n, t in enumerate(rng.sample(range(1, 400), 40)):  # each member joins 10 open tenders
        if t % 10:
            extra.append((f"T{t}", CARTEL[n % 4], False))
    bids = pl.concat([bids, frame(extra)])
    g = nw.groups(bids).filter(pl.col("suspicious")).row(0, named=True)
    assert g["members"] == CARTEL
    assert 0.6 < g["exclusivity"] < 0.9  # the open tenders add co-bids with outsiders
    assert g["evenness"] == pytest.approx(1.0)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_competitive_market_is_not_flagged(seed: int) -> None:
    rows = competitive_rows(random.Random(seed), range(600), pool=120)
    groups = nw.groups(frame(rows))
    assert groups.height > 0  # there are communities, just not cartels
    assert not groups["suspicious"].any()
    assert max(groups["exclusivity"].to_list()) < 0.5


def test_hand_computed_measures() -> None:
    # A, B, C bid pairwise twice each; A also meets X once (X is below min_joint, not a member).
    rows = [
        ("T1", "A", True), ("T1", "B", False),
        ("T2", "A", False), ("T2", "B", True),
        ("T3", "B", True), ("T3", "C", False),
        ("T4", "B", True), ("T4", "C", False),
        ("T5", "A", False), ("T5", "C", True),
        ("T6", "A", False), ("T6", "C", False), ("T6", "X", False),
        ("T7", "C", True),  # alone: not a joint tender
    ]  # fmt: skip
    report = nw.analyse(frame(rows), settings=nw.NetworkSettings(min_tenders=1))
    g = report.groups.row(0, named=True)
    assert report.groups.height == 1 and g["members"] == ["A", "B", "C"]
    assert g["cohesion"] == 1.0 and g["internal_edges"] == 3 and g["internal_weight"] == 6
    # strengths: A = 2 (B) + 2 (C) + 1 (X) = 5, B = 4, C = 4 + 1 (X) = 5 → 2·6 / 14
    assert g["exclusivity"] == pytest.approx(12 / 14)
    assert (g["tenders"], g["won"]) == (6, 5)  # T6 was won by nobody
    # wins in joint tenders: A 1, B 3, C 1 → HHI = (1 + 9 + 1)/25
    assert g["hhi"] == pytest.approx(11 / 25)
    assert g["evenness"] == pytest.approx((25 / 11 - 1) / 2)
    assert g["top_winner"] == "B" and g["top_winner_share"] == pytest.approx(0.6)
    assert g["runs"] == 3  # winners by date: A B B B C (T6 has no winner) → A | BBB | C
    members = report.members.select("bidder_id", "tenders", "joint_tenders", "wins", "strength")
    # A bid T1 T2 T5 T6; C also bid T7 alone
    assert members.rows() == [("A", 4, 4, 1, 5), ("B", 4, 4, 3, 4), ("C", 5, 4, 1, 5)]
    assert report.members["bidder_name"].to_list() == ["A有限公司", "B有限公司", "C有限公司"]
    assert report.members["share_of_wins"].to_list() == pytest.approx([0.2, 0.6, 0.2])
    assert report.members["exclusivity"].to_list() == pytest.approx([4 / 5, 1.0, 4 / 5])
    assert report.members["degree_in_group"].to_list() == [2, 2, 2]


def test_recurrent_winner_pair_r053() -> None:
    rows = []
    for t in range(6):
        rows += [(f"T{t}", "A", True), (f"T{t}", "B", False)]  # B only ever bids as cover
    g = nw.groups(frame(rows)).row(0, named=True)
    assert g["members"] == ["A", "B"]
    assert (g["r053_pairs"], g["recurrent_winner"]) == (1, "A")
    assert g["evenness"] == 0.0 and g["hhi"] == 1.0
    assert g["suspicious"] and "recurrent_winner" in g["reasons"] and "rotation" not in g["reasons"]


def test_graph_weights_match_a_brute_force_count() -> None:
    rows = competitive_rows(random.Random(9), range(300), pool=40)
    rows += [("T999", f"F{i:03d}", False) for i in range(40)]  # 40 bidders: above the cap of 30
    expected: Counter[tuple[str, str]] = Counter()
    by_tender: dict[str, list[str]] = {}
    for t, b, _ in rows:
        by_tender.setdefault(t, []).append(b)
    for t, bidders in by_tender.items():
        if t != "T999":
            expected.update(combinations(sorted(bidders), 2))
    graph = nw.co_bidding_graph(frame(rows))
    got = {tuple(sorted((a, b))): d["weight"] for a, b, d in graph.edges(data=True)}
    assert got == {pair: w for pair, w in expected.items() if w >= 2}
    uncapped = nw.co_bidding_graph(frame(rows), settings=nw.NetworkSettings(max_tender_bidders=40))
    assert uncapped.number_of_edges() > graph.number_of_edges()


def test_same_seed_same_groups_whatever_the_row_order() -> None:
    bids = market_with_cartel(seed=5)
    first = nw.groups(bids, seed=7)
    again = nw.groups(bids.sample(fraction=1.0, shuffle=True, seed=3), seed=7)
    assert first.equals(again)
    assert first["group_id"].n_unique() == first.height


@pytest.mark.parametrize(
    "counts", [{"A": 2, "B": 2}, {"A": 3, "B": 1, "C": 2}, {"A": 1, "B": 1, "C": 1, "D": 3}]
)
def test_runs_test_moments_equal_exhaustive_enumeration(counts: dict[str, int]) -> None:
    base = [k for k, c in counts.items() for _ in range(c)]
    orders = sorted(set(permutations(base)))  # equally likely under random order
    runs = [1 + sum(x != y for x, y in pairwise(o)) for o in orders]
    mean = sum(runs) / len(runs)
    var = sum((r - mean) ** 2 for r in runs) / len(runs)
    test = nw.winner_runs_test(list(orders[0]))
    assert test.expected == pytest.approx(mean)
    assert test.z is not None
    assert ((test.runs - test.expected) / test.z) ** 2 == pytest.approx(var)
    assert test.p_value == pytest.approx(float(norm.sf(test.z)))


def test_runs_test_degenerate_sequences() -> None:
    assert nw.winner_runs_test([]) == nw.RunsTest(runs=0, expected=0.0, z=None, p_value=None)
    one = nw.winner_runs_test(["A", "A", "A"])
    assert (one.runs, one.z, one.p_value) == (1, None, None)


def test_without_dates_there_is_no_runs_test() -> None:
    rows = [(f"T{t}", c, c == CARTEL[t % 4]) for t in range(8) for c in CARTEL]
    g = nw.groups(frame(rows, dated=False)).row(0, named=True)
    assert g["members"] == CARTEL and g["suspicious"]
    assert g["runs"] is None and g["runs_p"] is None


@pytest.mark.parametrize(
    "rows",
    [
        [("T1", "A", True), ("T1", "B", False), ("T1", "C", False)],  # one tender
        [("T1", "A", True), ("T2", "B", True), ("T3", "A", False)],  # no co-bidding
        [],
    ],
)
def test_edge_cases_give_empty_tables(rows: list[tuple[str, str, bool]]) -> None:
    bids = frame(rows) if rows else frame([]).cast({"winner": pl.Boolean, "date": pl.Date})
    report = nw.analyse(bids)
    assert report.groups.height == 0 and report.members.height == 0
    assert "suspicious" in report.groups.columns and "exclusivity" in report.members.columns
    assert nw.co_bidding_graph(bids).number_of_nodes() == 0


def test_duplicate_rows_and_string_or_integer_ids() -> None:
    rows = [(f"T{t}", c, c == "C1") for t in range(5) for c in ("C1", "C2")]
    bids = frame(rows + rows)  # each bid imported twice
    g = nw.groups(bids).row(0, named=True)
    assert (g["tenders"], g["member_wins"], g["internal_weight"]) == (5, 5, 5)
    numeric = bids.with_columns(pl.col("bidder_id").str.slice(1).cast(pl.Int64))
    assert nw.groups(numeric).row(0, named=True)["members"] == ["1", "2"]


def test_missing_column_is_named() -> None:
    with pytest.raises(ValueError, match="winner"):
        nw.groups(pl.DataFrame({"tender_id": ["T1"], "bidder_id": ["A"]}))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("min_cohesion", 1.5),
        ("min_exclusivity", -0.1),
        ("min_joint", 0),
        ("min_joint", 2.5),
        ("min_size", True),
        ("resolution", 0),
        ("r053_share", 0.4),
        ("max_tender_bidders", 1),
    ],
)
def test_settings_out_of_range_name_the_setting(name: str, value: object) -> None:
    with pytest.raises(ValueError, match=rf"^{name} must be .* in "):
        nw.NetworkSettings(**{name: value})  # type: ignore[arg-type]
