"""Bid-price screens against independent references: scipy for SKEW, KURT and KSTEST, the
§1.1 formulas written out directly in numpy for the others, itertools.combinations for the
summary screens.

Tolerance: ``math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9)`` — within 1e-9 relatively
*or* absolutely, whichever is looser (the screens are ratios of order 1, so the absolute bound
only matters near 0, e.g. a skewness of 1e-12 against scipy's 3e-12).
"""

from __future__ import annotations

import math
import statistics
import warnings
from itertools import combinations
from typing import Any

import numpy as np
import polars as pl
import pytest
import scipy.stats
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ggzy.supervision import screens_subsets
from ggzy.supervision.screens import screen_all, summary_screens, tender_screens
from ggzy.supervision.screens_risk import SCREENS, ThresholdError, Thresholds, risk

TOL = {"rel_tol": 1e-9, "abs_tol": 1e-9}
TENDER = ("cv", "spd", "diffp", "rd", "rdnor", "rdalt", "kurt", "skew", "kstest")


# --- reference: §1.1 written out, scipy where the issue names it --------------------------------


def reference(bids: list[float]) -> dict[str, float | None]:
    b = np.sort(np.asarray(bids, dtype=np.float64))
    n = len(b)
    out: dict[str, float | None] = dict.fromkeys(TENDER)
    out["nbids"] = n
    if n >= 2:
        out["cv"] = float(np.std(b, ddof=1) / np.mean(b))
        out["spd"] = float((b[-1] - b[0]) / b[0])
        distinct = np.unique(b)
        if len(distinct) >= 2:
            out["diffp"] = float((distinct[1] - distinct[0]) / distinct[0])
            out["rdnor"] = float((b[1] - b[0]) / (np.sum(np.diff(b)) / (n - 1)))
    if n >= 3:
        if b[-1] > b[1]:  # the losing bids are not all equal: sd > 0 (numpy's may not be 0)
            out["rd"] = float((b[1] - b[0]) / np.std(b[1:], ddof=1))
        if b[-1] > b[1]:
            out["rdalt"] = float((b[1] - b[0]) / (np.sum(np.diff(b)[1:]) / (n - 2)))
        with warnings.catch_warnings():  # scipy warns on close bids; the answer is still used
            warnings.simplefilter("ignore", RuntimeWarning)
            skew = scipy.stats.skew(b, bias=False)
        out["skew"] = None if math.isnan(skew) else float(skew)
        if b[-1] > b[0]:
            out["kstest"] = float(
                scipy.stats.kstest(b, "uniform", args=(b[0], b[-1] - b[0])).statistic
            )
    if n >= 4:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            kurt = scipy.stats.kurtosis(b, fisher=True, bias=False)
        out["kurt"] = None if math.isnan(kurt) else float(kurt)
    return out


def assert_close(got: Any, want: Any, what: str) -> None:
    if want is None:
        assert got is None, f"{what}: expected null, got {got}"
    else:
        assert got is not None, f"{what}: expected {want}, got null"
        assert math.isclose(got, want, **TOL), f"{what}: {got} != {want}"


def frame(tenders: dict[Any, list[float]]) -> pl.DataFrame:
    ids = [t for t, bids in tenders.items() for _ in bids]
    amounts = [a for bids in tenders.values() for a in bids]
    return pl.DataFrame(
        {"tender_id": ids, "amount": amounts}, schema_overrides={"amount": pl.Float64}
    )


def rows_by_id(df: pl.DataFrame) -> dict[Any, dict[str, Any]]:
    return {r["tender_id"]: r for r in df.iter_rows(named=True)}


# amounts of one tender: continuous values, or a few repeated values (ties), at a random scale
amount = st.floats(min_value=1.0, max_value=1e4, allow_nan=False, allow_infinity=False)
tied = st.sampled_from([100.0, 100.0, 101.5, 250.0, 99.25])
scale = st.sampled_from([1e-6, 1.0, 1e3, 1e9])


@st.composite
def tender_bids(draw: st.DrawFn, min_size: int = 1, max_size: int = 12) -> list[float]:
    values = draw(st.lists(st.one_of(amount, tied), min_size=min_size, max_size=max_size))
    factor = draw(scale)
    bids = [v * factor for v in values]
    if len(set(bids)) > 1:
        # a spread far below the float resolution of the mean makes every moment noise (scipy's
        # own answer is then arbitrary too); the exactly-equal case is tested separately
        assume((max(bids) - min(bids)) / max(bids) > 1e-6)
        losing = sorted(bids)[1:]
        if len(set(losing)) > 1:  # the same for the losing bids, whose sd divides RD
            assume((max(losing) - min(losing)) / max(losing) > 1e-6)
    return bids


