"""OCP red flags (ggzy.supervision.redflags): each indicator flags its hand-made case and not
its near-misses; global exclusions; fences against an independent R-8 quartile; Cardinal's own
conformance fixtures (tests/supervision/fixtures/cardinal, MIT); settings validation; loader."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from ggzy.supervision import ocds_frames
from ggzy.supervision.redflags import (
    FLAG_SCHEMA,
    RedFlagSettings,
    flag_summary,
    load_releases,
    red_flags,
    subject_flags,
)

CARDINAL = Path(__file__).parent / "fixtures" / "cardinal"
START, END = "2026-01-01T00:00:00Z", "2026-01-21T00:00:00Z"


# --- builders --------------------------------------------------------------------------------


def bid(tenderer: str | None, amount: float | None = 100.0, status: str = "valid", *,
        date: str = "2026-01-20T00:00:00Z", currency: str = "CNY") -> dict[str, Any]:  # fmt: skip
    out: dict[str, Any] = {"status": status, "date": date,
                           "tenderers": [{} if tenderer is None else {"id": tenderer}]}  # fmt: skip
    if amount is not None:
        out["value"] = {"amount": amount, "currency": currency}
    return out


def award(supplier: str, status: str = "active", items: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"status": status, "suppliers": [{"id": supplier}],
            "items": [{"classification": {"scheme": "CPV", "id": c}} for c in items]}  # fmt: skip


def release(ocid: str, bids: list[dict[str, Any]] | None = None,
            awards: list[dict[str, Any]] | None = None, **tender: Any) -> dict[str, Any]:  # fmt: skip
    out: dict[str, Any] = {
        "ocid": ocid,
        "buyer": {"id": tender.pop("buyer", "BUYER")},
        "tender": {
            "status": "complete",
            "procurementMethod": "open",
            "tenderPeriod": {"startDate": START, "endDate": END},
            **tender,
        },
    }
    if bids is not None:
        out["bids"] = {"details": bids}
    if awards is not None:
        out["awards"] = awards
    return out


def run(releases: list[dict[str, Any]], codes: str, **settings: Any) -> pl.DataFrame:
    config = RedFlagSettings(indicators=frozenset(codes.split()), **settings)
    return red_flags(load_releases(releases), config)


def flagged(releases: list[dict[str, Any]], codes: str, **settings: Any) -> set[tuple[str, str]]:
    return {(o, c) for o, c in run(releases, codes, **settings).select("ocid", "code").iter_rows()}


def r8(values: list[float], p: float) -> float:
    """statrs' quantile (R-8), written out independently of numpy."""
    x = sorted(values)
    n = len(x)
    h = (n + 1 / 3) * p + 1 / 3
    k = math.floor(h)
    if k <= 0:
        return x[0]
    if k >= n:
        return x[-1]
    return x[k - 1] + (h - k) * (x[k] - x[k - 1])


def price_race(ocid: str, winner: float, runner_up: float) -> dict[str, Any]:
    return release(ocid, [bid("W", winner), bid("L", runner_up), bid("Z", runner_up * 2)],
                   [award("W")], awardCriteria="priceOnly")  # fmt: skip


# --- R003, R018 ------------------------------------------------------------------------------


def test_r003_short_period_in_whole_days_and_per_details_threshold() -> None:
    rows = [
        release("short", tenderPeriod={"startDate": START, "endDate": "2026-01-15T23:59:59Z"}),
        release("exact", tenderPeriod={"startDate": START, "endDate": "2026-01-16T00:00:00Z"}),
        release("emergency", procurementMethodDetails="紧急", tenderPeriod={
            "startDate": START, "endDate": "2026-01-08T00:00:00+08:00"}),
        release("no end", tenderPeriod={"startDate": START}),
    ]  # fmt: skip
    result = run(rows, "R003", r003_thresholds_by_details={"紧急": 7})
    assert dict(result.select("ocid", "value").iter_rows()) == {"short": 14.0, "emergency": 6.0}


def test_r018_single_tenderer_in_open_or_selective_only() -> None:
    rows = [
        release("one firm twice", [bid("A"), bid("A", 90)]),
        release("two firms", [bid("A"), bid("B")]),
        release("direct", [bid("A")], procurementMethod="direct"),
        release("count only", numberOfTenderers=1, procurementMethod="selective"),
        release("withdrawn other", [bid("A"), bid("B", status="withdrawn")]),
    ]
    result = run(rows, "R018")
    assert set(result["ocid"]) == {"one firm twice", "count only", "withdrawn other"}
    assert result.filter(pl.col("ocid") == "one firm twice")["tenderer_ids"].to_list() == [["A"]]


