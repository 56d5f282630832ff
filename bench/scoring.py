"""Scoring a section: 50 bids, 9 experts, 20 criteria, including the report (issue 5: < 2 s).

    .venv/bin/python bench/scoring.py              # 20 repeats of each
    .venv/bin/python bench/scoring.py --repeats 5

Measured per repeat with ``time.perf_counter``: ``score_section`` alone, then the full path —
scoring, the plain report, its canonical bytes (what the experts sign) and the Markdown text.
The baseline, in the same run, is the bare arithmetic of the same sums with floats in a loop (no
validation, no rounding, no report), to show what the Decimal engine costs on top. No database.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ggzy.settings")

import django

django.setup()

from ggzy.evaluation.inputs import BidInput, ExpertScore, SectionScoring  # noqa: E402
from ggzy.evaluation.report import build_report, canonical_json, render_markdown  # noqa: E402
from ggzy.evaluation.scheme import (  # noqa: E402
    BenchmarkRule,
    Category,
    Criterion,
    CriterionKind,
    Method,
    ScoringScheme,
)
from ggzy.evaluation.scoring import score_section  # noqa: E402

BIDS, EXPERTS, CRITERIA = 50, 9, 20  # 20 criteria = the price + 19 scored by the experts


def make_section(method: Method, seed: int = 1) -> SectionScoring:
    rng = random.Random(seed)
    # 19 scored criteria: 16 × 4 points + 3 × 2 points = 70, with the price at 30
    scored = [
        Criterion(
            f"c{i:02}",
            f"评审因素{i}",
            CriterionKind.TECHNICAL if i % 2 else CriterionKind.COMMERCIAL,
            weight=Decimal(4 if i < 16 else 2),
            max_points=Decimal(4 if i < 16 else 2),
            step=Decimal("0.5"),
        )
        for i in range(CRITERIA - 1)
    ]
    price = Criterion("price", "价格", CriterionKind.PRICE, weight=Decimal(30))
    benchmark = (
        BenchmarkRule(
            points_off_per_percent_above=Decimal(1),
            points_off_per_percent_below=Decimal("0.5"),
            coefficient_range=(Decimal("0.95"), Decimal("1.00")),
        )
        if method is Method.BENCHMARK_PRICE
        else None
    )
    category = Category.WORKS if method is Method.BENCHMARK_PRICE else Category.GOODS
    scheme = ScoringScheme(method, category, (price, *scored), benchmark=benchmark)
    experts = tuple(f"E{i}" for i in range(EXPERTS))
    bids = tuple(
        BidInput(f"B{i:02}", f"投标人{i:02}", Decimal(rng.randrange(800_000, 1_200_000)))
        for i in range(BIDS)
    )
    scores = tuple(
        ExpertScore(e, b.bid_id, c.id, Decimal(rng.randrange(0, int(c.max_points) * 2 + 1)) / 2)
        for b in bids
        for c in scored
        for e in experts
    )
    return SectionScoring(
        section_id="S-bench",
        scheme=scheme,
        committee=experts,
        bids=bids,
        scores=scores,
        draw_seed="bench-seed",
        benchmark_coefficient=Decimal("0.97"),
    )


def full_path(section: SectionScoring) -> int:
    result = score_section(section)
    signed = canonical_json(build_report(result))
    render_markdown(result)
    return len(signed)


def float_baseline(prices: list[float], scores: list[list[list[float]]]) -> list[int]:
    """The same sums with floats: price points, per-criterion means, totals, a sort."""
    low = min(prices)
    totals = []
    for i, p in enumerate(prices):
        total = low / p * 30.0
        for per_expert in scores[i]:
            total += sum(per_expert) / len(per_expert)
        totals.append((-total, p, i))
    totals.sort()
    return [i for _, _, i in totals]


def timed(fn: Callable[[], object], repeats: int) -> list[float]:
    fn()  # warm-up
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=20)
    args = p.parse_args(argv)

    rows = []
    for method in (Method.COMPREHENSIVE_87, Method.BENCHMARK_PRICE):
        section = make_section(method)
        assert section.bids[0].price is not None
        prices = [float(b.price) for b in section.bids if b.price is not None]
        table = [
            [
                [float(s.points) for s in section.scores[k : k + EXPERTS]]
                for k in range(
                    i * (CRITERIA - 1) * EXPERTS, (i + 1) * (CRITERIA - 1) * EXPERTS, EXPERTS
                )
            ]
            for i in range(BIDS)
        ]
        size = full_path(section)
        t_inputs = timed(partial(make_section, method), args.repeats)
        t_score = timed(partial(score_section, section), args.repeats)
        t_full = timed(partial(full_path, section), args.repeats)
        t_float = timed(partial(float_baseline, prices, table), args.repeats)
        rows.append((method, t_inputs, t_score, t_full, t_float, size))

    print(
        f"Scoring bench: {BIDS} bids × {EXPERTS} experts × {CRITERIA} criteria "
        f"({BIDS * EXPERTS * (CRITERIA - 1)} expert scores), {args.repeats} repeats, "
        f"Python {sys.version.split()[0]}\n"
    )
    print("| method | step | median ms | min ms | max ms |")
    print("|---|---|---:|---:|---:|")
    for method, t_inputs, t_score, t_full, t_float, size in rows:
        for name, t in (
            ("build inputs (frozen dataclasses)", t_inputs),
            ("score_section", t_score),
            (f"score + report + bytes ({size:,} B) + Markdown", t_full),
            ("float baseline (same sums)", t_float),
        ):
            print(
                f"| {method} | {name} | {statistics.median(t) * 1e3:.2f} "
                f"| {min(t) * 1e3:.2f} | {max(t) * 1e3:.2f} |"
            )
    print()
    for method, _i, _s, t_full, t_float, _z in rows:
        ratio = statistics.median(t_full) / statistics.median(t_float)
        verdict = "PASS" if max(t_full) < 2.0 else "FAIL"
        print(
            f"{method}: full path median {statistics.median(t_full) * 1e3:.1f} ms, "
            f"max {max(t_full) * 1e3:.1f} ms (target < 2000 ms: {verdict}); "
            f"{ratio:,.0f}× the float baseline"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
