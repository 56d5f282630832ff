"""Checks of a project's and its sections' terms against the ruleset it was created under and
the law: deposit caps (R10/R11), no minimum price (R59), evaluation criteria and the price weight
(R33), the bid period (R1/R2), the document sale period (R3/R4). Pure apart from the working-day
calendar; every refusal names its rule."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from ggzy.core import calendar, clock
from ggzy.core.errors import ValidationFailed
from ggzy.core.money import yuan
from ggzy.tendering.states import EvaluationMethod, SubjectType

INVESTMENT_CODE = re.compile(r"^\d{4}-\d{6}-\d{2}-\d{2}-\d{6}$")
MAX_SECTIONS = 50
CRITERION_KINDS = ("price", "technical", "business", "credit", "other")
# R33 (87号令55): the price weight in comprehensive scoring, government procurement
MIN_PRICE_WEIGHT = {SubjectType.GOODS: Decimal(30), SubjectType.SERVICES: Decimal(10)}


def bad(message: str, code: str, **detail: Any) -> ValidationFailed:
    return ValidationFailed(message, code=code, detail=detail or None)


def money(value: Any, field: str, *, positive: bool = True) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise bad(f"{field} 须为金额 (an amount, as a string)", "bad_amount", field=field)
    try:
        amount = yuan(value)
    except (ValueError, TypeError, ArithmeticError):  # "1e400" fails in quantize
        raise bad(f"{field} 须为金额 (not an amount)", "bad_amount", field=field) from None
    if amount < 0 or (positive and amount == 0) or amount >= Decimal("1e13"):
        raise bad(f"{field} 超出范围 (out of range)", "bad_amount", field=field)
    return amount


def text(value: Any, field: str, *, max_length: int, required: bool = True) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise bad(f"{field} 须为文本 (text)", "bad_text", field=field)
    value = value.strip()
    if required and not value:
        raise bad(f"{field} 不能为空 (required)", "required", field=field)
    if len(value) > max_length:
        raise bad(f"{field} 不超过{max_length}字 (too long)", "too_long", field=field)
    if "\x00" in value:
        raise bad(f"{field} 含非法字符 (bad character)", "bad_text", field=field)
    return str(value)


def flag(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise bad(f"{field} 须为 true 或 false ({field} must be true or false)", "bad_flag",
                  field=field)  # fmt: skip
    return value


def investment_code(value: str, *, required: bool) -> str:
    value = (value or "").strip()
    if not value:
        if required:
            raise bad(
                "工程建设项目须填写投资项目代码 (investment project code required)",
                "investment_code_required",
            )
        return ""
    if not INVESTMENT_CODE.match(value):
        raise bad(
            "投资项目代码格式应为 YYYY-XXXXXX-XX-XX-XXXXXX (bad investment project code)",
            "bad_investment_code",
        )
    return value


def deposit_cap(rules: dict[str, Any], estimate: Decimal) -> Decimal:
    """The largest deposit the ruleset allows for ``estimate`` (R10/R11, and the works cap)."""
    cap = yuan(Decimal(rules["deposit_max_ratio"]) * estimate)
    if "deposit_max_yuan" in rules:
        cap = min(cap, yuan(rules["deposit_max_yuan"]))
    return cap


def criteria(raw: Any, method: str, subject_type: str, procurement: bool) -> list[dict[str, Any]]:
    """Comprehensive scoring: named criteria whose weights sum to 100, exactly one of them the
    price; in government procurement the price weight is at least R33's minimum. The lowest
    evaluated price method takes no weights."""
    if method == EvaluationMethod.LOWEST_PRICE:
        if raw:
            raise bad("最低投标价法不设评分权重 (no weights for lowest price)", "bad_criteria")
        return []
    if not isinstance(raw, list) or not raw or len(raw) > 30:
        raise bad("综合评估法须列出评分因素 (criteria required)", "bad_criteria")
    benchmark = method == EvaluationMethod.BENCHMARK
    if benchmark and subject_type != SubjectType.WORKS:
        raise bad("评标基准价法只适用于工程 (benchmark method: works only)", "method_not_allowed")
    cleaned: list[dict[str, Any]] = []
    for item in raw:
        keys = {"name", "weight", "kind"} | ({"benchmark"} if benchmark else set())
        if not isinstance(item, dict) or set(item) - keys:
            raise bad("评分因素格式应为 {name, weight, kind}", "bad_criteria")
        kind = item.get("kind", "other")
        if kind not in CRITERION_KINDS:
            raise bad("评分因素类型无效 (bad criterion kind)", "bad_criteria", kind=str(kind)[:20])
        weight = money(item.get("weight"), "weight")
        entry = {"name": text(item.get("name"), "name", max_length=60), "weight": str(weight),
                 "kind": kind}  # fmt: skip
        if "benchmark" in item:
            if kind != "price":
                raise bad("评标基准价规则属于价格因素 (the rule belongs to the price)",
                          "bad_benchmark_rule")  # fmt: skip
            entry["benchmark"] = benchmark_rule(item["benchmark"])
        cleaned.append(entry)
    total = sum(Decimal(c["weight"]) for c in cleaned)
    if total != 100:
        raise bad("评分因素权重之和须为100 (weights must sum to 100)", "bad_weights",
                  total=str(total))  # fmt: skip
    prices = [c for c in cleaned if c["kind"] == "price"]
    if len(prices) != 1:
        raise bad("须有且仅有一个价格因素 (exactly one price criterion)", "bad_criteria")
    if benchmark and "benchmark" not in prices[0]:
        raise bad("评标基准价法须在价格因素中给出基准价规则 (benchmark rule required)",
                  "benchmark_rule_missing")  # fmt: skip
    floor = MIN_PRICE_WEIGHT.get(SubjectType(subject_type)) if procurement else None
    if floor is not None and Decimal(prices[0]["weight"]) < floor:
        raise bad(
            f"价格分值占比不得低于{floor}%（R33 87号令第55条）(price weight below the minimum)",
            "price_weight_too_low",
            minimum=str(floor),
            rule="R33",
        )
    return cleaned


def number(value: Any, field: str) -> Decimal:
    """A rule's number: 0 ≤ x < 1000 with at most four decimals ("0.975", 2, 0.5)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise bad(f"{field} 须为数值 (a number)", "bad_benchmark_rule", item=field)
    try:
        parsed = Decimal(str(value).strip())
    except ArithmeticError:
        raise bad(f"{field} 须为数值 (not a number)", "bad_benchmark_rule", item=field) from None
    if (
        not parsed.is_finite()
        or not 0 <= parsed < 1000
        or parsed != parsed.quantize(Decimal("0.0001"))
    ):
        raise bad(f"{field} 超出范围 (0–1000, four decimals)", "bad_benchmark_rule", item=field)
    return parsed


