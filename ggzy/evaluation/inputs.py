"""What a section's scoring is computed from. Frozen, typed, Decimal; no floats."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from ggzy.core.money import yuan
from ggzy.evaluation.scheme import ScoringError, ScoringScheme, as_decimal


def _money(value: object, what: str) -> Decimal:
    """``value`` as yuan to the cent; an amount too large to hold to the cent is refused."""
    try:
        return yuan(as_decimal(value, what))
    except ValueError:
        raise ScoringError(f"{what}超出可计算范围 (amount out of range)",
                           code="amount_out_of_range", detail={"field": what}) from None  # fmt: skip


class AdjustmentKind(StrEnum):
    # R35/R36: the only adjustments allowed to a price — arithmetic correction (算术修正, which
    # the bidder confirms) and policy deductions (政策性价格扣除, e.g. the SME deduction).
    ARITHMETIC = "arithmetic"
    POLICY = "policy"


@dataclass(frozen=True)
class PriceAdjustment:
    """One allowed adjustment of a bid price.

    ``amount`` is signed and added to the price (a correction, or a deduction worked out by the
    caller, e.g. 10 % of the SME-made part as ``-amount``). ``percent`` is a policy deduction of
    the corrected price (``10`` = the price counts at 90 %); arithmetic corrections have none.
    """

    kind: AdjustmentKind
    reason: str
    amount: Decimal = Decimal(0)
    percent: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", _money(self.amount, "adjustment.amount"))
        object.__setattr__(self, "percent", as_decimal(self.percent, "adjustment.percent"))
        if self.kind is AdjustmentKind.ARITHMETIC and self.percent != 0:
            raise ScoringError(
                "算术修正只能给出金额 (an arithmetic correction is an amount)",
                code="bad_adjustment",
                detail={"reason": self.reason},
            )
        if not 0 <= self.percent < 100:
            raise ScoringError(
                "价格扣除比例须在[0, 100)之间",
                code="bad_adjustment",
                detail={"reason": self.reason},
            )


@dataclass(frozen=True)
class BidInput:
    """A bid as opened: its price and, if the qualification or compliance review failed, why.

    ``invalid_reason`` set → the bid is out: no baseline counts its price and it ranks nowhere.
    A bid that could not be opened may have no ``price`` at all; a valid bid must have one.
    """

    bid_id: str
    bidder_name: str
    price: Decimal | None
    adjustments: tuple[PriceAdjustment, ...] = ()
    invalid_reason: str | None = None

    def __post_init__(self) -> None:
        if self.price is not None:
            object.__setattr__(self, "price", _money(self.price, "price"))


@dataclass(frozen=True)
class ExpertScore:
    """One committee member's points for one bid on one technical or commercial criterion."""

    expert_id: str
    bid_id: str
    criterion_id: str
    points: Decimal
    note: str = ""  # the expert's justification (评分理由)

    def __post_init__(self) -> None:
        object.__setattr__(self, "points", as_decimal(self.points, "points"))


@dataclass(frozen=True)
class ExpertVerdict:
    """One committee member's pass/fail finding for one bid on one pass/fail criterion."""

    expert_id: str
    bid_id: str
    criterion_id: str
    passed: bool
    note: str = ""


@dataclass(frozen=True)
class SectionScoring:
    """Everything :func:`ggzy.evaluation.scoring.score_section` needs for one section.

    ``draw_seed`` decides unresolved ties (R34); it is required only when a tie remains, and it
    is recorded in the result. ``benchmark_coefficient`` is the K drawn at the opening
    (benchmark method only).
    """

    section_id: str
    scheme: ScoringScheme
    committee: tuple[str, ...]
    bids: tuple[BidInput, ...]
    scores: tuple[ExpertScore, ...] = ()
    verdicts: tuple[ExpertVerdict, ...] = ()
    draw_seed: str | None = None
    benchmark_coefficient: Decimal | None = None
