"""Co-bidding network: groups of firms that keep bidding together, and winner rotation inside them.

Pure functions over a Polars bids frame (``tender_id``, ``bidder_id``, ``winner``; optional
``bidder_name`` and ``date``), the frame the historical import and the platform both produce. The
method follows Wachs & Kertész (2019, *Sci. Rep.* 9:10818): build the co-bidding graph, find its
communities, and score each community by how tightly and how exclusively its members bid together;
then look at who wins when they meet (supervision-indicators.md §6.2, OCP R053/R057).

Definitions (exact, since the paper's abstract does not fix them):

* **weight(a, b)**: the number of tenders both a and b bid in. The graph keeps the pairs with
  ``weight ≥ min_joint``. Bidder ids are compared as strings.
* **Pair cap.** A tender with more than ``max_tender_bidders`` bidders adds no pairs (n bidders
  give n(n−1)/2 pairs; an open tender with 200 bidders says nothing about a ring and would add
  19,900 pairs). Such tenders still count in ``tenders`` and the wins below.
* **groups**: Louvain communities of the graph (``networkx.community.louvain_communities``,
  weighted, fixed ``seed``; edges are inserted in sorted order, so the result depends on the data
  and the seed only, not on row order), keeping those with ``≥ min_size`` members.
* **cohesion** = internal edges / (k(k−1)/2): the share of member pairs that co-bid ``≥
  min_joint`` times (unweighted density of the group in the graph).
* **exclusivity** = 2 · Σ internal weights / Σ members' strengths, where a bidder's strength is
  the sum of its weights with *every* co-bidder (weight ≥ 1): the share of the members' co-bids
  that were with other members.
* **tenders**: the group's joint tenders, where ≥ 2 members bid. **wins** of a member count its
  wins in them; **win_share** = joint tenders won by a member / tenders.
* **hhi** = Σ (wins_i / Σ wins)² over members; **evenness** = (1/hhi − 1)/(k − 1) ∈ [0, 1]: 1 when
  every member wins equally often (rotation), 0 when one member wins everything.
* **runs test** (when dates are given): the sequence of member winners of the joint tenders,
  ordered by (date, tender_id), against random order of the same wins (Wald–Wolfowitz, k
  categories). Rotation gives *more* runs than chance; ``runs_p`` is the upper-tail p-value.
* **R053-like recurrent winner**: a graph pair (a, b) with ``weight ≥ r053_min_joint`` where one of
  them won ``≥ r053_share`` of their joint tenders (the other one bids as cover).
* **suspicious** = tenders ≥ min_tenders ∧ cohesion ≥ min_cohesion ∧ exclusivity ≥
  min_exclusivity ∧ win_share ≥ min_win_share ∧ (evenness ≥ min_evenness ∨ an R053 pair inside).
  **score** = mean(cohesion, exclusivity, win_share, pattern), pattern = max(evenness, the best
  R053 pair's winner share) — a ranking aid in [0, 1], not a probability.

:func:`analyse` returns the group table, the member table (per member: all its ``tenders``, its
``joint_tenders`` and ``wins`` in them, ``share_of_wins`` of the group's wins, its degree, internal
weight and strength, and its own exclusivity) and the graph's pairs with the R053 columns.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import networkx as nx
import polars as pl

REQUIRED_COLUMNS = ("tender_id", "bidder_id", "winner")
MEMBER_COLUMNS = (
    "group_id", "bidder_id", "bidder_name", "tenders", "joint_tenders", "wins",
    "share_of_wins", "degree_in_group", "internal_weight", "strength", "exclusivity",
)  # fmt: skip


@dataclass(frozen=True)
class NetworkSettings:
    """Thresholds of the network analysis; each is checked against its allowed range."""

    min_joint: int = 2
    min_size: int = 2
    max_tender_bidders: int = 30
    resolution: float = 1.0
    min_tenders: int = 5
    min_cohesion: float = 0.6
    min_exclusivity: float = 0.5
    min_win_share: float = 0.7
    min_evenness: float = 0.6
    r053_min_joint: int = 4
    r053_share: float = 0.75

    def __post_init__(self) -> None:
        for name, (kind, low, high) in _RANGES.items():
            value = getattr(self, name)
            allowed = (int, float) if kind is float else (int,)
            if (
                isinstance(value, bool)
                or not isinstance(value, allowed)
                or not low <= value <= high
            ):
                raise ValueError(
                    f"{name} must be a {kind.__name__} in {low}..{high}, got {value!r}"
                )


_RANGES: dict[str, tuple[type, float, float]] = {
    "min_joint": (int, 1, 10_000),
    "min_size": (int, 2, 10_000),
    "max_tender_bidders": (int, 2, 10_000),
    "resolution": (float, 0.01, 10.0),
    "min_tenders": (int, 1, 1_000_000),
    "min_cohesion": (float, 0.0, 1.0),
    "min_exclusivity": (float, 0.0, 1.0),
    "min_win_share": (float, 0.0, 1.0),
    "min_evenness": (float, 0.0, 1.0),
    "r053_min_joint": (int, 2, 1_000_000),
    "r053_share": (float, 0.5, 1.0),
}
DEFAULT_SETTINGS = NetworkSettings()


@dataclass(frozen=True)
class RunsTest:
    runs: int
    expected: float
    z: float | None  # None when the variance is 0 (a single winner, or fewer than 2 tenders)
    p_value: float | None  # upper tail: more alternation than chance


@dataclass(frozen=True)
class NetworkReport:
    groups: pl.DataFrame  # one row per group, most suspicious first
    members: pl.DataFrame  # one row per (group, bidder)
    pairs: pl.DataFrame  # the graph's edges with each side's wins in their joint tenders


def prepare_bids(bids: pl.DataFrame) -> pl.DataFrame:
    """One row per (tender, bidder): ``winner`` if any of its rows won, the tender's earliest date."""
    missing = [c for c in REQUIRED_COLUMNS if c not in bids.columns]
    if missing:
        raise ValueError(f"bids frame lacks column(s): {', '.join(missing)}")
    frame = bids.select(
        pl.col("tender_id"),
        pl.col("bidder_id").cast(pl.String),
        pl.col("winner").cast(pl.Boolean).fill_null(False),
        *([pl.col("date")] if "date" in bids.columns else []),
    ).drop_nulls(["tender_id", "bidder_id"])
    aggs = [pl.col("winner").any()]
    if "date" in frame.columns:
        aggs.append(pl.col("date").min())
    out = frame.group_by("tender_id", "bidder_id").agg(aggs)
    if "date" in out.columns:
        out = out.with_columns(pl.col("date").min().over("tender_id"))
    return out


