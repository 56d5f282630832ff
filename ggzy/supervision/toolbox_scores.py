"""Expert score deviation (专家打分偏离度) and order inversions (the "红色大于号") of Kunming's
toolbox; see :mod:`ggzy.supervision.toolbox` for the whole toolbox and its conventions."""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

TOTAL = "*total*"  # the item id under which order inversions on the total score are reported
EPS = 1e-9  # scores closer than this are equal (ties are never inversions)


def check_range(
    name: str, value: float, lo: float, hi: float, *, lo_open: bool, hi_open: bool
) -> None:
    ok = (lo < value if lo_open else lo <= value) and (value < hi if hi_open else value <= hi)
    if not ok or math.isnan(value):
        left, right = "(" if lo_open else "[", ")" if hi_open else "]"
        raise ValueError(f"{name} must be in {left}{lo}, {hi}{right}, got {value!r}")


# --- 专家打分偏离度: expert score deviation and order inversions ("红色大于号") -------------------


@dataclass(frozen=True)
class ScoreRow:
    """One expert's points for one bidder on one scoring item (``evaluation.Score``)."""

    expert_id: str
    bidder_id: str
    item_id: str
    score: float
    item_max: float


@dataclass(frozen=True)
class ScoreDeviationSettings:
    """``threshold``: flag |d| above this share of the item's maximum (0, 1], default 20 %.
    ``decisive_items``: the items on which any order inversion is flagged; :data:`TOTAL` stands
    for the total score (the default). ``trim_min_others``: the trimmed consensus drops the other
    experts' highest and lowest score only when at least this many others scored (≥ 3, so at
    least one score remains); with fewer, the consensus is their plain mean."""

    threshold: float = 0.20
    decisive_items: frozenset[str] = frozenset({TOTAL})
    trim_min_others: int = 3

    def __post_init__(self) -> None:
        check_range("threshold", self.threshold, 0.0, 1.0, lo_open=True, hi_open=False)
        if not self.decisive_items:
            raise ValueError("decisive_items must name at least one item (or TOTAL)")
        if self.trim_min_others < 3:
            raise ValueError(f"trim_min_others must be >= 3, got {self.trim_min_others!r}")


@dataclass(frozen=True)
class ItemDeviation:
    """d = (score − consensus) / item_max, with the other experts' scores it was taken from."""

    expert_id: str
    bidder_id: str
    item_id: str
    score: float
    item_max: float
    others: tuple[float, ...]  # the other experts' scores, sorted
    trimmed: bool  # whether their highest and lowest were dropped
    consensus: float
    deviation: float
    flagged: bool


@dataclass(frozen=True)
class OrderInversion:
    """The expert puts ``higher`` above ``lower`` while the trimmed consensus of the other experts
    puts ``lower`` above ``higher`` (one unit of Kendall-tau distance)."""

    expert_id: str
    item_id: str  # a scoring item, or TOTAL
    higher: str
    lower: str
    expert_scores: tuple[float, float]  # (higher, lower) as the expert scored them
    consensus_scores: tuple[float, float]  # (higher, lower) in the others' trimmed consensus
    pairs_compared: int  # bidder pairs of this expert and item, the Kendall-tau denominator
    decisive: bool  # on a decisive item: this is the "红色大于号" flag


@dataclass(frozen=True)
class ScoreDeviationResult:
    deviations: list[ItemDeviation]
    inversions: list[OrderInversion]

    @property
    def flagged(self) -> list[ItemDeviation | OrderInversion]:
        return [d for d in self.deviations if d.flagged] + [
            i for i in self.inversions if i.decisive
        ]

    def kendall_distance(self, expert_id: str, item_id: str) -> int:
        """The number of inverted pairs of one expert on one item (or TOTAL)."""
        return sum(1 for i in self.inversions if (i.expert_id, i.item_id) == (expert_id, item_id))


def _consensus(others: Sequence[float], trim_min_others: int) -> tuple[float, bool]:
    ordered = sorted(others)
    if len(ordered) >= trim_min_others:
        return statistics.fmean(ordered[1:-1]), True
    return statistics.fmean(ordered), False


