"""What the public may see of each kind of record, built from the domain tables as they are now.

One builder per record kind, each keyed: ``announcement:<project>``,
``clarification:<project>:<number>``, ``objection_reply:<objection>``, ``opening:<section>``,
``failure:<section>``, ``candidates:<section>``, ``award:<section>``, ``contract:<section>``,
``entity:<uscc>``. A builder returns the record's values, or ``None`` while nothing of it is
public. It takes only what the rules disclose:

- nothing of a project before its announcement, nothing of an invited tender's invitees (R42);
- of an objection to the documents, the reply — never who objected (R42 before the deadline);
- of the bids, only the signed opening record, from the opening's close;
- the candidates from the publicity's start (``visible_from``: the projector holds the record
  back until then), their scores only where the regime discloses them (R61 under government
  procurement: each bidder sees its own, the public none);
- the award notice as signed; the contract once the tenderer published it;
- of an entity, the registry's public view (no ID numbers, no bank account).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ObjectDoesNotExist

from ggzy.award.models import AwardNotice, Contract, Publicity
from ggzy.award.periods import regime_of
from ggzy.award.states import Regime
from ggzy.bidding.models import Opening
from ggzy.bidding.states import OpeningStatus
from ggzy.disclosure.models import RecordKind
from ggzy.registry.models import Entity
from ggzy.registry.selectors import public_view
from ggzy.tendering.models import Clarification, Objection, Project, Section
from ggzy.tendering.states import ObjectionStatus, ProjectStatus

MAX_SEARCH_TEXT = 200_000  # characters of the documents' text kept for the search


@dataclass
class Built:
    kind: str
    title: str
    published_at: datetime
    body: str = ""
    search_text: str = ""
    project: Project | None = None
    section: Section | None = None
    status: str = ""
    url: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    category: str = ""
    region: str = ""
    procedure: str = ""
    visible_from: datetime | None = None  # held back until then
    source: str = ""  # an external system's code; "" for this platform
    project_code: str = ""  # when there is no project of ours
    section_code: str = ""


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _money(value: Any) -> str | None:
    return None if value is None else str(value)


def _party(entity: Entity | None) -> dict[str, str] | None:
    return None if entity is None else {"name": entity.name, "uscc": entity.uscc}


def _one(getter: Any) -> Any:
    try:
        return getter()
    except ObjectDoesNotExist:
        return None


def _published_project(public_id: str) -> Project | None:
    return (
        Project.objects.select_related("tenderer", "agent", "region", "category", "procedure")
        .filter(public_id=public_id, status=ProjectStatus.PUBLISHED, published_at__isnull=False)
        .first()
    )


def _section(public_id: str) -> Section | None:
    related = ("project__tenderer", "project__agent", "project__region", "project__category",
               "project__procedure", "project__ruleset")  # fmt: skip
    section = Section.objects.select_related(*related).filter(public_id=public_id).first()
    if section is None or section.project.published_at is None:
        return None
    return section


def project_status(project: Project) -> str:
    """How far the project has come, from what is stored (no clock): the furthest section."""
    order = ["announced", "opened", "failed", "publicity", "awarded", "contracted"]
    best = "announced"
    for section in project.sections.all():
        status = section_status(section)
        if order.index(status) > order.index(best):
            best = status
    return best


def section_status(section: Section) -> str:
    contract = Contract.objects.filter(award__section=section, published_at__isnull=False)
    if contract.exists():
        return "contracted"
    if AwardNotice.objects.filter(section=section).exists():
        return "awarded"
    if Publicity.objects.filter(section=section).exists():
        return "publicity"
    if section.failed_at is not None:
        return "failed"
    opening = Opening.objects.filter(section=section).values_list("status", flat=True).first()
    if opening == OpeningStatus.CLOSED:
        return "opened"
    if opening == OpeningStatus.FAILED:
        return "failed"
    return "announced"


def _where(project: Project) -> dict[str, str]:
    return {
        "category": project.category_id,
        "region": project.region_id,
        "procedure": project.procedure_id,
    }


def _project_data(project: Project) -> dict[str, Any]:
    return {
        "project": project.public_id,
        "trading_code": project.trading_code,
        "name": project.name,
        "category": project.category_id,
        "category_name": project.category.name,
        "procedure": project.procedure_id,
        "procedure_name": project.procedure.name,
        "region": project.region_id,
        "region_name": project.region.name,
        "tenderer": _party(project.tenderer),
        "agent": _party(project.agent),
        "subject_type": project.subject_type,
        "funding_source": project.funding_source,
        "budget": _money(project.budget),
        "published_at": _iso(project.published_at),
    }


# --- the builders ------------------------------------------------------------------------------


def announcement(project_id: str) -> Built | None:
    project = _published_project(project_id)
    if project is None:
        return None
    assert project.published_at is not None
    sections = list(project.sections.all())
    documents = [d for d in project.documents.all() if d.published_at is not None]
    text = "\n".join(d.text for d in documents if d.text)[:MAX_SEARCH_TEXT]
    data = _project_data(project) | {
        "sections": [{
            "section": s.public_id, "code": s.code, "number": s.number, "name": s.name,
            "estimated_price": _money(s.estimated_price), "max_price": _money(s.max_price),
            "deposit": _money(s.deposit), "evaluation_method": s.evaluation_method,
            "bid_deadline": _iso(s.bid_deadline), "documents_until": _iso(s.documents_until),
            "status": section_status(s),
        } for s in sections],
        "documents": [{"name": d.name, "kind": d.kind, "sha256": d.sha256,
                       "published_at": _iso(d.published_at)} for d in documents],
    }  # fmt: skip
    return Built(
        kind=RecordKind.ANNOUNCEMENT, title=project.name, body=project.announcement,
        search_text=text, published_at=project.published_at, project=project,
        status=project_status(project), url=f"/projects/{project.public_id}/", data=data,
        **_where(project),
    )  # fmt: skip


def clarification(project_id: str, number: str) -> Built | None:
    project = _published_project(project_id)
    if project is None or not number.isdigit():
        return None
    row: Clarification | None = project.clarifications.filter(number=int(number)).first()
    if row is None:
        return None
    return Built(
        kind=RecordKind.CLARIFICATION, title=f"{project.name} {row.title}", body=row.body,
        published_at=row.issued_at, project=project, status="issued",
        url=f"/projects/{project.public_id}/#clarification-{row.number}",
        data={"project": project.public_id, "number": row.number, "title": row.title,
              "body": row.body, "affects_bids": row.affects_bids,
              "deadline_before": _iso(row.deadline_before),
              "deadline_after": _iso(row.deadline_after), "issued_at": _iso(row.issued_at)},
        **_where(project),
    )  # fmt: skip


def objection_reply(objection_id: str) -> Built | None:
    row: Objection | None = (
        Objection.objects.select_related("project").filter(public_id=objection_id).first()
    )
    if row is None or row.status != ObjectionStatus.ANSWERED or row.replied_at is None:
        return None
    project = _published_project(row.project.public_id)
    if project is None:
        return None
    return Built(
        kind=RecordKind.OBJECTION_REPLY, title=f"{project.name} 异议答复", body=row.reply,
        published_at=row.replied_at, project=project, status="answered",
        url=f"/projects/{project.public_id}/",
        data={"project": project.public_id, "objection": row.public_id,
              "raised_at": _iso(row.raised_at), "replied_at": _iso(row.replied_at),
              "reply": row.reply},
        **_where(project),
    )  # fmt: skip


def _opening(section_id: str) -> tuple[Section, Opening] | None:
    section = _section(section_id)
    opening = _one(lambda: section.opening) if section else None  # type: ignore[union-attr]
    if section is None or opening is None or opening.record is None:
        return None
    return section, opening


def opening_record(section_id: str) -> Built | None:
    found = _opening(section_id)
    if found is None or found[1].status != OpeningStatus.CLOSED:
        return None
    section, opening = found
    assert opening.closed_at is not None
    record = opening.record or {}
    bidders = " ".join(str(b.get("bidder", "")) for b in record.get("bids", []))
    return Built(
        kind=RecordKind.OPENING, title=f"{section.project.name} {section.name} 开标记录",
        body=bidders, published_at=opening.closed_at, project=section.project, section=section,
        status="opened", url=f"/projects/{section.project.public_id}/",
        data={"section": section.public_id, "record": record,
              "signature": opening.record_signature, "key_id": opening.record_key_id,
              "record_seq": opening.record_seq},
        **_where(section.project),
    )  # fmt: skip


def failure(section_id: str) -> Built | None:
    section = _section(section_id)
    if section is None:
        return None
    found = _opening(section_id)
    if found is not None and found[1].status == OpeningStatus.FAILED:
        at, reason = (
            found[1].closed_at or found[1].started_at,
            (found[1].record or {}).get("reason", section.failure_reason),
        )
    elif section.failed_at is not None:
        at, reason = section.failed_at, section.failure_reason
    else:
        return None
    return Built(
        kind=RecordKind.FAILURE, title=f"{section.project.name} {section.name} 流标公告",
        body=str(reason or ""), published_at=at, project=section.project, section=section,
        status="failed", url=f"/projects/{section.project.public_id}/",
        data={"section": section.public_id, "reason": reason, "at": _iso(at)},
        **_where(section.project),
    )  # fmt: skip


def _scores_public(section: Section) -> bool:
    return regime_of(section.project.ruleset.rules or {}) != Regime.PROCUREMENT


def candidates(section_id: str) -> Built | None:
    section = _section(section_id)
    publicity = Publicity.objects.filter(section=section).first() if section else None
    if section is None or publicity is None:
        return None
    scores = _scores_public(section)
    rows = [{
        "rank": c.rank, "bidder": _party(c.entity), "price": _money(c.price),
        "total": _money(c.total) if scores else None,
        "evaluated_price": _money(c.evaluated_price) if scores else None,
        "withdrawn": c.withdrawn_at is not None, "withdrawal_ground": c.withdrawal_ground or None,
    } for c in publicity.candidates.select_related("entity").order_by("rank")]  # fmt: skip
    return Built(
        kind=RecordKind.CANDIDATES, title=f"{section.project.name} {section.name} 中标候选人公示",
        body=" ".join(f"第{r['rank']}名 {r['bidder']['name']}" for r in rows),  # type: ignore[index]
        published_at=publicity.starts_at, visible_from=publicity.starts_at,
        project=section.project, section=section, status=section_status(section),
        url=f"/award/sections/{section.public_id}/",
        data={"section": section.public_id, "publicity": publicity.public_id,
              "regime": publicity.regime, "starts_at": _iso(publicity.starts_at),
              "ends_at": _iso(publicity.ends_at), "report_sha256": publicity.report_sha256,
              "candidates": rows},
        **_where(section.project),
    )  # fmt: skip


def award(section_id: str) -> Built | None:
    section = _section(section_id)
    notice = (
        AwardNotice.objects.select_related("entity", "winner").filter(section=section).first()
        if section else None
    )  # fmt: skip
    if section is None or notice is None:
        return None
    return Built(
        kind=RecordKind.AWARD, title=f"{section.project.name} {section.name} 中标结果公告",
        body=f"中标人：{notice.entity.name}，中标金额：{notice.amount}元",
        published_at=notice.issued_at, project=section.project, section=section,
        status=section_status(section), url=f"/award/sections/{section.public_id}/",
        data={"section": section.public_id, "notice": notice.public_id,
              "winner": _party(notice.entity), "rank": notice.winner.rank,
              "amount": _money(notice.amount), "issued_at": _iso(notice.issued_at),
              "record": notice.record, "record_sha256": notice.record_sha256,
              "signature": notice.signature, "key_id": notice.key_id},
        **_where(section.project),
    )  # fmt: skip


def contract(section_id: str) -> Built | None:
    section = _section(section_id)
    row = (
        Contract.objects.select_related("award__entity")
        .filter(award__section=section, published_at__isnull=False).first()
        if section else None
    )  # fmt: skip
    if section is None or row is None:
        return None
    assert row.published_at is not None
    return Built(
        kind=RecordKind.CONTRACT, title=f"{section.project.name} {section.name} 合同公开",
        body=f"合同金额：{row.amount}元，签订日期：{row.signed_on}，供应商/承包人：{row.award.entity.name}",
        published_at=row.published_at, project=section.project, section=section,
        status="contracted", url=f"/award/sections/{section.public_id}/",
        data={"section": section.public_id, "contract": row.public_id,
              "supplier": _party(row.award.entity), "amount": _money(row.amount),
              "signed_on": row.signed_on.isoformat(), "published_at": _iso(row.published_at),
              "security_amount": _money(row.security_amount),
              "security_form": row.security_form},
        **_where(section.project),
    )  # fmt: skip


def entity(uscc: str) -> Built | None:
    row = Entity.objects.select_related("region").filter(uscc=uscc).first()
    if row is None:
        return None
    view = public_view(row)
    roles = " ".join(str(r) for r in view.get("market_roles") or [])
    return Built(
        kind=RecordKind.ENTITY, title=row.name, body=f"{row.address} {roles}".strip(),
        published_at=row.registered_at, status=row.status, url=f"/entities/{row.uscc}/",
        data={k: _plain(v) for k, v in view.items()}, region=row.region_id,
    )  # fmt: skip


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def external(system_code: str, record_id: str) -> Built | None:
    """The latest version of an external system's record, under its system's code: its
    project code is prefixed with the system's, so that no system can write into another's
    (or the platform's) timeline."""
    from ggzy.exchange.ingest import latest

    row = latest(system_code, record_id)
    if row is None:
        return None
    c, system = row.content, row.system
    return Built(
        kind=str(c["kind"]), title=str(c["title"]), body=str(c.get("body", "")),
        published_at=datetime.fromisoformat(str(c["published_at"])), status=str(c.get("status", "")),
        url=str(c.get("url", "")), category=str(c["category"]), region=str(c["region"]),
        procedure=str(c.get("procedure", "")), source=system.code,
        project_code=f"{system.code}.{c['project_code']}",
        section_code=str(c.get("section_code", "")),
        data={"record_id": row.record_id, "system": {"code": system.code, "name": system.name},
              "received_at": _iso(row.received_at), "sha256": row.content_sha256,
              "ledger_seq": row.ledger_seq, **{"data": c.get("data", {})}},
    )  # fmt: skip


BUILDERS: dict[str, Any] = {
    "announcement": announcement,
    "clarification": clarification,
    "objection_reply": objection_reply,
    "opening": opening_record,
    "failure": failure,
    "candidates": candidates,
    "award": award,
    "contract": contract,
    "entity": entity,
    "external": external,
}


def build(key: str) -> Built | None:
    kind, _, rest = key.partition(":")
    builder = BUILDERS.get(kind)
    if builder is None or not rest:
        return None
    result: Built | None = builder(*rest.split(":"))
    return result
