"""The twelve indicators of ``ggzy.supervision.redflags`` (definitions in its docstring).
Each takes the eligible data and returns (pid, value, flagged organisations) rows, and for the
organisation-level indicators the (subject, id, value) rows too."""

from __future__ import annotations

import numpy as np
import polars as pl

from ggzy.supervision.ocds_frames import ADDRESS_FIELDS, CONTACT_FIELDS
from ggzy.supervision.redflags_data import (
    EMPTY,
    SUBMITTED,
    FlagData,
    Result,
    final_processes,
    final_single_winner,
    lower_fence,
    single_tenderer_bids,
    upper_fence,
)

# --- process indicators ----------------------------------------------------------------------


def _r003(d: FlagData) -> Result:
    s = d.settings
    p = d.processes
    if s.r003_procurement_methods:
        p = p.filter(pl.col("procurement_method").is_in(list(s.r003_procurement_methods)))
    start = pl.col("start_date").str.to_datetime("%+", time_zone="UTC", strict=False)
    end = pl.col("end_date").str.to_datetime("%+", time_zone="UTC", strict=False)
    micros = (end - start).dt.total_microseconds()
    day = 86_400_000_000
    days = pl.when(micros >= 0).then(micros // day).otherwise(-((-micros) // day))
    threshold = pl.lit(s.r003_threshold, dtype=pl.Int64)
    if s.r003_thresholds_by_details:
        threshold = pl.col("procurement_method_details").replace_strict(
            dict(s.r003_thresholds_by_details), default=s.r003_threshold, return_dtype=pl.Int64
        )
    found = p.select("pid", days=days, threshold=threshold).filter(
        pl.col("days") < pl.col("threshold")
    )
    return found.select("pid", value=pl.col("days").cast(pl.Float64)), None


def _r018(d: FlagData) -> Result:
    p = d.processes.filter(
        pl.col("procurement_method").is_in(list(d.settings.r018_procurement_methods))
    )
    submitted = d.bid_tenderers.filter(pl.col("status").is_in(SUBMITTED))
    counts = submitted.group_by("pid").agg(n=pl.col("tenderer_id").n_unique(),
                                           tenderer_ids=pl.col("tenderer_id").unique())  # fmt: skip
    joined = p.select("pid", "number_of_tenderers").join(counts, on="pid", how="left")
    found = joined.filter(pl.coalesce("n", "number_of_tenderers") == 1)
    return found.select("pid", "tenderer_ids", value=pl.lit(1.0)), None


def _second_lowest_ratios(d: FlagData) -> pl.DataFrame:
    """(pid, ratio, winner_id, runner_up_id) for R024 and R058."""
    if "ratios" not in d.cache:
        d.cache["ratios"] = _compute_second_lowest_ratios(d)
    return d.cache["ratios"]


def _compute_second_lowest_ratios(d: FlagData) -> pl.DataFrame:
    winners = final_single_winner(d).join(d.price_comparable().select("pid"), on="pid", how="semi")
    valid = single_tenderer_bids(d, "valid").filter(pl.col("amount").is_not_null())
    valid = valid.join(winners, on="pid")
    mine = pl.col("tenderer_id") == pl.col("winner_id")
    won = (
        valid.filter(mine)
        .group_by("pid")
        .agg(w=pl.col("amount").min(), winner_id=pl.first("winner_id"))
    )
    others = (
        valid.filter(~mine)
        .group_by("pid")
        .agg(
            r=pl.col("amount").min(),
            runner_up_id=pl.col("tenderer_id").get(pl.col("amount").arg_min()),
        )
    )
    both = won.join(others, on="pid").filter((pl.col("r") >= pl.col("w")) & (pl.col("w") > 0))
    return both.select(
        "pid", "winner_id", "runner_up_id", ratio=(pl.col("r") - pl.col("w")) / pl.col("w")
    )


def _r024(d: FlagData) -> Result:
    ratios = _second_lowest_ratios(d)
    fence = lower_fence(ratios["ratio"], d.settings.r024_threshold)
    if fence is None:
        return EMPTY, None
    found = ratios.filter(pl.col("ratio") <= fence)
    return found.select("pid", value="ratio",
                        tenderer_ids=pl.concat_list("winner_id", "runner_up_id")), None  # fmt: skip


def _r058(d: FlagData) -> Result:
    ratios = _second_lowest_ratios(d)
    fence = upper_fence(ratios["ratio"], d.settings.r058_threshold)
    if fence is None:
        return EMPTY, None
    found = ratios.filter(pl.col("ratio") >= fence)
    return found.select("pid", value="ratio", tenderer_ids=pl.concat_list("winner_id")), None


def _r028(d: FlagData) -> Result:
    """A bid's tenderers as one key: the id itself for the usual single-tenderer bid, the
    sorted ids for a consortium; a price shared by two keys flags the process."""
    bids = d.bids.filter(pl.col("status").is_in(SUBMITTED) & pl.col("amount").is_not_null())
    bids = bids.join(d.price_comparable().select("pid"), on="pid", how="semi")
    repeated = bids.group_by("pid", "amount").agg(n=pl.len()).filter(pl.col("n") > 1)
    bids = bids.join(repeated.select("pid", "amount"), on=["pid", "amount"], how="semi")
    refs = d.bid_tenderers.join(bids.select("bid", "amount", "n_tenderers"), on="bid")
    single = refs.filter(pl.col("n_tenderers") == 1).select(
        "pid", "bid", "amount", key="tenderer_id"
    )
    consortium = (
        refs.filter(pl.col("n_tenderers") > 1)
        .group_by("bid")
        .agg(pl.first("pid"), pl.first("amount"), key=pl.col("tenderer_id").unique().sort())
        .select("pid", "bid", "amount", pl.col("key").list.join("\x1f"))
    )
    keys = pl.concat([single, consortium])
    shared = keys.group_by("pid", "amount").agg(n=pl.col("key").n_unique()).filter(pl.col("n") > 1)
    found = (
        refs.join(shared.select("pid", "amount"), on=["pid", "amount"], how="semi")
        .group_by("pid")
        .agg(tenderer_ids=pl.col("tenderer_id").unique().sort())
    )
    return found.with_columns(value=pl.lit(1.0)), None


def _r030(d: FlagData) -> Result:
    ends = d.processes.filter(pl.col("has_awards") & pl.col("has_bid_details")).select(
        "pid", end=pl.col("end_date").str.to_datetime("%+", time_zone="UTC", strict=False)
    )
    suppliers = d.award_suppliers.filter(pl.col("status") == "active").select("pid", "supplier_id")
    late = (
        d.bids.filter(pl.col("status") == "valid")
        .join(ends.filter(pl.col("end").is_not_null()), on="pid")
        .filter(pl.col("date").str.to_datetime("%+", time_zone="UTC", strict=False) > pl.col("end"))
        .join(d.bid_tenderers.select("bid", "tenderer_id"), on="bid")
        .join(
            suppliers, left_on=["pid", "tenderer_id"], right_on=["pid", "supplier_id"], how="semi"
        )
    )
    found = late.group_by("pid").agg(tenderer_ids=pl.col("tenderer_id").unique().sort())
    return found.with_columns(value=pl.lit(1.0)), None


def _r035(d: FlagData) -> Result:
    final = final_processes(d)
    bt = d.bid_tenderers.join(final, on="pid", how="semi")
    valid = (
        bt.filter(pl.col("status") == "valid")
        .group_by("pid")
        .agg(n_valid=pl.col("tenderer_id").n_unique(), winner=pl.first("tenderer_id"))
    )
    active = (
        d.award_suppliers.filter(pl.col("status") == "active")
        .group_by("pid")
        .agg(n_sup=pl.col("supplier_id").n_unique(), supplier=pl.first("supplier_id"))
    )
    disq = bt.filter(pl.col("status") == "disqualified").select("pid", "tenderer_id").unique()
    sole = (
        valid.filter(pl.col("n_valid") == 1)
        .join(active, on="pid")
        .filter((pl.col("n_sup") == 1) & (pl.col("supplier") == pl.col("winner")))
    )
    counts = (
        disq.join(sole.select("pid", "winner"), on="pid")
        .filter(pl.col("tenderer_id") != pl.col("winner"))
        .group_by("pid")
        .agg(value=pl.len().cast(pl.Float64), winner=pl.first("winner"))
    )
    found = counts.filter(pl.col("value") >= d.settings.r035_threshold)
    return found.select("pid", "value", tenderer_ids=pl.concat_list("winner")), None


def _r036(d: FlagData) -> Result:
    criteria = pl.col("award_criteria")
    p = d.price_comparable().filter(criteria.is_null() | (criteria == "priceOnly")).select("pid")
    active = d.awards.filter(pl.col("status") == "active").select("pid").unique()
    bids = (
        d.bids.filter(pl.col("status").is_in(SUBMITTED) & pl.col("amount").is_not_null())
        .join(p, on="pid", how="semi")
        .join(active, on="pid", how="semi")
    )
    lowest = bids.group_by("pid").agg(
        lowest=pl.col("status").get(pl.col("amount").arg_min()),
        has_valid=(pl.col("status") == "valid").any(),
    )
    found = lowest.filter(pl.col("has_valid") & (pl.col("lowest") == "disqualified"))
    return found.select("pid", value=pl.lit(1.0)), None


def _r044(d: FlagData) -> Result:
    """Keys hashed to 64 bits (one per address and per contact field): grouping integers is
    several times faster than grouping the strings, and a collision needs 2⁶⁴ luck."""
    tenderers = d.parties.filter(pl.col("is_tenderer") & pl.col("party_id").is_not_null())
    parts = [pl.col(f).str.strip_chars().str.to_lowercase() + " " for f in ADDRESS_FIELDS]
    keys = [
        pl.when(pl.col("streetAddress").is_not_null())
        .then(pl.concat_str(parts, ignore_nulls=True).hash(0))
        .alias("k0")
    ]
    for i, f in enumerate(CONTACT_FIELDS, start=1):
        value = pl.col(f"contact_{f}")
        keys.append(pl.when(value.str.strip_chars() != "").then(value.hash(i)).alias(f"k{i}"))
    long = (
        tenderers.select("pid", "party_id", *keys)
        .unpivot(index=["pid", "party_id"], value_name="key")
        .drop("variable")
        .drop_nulls("key")
    )
    shared = (
        long.group_by("pid", "key").agg(n=pl.col("party_id").n_unique()).filter(pl.col("n") > 1)
    )
    found = (
        long.join(shared.select("pid", "key"), on=["pid", "key"], how="semi")
        .group_by("pid")
        .agg(tenderer_ids=pl.col("party_id").unique().sort())
    )
    return found.with_columns(value=pl.lit(1.0)), None


# --- organisation indicators -----------------------------------------------------------------


def _r025(d: FlagData) -> Result:
    s = d.settings
    winners = final_single_winner(d)
    valid = (
        single_tenderer_bids(d, "valid")
        .join(winners, on="pid")
        .select("pid", "tenderer_id", "winner_id")
        .unique(["pid", "tenderer_id"])
    )
    per = valid.group_by("tenderer_id").agg(
        bids=pl.len(), ratio=(pl.col("tenderer_id") == pl.col("winner_id")).mean()
    )
    if per.height == 0:
        return EMPTY, None
    top = float(
        np.quantile(per["bids"].to_numpy(), s.r025_percentile / 100, method="median_unbiased")
    )
    fence = lower_fence(per["ratio"], s.r025_threshold)
    if fence is None:
        return EMPTY, None
    flagged = per.filter((pl.col("bids") >= top) & (pl.col("ratio") <= fence))
    found = (
        valid.join(flagged, on="tenderer_id")
        .group_by("pid")
        .agg(value=pl.col("ratio").min(), tenderer_ids=pl.col("tenderer_id").unique().sort())
    )
    return found, flagged.select(subject=pl.lit("tenderer"), id="tenderer_id", value="ratio")


def _r038(d: FlagData) -> Result:
    s = d.settings
    bids = d.bids.filter(pl.col("status").is_in(SUBMITTED))
    disq = (pl.col("status") == "disqualified").cast(pl.Int64)
    per_pid = bids.group_by("pid").agg(submitted=pl.len(), disqualified=disq.sum())
    per_pid = per_pid.join(d.processes.select("pid", "buyer_id", "procuring_entity_id"), on="pid")
    found, subjects = [], []
    for column, subject in (("buyer_id", "buyer"), ("procuring_entity_id", "procuring_entity")):
        per = (
            per_pid.filter(pl.col(column).is_not_null())
            .group_by(column)
            .agg(n=pl.len(), ratio=pl.col("disqualified").sum() / pl.col("submitted").sum())
            .filter(pl.col("n") >= s.r038_minimum_processes)
        )
        fence = upper_fence(per["ratio"], s.r038_threshold) if per.height else None
        if fence is None:
            continue
        flagged = per.filter(pl.col("ratio") >= fence)
        subjects.append(flagged.select(subject=pl.lit(subject), id=column, value="ratio"))
        rows = per_pid.filter(pl.col("disqualified") > 0).join(
            flagged.select(column, "ratio"), on=column
        )
        found.append(rows.select("pid", "ratio", pl.col(column)))
    bt = d.bid_tenderers.filter(pl.col("status").is_in(SUBMITTED))
    per = (
        bt.group_by("tenderer_id")
        .agg(n=pl.len(), ratio=(pl.col("status") == "disqualified").mean())
        .filter(pl.col("n") >= s.r038_minimum_submitted_bids)
    )
    fence = upper_fence(per["ratio"], s.r038_threshold) if per.height else None
    if fence is not None:
        flagged = per.filter(pl.col("ratio") >= fence)
        subjects.append(flagged.select(subject=pl.lit("tenderer"), id="tenderer_id", value="ratio"))
        rows = bt.select("pid", "tenderer_id").unique().join(flagged.select("tenderer_id", "ratio"),
                                                              on="tenderer_id")  # fmt: skip
        found.append(rows)
    if not found:
        return EMPTY, None
    parts = pl.concat(found, how="diagonal")
    parts = parts.with_columns(
        pl.lit(None, dtype=pl.String).alias(c)
        for c in ("buyer_id", "procuring_entity_id", "tenderer_id")
        if c not in parts.columns
    )
    merged = parts.group_by("pid").agg(
        value=pl.col("ratio").max(),
        buyer_id=pl.col("buyer_id").drop_nulls().first(),
        procuring_entity_id=pl.col("procuring_entity_id").drop_nulls().first(),
        tenderer_ids=pl.col("tenderer_id").drop_nulls().unique().sort(),
    )
    merged = merged.with_columns(
        tenderer_ids=pl.when(pl.col("tenderer_ids").list.len() > 0).then("tenderer_ids")
    )
    return merged, pl.concat(subjects)


def _r048(d: FlagData) -> Result:
    s = d.settings
    items = d.award_items.filter(
        (pl.col("status") == "active")
        & (pl.col("n_suppliers") == 1)
        & pl.col("classification_id").is_not_null()
    ).join(d.award_suppliers.select("award", "supplier_id"), on="award")
    items = items.with_columns(code=pl.col("classification_id").str.slice(0, s.r048_digits))
    per = (
        items.group_by("supplier_id")
        .agg(n=pl.col("pid").n_unique(), value=pl.col("code").n_unique().cast(pl.Float64))
        .filter(pl.col("n") >= s.r048_minimum_processes)
    )
    threshold = None if s.r048_threshold is None else float(s.r048_threshold)
    fence = upper_fence(per["value"], threshold) if per.height else None
    if fence is None:
        return EMPTY, None
    flagged = per.filter(pl.col("value") >= fence)
    found = (
        items.select("pid", "supplier_id")
        .unique()
        .join(flagged, on="supplier_id")
        .group_by("pid")
        .agg(value=pl.col("value").max(), supplier_ids=pl.col("supplier_id").unique().sort())
    )
    return found, flagged.select(subject=pl.lit("supplier"), id="supplier_id", value="value")


INDICATORS = {
    "R003": _r003, "R018": _r018, "R024": _r024, "R025": _r025, "R028": _r028, "R030": _r030,
    "R035": _r035, "R036": _r036, "R038": _r038, "R044": _r044, "R048": _r048, "R058": _r058,
}  # fmt: skip
