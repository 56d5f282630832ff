"""Kunming's "4+1" toolbox (昆明"4+1"智慧监管工具箱) as pure functions over evaluation data.

The four deviation tools — expert score deviation (专家打分偏离度), evaluation-time deviation
(专家评标时长偏离度), bidder score deviation (投标人得分偏离度) and bid-document richness
(投标文件饱和度, "负偏离") — plus the watchlist (重点关注名单, :func:`watchlist_hits`). The only
public description of the toolbox is a news article (光明日报 2019-12-18); the formulas are ours,
written down in ``shared/reference/supervision-indicators.md`` §7, and implemented exactly.

The toolbox lives in three modules — :mod:`~ggzy.supervision.toolbox_scores` (score deviation,
order inversions), :mod:`~ggzy.supervision.toolbox_bidders` (time, bidder score, richness) and
:mod:`~ggzy.supervision.toolbox_watchlist` — and is imported from here.

No database: the caller feeds rows it read from the evaluation (``evaluation.Score``,
``ViewingSpan``) and gets rows back that carry their evidence — the numbers that make each flag —
so an alert can show *why* without recomputing. Every function takes a validated settings
dataclass; a value out of range is a :class:`ValueError` naming the setting and the allowed range.
Scores are converted to ``float``: they are points, not money, and the statistics are floats.
"""

from __future__ import annotations

from ggzy.supervision.toolbox_bidders import (
    BidderDeviation,
    BidderDeviationResult,
    BidderScoreSettings,
    EvaluationTimeSettings,
    ExpertTime,
    RichnessResult,
    RichnessRow,
    RichnessSettings,
    TimeDeviation,
    bidder_score_deviation,
    evaluation_time_deviation,
    richness_deviation,
)
from ggzy.supervision.toolbox_scores import (
    TOTAL,
    ExpertTotal,
    ItemDeviation,
    OrderInversion,
    ScoreDeviationResult,
    ScoreDeviationSettings,
    ScoreRow,
    expert_totals,
    score_deviation,
)
from ggzy.supervision.toolbox_watchlist import (
    WatchEntry,
    WatchHit,
    WatchKind,
    Watchlist,
    WatchlistSettings,
    watchlist_hits,
)

__all__ = [
    "TOTAL",
    "BidderDeviation",
    "BidderDeviationResult",
    "BidderScoreSettings",
    "EvaluationTimeSettings",
    "ExpertTime",
    "ExpertTotal",
    "ItemDeviation",
    "OrderInversion",
    "RichnessResult",
    "RichnessRow",
    "RichnessSettings",
    "ScoreDeviationResult",
    "ScoreDeviationSettings",
    "ScoreRow",
    "TimeDeviation",
    "WatchEntry",
    "WatchHit",
    "WatchKind",
    "Watchlist",
    "WatchlistSettings",
    "bidder_score_deviation",
    "evaluation_time_deviation",
    "expert_totals",
    "richness_deviation",
    "score_deviation",
    "watchlist_hits",
]
