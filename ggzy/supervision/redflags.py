"""OCP red flags R003, R018, R024, R025, R028, R030, R035, R036, R038, R044, R048, R058 over
OCDS 1.1 compiled releases with the bids extension: a port of Cardinal (open-contracting/
cardinal-rs, MIT) to Polars, following ``shared/reference/supervision-indicators.md`` §2.1.

Global exclusions, before any indicator: a process without an ``ocid``; ``tender/status`` is
``cancelled``; an organisation reference (buyer, procuring entity, a bid's tenderer, an award's
supplier) without an ``id``; a bid or award amount not in the main currency (``currency``);
``procurementMethodDetails`` in ``excluded_procurement_method_details``. "Submitted" bids are
those with status pending, valid or disqualified (after ``bid_status_map``). Fences are
Q1 − 1.5·IQR and Q3 + 1.5·IQR with Cardinal's quartiles (statrs: the R-8, median-unbiased
estimator, ``numpy.quantile(method="median_unbiased")``); a fence indicator is skipped when the
quartiles are 0 (Cardinal's guards: R024/R025 need Q1 > 0 and a lower fence > 0, R038/R058 an
upper fence > 0), since otherwise three quarters of the data would be flagged.

Definitions (value in brackets):

- R003 short submission period: whole days from tenderPeriod start to end (truncated, as
  chrono's ``num_days``) below the threshold, per procurementMethodDetails if configured [days].
- R018 single bid: procurementMethod open or selective and one tenderer: the distinct tenderers
  of the submitted bids, or ``numberOfTenderers`` when there are no bids [1].
- R024 price close to the winning bid / R058 heavily discounted bid: d = (lowest valid bid of
  another tenderer − the winner's lowest valid bid) / the winner's bid, for processes whose
  awards are all final (active, cancelled, unsuccessful) with exactly one active award with one
  supplier, single-tenderer bids only, the winner being the lowest; R024 when d ≤ the lower fence
  (flags the winner and the runner-up), R058 when d ≥ the upper fence (the winner) [d].
- R025 excessive unsuccessful bids: per tenderer over those processes, wins / processes with a
  valid bid; flagged when the count ≥ its 75th percentile and the ratio ≤ the lower fence [ratio].
  Reported on every process where a flagged tenderer had a valid bid.
- R028 identical bid prices: two submitted bids with the same amount from different sets of
  tenderers (one tenderer may bid twice at one price) [1].
- R030 late bid won: a valid bid dated after tenderPeriod/endDate whose tenderer supplies an
  active award (dates compared as instants, Cardinal compares the text) [1].
- R035 all except the winning bid disqualified: awards final, exactly one tenderer with valid
  bids, it is the set of suppliers of the active awards, and ≥ ``r035_threshold`` other
  tenderers have disqualified bids [that number].
- R036 lowest bid disqualified: an active award, a valid bid with an amount, and the lowest
  submitted bid is disqualified; skipped when awardCriteria is given and is not priceOnly [1].
- R038 excessive disqualified bids: disqualified / submitted bids per buyer and per procuring
  entity (≥ 2 processes with submitted bids — Cardinal compares its
  ``minimum_contracting_processes`` with the buyer's number of bids, §2.1 says processes) and
  per tenderer (≥ 2 submitted bids), flagged ≥ the upper fence; reported on the buyer's or
  entity's processes with a disqualified bid and on the tenderer's processes [the highest
  flagged ratio].
- R044 business similarities (Cardinal branch ``r044``): two parties with role tenderer (different
  ids) share the normalised address (streetAddress required; street, locality, region, postal
  code, country, trimmed and lower-cased) or any non-empty contactPoint field (name, email,
  telephone, faxNumber, url) — the branch's description; its code compares only the first field
  both have [1].
- R048 heterogeneous supplier: distinct first ``r048_digits`` characters of the item
  classifications of a supplier's active single-supplier awards, among suppliers with ≥ 20
  processes, ≥ the upper fence; reported on the supplier's processes [count]. As in Cardinal
  there is no skip rule beyond Q1 = Q3 = 0: when every supplier has the same count (IQR 0),
  all of them reach the fence.

Our own OCDS output (``ggzy.exchange.ocds``): bids come from the signed opening record; a
decrypted bid is ``pending`` and a revoked, withdrawn or undecryptable one ``withdrawn``
(``ocds_fields.BID_STATUS``). Per-bid evaluation verdicts are not published, so there is no
``valid`` or ``disqualified`` bid: use ``RedFlagSettings.for_platform()`` (pending → valid), and
expect R035, R036 and R038's disqualification parts never to fire on it. Awards are ``pending``
candidates, then ``active`` (the winner), ``cancelled`` (withdrew) or ``unsuccessful``; amounts
are CNY; ``tender/numberOfTenderers`` is set; we publish no item classifications, addresses or
contact points, so R044 and R048 need imported data.
"""

