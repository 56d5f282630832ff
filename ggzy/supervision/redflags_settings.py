"""The settings of the OCP red flags (``ggzy.supervision.redflags``), validated on creation.

Names follow Cardinal's settings file (``[R003] threshold``, ``[R038] minimum_submitted_bids``…)
so a regulator's Cardinal configuration translates one to one. A ``None`` threshold means "use
the IQR fence computed from the data", as in Cardinal; a number replaces the fence.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

CODES: tuple[str, ...] = (
    "R003", "R018", "R024", "R025", "R028", "R030",
    "R035", "R036", "R038", "R044", "R048", "R058",
)  # fmt: skip
BID_STATUSES = frozenset({"invited", "pending", "valid", "disqualified", "withdrawn"})
_CURRENCY = re.compile(r"[A-Z]{3}")


@dataclass(frozen=True, kw_only=True)
class RedFlagSettings:
    """Thresholds and switches of the red flags; a bad value raises ``ValueError`` naming the
    setting and its allowed range (the API turns that into a 400, never a 500)."""

    # which indicators to run (a subset of CODES)
    indicators: frozenset[str] = frozenset(CODES)
    # the main currency: a process with a bid or award amount in another currency is excluded
    currency: str = "CNY"
    # processes whose procurementMethodDetails is listed here are excluded from every indicator
    excluded_procurement_method_details: frozenset[str] = frozenset()
    # …and these from the price comparisons (R024, R028, R036, R058), e.g. lotteries (摇号)
    no_price_comparison_procurement_method_details: frozenset[str] = frozenset()
    # bid status remapping before any indicator (Cardinal ``prepare`` [codelists.bid_status])
    bid_status_map: Mapping[str, str] = field(default_factory=dict)
    r003_threshold: int = 15  # minimum days of the submission period
    r003_thresholds_by_details: Mapping[str, int] = field(default_factory=dict)
    r003_procurement_methods: frozenset[str] = frozenset()  # empty: every method
    r018_procurement_methods: frozenset[str] = frozenset({"open", "selective"})
    r024_threshold: float | None = None  # ratio; None: Q1 − 1.5·IQR
    r025_percentile: int = 75  # "top tenderer": number of valid bids ≥ this percentile
    r025_threshold: float | None = None  # ratio; None: Q1 − 1.5·IQR
    r035_threshold: int = 1  # at least this many other tenderers disqualified
    r038_threshold: float | None = None  # ratio; None: Q3 + 1.5·IQR
    r038_minimum_submitted_bids: int = 2  # per tenderer
    r038_minimum_processes: int = 2  # per buyer and per procuring entity
    r048_digits: int = 2  # first-level classification: 2 digits of CPV or UNSPSC
    r048_threshold: int | None = None  # classifications; None: Q3 + 1.5·IQR
    r048_minimum_processes: int = 20  # per supplier
    r058_threshold: float | None = None  # ratio; None: Q3 + 1.5·IQR

    def __post_init__(self) -> None:
        unknown = set(self.indicators) - set(CODES)
        if not self.indicators or unknown:
            raise ValueError(
                f"indicators: {sorted(unknown) or 'empty'}; allowed: {', '.join(CODES)}"
            )
        if not isinstance(self.currency, str) or not _CURRENCY.fullmatch(self.currency):
            raise ValueError(f"currency: {self.currency!r}; allowed: an ISO 4217 code like CNY")
        for key, value in self.bid_status_map.items():
            if not isinstance(key, str) or value not in BID_STATUSES:
                raise ValueError(
                    f"bid_status_map: {key!r} → {value!r}; allowed targets: {sorted(BID_STATUSES)}"
                )
        _integer("r003_threshold", self.r003_threshold, 1, 3650)
        for details, days in self.r003_thresholds_by_details.items():
            _integer(f"r003_thresholds_by_details[{details!r}]", days, 1, 3650)
        _integer("r025_percentile", self.r025_percentile, 1, 100)
        _integer("r035_threshold", self.r035_threshold, 1, 10_000)
        _integer("r038_minimum_submitted_bids", self.r038_minimum_submitted_bids, 1, 1_000_000)
        _integer("r038_minimum_processes", self.r038_minimum_processes, 1, 1_000_000)
        _integer("r048_digits", self.r048_digits, 1, 8)
        _integer("r048_minimum_processes", self.r048_minimum_processes, 1, 1_000_000)
        if self.r048_threshold is not None:
            _integer("r048_threshold", self.r048_threshold, 1, 10_000)
        _ratio("r024_threshold", self.r024_threshold, math.inf)
        _ratio("r058_threshold", self.r058_threshold, math.inf)
        _ratio("r025_threshold", self.r025_threshold, 1.0)
        _ratio("r038_threshold", self.r038_threshold, 1.0)

    @classmethod
    def for_platform(cls, **overrides: Any) -> RedFlagSettings:
        """Settings for this platform's own OCDS output (``ggzy.exchange.ocds``).

        Our opening record publishes every decrypted bid as ``pending`` (the evaluation's
        per-bid verdicts are not disclosed, R61), so a pending bid counts as ``valid`` here, the
        way Cardinal's ``prepare`` sets ``bid_status = valid`` for such publishers. The
        indicators that need a final award (R024, R025, R035, R058) still only look at sections
        whose award notice is out, so remapping before the award changes nothing.
        """
        return cls(**({"bid_status_map": {"pending": "valid"}} | overrides))

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = sorted(value) if isinstance(value, frozenset) else value
        return out


def _integer(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name}: {value!r}; allowed: an integer from {low} to {high}")


def _ratio(name: str, value: object, high: float) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= high:
        bound = "any non-negative number" if high == math.inf else f"a number from 0 to {high:g}"
        raise ValueError(f"{name}: {value!r}; allowed: {bound} or None (the data's IQR fence)")
    if math.isnan(value):
        raise ValueError(f"{name}: NaN; allowed: a number or None")