BENCHMARK_KEYS = {
    "points_off_per_percent_above", "points_off_per_percent_below", "trim_count", "trim_percent",
    "trim_min_bids", "coefficient_range",
}  # fmt: skip


def benchmark_rule(raw: Any) -> dict[str, Any]:
    """The benchmark price rule of a price criterion, checked by the scoring engine's own
    ``BenchmarkRule`` and stored in plain JSON: points off per percent above and below the
    benchmark, the highest and lowest prices removed (a count, or a percentage), the fewest valid
    bids for removing any, and the range of the coefficient K (drawn at the evaluation)."""
    from ggzy.evaluation.scheme import BenchmarkRule

    if not isinstance(raw, dict) or set(raw) - BENCHMARK_KEYS:
        raise bad("评标基准价规则格式无效 (bad benchmark rule)", "bad_benchmark_rule",
                  allowed=sorted(BENCHMARK_KEYS))  # fmt: skip
    k_range = raw.get("coefficient_range", ["1", "1"])
    if not isinstance(k_range, list) or len(k_range) != 2:
        raise bad("下浮系数范围应为 [下限, 上限] (coefficient range [low, high])",
                  "bad_benchmark_rule")  # fmt: skip
    count, percent, least = (
        raw.get("trim_count"),
        raw.get("trim_percent"),
        raw.get("trim_min_bids", 5),
    )
    for value, name in ((count, "trim_count"), (least, "trim_min_bids")):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or not 0 <= value <= 100):  # fmt: skip
            raise bad(f"{name} 应为0–100的整数", "bad_benchmark_rule", item=name)
    if count is None and percent is None:
        count = 1
    try:
        rule = BenchmarkRule(
            points_off_per_percent_above=number(raw.get("points_off_per_percent_above"),
                                                "points_off_per_percent_above"),
            points_off_per_percent_below=number(raw.get("points_off_per_percent_below"),
                                                "points_off_per_percent_below"),
            trim_count=count,
            trim_percent=None if percent is None else number(percent, "trim_percent"),
            trim_min_bids=least,
            coefficient_range=(number(k_range[0], "coefficient_range"),
                               number(k_range[1], "coefficient_range")),
        )  # fmt: skip
    except ValidationFailed as exc:
        raise bad(exc.message, "bad_benchmark_rule", **(exc.detail or {})) from exc
    return {
        "points_off_per_percent_above": str(rule.points_off_per_percent_above),
        "points_off_per_percent_below": str(rule.points_off_per_percent_below),
        "trim_count": rule.trim_count,
        "trim_percent": None if rule.trim_percent is None else str(rule.trim_percent),
        "trim_min_bids": rule.trim_min_bids,
        "coefficient_range": [str(v) for v in rule.coefficient_range],
    }