# --- tender screens -----------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(st.lists(tender_bids(), min_size=1, max_size=6))
def test_tender_screens_match_scipy_and_formulas(tenders: list[list[float]]) -> None:
    data = {f"t{i}": bids for i, bids in enumerate(tenders)}
    got = rows_by_id(tender_screens(frame(data)))
    assert set(got) == set(data)
    for tid, bids in data.items():
        want = reference(bids)
        assert got[tid]["nbids"] == len(bids)
        for screen in TENDER:
            assert_close(got[tid][screen], want[screen], f"{tid} {screen} {bids}")


def test_known_values_by_hand() -> None:
    # 1..5: s = √2.5, b̄ = 3; uniform-like, so KS = 1/5, skew 0, excess kurtosis −1.2
    got = rows_by_id(tender_screens(frame({"a": [5, 1, 3, 2, 4]})))["a"]
    assert math.isclose(got["cv"], math.sqrt(2.5) / 3)
    assert got["spd"] == 4.0 and got["diffp"] == 1.0
    assert math.isclose(got["rd"], 1 / math.sqrt(5 / 3))  # sd(2,3,4,5) = √(5/3)
    assert got["rdnor"] == 1.0 and got["rdalt"] == 1.0
    assert math.isclose(got["kurt"], -1.2) and abs(got["skew"]) < 1e-12
    assert math.isclose(got["kstest"], 0.2)


def test_too_few_bids_give_nulls() -> None:
    got = rows_by_id(tender_screens(frame({"one": [7.0], "two": [3.0, 4.0], "three": [1, 2, 4]})))
    assert all(got["one"][s] is None for s in TENDER)
    two = got["two"]
    assert [s for s in TENDER if two[s] is None] == ["rd", "rdalt", "kurt", "skew", "kstest"]
    assert two["rdnor"] == 1.0  # identically 1 with two bids, by definition
    three = got["three"]
    assert [s for s in TENDER if three[s] is None] == ["kurt"]


def test_ties() -> None:
    got = rows_by_id(
        tender_screens(frame({"equal": [5.0] * 6, "low_tie": [10, 10, 12, 15], "top": [1, 2, 2]}))
    )
    equal = got["equal"]
    assert equal["cv"] == 0.0 and equal["spd"] == 0.0
    assert all(
        equal[s] is None for s in ("diffp", "rd", "rdnor", "rdalt", "kurt", "skew", "kstest")
    )
    low = got["low_tie"]
    assert low["diffp"] == 0.2  # second *distinct* value: 12, not the tied 10
    assert low["rd"] == 0.0 and low["rdnor"] == 0.0 and low["rdalt"] == 0.0
    assert got["top"]["rd"] is None  # losing bids 2, 2 have sd 0


def test_no_inf_or_nan_anywhere() -> None:
    rng = np.random.default_rng(7)
    data = {i: list(rng.choice([1.0, 2.0, 3.0], size=int(rng.integers(1, 8)))) for i in range(300)}
    out = screen_all(frame(data))
    floats = [c for c, t in out.schema.items() if t == pl.Float64]
    assert (
        out.select(
            pl.any_horizontal(pl.col(floats).is_nan() | pl.col(floats).is_infinite()).any()
        ).item()
        is False
    )


def test_magnitudes_do_not_change_scale_free_screens() -> None:
    base = [3.0, 3.5, 7.25, 8.0, 20.0]
    data = {"tiny": [b * 1e-9 for b in base], "unit": base, "huge": [b * 1e12 for b in base]}
    got = rows_by_id(tender_screens(frame(data)))
    for screen in TENDER:
        for tid in ("tiny", "huge"):
            assert math.isclose(got[tid][screen], got["unit"][screen], rel_tol=1e-9, abs_tol=1e-12)


def test_ids_string_or_sparse_ints_and_lazy_input() -> None:
    ints = {10**12: [1.0, 2.0, 4.0], -5: [2.0, 2.5, 3.0, 9.0], 7: [1.0]}
    out = tender_screens(frame(ints).lazy())
    assert out["tender_id"].to_list() == [-5, 7, 10**12]  # ordered by tender_id
    strings = {"GGZY-2026-0002/标段一": [1.0, 2.0, 4.0], "A": [5.0, 6.0]}
    out_s = tender_screens(frame(strings))
    assert out_s["tender_id"].to_list() == ["A", "GGZY-2026-0002/标段一"]
    assert rows_by_id(out_s)["GGZY-2026-0002/标段一"]["spd"] == 3.0


def test_row_order_does_not_matter() -> None:
    rng = np.random.default_rng(11)
    data = {i: list(rng.uniform(1, 100, size=int(rng.integers(1, 10)))) for i in range(200)}
    ordered = frame(data)
    shuffled = ordered.sample(fraction=1.0, shuffle=True, seed=5)
    assert screen_all(shuffled).equals(screen_all(ordered))


