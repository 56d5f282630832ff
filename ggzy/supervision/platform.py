"""The platform's own bids as the frame the analyses take (``tender_id, date, bidder_id,
bidder_name, amount, winner, category, region`` — the historical import's layout), and what the
dashboards draw from a frame: the distribution of each screen and the co-bidding graph.

Only opened bids are read (the prices are known from the opening on, and public in the opening
record); a section's winner is its award notice's entity."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from ggzy.award.models import AwardNotice
from ggzy.bidding.models import Bid
from ggzy.bidding.states import BidStatus
from ggzy.supervision import network, screens, thresholds
from ggzy.supervision.historical import BIDS_SCHEMA

HISTOGRAM_SCREENS = ("cv", "spd", "diffp", "rd", "kstest", "skew", "kurt", "risk_score")
BINS = 20
GRAPH_NODES = 150  # the busiest bidders of the suspicious groups, so the graph stays legible


def platform_bids() -> pl.DataFrame:
    winners = dict(AwardNotice.objects.values_list("section_id", "entity_id"))
    rows = (
        Bid.objects.filter(status=BidStatus.OPENED, price__isnull=False, section__isnull=False)
        .select_related("entity", "section__project__category", "section__project__region")
        .order_by("section_id", "pk")
    )
    data: dict[str, list[Any]] = {k: [] for k in BIDS_SCHEMA}
    for bid in rows.iterator(chunk_size=2000):
        section, entity = bid.section, bid.entity
        if section is None or entity is None or bid.price is None or bid.price <= 0:
            continue
        data["tender_id"].append(section.public_id)
        data["date"].append((bid.opened_at or bid.received_at).date())
        data["bidder_id"].append(entity.uscc)
        data["bidder_name"].append(entity.name)
        data["amount"].append(float(bid.price))
        data["winner"].append(winners.get(section.pk) == entity.pk)
        data["category"].append(section.project.category.code)
        data["region"].append(section.project.region.code)
    return pl.DataFrame(data, schema=BIDS_SCHEMA)


def histograms(tenders: pl.DataFrame) -> list[dict[str, Any]]:
    """Per screen: the bin edges and counts over the tenders where it is defined."""
    out = []
    for name in HISTOGRAM_SCREENS:
        if name not in tenders.columns:
            continue
        values = tenders[name].drop_nulls().to_numpy()
        values = values[np.isfinite(values)]
        if values.size == 0:
            out.append({"screen": name, "edges": [], "counts": [], "n": 0, "bins": []})
            continue
        lo, hi = (
            np.quantile(values, [0.01, 0.99]) if values.size > 50 else (values.min(), values.max())
        )
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        counts, edges = np.histogram(np.clip(values, lo, hi), bins=BINS, range=(lo, hi))
        edges6 = [round(float(e), 6) for e in edges]
        out.append({"screen": name, "edges": edges6, "counts": [int(c) for c in counts],
                    "n": int(values.size),
                    "bins": [{"lo": edges6[i], "hi": edges6[i + 1], "count": int(c)}
                             for i, c in enumerate(counts)]})  # fmt: skip
    return out


def graph(report: network.NetworkReport, names: dict[str, str]) -> dict[str, Any]:
    """The co-bidding graph of the groups found: nodes (bidders, sized by joint bids, coloured by
    group), edges weighted by joint tenders."""
    members = report.members
    if not members.height:
        return {"nodes": [], "links": [], "groups": []}
    # the most suspicious groups first (the report's order), so the cap keeps them
    rank = {g: n for n, g in enumerate(report.groups["group_id"].to_list())}
    keep = (members.with_columns(rank=pl.col("group_id").replace_strict(rank, default=len(rank)))
            .sort(["rank", "bidder_id"]).head(GRAPH_NODES))  # fmt: skip
    ids = set(keep["bidder_id"].to_list())
    group_of = dict(zip(keep["bidder_id"].to_list(), keep["group_id"].to_list(), strict=True))
    groups = sorted(set(group_of.values()), key=lambda g: rank.get(g, len(rank)))
    nodes = [{"id": b, "name": names.get(b, b), "category": groups.index(g)}
             for b, g in group_of.items()]  # fmt: skip
    pairs = report.pairs
    a, b = pairs.columns[0], pairs.columns[1]
    links = sorted(({"source": r[a], "target": r[b], "value": int(r["weight"])}
                    for r in pairs.iter_rows(named=True) if r[a] in ids and r[b] in ids),
                   key=lambda link: -link["value"])  # fmt: skip
    return {"nodes": nodes, "links": links, "groups": groups}


def dashboard(bids: pl.DataFrame) -> dict[str, Any]:
    """The dashboard's data for a bids frame (the platform's or a dataset's)."""
    if not bids.height:
        return {"tenders": 0, "histograms": [], "graph": {"nodes": [], "links": [], "groups": []}}
    tenders = screens.screen_all(bids.select("tender_id", "amount"), thresholds.current("screens"))
    names = dict(bids.select("bidder_id", "bidder_name").unique("bidder_id").iter_rows())
    return {"tenders": tenders.height, "histograms": histograms(tenders),
            "graph": graph(network.analyse(bids), names)}  # fmt: skip
