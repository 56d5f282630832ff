"""The red flags' working data: the eligible processes' frames after the global exclusions
(``ggzy.supervision.redflags``), the shared selections (final awards, the single winner), and
the IQR fences with Cardinal's quartiles."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from ggzy.supervision.ocds_frames import ReleaseFrames
from ggzy.supervision.redflags_settings import RedFlagSettings

SUBMITTED = ("pending", "valid", "disqualified")
FINAL_AWARD = ("active", "cancelled", "unsuccessful")


@dataclass
class FlagData:
    """The eligible processes' frames (global exclusions applied, bid statuses remapped)."""

    settings: RedFlagSettings
    processes: pl.DataFrame
    bids: pl.DataFrame
    bid_tenderers: pl.DataFrame  # with the bid's status
    awards: pl.DataFrame
    award_suppliers: pl.DataFrame  # with the award's status
    award_items: pl.DataFrame
    parties: pl.DataFrame
    cache: dict[str, pl.DataFrame] = field(default_factory=dict)

    def price_comparable(self) -> pl.DataFrame:
        excluded = list(self.settings.no_price_comparison_procurement_method_details)
        details = pl.col("procurement_method_details")
        return self.processes.filter(details.is_null() | ~details.is_in(excluded))


# --- eligibility -----------------------------------------------------------------------------


def prepare(frames: ReleaseFrames, settings: RedFlagSettings) -> FlagData:
    p, currency = frames.processes, settings.currency
    bad_reference = pl.concat([
        p.filter((pl.col("buyer_present") & pl.col("buyer_id").is_null())
                 | (pl.col("procuring_entity_present") & pl.col("procuring_entity_id").is_null()))
        .select("pid"),
        frames.bid_tenderers.filter(pl.col("tenderer_id").is_null()).select("pid"),
        frames.award_suppliers.filter(pl.col("supplier_id").is_null()).select("pid"),
        frames.bids.filter(_foreign(currency)).select("pid"),
        frames.awards.filter(_foreign(currency)).select("pid"),
    ])["pid"].unique()  # fmt: skip
    details = pl.col("procurement_method_details")
    excluded = list(settings.excluded_procurement_method_details)
    processes = p.filter(
        pl.col("ocid").is_not_null(),
        pl.col("tender_status").is_null() | (pl.col("tender_status") != "cancelled"),
        details.is_null() | ~details.is_in(excluded),
        ~pl.col("pid").is_in(bad_reference.implode()),
    )
    keep = processes.select("pid")
    status = pl.col("status")
    if settings.bid_status_map:
        status = status.replace(dict(settings.bid_status_map))
    bids = frames.bids.join(keep, on="pid", how="semi").with_columns(status=status)
    awards = frames.awards.join(keep, on="pid", how="semi")
    return FlagData(
        settings=settings,
        processes=processes,
        bids=bids,
        bid_tenderers=frames.bid_tenderers.join(bids.select("bid", "status"), on="bid"),
        awards=awards,
        award_suppliers=frames.award_suppliers.join(awards.select("award", "status"), on="award"),
        award_items=frames.award_items.join(
            awards.select("award", "status", "n_suppliers"), on="award"
        ),
        parties=frames.parties.join(keep, on="pid", how="semi"),
    )


def _foreign(currency: str) -> pl.Expr:
    return pl.col("amount").is_not_null() & (
        pl.col("currency").is_null() | (pl.col("currency") != currency)
    )


def final_processes(d: FlagData) -> pl.DataFrame:
    """Processes with bids and awards (arrays, even empty) whose awards with a status are all
    final: a pending award would change the result later."""
    if "final" not in d.cache:
        final = d.processes.filter(pl.col("has_awards") & pl.col("has_bid_details")).select("pid")
        status = pl.col("status")
        pending = d.awards.filter(status.is_not_null() & ~status.is_in(FINAL_AWARD))
        d.cache["final"] = final.join(pending.select("pid"), on="pid", how="anti")
    return d.cache["final"]


def final_single_winner(d: FlagData) -> pl.DataFrame:
    """(pid, winner_id) of the final processes with exactly one active award, with one supplier
    (with several, the data must describe lots to know which bids compete)."""
    if "winners" not in d.cache:
        active = d.awards.filter(pl.col("status") == "active").join(
            final_processes(d), on="pid", how="semi"
        )
        single = active.group_by("pid").agg(n=pl.len(), award=pl.col("award").first(),
                                            n_suppliers=pl.col("n_suppliers").first())  # fmt: skip
        single = single.filter((pl.col("n") == 1) & (pl.col("n_suppliers") == 1))
        suppliers = d.award_suppliers.select("award", winner_id="supplier_id")
        d.cache["winners"] = single.join(suppliers, on="award").select("pid", "winner_id")
    return d.cache["winners"]


def single_tenderer_bids(d: FlagData, status: str) -> pl.DataFrame:
    """Bids of one status with exactly one tenderer, with that tenderer's id."""
    bids = d.bids.filter((pl.col("status") == status) & (pl.col("n_tenderers") == 1))
    return bids.join(d.bid_tenderers.select("bid", "tenderer_id"), on="bid")


# --- fences ----------------------------------------------------------------------------------


def quartiles(values: pl.Series) -> tuple[float, float] | None:
    if values.len() == 0:
        return None
    q1, q3 = np.quantile(values.to_numpy(), [0.25, 0.75], method="median_unbiased")
    return float(q1), float(q3)


def lower_fence(values: pl.Series, threshold: float | None) -> float | None:
    """Q1 − 1.5·IQR, or the configured threshold; None when the indicator is skipped."""
    if threshold is not None:
        return threshold
    found = quartiles(values)
    if found is None:
        return None
    q1, q3 = found
    fence = q1 - 1.5 * (q3 - q1)
    return fence if q1 > 0 and fence > 0 else None


def upper_fence(values: pl.Series, threshold: float | None) -> float | None:
    """Q3 + 1.5·IQR, or the configured threshold; None when the indicator is skipped."""
    if threshold is not None:
        return threshold
    found = quartiles(values)
    if found is None:
        return None
    q1, q3 = found
    fence = q3 + 1.5 * (q3 - q1)
    return fence if fence > 0 else None


Result = tuple[pl.DataFrame, pl.DataFrame | None]
EMPTY = pl.DataFrame(schema={"pid": pl.UInt32, "value": pl.Float64})