def section_terms(
    raw: Any, *, rules: dict[str, Any], budget: Decimal, subject_type: str, procurement: bool
) -> dict[str, Any]:
    """One section's terms, cleaned. Refuses a minimum price outright (R59)."""
    if not isinstance(raw, dict):
        raise bad("标段须为对象 (a section is an object)", "bad_section")
    if any(k in raw for k in ("min_price", "minimum_price", "lowest_price_limit")):
        raise bad(
            "不得设定最低投标限价（R59 条例第27条；87号令第12条）(no minimum price may be set)",
            "minimum_price_forbidden",
            rule="R59",
        )
    allowed = {
        "name", "estimated_price", "max_price", "deposit", "qualification_requirements",
        "evaluation_method", "criteria", "bid_validity_days", "duration_days", "documents_from",
        "documents_until", "bid_deadline", "technically_complex", "high_social_impact",
    }  # fmt: skip
    if unknown := sorted(set(raw) - allowed):
        raise bad("标段含未知字段 (unknown section fields)", "bad_section", unknown=unknown)
    estimate = money(raw.get("estimated_price"), "estimated_price")
    if estimate > budget:
        raise bad(
            "标段估算价超出项目预算 (section estimate above the budget)", "estimate_above_budget"
        )
    max_price = None
    if raw.get("max_price") not in (None, ""):
        max_price = money(raw["max_price"], "max_price")
        if max_price > budget:
            raise bad(
                "最高投标限价不得超过预算 (max price above the budget)", "max_price_above_budget"
            )
    deposit = money(raw.get("deposit", "0"), "deposit", positive=False)
    cap = deposit_cap(rules, estimate)
    if deposit > cap:
        raise bad(
            f"投标保证金不得超过 {cap} 元（R10/R11：估算价的2%）(deposit above the cap)",
            "deposit_too_high",
            cap=str(cap),
            rule="R10/R11",
        )
    method = raw.get("evaluation_method")
    if method not in EvaluationMethod.values:
        raise bad("评标办法无效 (bad evaluation method)", "bad_evaluation_method")
    validity = raw.get("bid_validity_days", rules.get("bid_validity_days", 90))
    if isinstance(validity, bool) or not isinstance(validity, int) or not 1 <= validity <= 365:
        raise bad("投标有效期应为1–365日 (bid validity 1–365 days)", "bad_bid_validity")
    flags = {}
    for flag in ("technically_complex", "high_social_impact"):
        value = raw.get(flag, False)
        if not isinstance(value, bool):
            raise bad(f"{flag} 须为 true 或 false", "bad_section", field=flag)
        flags[flag] = value
    duration = raw.get("duration_days")
    if duration is not None and (
        isinstance(duration, bool) or not isinstance(duration, int) or not 1 <= duration <= 3650
    ):
        raise bad("工期应为1–3650日 (duration 1–3650 days)", "bad_duration")
    return {
        "name": text(raw.get("name"), "name", max_length=200),
        "estimated_price": estimate,
        "max_price": max_price,
        "deposit": deposit,
        "qualification_requirements": text(
            raw.get("qualification_requirements"), "qualification_requirements", max_length=5000
        ),
        "evaluation_method": method,
        "criteria": criteria(raw.get("criteria"), method, subject_type, procurement),
        "bid_validity_days": validity,
        "duration_days": duration,
        "documents_from": moment(raw.get("documents_from"), "documents_from"),
        "documents_until": moment(raw.get("documents_until"), "documents_until"),
        "bid_deadline": moment(raw.get("bid_deadline"), "bid_deadline"),
        **flags,
    }