# --- R024, R058 ------------------------------------------------------------------------------


def test_r024_and_r058_fences_against_independent_quartiles() -> None:
    ratios = [0.04, 0.042, 0.044, 0.046, 0.048, 0.05, 0.04, 0.045, 0.05, 0.0001, 1.0]
    rows = [price_race(f"p{i}", 100.0, 100.0 * (1 + d)) for i, d in enumerate(ratios)]
    d = [(100.0 * (1 + r) - 100.0) / 100.0 for r in ratios]
    q1, q3 = r8(d, 0.25), r8(d, 0.75)
    lower, upper = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
    assert 0.0001 < lower < 0.04 and 0.05 < upper < 1.0  # the case is built that way
    result = run(rows, "R024 R058")
    assert {(o, c) for o, c in result.select("ocid", "code").iter_rows()} == {
        ("p9", "R024"), ("p10", "R058")}  # fmt: skip
    r024 = result.filter(pl.col("code") == "R024").row(0, named=True)
    assert r024["tenderer_ids"] == ["W", "L"] and r024["value"] == pytest.approx(d[9])
    assert result.filter(pl.col("code") == "R058")["tenderer_ids"].to_list() == [["W"]]


def test_r024_skipped_when_the_quartiles_are_zero_and_threshold_overrides() -> None:
    rows = [price_race(f"p{i}", 100.0, 100.0) for i in range(6)] + [price_race("gap", 100.0, 110.0)]
    assert flagged(rows, "R024") == set()  # Q1 = 0: skipped, not six flags
    assert flagged(rows, "R024", r024_threshold=0.05) == {(f"p{i}", "R024") for i in range(6)}


def test_r024_near_misses_multiple_awards_pending_award_lowest_not_winner() -> None:
    base = [price_race(f"p{i}", 100.0, 100.0 * (1 + 0.03 + i / 100)) for i in range(6)]
    misses = [
        release("two active", [bid("W", 100), bid("L", 100.01)], [award("W"), award("L")]),
        release("pending", [bid("W", 100), bid("L", 100.01)], [award("W"), award("L", "pending")]),
        release("not lowest", [bid("W", 100), bid("L", 99)], [award("W")]),
        release("two suppliers", [bid("W", 100), bid("L", 100.01)],
                [{"status": "active", "suppliers": [{"id": "W"}, {"id": "X"}]}]),
    ]  # fmt: skip
    assert flagged(base + misses, "R024", r024_threshold=0.02) == set()


def test_cardinal_r024_fixture() -> None:
    frames = load_releases(CARDINAL / "R024.jsonl")
    result = red_flags(frames, RedFlagSettings(indicators=frozenset({"R024"}), currency="USD"))
    assert result.select("ocid", "value", "tenderer_ids").rows() == [("0", 0.0, ["W", "L"])]


# --- R025 ------------------------------------------------------------------------------------


def _rotation(winners: list[str]) -> list[dict[str, Any]]:
    firms = ["A", "B", "C", "D", "E"]
    return [release(f"p{i}", [bid(f, 100 + k) for k, f in enumerate(firms)], [award(w)])
            for i, w in enumerate(winners)]  # fmt: skip


def test_r025_top_tenderer_that_never_wins() -> None:
    rows = _rotation(["A", "B", "D", "E", "A", "B", "D", "E"])  # C bids 8 times, never wins
    ratios = [0.0, 0.25, 0.25, 0.25, 0.25]
    q1, q3 = r8(ratios, 0.25), r8(ratios, 0.75)
    assert q1 - 1.5 * (q3 - q1) > 0
    result = run(rows, "R025")
    assert result.height == 8 and set(result["tenderer_ids"].explode()) == {"C"}
    subjects = subject_flags(load_releases(rows), RedFlagSettings(indicators=frozenset({"R025"})))
    assert subjects.rows() == [("R025", "tenderer", "C", 0.0)]


def test_r025_near_miss_one_win_makes_the_fence_negative() -> None:
    rows = _rotation(["A", "B", "D", "E", "A", "B", "D", "C"])
    assert flagged(rows, "R025") == set()


