"""Bid-price screens over 1,000,000 tenders / ~8,000,000 bids (issue 7): Polars vs pandas + scipy.

Data (generated here, seeded, not timed): ``--tenders`` tenders with 2–14 bids each
(2 + Binomial(12, ½), mean 8), an estimate log-uniform between 10⁵ and 10⁸ yuan, tender ids
sparse random integers and the rows shuffled (nothing may rely on input order). 90 % of the
tenders are competitive (bids = estimate × uniform(0.85, 1.10)); 10 % carry a cover-bidding
pattern (the winner 4–12 % below cover bids bunched within ±0.7 % of a level), so the flags fire.

Timed:

* ``screen_all`` over everything: tender screens (CV, SPD, DIFFP, RD, RDNOR, RDALT, KURT, SKEW,
  KSTEST, NBIDS), summary screens over every 3- and 4-bid subset (mean/median/min/max; tenders
  above ``max_bids`` = 12 bids use the seeded sample of C(12, k) subsets) and the risk flags and
  score. Peak RSS is sampled every 20 ms during the call (``/proc/self/status``), next to the
  process's ``ru_maxrss`` (which includes data generation).
* the three parts alone (tender screens, summary screens, risk), for the breakdown.
* baseline, same run: the "plain library" way — pandas ``groupby(...).apply`` with, per tender,
  ``scipy.stats.skew/kurtosis/kstest`` and the formulas in numpy, and ``itertools.combinations``
  for the summary screens (the same subsets, the same sample above 12 bids), pandas comparisons
  for the flags. Over all 1,000,000 tenders it would take hours, so it runs on a random sample
  of ``--sample`` tenders and ``screen_all`` is timed on the same sample; the ratio is reported
  on the sample and per tender against the full run. Both answers are compared on the sample
  (largest absolute difference over every screen column, and null/NaN disagreements).

    flock /tmp/bench.lock .venv/bin/python bench/screens.py             # full (~6 min)
    .venv/bin/python bench/screens.py --tenders 20000 --sample 500      # smoke
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import resource
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import scipy
import scipy.stats

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import common

from ggzy.supervision import screens_subsets
from ggzy.supervision.screens import screen_all, summary_screens, tender_screens
from ggzy.supervision.screens_risk import DIRECTIONS, SCREENS, Thresholds, risk

MAX_BIDS = screens_subsets.DEFAULT_MAX_BIDS
COLLUSIVE_SHARE = 0.10
# the baseline costs ~0.15 s per tender (≈ 126 subsets × 3 scipy calls): 10,000 would take ~25 min
SAMPLE = 1_000
PLAIN_COLUMNS = [
    "nbids", "cv", "spd", "diffp", "rd", "rdnor", "rdalt", "kurt", "skew", "kstest",
    *screens_subsets.summary_columns(),
]  # fmt: skip


# --- data ---------------------------------------------------------------------------------------


def generate(tenders: int, seed: int = 20261207) -> tuple[pl.DataFrame, np.ndarray]:
    """The bids, and the ids of the tenders generated with the cover-bidding pattern."""
    rng = np.random.default_rng(seed)
    counts = 2 + rng.binomial(12, 0.5, tenders)
    ids = np.sort(rng.choice(np.int64(tenders) * 50, size=tenders, replace=False))
    estimate = 10 ** rng.uniform(5, 8, tenders)
    collusive = rng.random(tenders) < COLLUSIVE_SHARE
    rows = int(counts.sum())
    owner = np.repeat(np.arange(tenders), counts)
    rank_in = np.arange(rows) - np.repeat(np.cumsum(counts) - counts, counts)
    fair = rng.uniform(0.85, 1.10, rows)
    level = np.repeat(rng.uniform(0.95, 1.05, tenders), counts)
    cover = level * rng.uniform(0.993, 1.007, rows)
    winner = level * (1 - np.repeat(rng.uniform(0.04, 0.12, tenders), counts))
    rigged = np.where(rank_in == 0, winner, cover)
    factor = np.where(collusive[owner], rigged, fair)
    amount = np.round(estimate[owner] * factor, 2)
    order = rng.permutation(rows)
    bids = pl.DataFrame({"tender_id": ids[owner][order], "amount": amount[order]})
    return bids, ids[collusive]


# --- baseline: pandas + scipy, the straightforward way ------------------------------------------


def plain_screens(b: np.ndarray) -> dict[str, float]:
    """The §1.1 screens of one tender's ascending bids, with scipy where it has them."""
    n = len(b)
    nan = math.nan
    r = dict.fromkeys(("cv", "spd", "diffp", "rd", "rdnor", "rdalt", "kurt", "skew", "kstest"), nan)
    if n >= 2:
        r["cv"] = b.std(ddof=1) / b.mean()
        r["spd"] = (b[-1] - b[0]) / b[0]
        distinct = np.unique(b)
        if len(distinct) > 1:
            r["diffp"] = (distinct[1] - distinct[0]) / distinct[0]
            r["rdnor"] = (b[1] - b[0]) / (np.diff(b).sum() / (n - 1))
    if n >= 3:
        if b[-1] > b[1]:  # losing bids not all equal, so their sd is > 0
            r["rd"] = (b[1] - b[0]) / b[1:].std(ddof=1)
        if b[-1] > b[1]:
            r["rdalt"] = (b[1] - b[0]) / (np.diff(b)[1:].sum() / (n - 2))
        r["skew"] = scipy.stats.skew(b, bias=False)
        if b[-1] > b[0]:
            r["kstest"] = scipy.stats.kstest(b, "uniform", args=(b[0], b[-1] - b[0])).statistic
    if n >= 4:
        r["kurt"] = scipy.stats.kurtosis(b, fisher=True, bias=False)
    return r


