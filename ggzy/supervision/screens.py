"""Bid-price screens for bid rigging (Imhof and co-authors), per tender, in Polars.

Definitions: ``/work/shared/reference/supervision-indicators.md`` §1.1 (authoritative). A tender
has n bids sorted ascending b₁ ≤ … ≤ bₙ, s is the sample standard deviation (n − 1), b̄ the mean,
Δᵢ = bᵢ₊₁ − bᵢ, and the losing bids are b₂…bₙ.

This is pure library code (no Django, no database): the platform feeds it one section's bids as
they are opened, the nightly pass and the historical import feed it millions. The tender screens
are one lazy query — a sort, window aggregates, then a single group-by with plain aggregations —
so Polars runs it on all cores and can stream it; the summary screens over 3- and 4-bid subsets
live in :mod:`ggzy.supervision.screens_subsets` and the thresholds and risk score in
:mod:`ggzy.supervision.screens_risk`. :func:`screen_all` puts the three together.

Undefined values are null, never inf or NaN:

* ``cv``, ``spd``: n < 2 (one bid has no dispersion).
* ``diffp``: all bids equal (there is no second distinct value).
* ``rd``: n < 3 (the sd of the losing bids needs two of them) or all losing bids equal (sd 0).
* ``rdnor``: n < 2 or all bids equal (the mean adjacent gap is 0). With n = 2 it is
  identically 1 by definition, so a threshold ≥ 1 never flags a 2-bid tender on it.
* ``rdalt``: n < 3 or bₙ = b₂ (the mean gap among losing bids is 0).
* ``skew`` (n < 3), ``kurt`` (n < 4): too few bids for the bias correction; also when the bids'
  variance is below the floating-point resolution of their mean (scipy's own rule,
  m₂ ≤ (ε·b̄)², where it answers NaN).
* ``kstest``: n < 3 (two bids are always the endpoints of Uniform[b₁, bₙ]) or all bids equal.
"""

from __future__ import annotations

from typing import Literal

import polars as pl

from ggzy.supervision import screens_subsets
from ggzy.supervision.screens_risk import SCREENS, ThresholdError, Thresholds, risk

__all__ = [
    "SCREENS",
    "ThresholdError",
    "Thresholds",
    "risk",
    "screen_all",
    "summary_screens",
    "tender_screens",
    "tender_screens_lazy",
    "validated_bids",
]

summary_screens = screens_subsets.summary_screens
_EPS = screens_subsets._EPS
Engine = Literal["streaming", "in-memory", "auto"]  # as polars' collect() takes it