# --- R028, R030, R035, R036 ------------------------------------------------------------------


def test_cardinal_r028_fixture() -> None:
    frames = load_releases(CARDINAL / "R028.jsonl")
    settings = RedFlagSettings(
        indicators=frozenset({"R028"}), currency="USD",
        no_price_comparison_procurement_method_details=frozenset({"NPC"}),
        excluded_procurement_method_details=frozenset({"EXC"}),
    )  # fmt: skip
    result = red_flags(frames, settings)
    assert result.select("ocid", "tenderer_ids").rows() == [("F", ["D", "V"])]


def test_r028_same_price_twice_from_one_tenderer_is_allowed() -> None:
    rows = [release("same", [bid("A", 5), bid("A", 5), bid("B", 6)]),
            release("copy", [bid("A", 5), bid("B", 6), bid("C", 6), bid("D", 7)])]  # fmt: skip
    result = run(rows, "R028")
    assert result.select("ocid", "tenderer_ids").rows() == [("copy", ["B", "C"])]


def test_r030_late_bid_that_won() -> None:
    late = "2026-01-21T00:00:01Z"
    rows = [
        release("late winner", [bid("W", 100, date=late), bid("L", 110)], [award("W")]),
        release("late loser", [bid("W", 100), bid("L", 110, date=late)], [award("W")]),
        release("on time", [bid("W", 100, date=END), bid("L", 110)], [award("W")]),
        release("late pending award", [bid("W", 100, date=late)], [award("W", "pending")]),
    ]
    result = run(rows, "R030")
    assert result.select("ocid", "tenderer_ids").rows() == [("late winner", ["W"])]


def test_r035_all_but_the_winner_disqualified() -> None:
    rows = [
        release("flag", [bid("W"), bid("X", status="disqualified"),
                         bid("Y", status="disqualified")], [award("W")]),
        release("two valid", [bid("W"), bid("V"), bid("X", status="disqualified")], [award("W")]),
        release("winner not valid one", [bid("V"), bid("X", status="disqualified")], [award("W")]),
        release("none disqualified", [bid("W")], [award("W")]),
    ]  # fmt: skip
    result = run(rows, "R035")
    assert result.select("ocid", "value", "tenderer_ids").rows() == [("flag", 2.0, ["W"])]
    assert flagged(rows, "R035", r035_threshold=3) == set()


def test_r036_lowest_bid_disqualified_price_only() -> None:
    rows = [
        release("flag", [bid("A", 90, "disqualified"), bid("B", 100)], [award("B")]),
        release("rated", [bid("A", 90, "disqualified"), bid("B", 100)], [award("B")],
                awardCriteria="ratedCriteria"),
        release("no active award", [bid("A", 90, "disqualified"), bid("B", 100)],
                [award("B", "pending")]),
        release("no valid", [bid("A", 90, "disqualified"), bid("B", 100, "pending")], [award("B")]),
        release("lowest valid", [bid("A", 100, "disqualified"), bid("B", 90)], [award("B")]),
        release("withdrawn lower", [bid("C", 10, "withdrawn"), bid("A", 90, "disqualified"),
                                    bid("B", 100)], [award("B")], awardCriteria="priceOnly"),
    ]  # fmt: skip
    assert flagged(rows, "R036") == {("flag", "R036"), ("withdrawn lower", "R036")}


# --- R038 ------------------------------------------------------------------------------------


def test_r038_buyer_fence_and_minimum_processes() -> None:
    rows = []
    # seven buyers with two processes each; disqualified/submitted: 0.1 ×3, 0.2 ×3, 0.9
    shares = (("B1", 1), ("B2", 1), ("B3", 1), ("B4", 2), ("B5", 2), ("B6", 2), ("B9", 9))
    for buyer, disqualified in shares:
        for k in range(2):
            bids = [bid(f"T{k}{j}", status="disqualified" if j < disqualified else "valid")
                    for j in range(10)]  # fmt: skip
            rows.append(release(f"{buyer}-{k}", bids, buyer=buyer))
    rows.append(release("B7-lone", [bid("X", status="disqualified")], buyer="B7"))  # 1 process
    ratios = [0.1, 0.1, 0.1, 0.2, 0.2, 0.2, 0.9]
    q1, q3 = r8(ratios, 0.25), r8(ratios, 0.75)
    assert 0.2 < q3 + 1.5 * (q3 - q1) < 0.9
    settings = RedFlagSettings(indicators=frozenset({"R038"}), r038_minimum_submitted_bids=100)
    frames = load_releases(rows)
    result = red_flags(frames, settings)
    assert result.select("ocid", "buyer_id", "value").rows() == [
        ("B9-0", "B9", 0.9),
        ("B9-1", "B9", 0.9),
    ]
    assert ("R038", "buyer", "B9", 0.9) in subject_flags(frames, settings).rows()


