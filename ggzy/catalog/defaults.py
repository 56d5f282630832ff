"""The catalog as the seeds describe it (国办函〔2019〕41号 and the regional catalogs): the
categories, the procedures each allows and the rule items of its rulesets. Loaded by
``services.install_default_catalog`` (``ggzy catalog install``, ``ggzy demo``)."""

from __future__ import annotations

PROCEDURES = [
    ("open_tender", "公开招标"),
    ("invited_tender", "邀请招标"),
    ("competitive_negotiation", "竞争性谈判"),
    ("competitive_consultation", "竞争性磋商"),
    ("inquiry", "询价"),
    ("single_source", "单一来源采购"),
    ("listing", "挂牌"),
    ("auction", "拍卖"),
]

_WORKS_RULES = [
    "bid_period_days", "document_sale_days", "clarification_before_deadline_days",
    "objection_before_deadline_days", "objection_reply_days", "deposit_max_ratio",
    "deposit_max_yuan", "deposit_cash_allowed", "deposit_exemption_allowed", "deposit_refund_days",
    "performance_security_max_ratio", "min_bids_to_open", "decryption_window_minutes",
    "bid_validity_days",
]  # fmt: skip
_PROCUREMENT_RULES = [
    "procurement_bid_period_days", "document_sale_working_days", "announcement_working_days",
    "clarification_before_deadline_days", "deposit_max_ratio", "deposit_non_cash_only",
    "deposit_exemption_allowed", "deposit_refund_working_days", "performance_security_max_ratio",
    "min_bids_to_open", "min_qualified_to_evaluate", "decryption_window_minutes",
    "bid_validity_days",
]  # fmt: skip
_RIGHTS_RULES = [
    "auction_notice_days", "listing_notice_days", "listing_period_days",
    "result_publicity_working_days", "deposit_cash_allowed",
]  # fmt: skip
_RIGHTS = ["listing", "auction"]

# (code, name, trading-code category, description, procedures, rule keys)
CATEGORIES = [
    ("works", "工程建设项目招标投标", "GC", "房屋建筑、市政、交通、水利等工程建设项目",
     ["open_tender", "invited_tender"], _WORKS_RULES),
    ("procurement", "政府采购", "ZC", "货物、工程和服务的政府采购",
     ["open_tender", "invited_tender", "competitive_negotiation", "competitive_consultation",
      "inquiry", "single_source"], _PROCUREMENT_RULES),
    ("land", "土地使用权出让", "TD", "国有建设用地使用权招标、拍卖、挂牌出让",
     ["open_tender", *_RIGHTS], _RIGHTS_RULES),
    ("mining", "矿业权出让", "KY", "探矿权、采矿权出让",
     ["open_tender", *_RIGHTS], [*_RIGHTS_RULES, "mining_listing_working_days"]),
    ("state-property", "国有产权交易", "CQ", "企业国有产权、实物资产转让",
     _RIGHTS, [*_RIGHTS_RULES, "disclosure_working_days"]),
    ("emissions", "排污权交易", "HJ", "主要污染物排污权", _RIGHTS, _RIGHTS_RULES),
    ("carbon", "碳排放权交易", "HJ", "碳排放配额", _RIGHTS, _RIGHTS_RULES),
    ("energy-use", "用能权交易", "HJ", "用能权指标", _RIGHTS, _RIGHTS_RULES),
    ("medical", "药品和医用耗材采购", "YP", "药品、医用耗材集中采购",
     ["open_tender", "competitive_negotiation", "inquiry"], _PROCUREMENT_RULES),
]  # fmt: skip
