"""The evaluation report (评标报告): a plain structure, canonical bytes, a Markdown text.

:func:`report_bytes` is what every expert signs: UTF-8 JSON with sorted keys, no insignificant
whitespace, every Decimal as a fixed-point string — the same bytes for the same input, whatever
the order the scores arrived in (the engine orders everything it outputs). The Markdown text is
for reading; the bytes are the record.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from ggzy.core.money import format_yuan
from ggzy.evaluation.prices import POINT, BenchmarkPrice
from ggzy.evaluation.scheme import ScoringScheme
from ggzy.evaluation.scoring import ABNORMALLY_LOW, TIE_DRAWN, BidResult, ScoringResult

REPORT_FORMAT = "ggzy.evaluation.report/1"

METHOD_LABELS = {
    "lowest_evaluated_price": _("最低评标价法"),
    "comprehensive_87": _("综合评分法（87号令价格分公式）"),
    "benchmark_price": _("综合评估法（评标基准价）"),
}
FLAG_LABELS = {ABNORMALLY_LOW: _("报价异常低，须书面说明"), TIE_DRAWN: _("并列，随机抽取定序")}


def _d(value: Decimal | None) -> str | None:
    """Fixed point, at least two places, no other trailing zeros: 48, 48.0 → "48.00"."""
    if value is None:
        return None
    canonical = value.normalize()
    exponent = canonical.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        canonical = canonical.quantize(POINT)
    return format(canonical, "f")


def build_report(result: ScoringResult) -> dict[str, Any]:
    """The result as plain JSON-ready data (str, int, bool, None, lists, dicts)."""
    return {
        "format": REPORT_FORMAT,
        "section_id": result.section_id,
        "scheme": _scheme(result.scheme),
        "committee": list(result.committee),
        "base_price": _d(result.base_price),
        "benchmark": _benchmark(result.benchmark),
        "bids": [_bid(b) for b in result.bids],
        "ranking": list(result.ranking),
        "candidates": list(result.candidates),
        "tie_breaks": [
            {
                "bid_ids": list(t.bid_ids),
                "total": _d(t.total),
                "evaluated_price": _d(t.evaluated_price),
                "draws": [list(d) for d in t.draws],
                "order": list(t.order),
            }
            for t in result.tie_breaks
        ],
        "draw_seed": result.draw_seed,
        "warnings": list(result.warnings),
    }


def canonical_json(data: Any) -> bytes:
    return json.dumps(
        data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
    ).encode("utf-8")


def report_bytes(result: ScoringResult) -> bytes:
    """The bytes every expert signs."""
    return canonical_json(build_report(result))


def _scheme(scheme: ScoringScheme) -> dict[str, Any]:
    rule = scheme.benchmark
    low = scheme.abnormally_low
    return {
        "method": str(scheme.method),
        "category": str(scheme.category),
        "candidate_count": scheme.candidate_count,
        "criteria": [
            {
                "id": c.id,
                "name": c.name,
                "kind": str(c.kind),
                "weight": _d(c.weight),
                "max_points": _d(c.max_points),
                "min_points": _d(c.min_points),
                "step": _d(c.step),
            }
            for c in scheme.criteria
        ],
        "benchmark_rule": None
        if rule is None
        else {
            "trim_count": rule.trim_count,
            "trim_percent": _d(rule.trim_percent),
            "trim_min_bids": rule.trim_min_bids,
            "coefficient_range": [_d(k) for k in rule.coefficient_range],
            "points_off_per_percent_above": _d(rule.points_off_per_percent_above),
            "points_off_per_percent_below": _d(rule.points_off_per_percent_below),
        },
        "abnormally_low": {
            "others_average_ratio": _d(low.others_average_ratio),
            "below_benchmark_percent": _d(low.below_benchmark_percent),
        },
    }


def _benchmark(b: BenchmarkPrice | None) -> dict[str, Any] | None:
    if b is None:
        return None
    return {
        "valid_count": b.valid_count,
        "trimmed": b.trimmed,
        "removed_low": list(b.removed_low),
        "removed_high": list(b.removed_high),
        "kept": list(b.kept),
        "average": _d(b.average),
        "coefficient": _d(b.coefficient),
        "benchmark": _d(b.benchmark),
    }


def _bid(b: BidResult) -> dict[str, Any]:
    return {
        "bid_id": b.bid_id,
        "bidder_name": b.bidder_name,
        "price": _d(b.price),
        "adjustments": [
            {
                "kind": str(a.kind),
                "reason": a.reason,
                "amount": _d(a.amount),
                "percent": _d(a.percent),
            }
            for a in b.adjustments
        ],
        "corrected_price": _d(b.corrected_price),
        "evaluated_price": _d(b.evaluated_price),
        "valid": b.valid,
        "invalid_reason": b.invalid_reason,
        "pass_fail": [
            {"criterion": f.criterion_id, "passed": f.passed, "verdicts": dict(f.verdicts)}
            for f in b.pass_fail
        ],
        "price_points": _d(b.price_points),
        "deviation_percent": _d(b.deviation_percent),
        "criteria": [
            {
                "criterion": c.criterion_id,
                "experts": {e: _d(p) for e, p in c.expert_points},
                "mean": _d(c.mean),
                "points": _d(c.points),
                "notes": dict(c.notes),
            }
            for c in b.criteria
        ],
        "total": _d(b.total),
        "rank": b.rank,
        "candidate": b.candidate,
        "low_price": [
            {"basis": f.basis, "reference": _d(f.reference), "threshold": _d(f.threshold)}
            for f in b.low_price
        ],
        "flags": list(b.flags),
    }


def render_markdown(result: ScoringResult) -> str:
    """A short Chinese-labelled Markdown rendering of the result (for reading, not signing)."""
    scheme = result.scheme
    names = {c.id: c.name for c in scheme.criteria}
    lines = [
        f"# {_('评标结果')}",
        "",
        f"- {_('标段')}：{result.section_id}",
        f"- {_('评标方法')}：{METHOD_LABELS[scheme.method]}",
        f"- {_('评标委员会')}：{len(result.committee)} {_('人')}",
    ]
    if result.base_price is not None:
        lines.append(f"- {_('评标基准价（最低有效评审价）')}：{format_yuan(result.base_price)}")
    if result.benchmark is not None:
        b = result.benchmark
        lines.append(
            f"- {_('评标基准价')}：{format_yuan(b.benchmark)}"
            f"（{_('平均价')} {format_yuan(b.average)} × {_('系数')} {_d(b.coefficient)}）"
        )
    lines += ["", f"## {_('排名')}", ""]
    lines.append(
        f"| {_('排名')} | {_('投标人')} | {_('投标报价')} | {_('评审价')} | {_('价格分')} "
        f"| {_('总分')} | {_('标记')} |"
    )
    lines.append("|---|---|---|---|---|---|---|")
    valid = [b for b in result.bids if b.valid]
    for bid in valid:
        flags = "；".join(str(FLAG_LABELS[f]) for f in bid.flags)
        lines.append(
            f"| {bid.rank} | {bid.bidder_name} | {_money(bid.price)} | {_money(bid.evaluated_price)} "
            f"| {_d(bid.price_points) or '—'} | {_d(bid.total) or '—'} | {flags} |"
        )
    lines += ["", f"## {_('中标候选人')}", ""]
    by_id = {b.bid_id: b for b in result.bids}
    lines += [f"{i}. {by_id[c].bidder_name}" for i, c in enumerate(result.candidates, 1)]
    invalid = [b for b in result.bids if not b.valid]
    if invalid:
        lines += ["", f"## {_('无效投标')}", ""]
        lines += [f"- {b.bidder_name}：{b.invalid_reason}" for b in invalid]
    if result.tie_breaks:
        lines += [
            "",
            f"## {_('并列处理（随机抽取）')}",
            "",
            f"{_('随机种子')}：`{result.draw_seed}`",
        ]
        for t in result.tie_breaks:
            order = " > ".join(by_id[b].bidder_name for b in t.order)
            lines.append(f"- {order}")
    if scheme.scored_criteria:
        lines += ["", f"## {_('评分明细')}", ""]
        for bid in valid:
            lines.append(f"### {bid.bidder_name}")
            lines.append("")
            lines.append(f"| {_('评审因素')} | {_('各评委得分')} | {_('平均分')} | {_('得分')} |")
            lines.append("|---|---|---|---|")
            for c in bid.criteria:
                given = " / ".join(_d(p) or "" for _e, p in c.expert_points)
                lines.append(
                    f"| {names[c.criterion_id]} | {given} | {_d(c.mean)} | {_d(c.points)} |"
                )
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _money(value: Decimal | None) -> str:
    return "—" if value is None else format_yuan(value)
