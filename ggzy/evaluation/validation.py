"""Refusals of malformed scoring input, each with its own code (the issue's "Bad input")."""

from __future__ import annotations

from collections.abc import Mapping

from ggzy.evaluation.inputs import BidInput, ExpertScore, ExpertVerdict, SectionScoring
from ggzy.evaluation.scheme import Criterion, CriterionKind, ScoringError

Key = tuple[str, str, str]  # (bid_id, criterion_id, expert_id)


def check_inputs(
    section: SectionScoring,
) -> tuple[dict[Key, ExpertScore], dict[Key, bool]]:
    """The scores and verdicts indexed by (bid, criterion, expert), or the first refusal."""
    _check_committee_and_bids(section)
    criteria = {c.id: c for c in section.scheme.criteria}
    committee = set(section.committee)
    bids = {b.bid_id: b for b in section.bids}
    scores: dict[Key, ExpertScore] = {}
    for score in section.scores:
        criterion = _check_entry(score, committee, bids, criteria)
        if not criterion.kind.expert_scored:
            raise _entry_error("criterion_not_expert_scored", "该评审因素不由评委打分", score)
        _check_open(bids[score.bid_id], score)
        key = (score.bid_id, score.criterion_id, score.expert_id)
        if key in scores:
            raise _entry_error("duplicate_score", "同一评委对同一因素重复评分", score)
        problem = criterion.check_points(score.points)
        if problem is not None:
            raise ScoringError(
                f"“{criterion.name}”的得分须在{criterion.min_points}–{criterion.max_points}"
                f"之间且为{criterion.step}的整数倍",
                code="score_out_of_range",
                detail={
                    **_where(score),
                    "points": str(score.points),
                    "problem": problem,
                    "min": str(criterion.min_points),
                    "max": str(criterion.max_points),
                    "step": str(criterion.step),
                },
            )
        scores[key] = score
    verdicts: dict[Key, bool] = {}
    for verdict in section.verdicts:
        criterion = _check_entry(verdict, committee, bids, criteria)
        if criterion.kind is not CriterionKind.PASS_FAIL:
            raise _entry_error("criterion_not_pass_fail", "该评审因素不是符合性审查项", verdict)
        _check_open(bids[verdict.bid_id], verdict)
        key = (verdict.bid_id, verdict.criterion_id, verdict.expert_id)
        if key in verdicts:
            raise _entry_error("duplicate_verdict", "同一评委对同一审查项重复认定", verdict)
        verdicts[key] = verdict.passed
    return scores, verdicts


def _check_committee_and_bids(section: SectionScoring) -> None:
    if not section.committee:
        raise ScoringError("评标委员会为空", code="empty_committee")
    if len(set(section.committee)) != len(section.committee):
        raise ScoringError("评标委员会成员重复", code="duplicate_expert")
    ids = [b.bid_id for b in section.bids]
    if len(set(ids)) != len(ids):
        raise ScoringError(
            "投标编号重复",
            code="duplicate_bid",
            detail={"bids": sorted({i for i in ids if ids.count(i) > 1})},
        )
    unpriced = sorted(
        b.bid_id for b in section.bids if b.invalid_reason is None and b.price is None
    )
    if unpriced:
        raise ScoringError("有效投标须有报价", code="price_missing", detail={"bids": unpriced})


def _check_entry(
    entry: ExpertScore | ExpertVerdict,
    committee: set[str],
    bids: Mapping[str, BidInput],
    criteria: dict[str, Criterion],
) -> Criterion:
    if entry.expert_id not in committee:
        raise _entry_error("unknown_expert", "评分人不是本评标委员会成员", entry)
    if entry.bid_id not in bids:
        raise _entry_error("unknown_bid", "未知的投标", entry)
    criterion = criteria.get(entry.criterion_id)
    if criterion is None:
        raise _entry_error("unknown_criterion", "未知的评审因素", entry)
    return criterion


def _check_open(bid: BidInput, entry: ExpertScore | ExpertVerdict) -> None:
    if bid.invalid_reason is not None:
        raise _entry_error("bid_invalid", "无效投标不再评审", entry)


def _where(entry: ExpertScore | ExpertVerdict) -> dict[str, str]:
    return {"expert": entry.expert_id, "bid": entry.bid_id, "criterion": entry.criterion_id}


def _entry_error(code: str, message: str, entry: ExpertScore | ExpertVerdict) -> ScoringError:
    return ScoringError(message, code=code, detail=_where(entry))