def test_non_numeric_amount_is_refused() -> None:
    bids = pl.DataFrame({"tender_id": [1, 1], "amount": ["1.0", "2.0"]})
    with pytest.raises(ValueError, match=r"^amount: must be a number"):
        tender_screens(bids)


def test_empty_input() -> None:
    empty = pl.DataFrame(schema={"tender_id": pl.String, "amount": pl.Float64})
    assert tender_screens(empty).height == 0
    out = screen_all(empty)
    assert out.height == 0
    assert {"cv", "cv_k4_min", "risk_score", "summary_sampled"} <= set(out.columns)


@pytest.mark.parametrize(
    ("amounts", "column"),
    [([1.0, -2.0], "amount"), ([1.0, 0.0], "amount"), ([1.0, None], "amount"),
     ([1.0, float("inf")], "amount"), ([1.0, float("nan")], "amount")],
)  # fmt: skip
def test_bad_amounts_are_refused(amounts: list[float | None], column: str) -> None:
    bids = pl.DataFrame(
        {"tender_id": [1, 1], "amount": amounts}, schema_overrides={"amount": pl.Float64}
    )
    with pytest.raises(ValueError, match=f"^{column}:"):
        tender_screens(bids)


def test_missing_column_is_refused() -> None:
    with pytest.raises(ValueError, match=r"missing column.*amount"):
        tender_screens(pl.DataFrame({"tender_id": [1]}))


# --- summary screens ----------------------------------------------------------------------------


def summarise(values: list[float | None]) -> dict[str, float | None]:
    defined = [v for v in values if v is not None]
    if not defined:
        return dict.fromkeys(screens_subsets.STATS)
    return {
        "mean": statistics.fmean(defined),
        "median": statistics.median(defined),
        "min": min(defined),
        "max": max(defined),
    }


def reference_summary(
    bids: list[float], k: int, subsets: list[tuple[int, ...]] | None = None
) -> dict[str, float | None]:
    b = sorted(bids)
    picks = subsets if subsets is not None else list(combinations(range(len(b)), k))
    per_subset = [reference([b[i] for i in pick]) for pick in picks]
    out: dict[str, float | None] = {}
    for screen in screens_subsets.screens_for_size(k):
        for stat, value in summarise([s[screen] for s in per_subset]).items():
            out[f"{screen}_k{k}_{stat}"] = value
    return out


@settings(max_examples=60, deadline=None)
@given(st.lists(tender_bids(min_size=1, max_size=7), min_size=1, max_size=4))
def test_summary_screens_match_itertools(tenders: list[list[float]]) -> None:
    data = {i * 3: bids for i, bids in enumerate(tenders)}
    got = rows_by_id(summary_screens(frame(data)))
    for tid, bids in data.items():
        assert got[tid]["summary_sampled"] is False
        for k in (3, 4):
            if len(bids) < k:
                assert got[tid][f"cv_k{k}_mean"] is None
                continue
            for column, want in reference_summary(bids, k).items():
                assert_close(got[tid][column], want, f"{tid} {column} {bids}")


def test_summary_columns_and_kurt_only_for_four() -> None:
    out = summary_screens(frame({1: [1.0, 2.0, 4.0, 8.0]}))
    assert "kurt_k3_mean" not in out.columns and "kurt_k4_mean" in out.columns
    assert set(screens_subsets.summary_columns()) | {"tender_id", "summary_sampled"} == set(
        out.columns
    )
    row = out.row(0, named=True)
    assert row["cv_k4_mean"] == row["cv_k4_min"] == row["cv_k4_max"]  # one 4-subset


def test_large_tender_uses_the_seeded_sample() -> None:
    rng = np.random.default_rng(3)
    bids = list(rng.uniform(100, 200, size=15))
    alone = summary_screens(frame({"big": bids}), max_bids=6)
    with_others = summary_screens(frame({"big": bids, "x": [1.0, 2.0, 3.0, 5.0]}), max_bids=6)
    row = rows_by_id(alone)["big"]
    assert row["summary_sampled"] is True
    assert row == rows_by_id(with_others)["big"]  # independent of the other tenders
    for k in (3, 4):
        index = screens_subsets.subset_index(15, k, 6)
        assert index.shape == (math.comb(6, k), k)
        picks = [tuple(int(i) for i in r) for r in index]
        assert len(set(picks)) == len(picks) and all(list(p) == sorted(set(p)) for p in picks)
        for column, want in reference_summary(bids, k, picks).items():
            assert_close(row[column], want, column)


