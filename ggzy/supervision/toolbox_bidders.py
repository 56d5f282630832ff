"""Evaluation-time deviation (专家评标时长偏离度), bidder score deviation (投标人得分偏离度) and
bid-document richness ("负偏离") of Kunming's toolbox; see :mod:`ggzy.supervision.toolbox`."""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from scipy import stats

from ggzy.supervision.toolbox_scores import EPS, ExpertTotal, check_range

# --- 专家评标时长偏离度: evaluation-time deviation ----------------------------------------------


@dataclass(frozen=True)
class ExpertTime:
    """Seconds an expert spent on the section's documents; several rows of one expert (one per
    ``ViewingSpan``) add up."""

    expert_id: str
    seconds: float


@dataclass(frozen=True)
class EvaluationTimeSettings:
    """``theta``: flag DT < −θ, in (0, 1), default 0.5 (half the section's median).
    ``history_quantile``: with a historical distribution, also flag a time below this quantile
    of it, in (0, 0.5), default 0.05. ``min_history``: fewer historical times than this (≥ 2)
    are not a distribution and are ignored."""

    theta: float = 0.5
    history_quantile: float = 0.05
    min_history: int = 20

    def __post_init__(self) -> None:
        check_range("theta", self.theta, 0.0, 1.0, lo_open=True, hi_open=True)
        check_range("history_quantile", self.history_quantile, 0.0, 0.5, lo_open=True, hi_open=True)
        if self.min_history < 2:
            raise ValueError(f"min_history must be >= 2, got {self.min_history!r}")


@dataclass(frozen=True)
class TimeDeviation:
    expert_id: str
    seconds: float
    median: float  # of the section's experts, this one included
    deviation: float | None  # DT = (T − median) / median; None when the median is 0
    history_cutoff: float | None  # the historical quantile, when a history was usable
    rushed: bool  # DT < −θ
    below_history: bool  # T < the historical quantile
    flagged: bool


def evaluation_time_deviation(
    times: Iterable[ExpertTime],
    settings: EvaluationTimeSettings | None = None,
    *,
    history: Sequence[float] | None = None,
) -> list[TimeDeviation]:
    """DT per expert against the median of the section's experts, and optionally against the
    historical distribution of comparable sections (the caller picks them: same project type
    and size band). The quantile is linear interpolation (``statistics.quantiles`` "inclusive",
    NumPy's default)."""
    settings = settings or EvaluationTimeSettings()
    spent: dict[str, float] = defaultdict(float)
    for n, row in enumerate(times):
        if not float(row.seconds) >= 0:
            raise ValueError(f"time row {n}: seconds must be >= 0, got {row.seconds!r}")
        spent[row.expert_id] += float(row.seconds)
    if not spent:
        return []
    median = statistics.median(spent.values())
    cutoff = None
    if history is not None and len(history) >= settings.min_history:
        cutoff = _quantile([float(h) for h in history], settings.history_quantile)
    out = []
    for expert, seconds in sorted(spent.items()):
        dt = (seconds - median) / median if median > 0 else None
        rushed = dt is not None and dt < -settings.theta
        below = cutoff is not None and seconds < cutoff
        out.append(
            TimeDeviation(expert, seconds, median, dt, cutoff, rushed, below, rushed or below)
        )
    return out


def _quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


# --- 投标人得分偏离度: bidder score deviation -----------------------------------------------------


@dataclass(frozen=True)
class BidderScoreSettings:
    """``cv_threshold``: a bidder's CV of the experts' totals above this (0, 1] is high
    disagreement, default 0.15. ``concentration``: the winner's disagreement is "concentrated"
    when its CV is at least this many times (≥ 1) the median CV of the other bidders, default 2.
    ``z_threshold``: a score more than this many historical sd above the bidder's historical mean
    is unusual, (0, 10], default 2. ``min_history``: fewer past scores (≥ 2) give no z."""

    cv_threshold: float = 0.15
    concentration: float = 2.0
    z_threshold: float = 2.0
    min_history: int = 3

    def __post_init__(self) -> None:
        check_range("cv_threshold", self.cv_threshold, 0.0, 1.0, lo_open=True, hi_open=False)
        check_range("concentration", self.concentration, 1.0, 100.0, lo_open=False, hi_open=False)
        check_range("z_threshold", self.z_threshold, 0.0, 10.0, lo_open=True, hi_open=False)
        if self.min_history < 2:
            raise ValueError(f"min_history must be >= 2, got {self.min_history!r}")


@dataclass(frozen=True)
class BidderDeviation:
    bidder_id: str
    totals: tuple[float, ...]  # the experts' totals, sorted
    mean: float
    sd: float | None  # sample sd (n − 1); None with one expert
    cv: float | None  # sd / mean; None when undefined
    history_mean: float | None
    history_sd: float | None
    z: float | None  # (mean − history mean) / history sd
    high_disagreement: bool  # cv > cv_threshold
    unusually_high: bool  # z > z_threshold


@dataclass(frozen=True)
class BidderDeviationResult:
    bidders: list[BidderDeviation]
    winner_id: str | None
    others_median_cv: float | None  # the median CV of the bidders other than the winner
    concentrated_on_winner: bool  # the winner's CV is high and ≥ concentration × the others'

    @property
    def flagged(self) -> bool:
        return self.concentrated_on_winner or any(b.unusually_high for b in self.bidders)


