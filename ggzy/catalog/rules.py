"""The rules a ruleset carries: time limits and thresholds, each with its legal source.

A rule the law fixes (tagged [V] in ``shared/reference/cn-rules.md``) is *statutory*: a ruleset
must carry exactly the law's value, so no catalog edit can make a procedure laxer than the law —
a project may still be stricter (a longer bid period, a smaller deposit). The other rules are the
center's to configure within their range. Pure: no queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ggzy.core.errors import ValidationFailed

DAYS, WORKING_DAYS, RATIO, YUAN, COUNT, FLAG = (
    "days",
    "working_days",
    "ratio",
    "yuan",
    "count",
    "flag",
)


@dataclass(frozen=True)
class RuleSpec:
    key: str
    label: str  # Chinese first: shown in the catalog and the back office
    kind: str
    rule: str  # R-number in cn-rules.md, or "" for the center's own rules
    source: str
    statutory: bool
    default: Any
    low: Any = None  # range for configurable rules
    high: Any = None

    def clean(self, value: Any) -> Any:
        """The value in its canonical JSON form, or ValidationFailed naming the rule."""
        parsed = self._parse(value)
        if self.statutory and parsed != self._parse(self.default):
            raise ValidationFailed(
                f"{self.label}为法定规则（{self.rule} {self.source}），须为 {self.default}"
                " (a statutory rule: the law's value only)",
                code="statutory_rule",
                detail={"rule": self.key, "law": self.rule, "value": self.default},
            )
        if (self.low is not None and parsed < self._parse(self.low)) or (
            self.high is not None and parsed > self._parse(self.high)
        ):
            raise ValidationFailed(
                f"{self.label}超出允许范围 {self.low}–{self.high} (out of range)",
                code="rule_out_of_range",
                detail={"rule": self.key, "low": self.low, "high": self.high},
            )
        return str(parsed) if isinstance(parsed, Decimal) else parsed

    def _parse(self, value: Any) -> Any:
        if self.kind == FLAG:
            if not isinstance(value, bool):
                raise self._bad(value)
            return value
        if self.kind in (RATIO, YUAN):
            if isinstance(value, bool) or not isinstance(value, str | int):
                raise self._bad(value)
            try:
                number = Decimal(str(value))
            except InvalidOperation:
                raise self._bad(value) from None
            if not number.is_finite() or number < 0:
                raise self._bad(value)
            return number.quantize(Decimal("0.0001") if self.kind == RATIO else Decimal("0.01"))
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self._bad(value)
        return value

    def _bad(self, value: Any) -> ValidationFailed:
        return ValidationFailed(
            f"{self.label}的值无效 (bad value)",
            code="bad_rule_value",
            detail={"rule": self.key, "kind": self.kind, "value": str(value)[:40]},
        )


def _spec(*args: Any, **kwargs: Any) -> RuleSpec:
    return RuleSpec(*args, **kwargs)


SPECS: dict[str, RuleSpec] = {
    s.key: s
    for s in (
        _spec("bid_period_days", "招标文件发出至投标截止的最短时间（日）", DAYS, "R1",
              "招标投标法第24条", True, 20),
        _spec("procurement_bid_period_days", "招标文件发出至投标截止的最短时间（日）", DAYS, "R2",
              "政府采购法第35条", True, 20),
        _spec("document_sale_days", "招标文件发售期（日）", DAYS, "R3", "招标投标法实施条例第16条",
              True, 5),
        _spec("document_sale_working_days", "招标文件提供期限（工作日）", WORKING_DAYS, "R4",
              "政府采购法实施条例第31条；87号令第18条", True, 5),
        _spec("announcement_working_days", "公开招标公告期限（工作日）", WORKING_DAYS, "R5",
              "87号令第16条", True, 5),
        _spec("clarification_before_deadline_days", "澄清或修改距投标截止的最短时间（日）", DAYS,
              "R6", "招标投标法实施条例第21条；87号令第27条", True, 15),
        _spec("objection_before_deadline_days", "对招标文件提出异议的截止（投标截止前，日）", DAYS,
              "R7", "招标投标法实施条例第22条", True, 10),
        _spec("objection_reply_days", "招标人答复异议的期限（日），答复前暂停", DAYS, "R9",
              "招标投标法实施条例第22条", True, 3),
        _spec("deposit_max_ratio", "投标保证金上限（占估算价或预算的比例）", RATIO, "R10/R11",
              "招标投标法实施条例第26条；政府采购法实施条例第33条", True, "0.02"),
        _spec("deposit_max_yuan", "施工招标投标保证金上限（元）", YUAN, "R10",
              "工程建设项目施工招标投标办法第37条 [S]", False, "800000.00", "0", "800000.00"),
        _spec("deposit_cash_allowed", "允许现金（转账）缴纳保证金", FLAG, "R11",
              "政府采购法实施条例第33条（政府采购须非现金）", False, True),
        _spec("deposit_non_cash_only", "保证金须以非现金形式提交", FLAG, "R11",
              "政府采购法实施条例第33条", True, True),
        _spec("deposit_exemption_allowed", "允许免缴保证金", FLAG, "", "交易中心规定", False, False),
        _spec("deposit_refund_days", "保证金退还期限（日）", DAYS, "R12",
              "招标投标法实施条例第35、57条", True, 5),
        _spec("deposit_refund_working_days", "保证金退还期限（工作日）", WORKING_DAYS, "R13",
              "87号令第38条", True, 5),
        _spec("performance_security_max_ratio", "履约保证金上限（占合同金额比例）", RATIO, "R14",
              "招标投标法实施条例第58条；政府采购法实施条例第48条", True, "0.10"),
        _spec("min_bids_to_open", "开标所需最少投标人数", COUNT, "R15",
              "招标投标法第28条；87号令第41条", True, 3),
        _spec("min_qualified_to_evaluate", "评标所需最少合格投标人数", COUNT, "R16", "87号令第44条",
              True, 3),
        _spec("decryption_window_minutes", "开标解密时限（分钟）", COUNT, "", "交易中心规定", False,
              30, 5, 240),
        _spec("bid_validity_days", "默认投标有效期（日）", DAYS, "", "招标文件载明（条例第25条）",
              False, 90, 30, 365),
        _spec("auction_notice_days", "拍卖公告最短提前期（日）", DAYS, "R54", "拍卖法第45条", True, 7),
        _spec("listing_notice_days", "挂牌公告最短提前期（日）", DAYS, "R56",
              "国土资源部39号令 [U/S]", False, 20, 20, 60),
        _spec("listing_period_days", "挂牌期（日）", DAYS, "R56", "国土资源部39号令 [U/S]", False,
              10, 10, 60),
        _spec("disclosure_working_days", "产权转让信息披露期（工作日）", WORKING_DAYS, "R57",
              "国资委财政部32号令 [S]", False, 20, 20, 60),
        _spec("result_publicity_working_days", "交易结果公示期（工作日）", WORKING_DAYS, "R57/R58",
              "32号令；矿业权出让规定 [S]", False, 5, 5, 30),
        _spec("mining_listing_working_days", "矿业权网上挂牌期（工作日）", WORKING_DAYS, "R58",
              "四川省矿业权出让规定 [S]", False, 10, 10, 60),
    )
}  # fmt: skip


def clean_rules(rules: Any, keys: list[str]) -> dict[str, Any]:
    """Validate a ruleset's rules: exactly ``keys`` (the category's), each value by its spec."""
    if not isinstance(rules, dict):
        raise ValidationFailed("规则须为对象 (rules must be an object)", code="bad_rules")
    unknown = sorted(set(rules) - set(keys))
    missing = sorted(set(keys) - set(rules))
    if unknown or missing:
        raise ValidationFailed(
            "规则项与该类别不符 (rules do not match the category's)",
            code="bad_rules",
            detail={"unknown": unknown, "missing": missing},
        )
    return {key: SPECS[key].clean(rules[key]) for key in keys}


def defaults(keys: list[str]) -> dict[str, Any]:
    return {key: SPECS[key].clean(SPECS[key].default) for key in keys}