def validated_bids(bids: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """``tender_id`` and ``amount`` (as Float64) of ``bids``, or ValueError naming the problem.

    Every amount must be a finite number > 0 and every tender_id present: a screen computed over
    a silently dropped or zero bid would be wrong without anyone noticing. The check costs one
    extra pass over the two columns.
    """
    lf = bids.lazy()
    names = lf.collect_schema().names()
    missing = [c for c in ("tender_id", "amount") if c not in names]
    if missing:
        raise ValueError(f"bids: missing column(s) {', '.join(missing)}")
    dtype = lf.collect_schema()["amount"]
    if not dtype.is_numeric():
        raise ValueError(f"amount: must be a number, got column type {dtype}")
    lf = lf.select("tender_id", pl.col("amount").cast(pl.Float64))
    amount = pl.col("amount")
    bad = lf.select(
        (amount.is_null() | ~amount.is_finite() | (amount <= 0)).sum().alias("amount"),
        pl.col("tender_id").is_null().sum().alias("tender_id"),
    ).collect()
    if bad["amount"][0]:
        raise ValueError(
            f"amount: {bad['amount'][0]} bid(s) with a missing, non-finite or non-positive amount"
        )
    if bad["tender_id"][0]:
        raise ValueError(f"tender_id: {bad['tender_id'][0]} bid(s) without a tender_id")
    return lf


def tender_screens_lazy(bids: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """The tender screens as a lazy query (see :func:`tender_screens`)."""
    t, a = "tender_id", pl.col("amount")
    n, b1, bn, mean = pl.col("nbids"), pl.col("b1"), pl.col("bn"), pl.col("mean")
    rank = pl.col("rank")
    per_bid = (
        validated_bids(bids)
        .sort(t, "amount")
        .with_columns(
            nbids=pl.len().over(t).cast(pl.Int64),
            rank=pl.int_range(1, pl.len() + 1).over(t).cast(pl.Int64),
            mean=a.mean().over(t),
            b1=a.min().over(t),
            bn=a.max().over(t),
        )
        .with_columns(dev=a - mean, cdf=(a - b1) / (bn - b1))
    )
    dev = pl.col("dev")
    cdf = pl.col("cdf")
    per_tender = per_bid.group_by(t).agg(
        n.first(),
        b1.first(),
        bn.first(),
        mean.first(),
        b2=pl.when(rank == 2).then(a).max(),
        b2_distinct=pl.when(a > b1).then(a).min(),
        m2=(dev * dev).sum(),
        m3=(dev * dev * dev).sum(),
        m4=(dev * dev * dev * dev).sum(),
        sd_losing=pl.when(rank >= 2).then(a).std(ddof=1),
        ks_plus=(rank / n - cdf).max(),
        ks_minus=(cdf - (rank - 1) / n).max(),
    )
    m2, m3, m4 = pl.col("m2"), pl.col("m3"), pl.col("m4")
    b2, gap, sdl = pl.col("b2"), pl.col("b2") - b1, pl.col("sd_losing")
    v2, v3, v4 = m2 / n, m3 / n, m4 / n
    resolved = v2 > (_EPS * mean) ** 2
    return per_tender.select(
        t,
        n,
        cv=pl.when(n >= 2).then((m2 / (n - 1)).sqrt() / mean),
        spd=pl.when(n >= 2).then((bn - b1) / b1),
        diffp=(pl.col("b2_distinct") - b1) / b1,
        # sorted, so the losing bids are all equal (sd 0) exactly when b₂ = bₙ; testing that
        # rather than sd > 0 keeps a rounding residue of the sd from producing RD ≈ 1e15
        rd=pl.when((n >= 3) & (bn > b2)).then(gap / sdl),
        rdnor=pl.when((n >= 2) & (bn > b1)).then(gap * (n - 1) / (bn - b1)),
        rdalt=pl.when((n >= 3) & (bn > b2)).then(gap * (n - 2) / (bn - b2)),
        kurt=pl.when((n >= 4) & resolved).then(
            ((n + 1) * v4 / (v2 * v2) - 3 * (n - 1)) * (n - 1) / ((n - 2) * (n - 3))
        ),
        skew=pl.when((n >= 3) & resolved).then(
            (n * (n - 1)).cast(pl.Float64).sqrt() / (n - 2) * v3 / v2.pow(1.5)
        ),
        kstest=pl.when((n >= 3) & (bn > b1)).then(
            pl.max_horizontal(pl.col("ks_plus"), pl.col("ks_minus"))
        ),
    )


def tender_screens(
    bids: pl.DataFrame | pl.LazyFrame, *, engine: Engine = "streaming"
) -> pl.DataFrame:
    """One row per tender: ``tender_id``, ``nbids``, ``cv``, ``spd``, ``diffp``, ``rd``,
    ``rdnor``, ``rdalt``, ``kurt``, ``skew``, ``kstest`` (§1.1; nulls as in the module docstring),
    ordered by ``tender_id``.

    ``bids`` is a DataFrame or LazyFrame with ``tender_id`` (any sortable type) and ``amount``
    (> 0); other columns are ignored. Raises ValueError for missing columns or bad amounts.
    """
    return tender_screens_lazy(bids).sort("tender_id").collect(engine=engine)


def screen_all(
    bids: pl.DataFrame | pl.LazyFrame,
    thresholds: Thresholds | None = None,
    *,
    sizes: tuple[int, ...] = screens_subsets.DEFAULT_SIZES,
    max_bids: int = screens_subsets.DEFAULT_MAX_BIDS,
    engine: Engine = "streaming",
) -> pl.DataFrame:
    """Tender screens, summary screens and risk for every tender, one row each, by tender_id.

    What the platform runs per section and over historical data. ``thresholds`` defaults to
    ``Thresholds()`` (documented defaults). A LazyFrame (say a Parquet or CSV scan) is validated
    and read once, then shared by the two passes, so a file is not scanned three times.
    """
    lf = validated_bids(bids).collect().lazy() if isinstance(bids, pl.LazyFrame) else bids
    screens = tender_screens(lf, engine=engine)
    summary = summary_screens(lf, sizes=sizes, max_bids=max_bids)
    flagged = risk(screens, thresholds or Thresholds())
    return screens.join(summary, on="tender_id", how="left", maintain_order="left").join(
        flagged, on="tender_id", how="left", maintain_order="left"
    )