from __future__ import annotations

import polars as pl

from ggzy.supervision.ocds_frames import ReleaseFrames, load_releases
from ggzy.supervision.redflags_data import prepare
from ggzy.supervision.redflags_indicators import INDICATORS
from ggzy.supervision.redflags_settings import CODES, RedFlagSettings

__all__ = [
    "CODES", "FLAG_SCHEMA", "SUBJECT_SCHEMA", "RedFlagSettings", "ReleaseFrames", "flag_summary",
    "load_releases", "red_flags", "subject_flags",
]  # fmt: skip

_IDS = pl.List(pl.String)
FLAG_SCHEMA: dict[str, pl.DataType] = {
    "ocid": pl.String(), "code": pl.String(), "value": pl.Float64(), "tenderer_ids": _IDS,
    "supplier_ids": _IDS, "buyer_id": pl.String(), "procuring_entity_id": pl.String(),
}  # fmt: skip
SUBJECT_SCHEMA: dict[str, pl.DataType] = {
    "code": pl.String(), "subject": pl.String(), "id": pl.String(), "value": pl.Float64(),
}  # fmt: skip
_ROW_SCHEMA = {
    "pid": pl.UInt32(),
    **{k: v for k, v in FLAG_SCHEMA.items() if k not in ("ocid", "code")},
}


def red_flags(frames: ReleaseFrames, settings: RedFlagSettings | None = None) -> pl.DataFrame:
    """One row per (ocid, code) flagged (``FLAG_SCHEMA``), sorted; the flagged organisations
    are in ``tenderer_ids`` (tenderers, winner, runner-up), ``supplier_ids`` (R048),
    ``buyer_id`` and ``procuring_entity_id`` (R038)."""
    return _evaluate(frames, settings or RedFlagSettings())[0]


def subject_flags(frames: ReleaseFrames, settings: RedFlagSettings | None = None) -> pl.DataFrame:
    """The organisation-level results of R025, R038 and R048 (``SUBJECT_SCHEMA``: subject is
    tenderer, buyer, procuring_entity or supplier), as Cardinal's Tenderer/Buyer groups."""
    return _evaluate(frames, settings or RedFlagSettings())[1]


def flag_summary(flags: pl.DataFrame) -> pl.DataFrame:
    """Per process: the number of red flags and their codes, most flagged first."""
    return (
        flags.group_by("ocid")
        .agg(flag_count=pl.len(), codes=pl.col("code").unique().sort())
        .sort(["flag_count", "ocid"], descending=[True, False])
    )


def _evaluate(
    frames: ReleaseFrames, settings: RedFlagSettings
) -> tuple[pl.DataFrame, pl.DataFrame]:
    data = prepare(frames, settings)
    rows, subjects = [], []
    for code in CODES:
        if code in settings.indicators:
            found, about = INDICATORS[code](data)
            rows.append(_conform(found).with_columns(code=pl.lit(code)))
            if about is not None:
                subjects.append(about.select(pl.lit(code).alias("code"), "subject", "id", "value"))
    flags = (
        pl.concat(rows)
        .join(data.processes.select("pid", "ocid"), on="pid")
        .select(list(FLAG_SCHEMA))
        .sort(["ocid", "code"])
    )
    subject = pl.concat(subjects) if subjects else pl.DataFrame(schema=SUBJECT_SCHEMA)
    return flags, subject.cast(SUBJECT_SCHEMA).sort(["code", "subject", "id"])  # type: ignore[arg-type]


def _conform(found: pl.DataFrame) -> pl.DataFrame:
    missing = [
        pl.lit(None, dtype=t).alias(k) for k, t in _ROW_SCHEMA.items() if k not in found.columns
    ]
    return found.with_columns(missing).select(list(_ROW_SCHEMA)).cast(_ROW_SCHEMA)  # type: ignore[arg-type]