def co_bid_pairs(
    frame: pl.DataFrame, *, max_tender_bidders: int, min_weight: int = 1
) -> pl.DataFrame:
    """The pairs (a < b) that bid together at least ``min_weight`` times, with ``weight`` and each
    one's wins in those tenders. ``frame`` is a :func:`prepare_bids` frame."""
    coded, ids = _coded_pairs(frame, max_tender_bidders=max_tender_bidders)
    return _decoded(coded.filter(pl.col("weight") >= min_weight), ids)


def _coded_pairs(
    frame: pl.DataFrame, *, max_tender_bidders: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The pairs on integer codes (``code`` < ``code_b``), and the ``ids`` table (code, bidder_id).

    One self-join per tender on the codes (dense rank of the id, so code order = id order),
    limited to tenders with 2..``max_tender_bidders`` bidders, then one group_by.
    """
    sized = frame.with_columns(pl.len().over("tender_id").alias("_n"))
    small = sized.filter((pl.col("_n") >= 2) & (pl.col("_n") <= max_tender_bidders))
    coded = small.select(
        "tender_id", pl.col("bidder_id").rank("dense").alias("code"), "winner", "bidder_id"
    )
    ids = coded.select("code", "bidder_id").unique("code")
    side = coded.select("tender_id", "code", "winner")
    pairs = (
        side.join(side, on="tender_id", suffix="_b")
        .filter(pl.col("code") < pl.col("code_b"))
        .group_by("code", "code_b")
        .agg(
            pl.len().cast(pl.Int64).alias("weight"),
            pl.col("winner").sum().cast(pl.Int64).alias("wins_a"),
            pl.col("winner_b").sum().cast(pl.Int64).alias("wins_b"),
        )
    )
    return pairs, ids


def _decoded(coded: pl.DataFrame, ids: pl.DataFrame) -> pl.DataFrame:
    return (
        coded.join(ids, on="code")
        .join(ids.rename({"code": "code_b", "bidder_id": "b"}), on="code_b")
        .select(pl.col("bidder_id").alias("a"), "b", "weight", "wins_a", "wins_b")
        .sort("a", "b")
    )


def _graph(edges: pl.DataFrame) -> nx.Graph:
    graph = nx.Graph()
    graph.add_weighted_edges_from(edges.select("a", "b", "weight").iter_rows())
    return graph


def co_bidding_graph(
    bids: pl.DataFrame, *, settings: NetworkSettings = DEFAULT_SETTINGS
) -> nx.Graph:
    """The co-bidding graph: bidders as nodes, an edge with ``weight`` = tenders bid together, for
    pairs with ``weight ≥ settings.min_joint`` (bidders without such a pair are not nodes)."""
    frame = prepare_bids(bids)
    cap, min_joint = settings.max_tender_bidders, settings.min_joint
    return _graph(co_bid_pairs(frame, max_tender_bidders=cap, min_weight=min_joint))


def group_id(members: list[str]) -> str:
    """A stable id of a group: the same members give the same id in every run."""
    digest = hashlib.sha256("\x1f".join(sorted(members)).encode()).hexdigest()
    return f"G{digest[:12]}"


def winner_runs_test(sequence: list[str]) -> RunsTest:
    """Runs test of a winner sequence with k categories against random order of the same wins.

    R = 1 + #changes. For a random permutation of counts n_c (Σ = N):
    E[R] = 1 + (N² − Σn_c²)/N and
    Var[R] = (Σn_c²(Σn_c² + N(N+1)) − 2NΣn_c³ − N³) / (N²(N−1)).
    """
    n = len(sequence)
    runs = 1 + sum(1 for x, y in pairwise(sequence) if x != y) if n else 0
    if n < 2:
        return RunsTest(runs=runs, expected=float(runs), z=None, p_value=None)
    counts: dict[str, int] = {}
    for winner in sequence:
        counts[winner] = counts.get(winner, 0) + 1
    s2 = sum(c * c for c in counts.values())
    s3 = sum(c**3 for c in counts.values())
    expected = 1 + (n * n - s2) / n
    variance = (s2 * (s2 + n * (n + 1)) - 2 * n * s3 - n**3) / (n * n * (n - 1))
    if variance <= 1e-12:
        return RunsTest(runs=runs, expected=expected, z=None, p_value=None)
    z = (runs - expected) / math.sqrt(variance)
    return RunsTest(runs=runs, expected=expected, z=z, p_value=0.5 * math.erfc(z / math.sqrt(2)))


def analyse(
    bids: pl.DataFrame, *, settings: NetworkSettings = DEFAULT_SETTINGS, seed: int = 0
) -> NetworkReport:
    """Groups, their members and the graph's pairs, in one pass over ``bids``."""
    frame = prepare_bids(bids)
    coded, ids = _coded_pairs(frame, max_tender_bidders=settings.max_tender_bidders)
    edges = _decoded(coded.filter(pl.col("weight") >= settings.min_joint), ids)
    edges = edges.with_columns(_r053_expr(settings))
    communities = nx.community.louvain_communities(
        _graph(edges), weight="weight", resolution=settings.resolution, seed=seed
    )
    rows: list[tuple[str, str]] = []
    for members in communities:
        if len(members) >= settings.min_size:
            gid = group_id(list(members))
            rows.extend((gid, m) for m in sorted(members))
    membership = pl.DataFrame(
        rows, schema={"group_id": pl.String, "bidder_id": pl.String}, orient="row"
    )
    names = _names(bids)
    strengths = _strengths(coded, ids, membership, settings.min_joint)
    members = _member_table(frame, strengths, membership, names)
    groups = _group_table(frame, membership, members, edges, settings)
    return NetworkReport(groups=groups, members=members, pairs=edges)


def groups(
    bids: pl.DataFrame, *, settings: NetworkSettings = DEFAULT_SETTINGS, seed: int = 0
) -> pl.DataFrame:
    """One row per co-bidding group (see the module docstring for every column)."""
    return analyse(bids, settings=settings, seed=seed).groups


def member_table(
    bids: pl.DataFrame, *, settings: NetworkSettings = DEFAULT_SETTINGS, seed: int = 0
) -> pl.DataFrame:
    """One row per (group, bidder), for the per-group report."""
    return analyse(bids, settings=settings, seed=seed).members


def _r053_expr(settings: NetworkSettings) -> list[pl.Expr]:
    top = pl.max_horizontal("wins_a", "wins_b")
    share = top / pl.col("weight")
    r053 = (pl.col("weight") >= settings.r053_min_joint) & (share >= settings.r053_share)
    winner = pl.when(pl.col("wins_a") >= pl.col("wins_b")).then("a").otherwise("b")
    return [
        r053.alias("r053"),
        share.alias("top_share"),
        pl.when(r053).then(winner).otherwise(None).alias("recurrent_winner"),
    ]


def _names(bids: pl.DataFrame) -> pl.DataFrame:
    if "bidder_name" not in bids.columns:
        return pl.DataFrame(schema={"bidder_id": pl.String, "bidder_name": pl.String})
    return bids.group_by(pl.col("bidder_id").cast(pl.String)).agg(
        pl.col("bidder_name").cast(pl.String).drop_nulls().min()
    )


def _strengths(
    coded: pl.DataFrame, ids: pl.DataFrame, membership: pl.DataFrame, min_joint: int
) -> pl.DataFrame:
    """Per member: co-bids with anyone (strength), with other members, and its in-group degree."""
    group = membership.join(ids, on="bidder_id").select(
        "code", pl.col("group_id").rank("dense").alias("g")
    )
    sides = pl.concat([
        coded.select("code", pl.col("code_b").alias("other"), "weight"),
        coded.select(pl.col("code_b").alias("code"), pl.col("code").alias("other"), "weight"),
    ])  # fmt: skip
    other = group.rename({"code": "other", "g": "g_other"})
    sides = sides.join(group, on="code").join(other, on="other", how="left")
    inside = (pl.col("g") == pl.col("g_other")).fill_null(False)
    return (
        sides.group_by("code")
        .agg(
            pl.col("weight").sum().alias("strength"),
            pl.col("weight").filter(inside).sum().alias("internal_weight"),
            (inside & (pl.col("weight") >= min_joint)).sum().alias("degree_in_group"),
        )
        .join(ids, on="code")
        .drop("code")
    )


def _member_table(
    frame: pl.DataFrame, strengths: pl.DataFrame, membership: pl.DataFrame, names: pl.DataFrame
) -> pl.DataFrame:
    own = frame.join(membership, on="bidder_id")
    per_tender = own.with_columns(pl.len().over("group_id", "tender_id").alias("_members"))
    joint = (
        per_tender.group_by("group_id", "bidder_id")
        .agg(
            pl.len().alias("tenders"),
            (pl.col("_members") >= 2).sum().alias("joint_tenders"),
            (pl.col("winner") & (pl.col("_members") >= 2)).sum().alias("wins"),
        )
        .with_columns(pl.col("tenders", "joint_tenders", "wins").cast(pl.Int64))
    )
    keys = ["group_id", "bidder_id"]
    table = (
        membership.join(joint, on=keys, how="left")
        .join(strengths, on="bidder_id", how="left")
        .join(names, on="bidder_id", how="left")
        .with_columns(
            pl.col("strength", "internal_weight", "degree_in_group").fill_null(0).cast(pl.Int64)
        )
    )
    group_wins = pl.col("wins").sum().over("group_id")
    return (
        table.with_columns(
            pl.when(group_wins > 0).then(pl.col("wins") / group_wins).alias("share_of_wins"),
            pl.when(pl.col("strength") > 0)
            .then(pl.col("internal_weight") / pl.col("strength"))
            .alias("exclusivity"),
        )
        .select(MEMBER_COLUMNS)
        .sort(keys)
    )


def _group_table(
    frame: pl.DataFrame,
    membership: pl.DataFrame,
    members: pl.DataFrame,
    edges: pl.DataFrame,
    settings: NetworkSettings,
) -> pl.DataFrame:
    joint = _joint_tenders(frame, membership)
    per_group = joint.group_by("group_id").agg(
        pl.len().cast(pl.Int64).alias("tenders"),
        pl.col("member_winner").is_not_null().sum().cast(pl.Int64).alias("won"),
    )
    sizes = members.group_by("group_id").agg(
        pl.len().cast(pl.Int64).alias("size"),
        pl.col("bidder_id").sort().alias("members"),
        pl.col("wins").sum().cast(pl.Int64).alias("member_wins"),
        (pl.col("degree_in_group").sum() // 2).cast(pl.Int64).alias("internal_edges"),
        (pl.col("internal_weight").sum() // 2).cast(pl.Int64).alias("internal_weight"),
        pl.col("strength").sum().alias("_strength"),
        ((pl.col("share_of_wins").fill_null(0) ** 2).sum()).alias("hhi"),
        pl.col("bidder_id").sort_by("wins", "bidder_id", descending=[True, False]).first()
        .alias("top_winner"),
        pl.col("share_of_wins").max().alias("top_winner_share"),
    )  # fmt: skip
    r053 = _group_r053(edges, membership)
    table = (
        sizes.join(per_group, on="group_id", how="left")
        .join(r053, on="group_id", how="left")
        .join(_runs(joint), on="group_id", how="left")
        .with_columns(pl.col("tenders", "won", "r053_pairs").fill_null(0))
    )
    k = pl.col("size")
    wins = pl.col("member_wins") > 0
    table = table.with_columns(
        (pl.col("internal_edges") / (k * (k - 1) / 2)).alias("cohesion"),
        pl.when(pl.col("_strength") > 0)
        .then(2 * pl.col("internal_weight") / pl.col("_strength"))
        .otherwise(0.0)
        .alias("exclusivity"),
        pl.when(pl.col("tenders") > 0).then(pl.col("won") / pl.col("tenders")).otherwise(0.0)
        .alias("win_share"),
        pl.when(wins).then(pl.col("hhi")).alias("hhi"),
        pl.when(wins).then((1 / pl.col("hhi") - 1) / (k - 1)).alias("evenness"),
        pl.when(wins).then(pl.col("top_winner")).alias("top_winner"),
    )  # fmt: skip
    return _suspicion(table, settings)


def _joint_tenders(frame: pl.DataFrame, membership: pl.DataFrame) -> pl.DataFrame:
    """(group, tender) for tenders where ≥ 2 members bid, with the member that won (if any)."""
    own = frame.join(membership, on="bidder_id")
    aggs: list[pl.Expr] = [
        pl.len().alias("n"),
        pl.col("bidder_id").filter(pl.col("winner")).min().alias("member_winner"),
    ]
    if "date" in own.columns:
        aggs.append(pl.col("date").min())
    return own.group_by("group_id", "tender_id").agg(aggs).filter(pl.col("n") >= 2)


def _group_r053(edges: pl.DataFrame, membership: pl.DataFrame) -> pl.DataFrame:
    ga = membership.rename({"bidder_id": "a"})
    gb = membership.rename({"bidder_id": "b", "group_id": "group_b"})
    inside = edges.join(ga, on="a").join(gb, on="b").filter(pl.col("group_id") == pl.col("group_b"))
    flagged = inside.filter(pl.col("r053")).sort(
        "top_share", "a", "b", descending=[True, False, False]
    )
    return flagged.group_by("group_id").agg(
        pl.len().cast(pl.Int64).alias("r053_pairs"),
        pl.col("recurrent_winner").first(),
        pl.col("top_share").first().alias("r053_share"),
    )


def _runs(joint: pl.DataFrame) -> pl.DataFrame:
    schema = {
        "group_id": pl.String,
        "runs": pl.Int64,
        "runs_expected": pl.Float64,
        "runs_z": pl.Float64,
        "runs_p": pl.Float64,
    }
    if "date" not in joint.columns:
        return pl.DataFrame(schema=schema)
    ordered = joint.filter(pl.col("member_winner").is_not_null()).sort(
        "group_id", "date", "tender_id"
    )
    sequences = ordered.group_by("group_id", maintain_order=True).agg("member_winner")
    rows: list[tuple[Any, ...]] = []
    for gid, sequence in sequences.iter_rows():
        test = winner_runs_test(list(sequence))
        rows.append((gid, test.runs, test.expected, test.z, test.p_value))
    return pl.DataFrame(rows, schema=schema, orient="row")


def _suspicion(table: pl.DataFrame, s: NetworkSettings) -> pl.DataFrame:
    reasons = {
        "tenders": pl.col("tenders") >= s.min_tenders,
        "cohesion": pl.col("cohesion") >= s.min_cohesion,
        "exclusivity": pl.col("exclusivity") >= s.min_exclusivity,
        "win_share": pl.col("win_share") >= s.min_win_share,
        "rotation": pl.col("evenness").fill_null(0) >= s.min_evenness,
        "recurrent_winner": pl.col("r053_pairs") > 0,
    }
    core = ["tenders", "cohesion", "exclusivity", "win_share"]
    flag = pl.all_horizontal([reasons[r] for r in core]) & (
        reasons["rotation"] | reasons["recurrent_winner"]
    )
    pattern = pl.max_horizontal(pl.col("evenness").fill_null(0), pl.col("r053_share").fill_null(0))
    score = (pl.col("cohesion") + pl.col("exclusivity") + pl.col("win_share") + pattern) / 4
    listed = pl.concat_list([pl.when(e).then(pl.lit(name)) for name, e in reasons.items()])
    return (
        table.with_columns(
            score.alias("score"), flag.alias("suspicious"), listed.list.drop_nulls().alias("reasons")
        )
        .select(
            "group_id", "size", "members", "tenders", "won", "win_share", "cohesion",
            "internal_edges", "internal_weight", "exclusivity", "member_wins", "hhi", "evenness",
            "top_winner", "top_winner_share", "runs", "runs_expected", "runs_z", "runs_p",
            "r053_pairs", "recurrent_winner", "score", "suspicious", "reasons",
        )
        .sort("score", "group_id", descending=[True, False])
    )  # fmt: skip