def test_subset_sample_for_very_large_tenders_is_drawn_not_enumerated() -> None:
    index = screens_subsets.subset_index(400, 4, 12)  # C(400, 4) ≈ 1.1e9: never enumerated
    assert index.shape == (495, 4)
    assert (np.diff(index, axis=1) > 0).all() and index.min() >= 0 and index.max() < 400
    assert np.array_equal(index, screens_subsets.subset_index(400, 4, 12))  # seeded


def test_summary_sizes_are_validated() -> None:
    with pytest.raises(ValueError, match="max_bids"):
        summary_screens(frame({1: [1.0, 2.0, 3.0]}), max_bids=3)
    with pytest.raises(ValueError, match="sizes"):
        summary_screens(frame({1: [1.0, 2.0, 3.0]}), sizes=(2,))


# --- thresholds and risk ------------------------------------------------------------------------


def test_default_thresholds_and_directions() -> None:
    th = Thresholds()
    assert th.rd == 1.0 and th.nbids == 3
    assert [s for s in SCREENS if th.direction(s) == "low"] == ["nbids", "cv", "spd", "skew"]
    assert Thresholds.from_mapping({"cv": 0.03, "weights": {"rd": 2}}).weights["rd"] == 2
    assert Thresholds.from_mapping(th.as_dict()) == th


@pytest.mark.parametrize(
    ("data", "screen", "text"),
    [({"cv": -0.1}, "cv", r"\[0, 10\]"), ({"cv": float("nan")}, "cv", "number"),
     ({"spd": "0.1"}, "spd", "number"), ({"kstest": 1.5}, "kstest", r"\[0, 1\]"),
     ({"nbids": 2.5}, "nbids", "integer"), ({"nbids": True}, "nbids", "integer"),
     ({"rd": float("inf")}, "rd", "number"), ({"bidrotation": 1}, "bidrotation", "unknown screen"),
     ({"weights": {"cvv": 1}}, "cvv", "unknown screen"), ({"weights": {"cv": -1}}, "weights.cv", "number"),
     ({"weights": dict.fromkeys(SCREENS, 0)}, "weights", "positive")],
)  # fmt: skip
def test_thresholds_out_of_range_name_the_screen(
    data: dict[str, Any], screen: str, text: str
) -> None:
    with pytest.raises(ThresholdError, match=text) as caught:
        Thresholds.from_mapping(data)
    assert caught.value.screen == screen
    assert str(caught.value).startswith(f"{screen}: ")
    assert isinstance(caught.value, ValueError)


def test_risk_flags_and_score() -> None:
    # "cartel": winner far below four bunched cover bids; "fair": evenly spread bids
    data = {
        "cartel": [80.0, 100.0, 100.5, 101.0, 101.2],
        "fair": [80.0, 83.0, 91.0, 104.0, 120.0],
        "pair": [5.0, 6.0],
    }
    screens = tender_screens(frame(data))
    out = rows_by_id(risk(screens, Thresholds()))
    cartel, fair, pair = out["cartel"], out["fair"], out["pair"]
    assert (
        cartel["rd_flag"] is True and cartel["diffp_flag"] is True and cartel["kstest_flag"] is True
    )
    assert fair["rd_flag"] is False and fair["screens_flagged"] == 0 and fair["risk_score"] == 0.0
    assert cartel["screens_defined"] == 10
    expected = 100.0 * cartel["screens_flagged"] / 10
    assert cartel["risk_score"] == pytest.approx(expected)
    # two bids: only nbids, cv, spd, diffp, rdnor defined; nbids 2 < 3 flags
    assert pair["screens_defined"] == 5 and pair["rd_flag"] is None and pair["nbids_flag"] is True
    unweighted = rows_by_id(risk(screens, Thresholds(weights={"nbids": 0})))["pair"]
    assert unweighted["screens_defined"] == 4 and unweighted["nbids_flag"] is True
    assert unweighted["diffp_flag"] is True  # (6 − 5) / 5 = 0.2 > 0.05: 1 of 4
    assert unweighted["screens_flagged"] == 1 and unweighted["risk_score"] == 25.0
    weighted = rows_by_id(risk(screens, Thresholds(weights={"rd": 3.0})))["cartel"]
    assert weighted["risk_score"] == pytest.approx(100.0 * (cartel["screens_flagged"] + 2) / 12)


def test_screen_all_one_row_per_tender_with_everything() -> None:
    data = {3: [1.0, 2.0, 3.0, 4.0], 1: [2.0], 2: [5.0, 5.5, 6.0]}
    out = screen_all(frame(data).lazy(), Thresholds(rd=0.5))
    assert out["tender_id"].to_list() == [1, 2, 3]
    assert out.filter(pl.col("tender_id") == 3)["cv_k4_mean"].item() is not None
    assert out.filter(pl.col("tender_id") == 1)["risk_score"].item() == 100.0  # nbids only
    assert out.filter(pl.col("tender_id") == 1)["screens_defined"].item() == 1