def plain_tender(group: pd.DataFrame) -> pd.Series:
    b = np.sort(group["amount"].to_numpy())
    n = len(b)
    row: dict[str, Any] = {"nbids": n, **plain_screens(b)}
    for k in (3, 4):
        if n < k:
            continue
        picks = (
            list(combinations(range(n), k))
            if n <= MAX_BIDS
            else [tuple(p) for p in screens_subsets.subset_index(n, k, MAX_BIDS)]
        )
        subsets = pd.DataFrame([plain_screens(b[list(p)]) for p in picks])
        if k < 4:
            subsets = subsets.drop(columns="kurt")
        stats = subsets.agg(["mean", "median", "min", "max"])
        for screen in stats.columns:
            for stat in stats.index:
                row[f"{screen}_k{k}_{stat}"] = stats.at[stat, screen]
    return pd.Series(row, index=PLAIN_COLUMNS, dtype=np.float64)


def plain_tender_screens(bids: pd.DataFrame) -> pd.DataFrame:
    """The baseline without summary screens or risk: the cheap half, for a second ratio."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return bids.groupby("tender_id")["amount"].apply(
            lambda a: pd.Series(plain_screens(np.sort(a.to_numpy())))
        )


def plain_screen_all(bids: pd.DataFrame, th: Thresholds) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = bids.groupby("tender_id").apply(plain_tender, include_groups=False)
    weight_defined = pd.Series(0.0, index=out.index)
    weight_hit = pd.Series(0.0, index=out.index)
    for s in SCREENS:
        value, limit = out[s], getattr(th, s)
        flag = value < limit if DIRECTIONS[s] == "low" else value > limit
        out[f"{s}_flag"] = flag.where(value.notna())
        weight_defined += value.notna() * th.weights[s]
        weight_hit += (flag & value.notna()) * th.weights[s]
    out["risk_score"] = 100 * weight_hit / weight_defined
    return out.reset_index()


def pandas_frame(df: pl.DataFrame) -> pd.DataFrame:
    """polars → pandas without pyarrow (not installed): column by column through numpy."""
    return pd.DataFrame({c: df[c].to_numpy() for c in df.columns})


def compare(fast: pl.DataFrame, plain: pd.DataFrame) -> dict[str, Any]:
    """Largest absolute difference over the numeric screen columns, and null disagreements."""
    a = pandas_frame(fast.sort("tender_id"))
    b = plain.sort_values("tender_id").reset_index(drop=True)
    assert list(a["tender_id"]) == list(b["tender_id"])
    worst, worst_col, null_mismatch, compared = 0.0, "", 0, 0
    for col in b.columns:
        if col == "tender_id" or col.endswith("_flag") or col not in a.columns:
            continue
        x = a[col].to_numpy(dtype=np.float64, na_value=np.nan)
        y = b[col].to_numpy(dtype=np.float64, na_value=np.nan)
        null_mismatch += int((np.isnan(x) != np.isnan(y)).sum())
        both = ~np.isnan(x) & ~np.isnan(y)
        compared += int(both.sum())
        if both.any():
            d = float(np.max(np.abs(x[both] - y[both])))
            if d > worst:
                worst, worst_col = d, col
    flags = [c for c in b.columns if c.endswith("_flag")]
    flag_mismatch = sum(
        int((a[c].astype("boolean").fillna(False) != b[c].astype("boolean").fillna(False)).sum())
        for c in flags
    )
    return {
        "max_abs_diff": worst,
        "max_abs_diff_column": worst_col,
        "values_compared": compared,
        "null_mismatches": null_mismatch,
        "flag_mismatches": flag_mismatch,
    }


# --- measuring ----------------------------------------------------------------------------------


def rss_bytes() -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


@contextlib.contextmanager
def peak_rss() -> Iterator[dict[str, int]]:
    """Sample the resident set every 20 ms while the block runs."""
    box = {"peak": rss_bytes(), "before": rss_bytes()}
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.02):
            box["peak"] = max(box["peak"], rss_bytes())

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield box
    finally:
        stop.set()
        thread.join()
        box["peak"] = max(box["peak"], rss_bytes())


def timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    t = time.perf_counter()
    value = fn(*args, **kwargs)
    return value, time.perf_counter() - t


def machine() -> dict[str, str]:
    cpu, mem = "", ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as fh:
        cpu = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), "")
    with contextlib.suppress(OSError), open("/proc/meminfo", encoding="utf-8") as fh:
        kb = next((int(ln.split()[1]) for ln in fh if ln.startswith("MemTotal")), 0)
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    commit = common._cmd("git", "-C", str(common.REPO), "rev-parse", "--short", "HEAD")
    if common._cmd("git", "-C", str(common.REPO), "status", "--porcelain"):
        commit += " with uncommitted changes"
    return {
        "commit": commit or "unknown",
        "vcpu": str(len(os.sched_getaffinity(0))),
        "cpu": cpu,
        "memory": mem,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "versions": f"polars {pl.__version__}, numpy {np.__version__}, scipy {scipy.__version__}, "
        f"pandas {pd.__version__}",
    }


def load() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


# --- run ----------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    r: dict[str, Any] = {"date_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())}
    r["load_before"] = load()
    r["machine"] = machine()
    common.log(f"generating {args.tenders:,} tenders")
    (bids, rigged), r["generate_s"] = timed(generate, args.tenders)
    r["tenders"], r["bids"] = args.tenders, bids.height
    sizes = bids.group_by("tender_id").len()["len"].to_numpy()
    capped = np.minimum(sizes, MAX_BIDS)
    r["subsets"] = int(sum(math.comb(int(c), k) for c in capped for k in (3, 4) if c >= k))
    th = Thresholds()

    common.log("screen_all over everything")
    with peak_rss() as mem:
        full, r["screen_all_s"] = timed(screen_all, bids, th)
    r["rss_before_screen_all"], r["rss_peak_screen_all"] = mem["before"], mem["peak"]
    r["ru_maxrss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    r["columns"] = full.width
    r["flagged_share"] = {
        s: float(full[f"{s}_flag"].mean() or 0.0) for s in SCREENS
    }  # share of defined values that flag
    r["risk_score_ge_50"] = int((full["risk_score"] >= 50).sum())
    is_rigged = pl.col("tender_id").is_in(rigged.tolist())
    by_class = full.group_by(is_rigged.alias("rigged")).agg(pl.col("risk_score").mean())
    scores = dict(zip(by_class["rigged"], by_class["risk_score"], strict=True))
    r["mean_risk_score"] = {"rigged": scores.get(True), "competitive": scores.get(False)}
    r["sampled_tenders"] = int(full["summary_sampled"].sum())
    del full

    common.log("parts alone")
    screens, r["tender_screens_s"] = timed(tender_screens, bids)
    _, r["tender_screens_in_memory_s"] = timed(tender_screens, bids, engine="in-memory")
    _, r["summary_screens_s"] = timed(summary_screens, bids)
    _, r["risk_s"] = timed(risk, screens, th)
    del screens

    common.log(f"baseline on a sample of {args.sample:,} tenders")
    rng = np.random.default_rng(7)
    ids = bids["tender_id"].unique().sort().to_numpy()
    chosen = rng.choice(ids, size=min(args.sample, len(ids)), replace=False)
    sample = bids.filter(pl.col("tender_id").is_in(chosen.tolist()))
    r["sample_tenders"], r["sample_bids"] = len(chosen), sample.height
    fast, r["sample_screen_all_s"] = timed(screen_all, sample, th)
    plain_input = pandas_frame(sample)
    plain, r["sample_plain_s"] = timed(plain_screen_all, plain_input, th)
    _, r["sample_plain_tender_only_s"] = timed(plain_tender_screens, plain_input)
    _, r["sample_tender_screens_s"] = timed(tender_screens, sample)
    r["agreement"] = compare(fast, plain)
    r["ratio_on_sample"] = r["sample_plain_s"] / r["sample_screen_all_s"]
    r["ratio_per_tender_vs_full"] = (r["sample_plain_s"] / r["sample_tenders"]) / (
        r["screen_all_s"] / r["tenders"]
    )
    r["load_after"] = load()
    return r


def markdown(r: dict[str, Any], command: str) -> str:
    gib = 2**30
    m = r["machine"]
    us = 1e6
    full_t, sample_t, plain_t = r["screen_all_s"], r["sample_screen_all_s"], r["sample_plain_s"]
    agree = r["agreement"]
    ok_time = full_t < 60
    ok_mem = r["rss_peak_screen_all"] < 8 * gib
    ok_ratio = r["ratio_on_sample"] >= 10
    rows = [
        ["`screen_all`, all screens + summary screens + risk", f"{r['tenders']:,} / {r['bids']:,}",
         f"**{full_t:.1f}**", f"{full_t / r['tenders'] * us:.1f}", f"{r['rss_peak_screen_all'] / gib:.2f} GiB"],
        ["  tender screens alone (streaming engine)", "same", f"{r['tender_screens_s']:.1f}",
         f"{r['tender_screens_s'] / r['tenders'] * us:.1f}", ""],
        ["  tender screens alone (in-memory engine)", "same", f"{r['tender_screens_in_memory_s']:.1f}",
         f"{r['tender_screens_in_memory_s'] / r['tenders'] * us:.1f}", ""],
        ["  summary screens alone (3- and 4-bid subsets)", "same", f"{r['summary_screens_s']:.1f}",
         f"{r['summary_screens_s'] / r['tenders'] * us:.1f}", ""],
        ["  risk flags and score alone", "same", f"{r['risk_s']:.2f}", f"{r['risk_s'] / r['tenders'] * us:.2f}", ""],
        ["`screen_all` on the sample", f"{r['sample_tenders']:,} / {r['sample_bids']:,}",
         f"{sample_t:.2f}", f"{sample_t / r['sample_tenders'] * us:.1f}", ""],
        ["baseline pandas + scipy on the sample", f"{r['sample_tenders']:,} / {r['sample_bids']:,}",
         f"{plain_t:.1f}", f"{plain_t / r['sample_tenders'] * us:,.0f}", ""],
        ["tender screens alone (Polars) on the sample", "same", f"{r['sample_tender_screens_s']:.3f}",
         f"{r['sample_tender_screens_s'] / r['sample_tenders'] * us:.1f}", ""],
        ["baseline tender screens alone (pandas + scipy, no subsets, no risk) on the sample", "same",
         f"{r['sample_plain_tender_only_s']:.2f}",
         f"{r['sample_plain_tender_only_s'] / r['sample_tenders'] * us:,.0f}", ""],
    ]  # fmt: skip
    verdict = [
        ["all screens over 1,000,000 tenders / 8,000,000 bids < 60 s", f"{full_t:.1f} s",
         "**met**" if ok_time else "**missed**"],
        ["memory < 8 GB", f"{r['rss_peak_screen_all'] / gib:.2f} GiB peak RSS during the call "
         f"({r['ru_maxrss'] / gib:.2f} GiB process maximum incl. data generation)",
         "**met**" if ok_mem else "**missed**"],
        ["≥ 10× a straightforward pandas + scipy implementation",
         f"{r['ratio_on_sample']:.0f}× on the same {r['sample_tenders']:,}-tender sample; "
         f"{r['ratio_per_tender_vs_full']:.0f}× per tender against the full run",
         "**met**" if ok_ratio else "**missed**"],
        ["both implementations agree (sample)",
         f"max abs diff {agree['max_abs_diff']:.2e} ({agree['max_abs_diff_column']}) over "
         f"{agree['values_compared']:,} values; {agree['null_mismatches']} null and "
         f"{agree['flag_mismatches']} flag disagreements",
         "**met**" if agree["null_mismatches"] == 0 and agree["max_abs_diff"] < 1e-6 else "check"],
    ]  # fmt: skip
    flags = ", ".join(f"{s} {v:.1%}" for s, v in r["flagged_share"].items())
    lines = [
        f"## Bid-price screens over 1,000,000 tenders (issue 7) — {r['date_utc'][:10]}",
        "",
        'What the issue asks for: "Screens (all of the above per tender) over 1,000,000 tenders / '
        "8,000,000 bids: < 60 s on this machine with Polars, and the ratio to a straightforward "
        'pandas + scipy implementation measured in the same run (expect ≥ 10×); memory < 8 GB."',
        "",
        "```sh",
        command,
        "```",
        "",
        "Data, timing and baseline are described in the script's docstring: seeded synthetic "
        "tenders with 2–14 bids (mean 8), 10 % with a cover-bidding pattern, rows shuffled; "
        "generation not timed. Timed: `ggzy.supervision.screens.screen_all` — the ten tender "
        "screens, the summary screens (mean/median/min/max of every screen over every 3- and "
        "4-bid subset; tenders above 12 bids use the seeded sample of C(12, k) subsets) and the "
        "risk flags and score — then each part alone. Baseline: pandas `groupby().apply` with "
        "`scipy.stats.skew/kurtosis/kstest`, the formulas in numpy and `itertools.combinations`, "
        "on a random sample (it would take hours on all tenders); `screen_all` is timed on the "
        "same sample.",
        "",
        f"{r['date_utc']} UTC, commit `{m['commit']}`, {m['vcpu']} vCPU ({m['cpu']}) / "
        f"{m['memory']}, Python {m['python']}, {m['versions']}; load average {r['load_before']} "
        f"before, {r['load_after']} after.",
        "",
        "| what | tenders / bids | seconds | µs per tender | peak RSS |",
        "|---|---:|---:|---:|---:|",
        *("| " + " | ".join(row) + " |" for row in rows),
        "",
        "| target (issue) | measured | verdict |",
        "|---|---|---|",
        *("| " + " | ".join(row) + " |" for row in verdict),
        "",
        f"- output: {r['columns']} columns per tender; {r['sampled_tenders']:,} tenders above 12 "
        f"bids screened on the subset sample; {r['risk_score_ge_50']:,} tenders with a risk "
        f"score ≥ 50 (the generated collusive share is {COLLUSIVE_SHARE:.0%}); mean risk score "
        f"{r['mean_risk_score']['rigged']:.1f} for the generated cover-bidding tenders, "
        f"{r['mean_risk_score']['competitive']:.1f} for the competitive ones.",
        f"- tender screens alone: {r['sample_plain_tender_only_s'] / r['sample_tender_screens_s']:.0f}× "
        "the pandas + scipy baseline on the sample (the summary screens are where the baseline's "
        "time goes: every subset costs three scipy calls and a row of pandas).",
        f"- share of defined values that flag with the default thresholds: {flags}.",
        f"- summary screens: {r['subsets']:,} subsets in all ({r['subsets'] / r['tenders']:.0f} per "
        f"tender), {r['summary_screens_s'] / r['subsets'] * 1e9:.0f} ns per subset for the nine "
        "screens and their four statistics.",
        f"- data generation (not timed): {r['generate_s']:.1f} s; RSS before `screen_all` "
        f"{r['rss_before_screen_all'] / gib:.2f} GiB (the generated bids).",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenders", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=SAMPLE)
    parser.add_argument("--markdown-out", default="", help="also write the markdown here")
    args = parser.parse_args()
    result = run(args)
    command = "flock /tmp/bench.lock .venv/bin/python bench/screens.py" + (
        "" if args.tenders == 1_000_000 and args.sample == SAMPLE
        else f" --tenders {args.tenders} --sample {args.sample}"
    )  # fmt: skip
    path = common.save_result("screens", result)
    common.log(f"result: {path}")
    print(json.dumps(result, ensure_ascii=False, indent=1))
    print()
    text = markdown(result, command)
    print(text)
    if args.markdown_out:
        with open(args.markdown_out, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")


if __name__ == "__main__":
    main()
