"""Kunming's toolbox: every expected number below was worked out by hand (shown in the comments)
or comes from NumPy / SciPy, not from the code under test."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats

from ggzy.supervision.toolbox import (
    TOTAL,
    BidderScoreSettings,
    EvaluationTimeSettings,
    ExpertTime,
    ExpertTotal,
    RichnessSettings,
    ScoreDeviationSettings,
    ScoreRow,
    WatchEntry,
    Watchlist,
    WatchlistSettings,
    bidder_score_deviation,
    evaluation_time_deviation,
    expert_totals,
    richness_deviation,
    score_deviation,
    watchlist_hits,
)

EXPERTS = ["E1", "E2", "E3", "E4", "E5"]
# tech (max 30): E1 puts A far above B; the others have B above A.
TECH = {"A": [28, 20, 21, 22, 19], "B": [18, 25, 26, 24, 27]}
BIZ = {"A": [15, 15, 16, 14, 15], "B": [10, 11, 11, 12, 10]}  # (max 20) everyone has A > B


def _rows() -> list[ScoreRow]:
    rows = []
    for item, item_max, table in (("tech", 30, TECH), ("biz", 20, BIZ)):
        for bidder, scores in table.items():
            for expert, score in zip(EXPERTS, scores, strict=True):
                rows.append(ScoreRow(expert, bidder, item, score, item_max))
    return rows


# --- score deviation --------------------------------------------------------------------------


def test_deviation_against_the_trimmed_consensus_of_the_others() -> None:
    result = score_deviation(_rows())
    by_key = {(d.expert_id, d.bidder_id, d.item_id): d for d in result.deviations}
    e1a = by_key[("E1", "A", "tech")]
    # others 20, 21, 22, 19 → drop 22 and 19 → mean(20, 21) = 20.5; (28 − 20.5) / 30 = 0.25
    assert e1a.others == (19, 20, 21, 22) and e1a.trimmed
    assert e1a.consensus == pytest.approx(20.5)
    assert e1a.deviation == pytest.approx(0.25)
    # others 28, 21, 22, 19 → mean(21, 22) = 21.5; (20 − 21.5) / 30 = −0.05
    assert by_key[("E2", "A", "tech")].deviation == pytest.approx(-0.05)
    flagged = {(d.expert_id, d.bidder_id, d.item_id) for d in result.deviations if d.flagged}
    assert flagged == {("E1", "A", "tech"), ("E1", "B", "tech")}
    assert len(result.deviations) == 5 * 2 * 2


def test_order_inversions_per_item_and_on_the_total() -> None:
    result = score_deviation(_rows())
    found = {(i.expert_id, i.item_id, i.higher, i.lower) for i in result.inversions}
    # totals (A/B): E1 43/28; E2 35/36; E3 37/37; E4 36/36; E5 34/37.
    # For E1 the others' totals trim to A 35.5, B 36.5 → B above A: E1's A > B is inverted.
    # For E5 the others trim to A 36.5, B 36 → A above B: E5's B > A is inverted.
    # For E2 both trim to 36.5 (a tie): no inversion.
    assert found == {("E1", "tech", "A", "B"), ("E1", TOTAL, "A", "B"), ("E5", TOTAL, "B", "A")}
    e5 = next(i for i in result.inversions if i.expert_id == "E5")
    assert e5.expert_scores == (37, 34)
    assert e5.consensus_scores == pytest.approx((36.0, 36.5))
    assert e5.pairs_compared == 1
    # the default decisive item is the total: the tech inversion is evidence, not a flag
    assert {(i.expert_id, i.item_id) for i in result.inversions if i.decisive} == {
        ("E1", TOTAL),
        ("E5", TOTAL),
    }
    assert result.kendall_distance("E1", "tech") == 1
    assert result.kendall_distance("E2", TOTAL) == 0


def test_decisive_items_are_configurable() -> None:
    result = score_deviation(_rows(), ScoreDeviationSettings(decisive_items=frozenset({"tech"})))
    assert [(i.expert_id, i.item_id) for i in result.inversions if i.decisive] == [("E1", "tech")]
    assert ("E1", "tech") in {(f.expert_id, f.item_id) for f in result.flagged}


def test_fewer_than_three_others_use_the_plain_mean() -> None:
    rows = [ScoreRow(e, "A", "k", s, 10) for e, s in (("E1", 9), ("E2", 4), ("E3", 2))]
    d = {x.expert_id: x for x in score_deviation(rows).deviations}
    assert not d["E1"].trimmed
    assert d["E1"].consensus == pytest.approx(3.0)  # mean(4, 2)
    assert d["E1"].deviation == pytest.approx(0.6) and d["E1"].flagged


def test_a_single_expert_has_no_consensus() -> None:
    assert score_deviation([ScoreRow("E1", "A", "k", 5, 10)]).deviations == []


def test_a_partial_total_is_left_out() -> None:
    rows = [r for r in _rows() if not (r.expert_id == "E3" and r.item_id == "biz")]
    totals = expert_totals(rows)
    assert {t.expert_id for t in totals} == {"E1", "E2", "E4", "E5"}
    assert {(t.expert_id, t.bidder_id): t.total for t in totals}[("E1", "A")] == 43


_DISTINCT = st.lists(st.integers(0, 10_000), min_size=8, max_size=8, unique=True)


@settings(max_examples=60, deadline=None)
@given(st.lists(_DISTINCT, min_size=5, max_size=5))
def test_inversions_are_the_kendall_distance(matrix: list[list[int]]) -> None:
    """Distinct scores per expert; the number of inverted pairs equals the discordant pairs
    between the expert's scores and the NumPy trimmed consensus, from SciPy's τ."""
    bidders = [f"B{j}" for j in range(8)]
    rows = [
        ScoreRow(f"E{e}", bidders[j], "k", float(matrix[e][j]), 10_000.0)
        for e in range(5)
        for j in range(8)
    ]
    scores = np.array(matrix, dtype=float)
    consensus = {
        e: [float(np.mean(np.sort(np.delete(scores[:, j], e))[1:-1])) for j in range(8)]
        for e in range(5)
    }
    for e in range(5):
        assume(len(set(consensus[e])) == 8)
    result = score_deviation(rows)
    for e in range(5):
        tau = stats.kendalltau(scores[e], consensus[e]).statistic
        discordant = round((1 - tau) / 2 * 28)
        assert result.kendall_distance(f"E{e}", "k") == discordant


def test_bad_scores_and_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="score row 0"):
        score_deviation([ScoreRow("E1", "A", "k", 11, 10)])
    with pytest.raises(ValueError, match="twice"):
        score_deviation([ScoreRow("E1", "A", "k", 1, 10)] * 2)
    with pytest.raises(ValueError, match=r"threshold must be in \(0.0, 1.0\]"):
        ScoreDeviationSettings(threshold=0)
    with pytest.raises(ValueError, match="trim_min_others"):
        ScoreDeviationSettings(trim_min_others=2)
    with pytest.raises(ValueError, match="decisive_items"):
        score_deviation(_rows(), ScoreDeviationSettings(decisive_items=frozenset({"nope"})))


# --- evaluation time --------------------------------------------------------------------------


TIMES = [("E1", 300), ("E1", 300), ("E2", 3600), ("E3", 4000), ("E4", 3000), ("E5", 3500)]


def test_time_deviation_from_the_median() -> None:
    rows = evaluation_time_deviation([ExpertTime(e, s) for e, s in TIMES])
    by = {r.expert_id: r for r in rows}
    assert by["E1"].seconds == 600  # two spans add up
    assert by["E1"].median == 3500
    assert by["E1"].deviation == pytest.approx((600 - 3500) / 3500)
    assert [r.expert_id for r in rows if r.flagged] == ["E1"]
    assert by["E4"].deviation == pytest.approx(-500 / 3500) and not by["E4"].rushed


def test_time_against_history() -> None:
    history = [1000 + 100 * n for n in range(20)]
    cutoff = float(np.quantile(history, 0.05))  # 1095
    times = [ExpertTime("E1", 1090), ExpertTime("E2", 1100), ExpertTime("E3", 1200)]
    by = {r.expert_id: r for r in evaluation_time_deviation(times, history=history)}
    assert by["E1"].history_cutoff == pytest.approx(cutoff)
    assert by["E1"].below_history and by["E1"].flagged and not by["E1"].rushed
    assert not by["E2"].below_history
    short = evaluation_time_deviation(times, history=history[:19])
    assert all(r.history_cutoff is None for r in short)


def test_time_edge_cases_and_settings() -> None:
    assert evaluation_time_deviation([]) == []
    zero = evaluation_time_deviation([ExpertTime("E1", 0), ExpertTime("E2", 0)])
    assert [r.deviation for r in zero] == [None, None]
    with pytest.raises(ValueError, match="seconds"):
        evaluation_time_deviation([ExpertTime("E1", -1)])
    with pytest.raises(ValueError, match=r"theta must be in \(0.0, 1.0\)"):
        EvaluationTimeSettings(theta=1.0)
    with pytest.raises(ValueError, match="history_quantile"):
        EvaluationTimeSettings(history_quantile=0.7)


# --- bidder score deviation -------------------------------------------------------------------


TOTALS = {"A": [80, 82, 78, 81, 79], "B": [95, 60, 90, 55, 100], "C": [70, 72, 68, 71, 69]}


def _totals() -> list[ExpertTotal]:
    return [ExpertTotal(f"E{n}", b, t) for b, ts in TOTALS.items() for n, t in enumerate(ts)]


def test_disagreement_concentrated_on_the_winner() -> None:
    result = bidder_score_deviation(_totals(), winner_id="B")
    by = {r.bidder_id: r for r in result.bidders}
    for bidder, values in TOTALS.items():
        cv = np.std(values, ddof=1) / np.mean(values)
        assert by[bidder].cv == pytest.approx(cv)
    assert by["B"].cv == pytest.approx(math.sqrt(1750 / 4) / 80)  # 0.2615
    assert by["B"].high_disagreement and not by["A"].high_disagreement
    assert result.others_median_cv == pytest.approx(np.median([by["A"].cv, by["C"].cv]))
    assert result.concentrated_on_winner and result.flagged


def test_no_concentration_when_the_winner_is_agreed_on() -> None:
    result = bidder_score_deviation(_totals(), winner_id="A")
    assert not result.concentrated_on_winner and not result.flagged


def test_score_against_the_bidders_history() -> None:
    result = bidder_score_deviation(_totals(), history={"A": [70, 72, 74], "C": [70, 71]})
    by = {r.bidder_id: r for r in result.bidders}
    assert by["A"].z == pytest.approx((80 - 72) / 2) and by["A"].unusually_high  # sd(70,72,74)=2
    assert by["C"].z is None  # two past scores are below min_history
    assert result.flagged


def test_bidder_settings_and_unknown_winner() -> None:
    with pytest.raises(ValueError, match="winner_id"):
        bidder_score_deviation(_totals(), winner_id="Z")
    with pytest.raises(ValueError, match="concentration"):
        BidderScoreSettings(concentration=0.5)
    with pytest.raises(ValueError, match="z_threshold"):
        BidderScoreSettings(z_threshold=0)


# --- richness ---------------------------------------------------------------------------------


def test_negative_deviation() -> None:
    scores = {"A": 90, "B": 85, "C": 70}
    richness = {"A": 50, "B": 80, "C": 60}
    result = richness_deviation(richness, scores)
    assert [r.bidder_id for r in result.bidders] == ["A", "B", "C"]
    assert [r.normalised for r in result.bidders] == pytest.approx([0.625, 1.0, 0.75])
    # ranks: score 3, 2, 1; richness 1, 3, 2; Σd² = 6; ρ = 1 − 6·6 / (3·8) = −0.5
    assert result.spearman == pytest.approx(-0.5)
    assert result.gap == pytest.approx(0.375)
    assert result.negative_by_rank and result.negative_by_gap and result.flagged


def test_richness_in_line_with_scores_is_not_flagged() -> None:
    result = richness_deviation({"A": 90, "B": 88, "C": 40}, {"A": 90, "B": 85, "C": 70})
    assert result.spearman == pytest.approx(1.0)
    assert not result.flagged
    # a runner-up richer by less than δ = 0.05 is not flagged; by more, it is
    close = richness_deviation({"A": 96, "B": 100}, {"A": 90, "B": 85})
    assert close.gap == pytest.approx(0.04) and not close.flagged and close.spearman is None
    strict = richness_deviation({"A": 96, "B": 100}, {"A": 90, "B": 85}, RichnessSettings(delta=0))
    assert strict.negative_by_gap


def test_richness_bad_input() -> None:
    with pytest.raises(ValueError, match=r"differ on \['C'\]"):
        richness_deviation({"A": 1, "B": 2}, {"A": 1, "B": 2, "C": 3})
    with pytest.raises(ValueError, match=r"delta must be in \[0.0, 1.0\)"):
        RichnessSettings(delta=1)
    constant = richness_deviation({"A": 5, "B": 5, "C": 5}, {"A": 3, "B": 2, "C": 1})
    assert constant.spearman is None and not constant.flagged


# --- watchlist --------------------------------------------------------------------------------


ENTRIES = [
    WatchEntry("entity", "91110000600037341L", "失信被执行人", "e1"),
    WatchEntry("phone", "138 0013 8000", "围标线索", "e2"),
    WatchEntry("email", "Bad@Example.com", "围标线索", "e3"),
    WatchEntry("account", "6222-0200-1234-5678", "同一账户缴纳保证金", "e4"),
    WatchEntry("ip", "10.1.2.0/24", "可疑网段", "e5"),
    WatchEntry("ip", "203.0.113.7", "可疑地址", "e6"),
    WatchEntry("entity_name", "云南某某建设有限责任公司", "曾串通投标", "e7"),
    WatchEntry("person", "11010519491231002x", "被处罚的法定代表人", "e8"),
]


def test_every_kind_matches_after_normalisation() -> None:
    subject = {
        "entity": "91110000600037341l",
        "phone:contact": ["+86 13800138000", "13800138001"],
        "email": " bad@example.COM ",
        "account": "6222020012345678",
        "ip": "::ffff:10.1.2.9",
        "entity_name": "云南某某建设（有限公司）",
        "person:legal_representative": "11010519491231002X",
    }
    hits = {(h.entry_id, h.field, h.how, h.matched) for h in watchlist_hits(ENTRIES, subject)}
    assert hits == {
        ("e1", "entity", "normalised", "91110000600037341L"),
        ("e2", "phone:contact", "normalised", "13800138000"),
        ("e3", "email", "normalised", "bad@example.com"),
        ("e4", "account", "normalised", "6222020012345678"),
        ("e5", "ip", "network", "10.1.2.0/24"),
        ("e7", "entity_name", "name", "云南某某建设有限公司"),
        ("e8", "person:legal_representative", "normalised", "11010519491231002X"),
    }


def test_near_misses_do_not_match() -> None:
    subject = {"entity_name": "云南某某建筑有限公司", "phone": "13800138001", "ip": "10.1.3.1"}
    assert watchlist_hits(ENTRIES, subject) == []
    exact = watchlist_hits(ENTRIES, {"ip": "203.0.113.7", "entity_name": None})
    assert [(h.entry_id, h.how, h.reason) for h in exact] == [("e6", "exact", "可疑地址")]


def test_names_can_be_switched_off() -> None:
    names_off = Watchlist(ENTRIES, WatchlistSettings(match_names=False))
    assert names_off.hits({"entity_name": "云南某某建设有限公司"}) == []
    with pytest.raises(ValueError, match="shorter than min_name_length"):
        watchlist_hits([WatchEntry("person_name", "王", "x")], {"person_name": "王"})
    one = Watchlist([WatchEntry("person_name", "王五", "x")], WatchlistSettings())
    assert one.hits({"person_name": "王"}) == []


def test_bad_watchlist_input() -> None:
    with pytest.raises(ValueError, match="kind must be one of"):
        watchlist_hits([WatchEntry("passport", "1", "x")], {})
    with pytest.raises(ValueError, match="subject field 'foo'"):
        watchlist_hits(ENTRIES, {"foo": "1"})
    with pytest.raises(ValueError, match="watchlist entry 0: not an IP"):
        watchlist_hits([WatchEntry("ip", "10.1.2.3/24", "x")], {})
    with pytest.raises(ValueError, match="empty once normalised"):
        watchlist_hits([WatchEntry("phone", "n/a", "x")], {})
    with pytest.raises(ValueError, match="min_name_length"):
        WatchlistSettings(min_name_length=0)
