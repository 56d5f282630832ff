"""Where each national dataset's rows come from: the platform's tables, read as the public may
see them (``ggzy.award.selectors`` and ``ggzy.tendering.selectors`` say what is public when).

Each source yields ``(key, row)``: the record's key (unique within the dataset) and its row, the
dataset's fields as strings (``""`` where the platform has nothing). A field the platform does
not collect stays empty and, if the configuration says it is required, the record is refused
with that reason rather than filled with invented data. What is never read here: the invitees
of an invited tender (R42), anything of a bid before its opening is closed, a candidate before
its publicity starts, a contract before it is published, a suspended entity, bank accounts and
personal ID numbers; contact persons only where the configuration says ``share_contacts``.

Land (600/601) and state property (700/701/750/753) are not traded on the platform yet: their
datasets are defined (the field shape is in the configuration) and have no source, so they
export nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings

from ggzy.core import clock
from ggzy.exchange.national_fields import FieldConfig

Row = dict[str, str]
Source = Callable[[FieldConfig], Iterator[tuple[str, Row]]]

WORKS_CATEGORIES_FIXED_ASSETS = "1"  # RELATE_CODE: 1 固定资产类 (works), 0 otherwise
PRICE_UNIT_YUAN = "0"  # PRICE_UNIT 0 元 (amounts are exported in yuan, never 万元)
PRICE_FORM_AMOUNT = "1"  # PRICE_FORM_CODE 1 金额
NO, YES = "0", "1"  # TRUE_OR_FALSE


def stamp(moment: datetime | None) -> str:
    """``yyyyMMddHHmmss`` in China time."""
    return moment.astimezone(clock.CHINA).strftime("%Y%m%d%H%M%S") if moment else ""


def day(value: date | None) -> str:
    return value.strftime("%Y%m%d") if value else ""


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def public_url(config: FieldConfig, path: str) -> str:
    base = config.platform.get("PUBLIC_URL", "").rstrip("/")
    return f"{base}{path}" if base else ""


def _region_names(region: Any) -> tuple[str, str]:
    """(province, city) names of a region."""
    chain = []
    while region is not None:
        chain.append(region)
        region = region.parent
    chain.reverse()
    return (chain[0].name if chain else "", chain[1].name if len(chain) > 1 else "")


def _contact(config: FieldConfig, entity: Any) -> Any:
    """The entity's first contact person — only where the configuration shares contacts: the
    platform shows them to members and staff only (``registry.selectors.private_view``)."""
    if entity is None or not config.share_contacts:
        return None
    return next(iter(entity.contacts.all()), None)


def _party(config: FieldConfig, entity: Any, role: str) -> dict[str, str]:
    return {"name": entity.name, "code": entity.uscc, "role": config.code("entity_role", role),
            "category": config.code("entity_category", entity.entity_type)}  # fmt: skip


def _person(user: Any) -> str:
    return (getattr(user, "display_name", "") or getattr(user, "username", "")) if user else ""


# --- 100 法人基本信息 ---------------------------------------------------------------------------


def legal_persons(config: FieldConfig) -> Iterator[tuple[str, Row]]:
    from ggzy.registry.models import Entity, EntityStatus

    # as the registry discloses: a suspended entity is not public (nor is its suspension sent
    # here; that belongs to the credit datasets 300/302)
    qs = (
        Entity.objects.filter(status=EntityStatus.ACTIVE)
        .select_related("region__parent__parent")
        .prefetch_related("contacts")
    )
    for e in qs.order_by("pk"):
        contact = _contact(config, e)
        province, city = _region_names(e.region)
        roles = [config.code("entity_role", r) for r in e.market_roles]
        yield (
            e.uscc,
            {
                "LEGAL_NAME": e.name,
                "BIDDER_CODE_TYPE": config.code("entity_category", e.entity_type),
                "LEGAL_CODE": e.uscc,
                "LEGAL_ROLE": ",".join(r for r in roles if r),
                "LICENSE_NO": e.uscc,  # 三证合一: the licence number is the USCC
                # 长期 (no end) is sent as 99991231 — confirm with the receiver
                "LICENSE_END_DATE": day(e.licence_valid_until) or "99991231",
                "ORGAN_NO": e.uscc[8:17],  # GB 32100: characters 9–17 are the organisation code
                "LEGAL_REPRESENT": e.legal_representative,
                "LEGAL_TYPE": config.code("legal_type", e.entity_type),
                "COUNTRY_REGION": config.code("country", "CN"),
                "LEGAL_UNIT_ADDRESS": e.address,
                "REGION_CODE": e.region_id,
                "REGISTER_PROVINCE": province,
                "REGISTER_CITY": city,
                "REG_CAPITAL": text(e.registered_capital),
                "REG_CAP_CURRENCY": config.code("currency", "CNY"),
                "REG_UNIT": PRICE_UNIT_YUAN,
                "LEGAL_CONTACT": contact.name if contact else "",
                "LEGAL_CONTACT_PHONE": contact.phone if contact else "",
                "LEGAL_EMAIL": contact.email if contact else "",
                "LEGAL_STATUS": config.code("legal_status", e.status),
            },
        )


# --- 500 项目, 501 招标项目, 502 标段(包), 503 招标公告 -----------------------------------------------


def _published_projects() -> Any:
    from ggzy.tendering.models import Project
    from ggzy.tendering.selectors import PUBLIC_STATUSES

    return (
        Project.objects.filter(status__in=PUBLIC_STATUSES, trading_code__isnull=False)
        .select_related("tenderer", "agent", "region__parent__parent", "procedure", "created_by")
        .prefetch_related("sections", "tenderer__contacts", "agent__contacts")
        .order_by("pk")
    )


def _relate_code(project: Any) -> str:
    return WORKS_CATEGORIES_FIXED_ASSETS if project.subject_type == "works" else "0"


def projects(config: FieldConfig) -> Iterator[tuple[str, Row]]:
    for p in _published_projects():
        contact = _contact(config, p.tenderer)
        province, city = _region_names(p.region)
        yield (
            p.public_id,
            {
                "PROJECT_CODE": p.trading_code,
                "PROJECT_NAME": p.name,
                "REGION_CODE": p.region_id,
                "RELATE_CODE": _relate_code(p),
                "INDUSTRIES_TYPE": config.code("industry", p.category_id),
                "INVEST_PROJECT_CODE": p.investment_project_code,
                "ADDRESS": f"{province}{city}" if city != province else province,
                "LEGAL_PERSON": p.tenderer.name,
                "FUND_SOURCE": p.funding_source,
                "PROJECT_SCALE": p.description or f"项目预算 {text(p.budget)} 元",
                "CONTACTOR": contact.name if contact else "",
                "CONTACT_INFORMATION": contact.phone if contact else "",
                "CREATE_TIME": stamp(p.created_at),
                "OPERATION_NAME": _person(p.created_by),
            },
        )


def tender_projects(config: FieldConfig) -> Iterator[tuple[str, Row]]:
    for p in _published_projects():
        tenderer = _party(config, p.tenderer, "tenderer")
        agent = _party(config, p.agent, "agent") if p.agent and p.agency_confirmed_at else None
        yield (
            p.public_id,
            {
                "PROJECT_CODE": p.trading_code,
                "TENDER_PROJECT_CODE": p.trading_code,
                "TENDER_SELF_CODE": p.trading_code,
                "UNIFIED_DEAL_CODE": p.trading_code,
                "TENDER_PROJECT_NAME": p.name,
                "TENDER_PROJECT_TYPE": config.code("tender_project_type", p.category_id),
                "REGION_CODE": p.region_id,
                "TENDER_CONTENT": p.description or "；".join(s.name for s in p.sections.all()),
                "OWNER_NAME": p.tenderer.name,
                "TENDERER_NAME": tenderer["name"],
                "TENDERER_CODE_TYPE": tenderer["category"],
                "TENDERER_CODE": tenderer["code"],
                "ISUNION": NO,
                "TENDERER_ROLE": tenderer["role"],
                "TENDER_AGENCY_NAME": agent["name"] if agent else "",
                "TENDER_AGENCY_CODE_TYPE": agent["category"] if agent else "",
                "TENDER_AGENCY_CODE": agent["code"] if agent else "",
                "TENDER_AGENCY_ROLE": agent["role"] if agent else "",
                "TENDER_MODE": config.code("tender_mode", p.procedure_id),
                "TENDER_ORGANIZE_FORM": config.code("organize_form", "agent" if agent else "self"),
                "CREATE_TIME": stamp(p.created_at),
                "TENDERER_REGION_CODE": p.tenderer.region_id,
                "TENDERER_PROPERTY": config.code("enterprise_property", p.tenderer.entity_type),
                "TENDER_AGENCY_REGION_CODE": p.agent.region_id if agent and p.agent else "",
                "OPERATION_NAME": _person(p.created_by),
            },
        )


def sections(config: FieldConfig) -> Iterator[tuple[str, Row]]:
    for p in _published_projects():
        for s in sorted(p.sections.all(), key=lambda s: s.number):
            yield (
                s.public_id,
                {
                    "TENDER_PROJECT_CODE": p.trading_code,
                    "BID_SECTION_CODE": s.code or "",
                    "BID_SECTION_NAME": s.name,
                    "BID_ECTION_NUM": "1",  # a re-tender is a new project on this platform
                    "UNIFIED_DEAL_CODE": p.trading_code,
                    "BID_TENDER_MODE": config.code("tender_mode", p.procedure_id),
                    "REGION_CODE": p.region_id,
                    "TRA_PLACE_CODE": str(settings.GGZY_PLATFORM_REGION),
                    "BID_SECTION_CONTENT": p.description or s.name,
                    "TENDER_PROJECT_CLASSIFY_CODE": config.code("project_classify", p.category_id),
                    "CONTRACT_RECKON_PRICE": text(s.estimated_price),
                    "CURRENCY_CODE": config.code("currency", "CNY"),
                    "PRICE_UNIT": PRICE_UNIT_YUAN,
                    "BID_QUALIFICATION": s.qualification_requirements,
                    "LIMITE_TIME": text(s.duration_days),
                    "CREATE_TIME": stamp(p.created_at),
                },
            )


def announcements(config: FieldConfig) -> Iterator[tuple[str, Row]]:
    """The tender announcement of an open tender. An invited tender publishes none: its
    invitation letters (and who was invited, R42) are not a public announcement."""
    for p in _published_projects():
        if p.procedure_id == "invited_tender" or not p.announcement:
            continue
        secs = sorted(p.sections.all(), key=lambda s: s.number)
        contact = _contact(config, p.tenderer)
        agent = p.agent if p.agent and p.agency_confirmed_at else None
        agent_contact = _contact(config, agent)
        starts = [s.documents_from for s in secs if s.documents_from]
        ends = [s.documents_until for s in secs if s.documents_until]
        deadlines = [s.bid_deadline for s in secs if s.bid_deadline]
        yield (
            p.public_id,
            {
                "TENDER_PROJECT_CODE": p.trading_code,
                "NOTICE_BID_NUM": str(len(secs)),
                "BID_SECTION_CODES": ",".join(s.code or "" for s in secs),
                "TRAD_CENTER_NAME": str(settings.GGZY_PLATFORM_NAME),
                "UNIFIED_DEAL_CODES": p.trading_code,
                "TENDER_SELF_CODE": p.trading_code,
                "NOTICE_NAME": f"{p.name}招标公告",
                "NOTICE_CONTENT": p.announcement,
                "NOTICE_SEND_TIME": stamp(p.published_at),
                "NOTICE_MEDIA": str(settings.GGZY_PLATFORM_NAME),
                "URL": public_url(config, f"/projects/{p.public_id}/"),
                "NOTICE_NATURE": config.code("notice_nature", "original"),
                "BULLETIN_TYPE": config.code("bulletin_type", "tender"),
                "DOC_GET_START_TIME": stamp(min(starts)) if starts else "",
                "DOC_GET_END_TIME": stamp(max(ends)) if ends else "",
                "TENDER_DOC_GET_METHOD": "在本平台网上免费下载",
                "BID_DOC_REFER_END_TIME": stamp(min(deadlines)) if deadlines else "",
                "BID_OPEN_TIME": stamp(min(deadlines)) if deadlines else "",
                "BID_OPEN_METHOD": "网上开标，投标人远程解密",
                "BID_DOC_REFER_METHOD": "在本平台网上递交加密投标文件",
                "TENDERER_CODE": p.tenderer.uscc,
                "TENDERER_NAME": p.tenderer.name,
                "TENDERER_ADDRESS": p.tenderer.address,
                "TENDERER_CONTACTOR": contact.name if contact else "",
                "TENDERER_PHONE_NUMBER": contact.phone if contact else "",
                "TENDERER_EMAIL": contact.email if contact else "",
                "TENDER_AGENCY_CODE": agent.uscc if agent else "",
                "TENDER_AGENCY_NAME": agent.name if agent else "",
                "TENDER_AGENCY_ADDRESS": agent.address if agent else "",
                "TENDER_AGENCY_CONTACTOR": agent_contact.name if agent_contact else "",
                "TENDER_AGENCY_PHONE_NUMBER": agent_contact.phone if agent_contact else "",
                "TENDER_AGENCY_EMAIL": agent_contact.email if agent_contact else "",
            },
        )


# --- 506 开标记录 -------------------------------------------------------------------------------


def opening_records(config: FieldConfig) -> Iterator[tuple[str, Row]]:
    """The signed record of a closed opening — never an opening still decrypting."""
    from ggzy.bidding.models import Opening
    from ggzy.bidding.states import OpeningStatus

    qs = Opening.objects.filter(status=OpeningStatus.CLOSED, record__isnull=False)
    for o in qs.select_related("section__project", "started_by").order_by("pk"):
        s, record = o.section, o.record or {}
        bids = record.get("bids", [])
        lines = [f"{b.get('bidder', '')}（{b.get('uscc', '')}）投标报价 {b.get('price') or '-'} 元，"
                 f"工期 {b.get('duration_days') or '-'} 日，保证金 {b.get('deposit', '')}，"
                 f"解密 {b.get('decryption_label', '')}" for b in bids]  # fmt: skip
        yield (
            s.public_id,
            {
                "TENDER_PROJECT_CODE": s.project.trading_code or "",
                "BID_SECTION_CODES": s.code or "",
                "UNIFIED_DEAL_CODES": s.project.trading_code or "",
                "NOTICE_NAME": f"{s.project.name} {s.name} 开标记录",
                "BID_OPENING_ACTOR": "、".join(str(b.get("bidder", "")) for b in bids),
                "BID_OPENING_CONTENT": "\n".join(lines),
                "BID_OPENING_ADDRESS": f"网上开标（{settings.GGZY_PLATFORM_NAME}）",
                "BID_OPENING_TIME": stamp(o.started_at),
                "URL": public_url(config, f"/projects/{s.project.public_id}/"),
                "OPEN_COMPERE": _person(o.started_by),
            },
        )


# --- 510 中标候选人, 513 中标结果公告, 512 合同 -------------------------------------------------------


def candidates(config: FieldConfig) -> Iterator[tuple[str, Row]]:
    """Each candidate once its publicity has started. Under government procurement the public
    list carries no scores (R61): the evaluation result is the rank only."""
    from ggzy.award.models import Candidate
    from ggzy.award.states import Regime

    qs = Candidate.objects.filter(publicity__starts_at__lte=clock.now()).select_related(
        "publicity__section__project", "entity"
    )
    for c in qs.order_by("publicity_id", "rank"):
        p = c.publicity
        s = p.section
        party = _party(config, c.entity, "bidder")
        scored = p.regime != Regime.PROCUREMENT.value and c.total is not None
        yield (
            f"{p.public_id}:{c.rank}",
            {
                "TENDER_PROJECT_CODE": s.project.trading_code or "",
                "BID_SECTION_CODE": s.code or "",
                "UNIFIED_DEAL_CODE": s.project.trading_code or "",
                "WIN_CANDIDATE_NAME": party["name"],
                "BIDDER_CODE_TYPE": party["category"],
                "WIN_CANDIDATE_CODE": party["code"],
                "BIDDER_ROLE": party["role"],
                "WIN_CANDIDATE_ORDER": str(c.rank),
                "IS_FLOAT_RATE": NO,
                "EVALUATION_RESULT": text(c.total) if scored else f"第{c.rank}名",
                "PRICE_FORM_CODE": PRICE_FORM_AMOUNT,
                "BID_PRICE": text(c.price),
                "PRICE_CURRENCY": config.code("currency", "CNY"),
                "PRICE_UINT": PRICE_UNIT_YUAN,
                "EVALUATION_STATUS": "已退出" if c.withdrawn_at else "有效",
                "BIDDER_REGION_CODE": c.entity.region_id,
                "BIDDER_PROPERTY": config.code("enterprise_property", c.entity.entity_type),
            },
        )


def results(config: FieldConfig) -> Iterator[tuple[str, Row]]:
    from ggzy.award.models import AwardNotice

    qs = AwardNotice.objects.select_related("section__project__agent", "entity")
    for a in qs.order_by("pk"):
        s, p = a.section, a.section.project
        party = _party(config, a.entity, "bidder")
        agent = p.agent if p.agent and p.agency_confirmed_at else None
        yield (
            a.public_id,
            {
                "TENDER_PROJECT_CODE": p.trading_code or "",
                "BID_SECTION_CODE": s.code or "",
                "UNIFIED_DEAL_CODE": p.trading_code or "",
                "REGION_CODE": p.region_id,
                "TRA_PLACE_CODE": str(settings.GGZY_PLATFORM_REGION),
                "TENDER_AGENCY_NAME": agent.name if agent else "",
                "TENDER_AGENCY_CODE": agent.uscc if agent else "",
                "NOTICE_NAME": f"{p.name} {s.name} 中标结果公告",
                "NOTICE_CONTENT": f"中标人：{a.entity.name}（{a.entity.uscc}），中标金额：{text(a.amount)} 元。",
                "NOTICE_SEND_TIME": stamp(a.issued_at),
                "NOTICE_MEDIA": str(settings.GGZY_PLATFORM_NAME),
                "URL": public_url(config, f"/projects/{p.public_id}/"),
                "NOTICE_NATURE": config.code("notice_nature", "original"),
                "BULLETIN_TYPE": config.code("bulletin_type", "result"),
                "WIN_BIDDER_NAME": party["name"],
                "BIDDER_CODE_TYPE": party["category"],
                "WIN_BIDDER_CODE": party["code"],
                "BIDDER_ROLE": party["role"],
                "PRICE_FORM_CODE": PRICE_FORM_AMOUNT,
                "BID_AMOUNT": text(a.amount),
                "BID_CURRENCY": config.code("currency", "CNY"),
                "PRICE_UNIT": PRICE_UNIT_YUAN,
                "BIDDER_REGION_CODE": a.entity.region_id,
                "BIDDER_PROPERTY": config.code("enterprise_property", a.entity.entity_type),
            },
        )


def contracts(config: FieldConfig) -> Iterator[tuple[str, Row]]:
    """A contract once it is published (before that it is the tenderer side's and staff's)."""
    from ggzy.award.models import Contract

    qs = Contract.objects.filter(published_at__isnull=False).select_related(
        "award__section__project__tenderer", "award__entity"
    )
    for c in qs.order_by("pk"):
        s, p = c.award.section, c.award.section.project
        yield (
            c.public_id,
            {
                "TENDER_PROJECT_CODE": p.trading_code or "",
                "BID_SECTION_CODE": s.code or "",
                "UNIFIED_DEAL_CODE": p.trading_code or "",
                "CONTRACT_NAME": f"{p.name} {s.name} 合同",
                "TENDERER_NAME": p.tenderer.name,
                "TENDER_CODE": p.tenderer.uscc,
                "BIDDER_NAME": c.award.entity.name,
                "BIDDER_CODE": c.award.entity.uscc,
                "CONTRACT_PRICE": text(c.amount),
                "PRICE_CURRENCY": config.code("currency", "CNY"),
                "PRICE_UNIT": PRICE_UNIT_YUAN,
                "PRICE_FORM_CODE": PRICE_FORM_AMOUNT,
                "CONTRACT_CONTENT": f"{p.name} {s.name}",
                "LIMITE_TIME": text(s.duration_days),
                "SUBMIT_TIME": stamp(c.recorded_at),
                "CONTRACT_SIGN_TIME": day(c.signed_on) + "000000",
                "CONTRACT_CODE": c.public_id,
            },
        )


SOURCES: dict[str, Source | None] = {
    "100": legal_persons,
    "500": projects,
    "501": tender_projects,
    "502": sections,
    "503": announcements,
    "506": opening_records,
    "510": candidates,
    "512": contracts,
    "513": results,
    # land and state property: defined, not traded on the platform yet (no source, no rows)
    "600": None,
    "601": None,
    "700": None,
    "701": None,
    "750": None,
    "753": None,
}