def test_r038_tenderer_with_configured_threshold() -> None:
    rows = [release(f"p{i}", [bid("D", status="disqualified"), bid("V")]) for i in range(3)]
    rows.append(release("once", [bid("E", status="disqualified"), bid("V")]))  # 1 bid < minimum
    settings = {"r038_threshold": 0.5, "r038_minimum_processes": 100}
    result = run(rows, "R038", **settings)
    assert result.select("ocid", "tenderer_ids").rows() == [(f"p{i}", ["D"]) for i in range(3)]


# --- R044, R048 ------------------------------------------------------------------------------


def test_cardinal_r044_fixture() -> None:
    result = red_flags(load_releases(CARDINAL / "R044.jsonl"),
                       RedFlagSettings(indicators=frozenset({"R044"})))  # fmt: skip
    assert result.select("ocid", "tenderer_ids").rows() == [
        ("F1", ["GB-COH-09506232", "GB-COH-09506234"]),
        ("F2", ["GB-COH-09506232", "GB-COH-09506234"]),
    ]


def test_r044_shared_contact_field_and_near_misses() -> None:
    def party(pid: str, **contact: str) -> dict[str, Any]:
        return {"id": pid, "roles": ["tenderer"], "contactPoint": contact,
                "address": {"streetAddress": f"{pid} 路", "countryName": "中国"}}  # fmt: skip

    rows = [
        {**release("mail"), "parties": [party("A", name="张", email="x@a.cn"),
                                        party("B", name="李", email="x@a.cn")]},
        {**release("buyer same"), "parties": [party("A", telephone="1"),
                                              {**party("G", telephone="1"), "roles": ["buyer"]}]},
        {**release("empty"), "parties": [party("A", email=" "), party("B", email=" ")]},
        {**release("same id"), "parties": [party("A", email="y"), party("A", email="y")]},
    ]  # fmt: skip
    assert run(rows, "R044").select("ocid", "tenderer_ids").rows() == [("mail", ["A", "B"])]


def test_r048_heterogeneous_supplier() -> None:
    divisions = {"S1": ["45"], "S2": ["45"], "S3": ["33"], "S4": ["45", "44"], "S5": ["45", "44"],
                 "S6": ["30", "31"], "S7": ["03", "09", "14", "15", "18", "22", "30", "33"]}  # fmt: skip
    rows = [release(f"{s}-{k}", [bid(s)], [award(s, items=tuple(f"{c}000000" for c in codes))])
            for s, codes in divisions.items() for k in range(2)]  # fmt: skip
    lengths = [float(len(c)) for c in divisions.values()]
    q1, q3 = r8(lengths, 0.25), r8(lengths, 0.75)
    assert 2 < q3 + 1.5 * (q3 - q1) <= 8
    result = run(rows, "R048", r048_minimum_processes=2)
    assert result.select("ocid", "supplier_ids", "value").rows() == [
        ("S7-0", ["S7"], 8.0), ("S7-1", ["S7"], 8.0)]  # fmt: skip
    assert flagged(rows, "R048", r048_minimum_processes=3) == set()


# --- exclusions, platform data, output -------------------------------------------------------


def test_global_exclusions() -> None:
    same = [bid("A", 5), bid("B", 5)]
    rows = [
        release("kept", same),
        release("cancelled", same, status="cancelled"),
        release("foreign award", same, [{**award("A", "unsuccessful"),
                                         "value": {"amount": 1, "currency": "USD"}}]),
        release("buyer without id", same, buyer=None),
        release("tenderer without id", [*same, bid(None, 7)]),
        release("supplier without id", same, [{"status": "unsuccessful", "suppliers": [{}]}]),
        release("excluded details", same, procurementMethodDetails="摇号"),
        {**release("no ocid", same), "ocid": 17.5},
    ]  # fmt: skip
    rows[3]["buyer"] = {"name": "无标识"}
    result = run(rows, "R028", excluded_procurement_method_details=frozenset({"摇号"}))
    assert result["ocid"].to_list() == ["kept"]