EARLIEST, LATEST = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)


def moment(value: Any, field: str) -> datetime | None:
    """An ISO 8601 time (China time when it names no offset), within 2000–2100."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and len(value) <= 40:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise bad(f"{field} 须为 ISO 8601 时间 (bad time)", "bad_time", field=field) from None
    else:
        raise bad(f"{field} 须为 ISO 8601 时间 (bad time)", "bad_time", field=field)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=clock.CHINA)
    try:
        in_range = EARLIEST <= parsed.astimezone(UTC) < LATEST
    except (OverflowError, ValueError):
        in_range = False
    if not in_range:
        raise bad(f"{field} 超出范围 (out of range: 2000–2100)", "bad_time", field=field)
    return parsed


def bid_period_rule(rules: dict[str, Any]) -> tuple[str, int] | None:
    if "bid_period_days" in rules:
        return "R1", int(rules["bid_period_days"])
    if "procurement_bid_period_days" in rules:
        return "R2", int(rules["procurement_bid_period_days"])
    return None


def schedule(
    rules: dict[str, Any], *, documents_from: datetime, documents_until: datetime,
    bid_deadline: datetime,
) -> None:  # fmt: skip
    """The statutory periods between the documents' issue, their sale end and the deadline."""
    period = bid_period_rule(rules)
    if period is None:  # pragma: no cover - categories without one are refused at registration
        raise bad("该类别不适用招标程序 (no tender rules)", "category_not_tendered")
    rule, days = period
    if bid_deadline < documents_from + timedelta(days=days):
        raise bad(
            f"自招标文件发出至投标截止不得少于{days}日（{rule}）(bid period too short)",
            "bid_period_too_short",
            rule=rule,
            days=days,
            earliest=(documents_from + timedelta(days=days)).isoformat(),
        )
    if documents_until <= documents_from or documents_until > bid_deadline:
        raise bad("招标文件发售期应在发出与投标截止之间 (bad sale period)", "bad_sale_period")
    local_from = documents_from.astimezone(clock.CHINA)
    local_until = documents_until.astimezone(clock.CHINA)
    if "document_sale_days" in rules:
        need = int(rules["document_sale_days"])
        if documents_until < documents_from + timedelta(days=need):
            raise bad(f"招标文件发售期不得少于{need}日（R3）(sale period too short)",
                      "sale_period_too_short", rule="R3", days=need)  # fmt: skip
    if "document_sale_working_days" in rules:
        need = int(rules["document_sale_working_days"])
        # the first day counts when documents are available from its start (87号令18)
        got = calendar.count_working_days(local_from.date() - timedelta(days=1), local_until.date())
        if local_until.time() < local_from.time():
            got -= 1
        if got < need:
            raise bad(f"招标文件提供期限不得少于{need}个工作日（R4）(sale period too short)",
                      "sale_period_too_short", rule="R4", working_days=need)  # fmt: skip