def _score_table(
    scores: Iterable[ScoreRow],
) -> tuple[dict[str, dict[tuple[str, str], float]], dict[str, float]]:
    """{item: {(expert, bidder): score}} and {item: max}, rejecting inconsistent input."""
    table: dict[str, dict[tuple[str, str], float]] = defaultdict(dict)
    maxima: dict[str, float] = {}
    for n, row in enumerate(scores):
        score, item_max = float(row.score), float(row.item_max)
        if not item_max > 0 or not 0 <= score <= item_max:
            raise ValueError(f"score row {n}: need 0 <= score <= item_max and item_max > 0")
        if maxima.setdefault(row.item_id, item_max) != item_max:
            raise ValueError(f"score row {n}: item {row.item_id!r} has two different maxima")
        key = (row.expert_id, row.bidder_id)
        if key in table[row.item_id]:
            raise ValueError(f"score row {n}: {key} scored item {row.item_id!r} twice")
        table[row.item_id][key] = score
    return dict(table), maxima


def _totals(table: Mapping[str, Mapping[tuple[str, str], float]]) -> dict[tuple[str, str], float]:
    """An expert's total for a bidder, only where the expert scored every item of the section:
    a partial total would rank a bidder low for a missing item, not for the expert's view."""
    keys = set.intersection(*(set(cells) for cells in table.values())) if table else set()
    return {k: sum(cells[k] for cells in table.values()) for k in keys}


def _inversions(
    item_id: str, cells: Mapping[tuple[str, str], float], trim: int, decisive: bool
) -> list[OrderInversion]:
    by_expert: dict[str, dict[str, float]] = defaultdict(dict)
    for (expert, bidder), score in cells.items():
        by_expert[expert][bidder] = score
    out: list[OrderInversion] = []
    for expert in sorted(by_expert):
        own = by_expert[expert]
        consensus: dict[str, float] = {}
        for bidder in own:
            others = [s[bidder] for e, s in by_expert.items() if e != expert and bidder in s]
            if others:
                consensus[bidder] = _consensus(others, trim)[0]
        bidders = sorted(consensus)
        pairs = len(bidders) * (len(bidders) - 1) // 2
        for a, b in combinations(bidders, 2):
            hi, lo = (a, b) if own[a] > own[b] else (b, a)
            if abs(own[a] - own[b]) > EPS and consensus[lo] - consensus[hi] > EPS:
                out.append(OrderInversion(
                    expert, item_id, hi, lo, (own[hi], own[lo]),
                    (consensus[hi], consensus[lo]), pairs, decisive,
                ))  # fmt: skip
    return out


def score_deviation(
    scores: Iterable[ScoreRow], settings: ScoreDeviationSettings | None = None
) -> ScoreDeviationResult:
    """Every expert's deviation from the others' trimmed consensus per bidder and item, and the
    bidder pairs the expert orders against that consensus, per item and on the total.

    The consensus excludes the expert being tested (a deviant expert must not pull the yardstick
    towards themselves). Inversions are found on every item and on the total; only those on a
    decisive item are flagged, since swapping two bidders on a minor item changes no outcome."""
    settings = settings or ScoreDeviationSettings()
    table, maxima = _score_table(scores)
    unknown = settings.decisive_items - set(table) - {TOTAL}
    if unknown:
        raise ValueError(f"decisive_items names items not in the scores: {sorted(unknown)}")
    trim = settings.trim_min_others
    deviations: list[ItemDeviation] = []
    for item_id in sorted(table):
        cells = table[item_id]
        by_bidder: dict[str, dict[str, float]] = defaultdict(dict)
        for (expert, bidder), score in cells.items():
            by_bidder[bidder][expert] = score
        for (expert, bidder), score in sorted(cells.items()):
            others = sorted(s for e, s in by_bidder[bidder].items() if e != expert)
            if not others:
                continue  # no other expert scored it: there is nothing to deviate from
            consensus, trimmed = _consensus(others, trim)
            d = (score - consensus) / maxima[item_id]
            deviations.append(ItemDeviation(
                expert, bidder, item_id, score, maxima[item_id], tuple(others), trimmed,
                consensus, d, abs(d) > settings.threshold + EPS,
            ))  # fmt: skip
    inversions: list[OrderInversion] = []
    for item_id in sorted(table):
        decisive = item_id in settings.decisive_items
        inversions += _inversions(item_id, table[item_id], trim, decisive)
    inversions += _inversions(TOTAL, _totals(table), trim, TOTAL in settings.decisive_items)
    return ScoreDeviationResult(deviations, inversions)


# --- the experts' totals, the input of the bidder score deviation -----------------------------


@dataclass(frozen=True)
class ExpertTotal:
    expert_id: str
    bidder_id: str
    total: float


def expert_totals(scores: Iterable[ScoreRow]) -> list[ExpertTotal]:
    """Each expert's total per bidder, over experts who scored every item (see :func:`_totals`)."""
    table, _ = _score_table(scores)
    return [ExpertTotal(e, b, t) for (e, b), t in sorted(_totals(table).items())]
