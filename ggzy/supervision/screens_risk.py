"""Thresholds for the bid-price screens and the combined risk score of a tender.

Each screen points to collusion in one direction (§1.1 of the supervision-indicators reference):
compressed bids (CV, SPD low), a gap between the winner and the first cover bid (DIFFP, RD, RDNOR,
RDALT high), peaked or clustered bids (KURT high, KSTEST high), cover bids bunched above the winner
(SKEW negative), few bidders (NBIDS low). A screen *flags* a tender when its value lies beyond the
threshold in that direction (strictly: ``value < threshold`` for "low", ``>`` for "high").

Defaults: RD > 1 is the literature's (Imhof 2017; OECD 2018 COMCO workshop). The others are ours,
chosen so that a competitive tender of uniformly spread bids rarely trips them; they are starting
points for the regulator to tune per market, not findings:

==========  =========  =======  ===============================================================
screen      direction  default  why
==========  =========  =======  ===============================================================
cv          low        0.05     bids within ±5 % of their mean
spd         low        0.10     highest bid less than 10 % above the lowest
diffp       high       0.05     winner 5 % below the next distinct bid
rd          high       1.0      literature: first gap larger than the sd of the losing bids
rdnor       high       1.5      first gap 1.5× the mean adjacent gap (≤ 2 for 3 bids)
rdalt       high       2.0      first gap 2× the mean gap among the losing bids
kurt        high       1.0      clearly peaked (excess kurtosis of a uniform is −1.2)
skew        low        −0.5     cover bids bunched above the winner
kstest      high       0.5      bids far from uniform on [b₁, bₙ]
nbids       low        3        fewer than 3 bids
==========  =========  =======  ===============================================================

Risk score: ``100 × Σ wₛ·flagₛ / Σ wₛ`` over the screens *defined* for the tender (weights default
to 1). A 3-bid tender has no KURT, so it is scored on the other nine; ``screens_defined`` and
``screens_flagged`` are returned next to the score so that a score from three screens is not read
like one from ten. A screen with weight 0 is left out of the score and of both counts (its flag
column is still filled).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any, Literal

import polars as pl

Direction = Literal["low", "high"]
SCREENS: tuple[str, ...] = (
    "nbids",
    "cv",
    "spd",
    "diffp",
    "rd",
    "rdnor",
    "rdalt",
    "kurt",
    "skew",
    "kstest",
)
DIRECTIONS: Mapping[str, Direction] = MappingProxyType(
    {
        "nbids": "low",
        "cv": "low",
        "spd": "low",
        "diffp": "high",
        "rd": "high",
        "rdnor": "high",
        "rdalt": "high",
        "kurt": "high",
        "skew": "low",
        "kstest": "high",
    }
)
_INF = math.inf
# allowed threshold range per screen (inclusive); every bound is also required to be finite
RANGES: Mapping[str, tuple[float, float]] = MappingProxyType(
    {
        "nbids": (1, 1000),
        "cv": (0.0, 10.0),
        "spd": (0.0, 100.0),
        "diffp": (0.0, 100.0),
        "rd": (0.0, 1000.0),
        "rdnor": (0.0, 1000.0),
        "rdalt": (0.0, 1000.0),
        "kurt": (-6.0, 1000.0),
        "skew": (-100.0, 100.0),
        "kstest": (0.0, 1.0),
    }
)
WEIGHT_RANGE = (0.0, 100.0)


class ThresholdError(ValueError):
    """A threshold or weight out of range; ``screen`` names it (the API answers 4xx with it)."""

    def __init__(self, screen: str, message: str) -> None:
        super().__init__(f"{screen}: {message}")
        self.screen = screen


def _default_weights() -> Mapping[str, float]:
    return MappingProxyType(dict.fromkeys(SCREENS, 1.0))


@dataclass(frozen=True)
class Thresholds:
    """Per-screen thresholds and weights for :func:`risk`; validated on construction."""

    nbids: int = 3
    cv: float = 0.05
    spd: float = 0.10
    diffp: float = 0.05
    rd: float = 1.0
    rdnor: float = 1.5
    rdalt: float = 2.0
    kurt: float = 1.0
    skew: float = -0.5
    kstest: float = 0.5
    weights: Mapping[str, float] = field(default_factory=_default_weights)

    def __post_init__(self) -> None:
        for screen in SCREENS:
            _check(screen, getattr(self, screen), RANGES[screen], integer=screen == "nbids")
        if not isinstance(self.weights, Mapping):
            raise ThresholdError("weights", "must be a mapping of screen name to weight")
        unknown = sorted(set(self.weights) - set(SCREENS))
        if unknown:
            raise ThresholdError(str(unknown[0]), f"unknown screen; allowed: {', '.join(SCREENS)}")
        for screen, weight in self.weights.items():
            _check(f"weights.{screen}", weight, WEIGHT_RANGE)
        merged = {**_default_weights(), **self.weights}
        if not any(merged.values()):
            raise ThresholdError("weights", "at least one weight must be positive")
        object.__setattr__(self, "weights", MappingProxyType(merged))

    @staticmethod
    def direction(screen: str) -> Direction:
        return DIRECTIONS[screen]

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Thresholds:
        """Thresholds from a form, API body or JSON object; missing keys keep their default.

        Unknown keys are refused (a misspelt screen must not silently keep its default).
        """
        if not isinstance(data, Mapping):
            raise ThresholdError("thresholds", "must be an object of screen name to threshold")
        allowed = {f.name for f in fields(cls)}
        for key in data:
            if key not in allowed:
                raise ThresholdError(
                    str(key), f"unknown screen; allowed: {', '.join(SCREENS)}, weights"
                )
        return cls(**dict(data))

    def as_dict(self) -> dict[str, Any]:
        values: dict[str, Any] = {s: getattr(self, s) for s in SCREENS}
        values["weights"] = dict(self.weights)
        return values


def _check(name: str, value: object, bounds: tuple[float, float], *, integer: bool = False) -> None:
    lo, hi = bounds
    kind = "an integer" if integer else "a number"
    allowed = f"{kind} in [{lo:g}, {hi:g}]"
    ok_type = isinstance(value, int) if integer else isinstance(value, int | float)
    if isinstance(value, bool) or not ok_type:
        raise ThresholdError(name, f"must be {allowed}, got {value!r}")
    assert isinstance(value, int | float)
    if not math.isfinite(value) or not lo <= value <= hi:
        raise ThresholdError(name, f"must be {allowed}, got {value!r}")


def flag_expr(screen: str, threshold: float) -> pl.Expr:
    """True/False where the screen is defined, null where it is not."""
    col = pl.col(screen)
    return (col < threshold) if DIRECTIONS[screen] == "low" else (col > threshold)


def risk(
    screens: pl.DataFrame | pl.LazyFrame, thresholds: Thresholds | None = None
) -> pl.DataFrame:
    """Per tender: ``<screen>_flag`` (null where the screen is undefined), ``screens_defined``,
    ``screens_flagged`` and ``risk_score`` (0–100, formula in the module docstring; null if no
    weighted screen is defined).

    ``screens`` is the output of :func:`ggzy.supervision.screens.tender_screens` (any frame with
    ``tender_id`` and the screen columns).
    """
    th = thresholds or Thresholds()
    used = [s for s in SCREENS if th.weights[s] > 0]
    flags = [flag_expr(s, getattr(th, s)).alias(f"{s}_flag") for s in SCREENS]
    defined = [pl.col(f"{s}_flag").is_not_null() for s in used]
    hits = [pl.col(f"{s}_flag").fill_null(False) for s in used]
    weight_defined = pl.sum_horizontal(
        d.cast(pl.Float64) * th.weights[s] for d, s in zip(defined, used, strict=True)
    )
    weight_hit = pl.sum_horizontal(
        h.cast(pl.Float64) * th.weights[s] for h, s in zip(hits, used, strict=True)
    )
    return (
        screens.lazy()
        .select("tender_id", *flags)
        .with_columns(
            screens_defined=pl.sum_horizontal(d.cast(pl.Int32) for d in defined),
            screens_flagged=pl.sum_horizontal(h.cast(pl.Int32) for h in hits),
            risk_score=pl.when(weight_defined > 0).then(100.0 * weight_hit / weight_defined),
        )
        .collect()
    )
