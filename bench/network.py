"""Smoke timing of the co-bidding network (``ggzy.supervision.network``) on a synthetic market.

Usage: ``.venv/bin/python bench/network.py [--tenders 1000000] [--markets 250]
[--firms-per-market 2000] [--cartels 50] [--min-joint 2]`` (run under ``flock /tmp/bench.lock``).

The market: each tender belongs to one of ``markets`` (region × category) and draws 4–12 bidders
(mean 8) uniformly from that market's firms; the first drawn wins. ``cartels`` rings of 4 firms
(outside every market) are added, each bidding alone in 100 tenders and winning in turn, so the
run also reports how many of them come out flagged. Real markets are more clustered than this;
the graph's size (edges with weight ≥ 2), not the bid count, drives the Louvain time.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ggzy.supervision import network as nw


def market(tenders: int, markets: int, firms: int, cartels: int, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    sizes = rng.integers(4, 13, tenders)
    tender = np.repeat(np.arange(tenders), sizes)
    place = rng.integers(0, markets, tenders)
    bidder = place[tender] * firms + rng.integers(0, firms, tender.size)
    first = np.r_[True, tender[1:] != tender[:-1]]
    ring_tender, ring_bidder, ring_win = [], [], []
    base = markets * firms
    for c in range(cartels):
        for k in range(100):
            t = tenders + c * 100 + k
            for m in range(4):
                ring_tender.append(t)
                ring_bidder.append(base + 4 * c + m)
                ring_win.append(m == k % 4)
    all_tenders = np.r_[tender, np.array(ring_tender, dtype=np.int64)]
    d0 = date(2020, 1, 1)
    return pl.DataFrame({
        "tender_id": all_tenders,
        "bidder_id": np.r_[bidder, np.array(ring_bidder, dtype=np.int64)],
        "winner": np.r_[first, np.array(ring_win, dtype=bool)],
    }).with_columns(
        (pl.lit(d0) + pl.duration(days=pl.col("tender_id") % 2000)).alias("date")
    )  # fmt: skip


def _timed_louvain() -> list[float]:
    """Wrap networkx's Louvain so the time analyse spends in it can be reported."""
    spent = [0.0]
    original = nx.community.louvain_communities

    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - start

    nx.community.louvain_communities = timed
    return spent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenders", type=int, default=1_000_000)
    parser.add_argument("--markets", type=int, default=250)
    parser.add_argument("--firms-per-market", type=int, default=2000)
    parser.add_argument("--cartels", type=int, default=50)
    parser.add_argument("--min-joint", type=int, default=nw.DEFAULT_SETTINGS.min_joint)
    args = parser.parse_args()
    settings = nw.NetworkSettings(min_joint=args.min_joint)
    t0 = time.perf_counter()
    bids = market(args.tenders, args.markets, args.firms_per_market, args.cartels)
    t1 = time.perf_counter()
    frame = nw.prepare_bids(bids)
    cap = nw.DEFAULT_SETTINGS.max_tender_bidders
    edges = nw.co_bid_pairs(frame, max_tender_bidders=cap, min_weight=settings.min_joint)
    t2 = time.perf_counter()
    louvain = _timed_louvain()
    report = nw.analyse(bids, settings=settings, seed=0)
    t3 = time.perf_counter()
    flagged = report.groups.filter(pl.col("suspicious"))
    base = args.markets * args.firms_per_market
    rings = {tuple(str(base + 4 * c + m) for m in range(4)) for c in range(args.cartels)}
    found = sum(tuple(m) in rings for m in flagged["members"].to_list())
    nodes = pl.concat([report.pairs["a"], report.pairs["b"]]).n_unique()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    print(
        f"bids generated: {bids.height:,} rows over {bids['tender_id'].n_unique():,} tenders "
        f"({t1 - t0:.1f} s)"
    )
    print(
        f"unique (tender, bidder): {frame.height:,}; graph (weight >= {settings.min_joint}): {nodes:,} nodes, "
        f"{report.pairs.height:,} edges (= {edges.height:,})"
    )
    print(f"prepare + pairs (Polars self-join, group_by): {t2 - t1:.1f} s")
    print(
        f"analyse (the same pairs, graph, Louvain, tables): {t3 - t2:.1f} s, of which "
        f"louvain_communities {louvain[0]:.1f} s"
    )
    print(
        f"groups: {report.groups.height:,}; flagged: {flagged.height:,}; "
        f"planted rings flagged: {found}/{args.cartels}"
    )
    print(f"peak RSS: {rss:.2f} GB")  # fmt: skip


if __name__ == "__main__":
    main()
