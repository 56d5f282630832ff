"""Ranking with the R34 tie rules (87号令 Art 56, 57, 68).

Order: total points descending (scored methods), then evaluated price ascending; bids equal on
both are tied (并列). Art 68 leaves an unresolved tie to the method the tender documents name,
else a random draw. The draw here is the documented method: each tied bid gets

    digest = SHA-256("ggzy-tie-draw/1\\n{seed}\\n{section_id}\\n{bid_id}")  (hex)

and the tied bids are ordered by digest ascending. The seed is an input (drawn in public, e.g.
from a ledger tree head), recorded in the result with every digest, so anyone can redo the draw;
the order does not depend on the order the bids were given in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import groupby

from ggzy.evaluation.scheme import ScoringError

DRAW_DOMAIN = "ggzy-tie-draw/1"


@dataclass(frozen=True)
class RankEntry:
    bid_id: str
    total: Decimal | None  # None under the lowest evaluated price method
    evaluated_price: Decimal

    @property
    def key(self) -> tuple[Decimal, Decimal]:
        return (-(self.total if self.total is not None else Decimal(0)), self.evaluated_price)


@dataclass(frozen=True)
class TieBreak:
    """One group of tied bids and how the draw ordered it."""

    bid_ids: tuple[str, ...]  # sorted by id
    total: Decimal | None
    evaluated_price: Decimal
    draws: tuple[tuple[str, str], ...]  # (bid_id, digest), in the drawn order
    order: tuple[str, ...]  # the drawn order


def draw_digest(seed: str, section_id: str, bid_id: str) -> str:
    text = f"{DRAW_DOMAIN}\n{seed}\n{section_id}\n{bid_id}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def rank_bids(
    entries: Sequence[RankEntry], *, section_id: str, seed: str | None
) -> tuple[tuple[str, ...], tuple[TieBreak, ...]]:
    """The bid ids best first, and the tie-breaks that decided equal bids.

    Refused with ``tie_draw_seed_required`` (listing the tied groups) when a tie remains and no
    seed was given: the caller draws a seed and scores again.
    """
    ordered = sorted(entries, key=lambda e: (e.key, e.bid_id))
    groups = [list(g) for _, g in groupby(ordered, key=lambda e: e.key)]
    ties = [g for g in groups if len(g) > 1]
    if ties and seed is None:
        raise ScoringError(
            "得分且报价相同，须以随机抽取确定排序 (a tie needs the draw seed, R34)",
            code="tie_draw_seed_required",
            detail={"ties": [[e.bid_id for e in g] for g in ties]},
        )
    ranking: list[str] = []
    breaks: list[TieBreak] = []
    for group in groups:
        if len(group) == 1:
            ranking.append(group[0].bid_id)
            continue
        assert seed is not None
        draws = sorted(
            ((e.bid_id, draw_digest(seed, section_id, e.bid_id)) for e in group),
            key=lambda d: (d[1], d[0]),
        )
        order = tuple(bid_id for bid_id, _ in draws)
        ranking.extend(order)
        breaks.append(
            TieBreak(
                bid_ids=tuple(e.bid_id for e in group),
                total=group[0].total,
                evaluated_price=group[0].evaluated_price,
                draws=tuple(draws),
                order=order,
            )
        )
    return tuple(ranking), tuple(breaks)