def test_platform_output_pending_bids_count_as_valid_only_with_for_platform() -> None:
    """Our releases: decrypted bids are pending, the winner's award active, CNY."""
    ours = [release("ocds-ggzy00-S1", [bid("CN-USCC-A", 100, "pending", date="2026-01-22T00:00:00Z"),
                                       bid("CN-USCC-B", 120, "pending"),
                                       bid("CN-USCC-C", None, "withdrawn")],
                    [award("CN-USCC-A"), award("CN-USCC-B", "unsuccessful")],
                    awardCriteria="ratedCriteria", numberOfTenderers=2)]  # fmt: skip
    assert run(ours, "R030").height == 0
    platform = RedFlagSettings.for_platform(indicators=frozenset({"R030"}))
    assert red_flags(load_releases(ours), platform)["ocid"].to_list() == ["ocds-ggzy00-S1"]


def test_output_schema_and_summary() -> None:
    rows = [release("a", [bid("A", 5), bid("B", 5)], tenderPeriod={"startDate": START, "endDate": START}),
            release("b")]  # fmt: skip
    result = run(rows, "R003 R028")
    assert result.schema == pl.Schema(FLAG_SCHEMA)
    summary = flag_summary(result)
    assert summary.rows() == [("a", 2, ["R003", "R028"])]
    empty = run([release("b")], "R024")
    assert empty.height == 0 and empty.schema == pl.Schema(FLAG_SCHEMA)


# --- settings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("setting", "value"), [
    ("indicators", frozenset({"R999"})), ("indicators", frozenset()), ("currency", "rmb"),
    ("r003_threshold", 0), ("r003_threshold", True), ("r003_threshold", 1.5),
    ("r003_thresholds_by_details", {"紧急": -1}), ("r024_threshold", -0.1),
    ("r025_threshold", 1.5), ("r025_percentile", 0), ("r035_threshold", 0),
    ("r038_threshold", float("nan")), ("r038_minimum_submitted_bids", 0), ("r048_digits", 9),
    ("r048_threshold", 0), ("r058_threshold", "0.5"), ("bid_status_map", {"pending": "ok"}),
])  # fmt: skip
def test_bad_settings_raise_value_error_naming_the_setting(setting: str, value: Any) -> None:
    with pytest.raises(ValueError, match=setting.split("_thresholds")[0]):
        RedFlagSettings(**{setting: value})


# --- loader -----------------------------------------------------------------------------------


def test_loader_reports_bad_lines_and_reads_records(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    record = {
        "ocid": "r",
        "releases": [],
        "compiledRelease": release("r", [bid(1, 5), bid("B", 5)]),  # type: ignore[arg-type]
    }
    lines = [
        json.dumps(release("a")),
        "{oops",
        "",
        "[1, 2]",
        json.dumps(record),
        json.dumps({"ocid": "t", "tender": "not an object", "bids": {"details": "no"}}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    frames = load_releases(path)
    assert [n for n, _ in frames.problems] == [2, 4]
    assert frames.processes["ocid"].to_list() == ["a", "r", "t"]
    assert frames.bid_tenderers["tenderer_id"].to_list() == ["1", "B"]  # a numeric id as text
    result = red_flags(frames, RedFlagSettings(indicators=frozenset({"R028"})))
    assert result.select("ocid", "tenderer_ids").rows() == [("r", ["1", "B"])]


def test_parallel_load_equals_serial(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "in.jsonl"
    rows = [price_race(f"p{i}", 100.0, 104.0 + i % 3) for i in range(300)]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n{bad\n", encoding="utf-8")
    monkeypatch.setattr(ocds_frames, "PARALLEL_MIN_BYTES", 0)
    serial, parallel = load_releases(path), load_releases(path, workers=2)
    for name in ("processes", "bids", "bid_tenderers", "awards", "award_suppliers", "parties"):
        assert getattr(parallel, name).equals(getattr(serial, name)), name
    assert parallel.problems == serial.problems == [(301, parallel.problems[0][1])]