def bidder_score_deviation(
    totals: Iterable[ExpertTotal],
    settings: BidderScoreSettings | None = None,
    *,
    winner_id: str | None = None,
    history: Mapping[str, Sequence[float]] | None = None,
) -> BidderDeviationResult:
    """Expert disagreement per bidder (CV of the experts' totals), whether it concentrates on the
    winner, and each bidder's score against its own history (z; the history must be on the same
    scale, e.g. totals out of 100)."""
    settings = settings or BidderScoreSettings()
    by_bidder: dict[str, list[float]] = defaultdict(list)
    for row in totals:
        by_bidder[row.bidder_id].append(float(row.total))
    if winner_id is not None and winner_id not in by_bidder:
        raise ValueError(f"winner_id {winner_id!r} has no totals")
    rows = [
        _bidder_row(b, v, settings, (history or {}).get(b)) for b, v in sorted(by_bidder.items())
    ]
    cvs = {r.bidder_id: r.cv for r in rows}
    others = [cv for b, cv in cvs.items() if b != winner_id and cv is not None]
    others_median = statistics.median(others) if others else None
    concentrated = False
    winner_cv = cvs.get(winner_id) if winner_id is not None else None
    if winner_cv is not None and winner_cv > settings.cv_threshold:
        concentrated = others_median is None or winner_cv >= settings.concentration * others_median
    return BidderDeviationResult(rows, winner_id, others_median, concentrated)


def _bidder_row(
    bidder: str, values: list[float], settings: BidderScoreSettings, past: Sequence[float] | None
) -> BidderDeviation:
    mean = statistics.fmean(values)
    sd = statistics.stdev(values) if len(values) > 1 else None
    cv = sd / mean if sd is not None and mean > 0 else None
    h_mean = h_sd = z = None
    if past is not None and len(past) >= settings.min_history:
        h_mean, h_sd = statistics.fmean(past), statistics.stdev(past)
        z = (mean - h_mean) / h_sd if h_sd > 0 else None
    return BidderDeviation(
        bidder, tuple(sorted(values)), mean, sd, cv, h_mean, h_sd, z,
        cv is not None and cv > settings.cv_threshold,
        z is not None and z > settings.z_threshold,
    )  # fmt: skip


# --- 投标文件饱和度: bid-document richness against the evaluated rank ("负偏离") ----------------


@dataclass(frozen=True)
class RichnessSettings:
    """``delta``: "负偏离" when the winner's normalised richness is below the runner-up's by more
    than this, in [0, 1), default 0.05 (0 is Kunming's literal "#2 richer than #1").
    ``min_bidders``: Spearman's ρ needs at least this many bidders (≥ 3), default 3."""

    delta: float = 0.05
    min_bidders: int = 3

    def __post_init__(self) -> None:
        check_range("delta", self.delta, 0.0, 1.0, lo_open=False, hi_open=True)
        if self.min_bidders < 3:
            raise ValueError(f"min_bidders must be >= 3, got {self.min_bidders!r}")


@dataclass(frozen=True)
class RichnessRow:
    bidder_id: str
    richness: float
    normalised: float  # r = R / max R (0 when every R is 0)
    score: float
    rank: int  # evaluated rank, 1 = best score (ties broken by bidder id)


@dataclass(frozen=True)
class RichnessResult:
    bidders: list[RichnessRow]  # in evaluated rank order
    spearman: float | None  # ρ(score, R), average ranks for ties; None if undefined
    gap: float | None  # runner-up's r − winner's r
    negative_by_rank: bool  # ρ < 0
    negative_by_gap: bool  # gap > delta

    @property
    def flagged(self) -> bool:
        return self.negative_by_rank or self.negative_by_gap


def richness_deviation(
    richness: Mapping[str, float],
    scores: Mapping[str, float],
    settings: RichnessSettings | None = None,
) -> RichnessResult:
    """Richness (the caller measures it from the technical bids) against the evaluated scores:
    a richer document ranked below a poorer one is the negative deviation Kunming shows as a red
    exclamation mark."""
    settings = settings or RichnessSettings()
    if set(richness) != set(scores):
        missing = sorted(set(richness) ^ set(scores))
        raise ValueError(f"richness and scores must name the same bidders; differ on {missing}")
    if any(not float(v) >= 0 for v in richness.values()):
        raise ValueError("richness values must be >= 0")
    top = max((float(v) for v in richness.values()), default=0.0)
    order = sorted(scores, key=lambda b: (-float(scores[b]), b))
    rows = [
        RichnessRow(b, float(richness[b]), float(richness[b]) / top if top > 0 else 0.0,
                    float(scores[b]), n)
        for n, b in enumerate(order, 1)
    ]  # fmt: skip
    rho = None
    constant = len({r.score for r in rows}) < 2 or len({r.richness for r in rows}) < 2
    if len(rows) >= settings.min_bidders and not constant:
        value = float(stats.spearmanr([r.score for r in rows], [r.richness for r in rows])[0])
        rho = None if math.isnan(value) else value
    gap = rows[1].normalised - rows[0].normalised if len(rows) >= 2 else None
    return RichnessResult(
        rows, rho, gap, rho is not None and rho < 0, gap is not None and gap > settings.delta + EPS
    )
