"""The demo tender: one complete open tender, from registration to a signed opening record,
through the same services a person uses — and a second one open for bids, so a demo user can
take part (seal with the demo keystores under ``var/demo-keys``, upload, and wait).

The first tender runs on a simulated clock 35 days back (R1's 20-day bid period cannot be
shortened), so its ledger events carry those times; everything else runs on the real clock."""

from __future__ import annotations

import io
import json
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.db import transaction

from ggzy.accounts.models import User
from ggzy.bidding import bids, deposits, opening
from ggzy.bidding.models import Opening
from ggzy.core import clock
from ggzy.registry.models import Entity, MemberRole, Membership
from ggzy.tendering import services as tendering
from ggzy.tendering.models import Project
from ggzy.trust.demo import demo_bidders
from ggzy_client import envelope as envelope_format
from ggzy_client import keys

DONE_NAME = "【演示】市第一中学教学楼新建工程施工"
OPEN_NAME = "【演示】市第一中学体育馆改造工程施工"
DOCUMENT = (
    "第一章 招标公告\n"
    "一、项目概况：教学楼新建工程，建筑面积约12000平方米。\n"
    "二、投标人资格要求：具有建筑工程施工总承包二级及以上资质，具备相应的施工能力。\n"
    "三、评标办法：综合评估法，投标报价60分，施工组织设计30分，企业信誉10分。\n"
    "四、投标文件的递交：投标人使用 ggzy-client 加密投标文件后在线递交。\n"
)


@dataclass
class DemoTender:
    created: bool
    projects: list[tuple[str, str]] = field(default_factory=list)  # name, public id
    opening_sections: list[str] = field(default_factory=list)


def _user(username: str) -> User:
    return User.objects.get(username=username)


def _tenderer() -> tuple[User, Entity]:
    m = (
        Membership.objects.select_related("user", "entity")
        .filter(
            role=MemberRole.ADMIN, entity__is_tenderer=True, user__username__startswith="tenderer"
        )
        .order_by("user__username")
        .first()
    )
    if m is None:
        raise RuntimeError("load the demo world first (no demo tenderer)")
    return m.user, m.entity


def _terms(project_name: str, category: str, **section: Any) -> tendering.ProjectTerms:
    base: dict[str, Any] = {
        "name": "施工总承包", "estimated_price": "18000000.00", "max_price": "17500000.00",
        "deposit": "300000.00",
        "qualification_requirements": "具有建筑工程施工总承包二级及以上资质",
        "evaluation_method": "comprehensive",
        "criteria": [
            {"name": "投标报价", "weight": "60", "kind": "price"},
            {"name": "施工组织设计", "weight": "30", "kind": "technical"},
            {"name": "企业信誉", "weight": "10", "kind": "business"},
        ],
        "bid_validity_days": 90, "duration_days": 540,
    }  # fmt: skip
    base.update(section)
    return tendering.ProjectTerms(
        name=project_name, category=category, procedure="open_tender", region="320100",
        subject_type="works" if category == "works" else "goods",
        funding_source="财政资金", budget="20000000.00",
        investment_project_code="2026-320100-47-01-000888" if category == "works" else "",
        description="演示项目（demo）", sections=[base],
    )  # fmt: skip


def _publish(project: Project, tenderer: User, days: int) -> Project:
    tendering.submit_project(actor=tenderer, project=project)
    tendering.accept_project(actor=_user("shouli"), project=project)
    tendering.upload_document(actor=tenderer, project=project, kind="tender",
                              name="招标文件.txt", stream=io.BytesIO(DOCUMENT.encode()))  # fmt: skip
    now = clock.now()
    tendering.publish_project(
        actor=tenderer, project=project, announcement=f"{project.name} 招标公告：欢迎潜在投标人参加投标。",
        documents_from=now, documents_until=now + timedelta(days=7),
        bid_deadline=now + timedelta(days=days),
    )  # fmt: skip
    project.refresh_from_db()
    return project


def _keystore(var_dir: Path, username: str) -> keys.Keystore:
    return keys.load_keystore(var_dir / "demo-keys" / username / "key.pem", None)


def _bid(
    var_dir: Path, user: User, entity: Entity, section: Any, price: str, work: Path
) -> tuple[Any, bytes]:
    keystore = _keystore(var_dir, user.username)
    work = work / user.username
    work.mkdir()
    form = work / "bid.json"  # the opening form, read at decryption
    form.write_text(json.dumps({"price": price, "duration_days": 500}))
    tech = work / "technical.txt"
    tech.write_text(f"{entity.name} 施工组织设计（演示）")
    out = work / "envelope.zip"
    envelope_format.seal(files=[form, tech], section=section.code, keystore=keystore, out=out)
    key = envelope_format.unwrap_content_key(out, keystore)  # what `ggzy-client unwrap` prints
    upload = work / "upload.zip"
    shutil.copy(out, upload)
    return bids.submit_bid(actor=user, section_id=section.public_id, upload=upload), key


def _deposit(user: User, entity: Entity, section: Any, n: int) -> None:
    deposit = deposits.open_deposit(actor=user, section=section, entity=entity, method="transfer")
    deposits.record_bank_notice(
        actor="system:bank", bank_reference=f"DEMO{section.pk:04d}{n:04d}",
        virtual_account=deposit.virtual_account or "", amount=str(section.deposit),
        payer_account=entity.bank_account or f"6222{n:012d}", payer_name=entity.name,
        payer_bank=entity.bank_name or "中国银行", credited_at=clock.now(),
    )  # fmt: skip


def load_demo_tender(var_dir: Path | str) -> DemoTender:
    """Idempotent: does nothing if the demo tenders exist; all or nothing."""
    with transaction.atomic():
        return _load(Path(var_dir))


def _load(var_dir: Path) -> DemoTender:
    if Project.objects.filter(name=DONE_NAME).exists():
        return DemoTender(False, [(p.name, p.public_id) for p in Project.objects.filter(
            name__in=[DONE_NAME, OPEN_NAME])])  # fmt: skip
    tenderer, tenderer_entity = _tenderer()
    bidders = demo_bidders()[:4]
    result = DemoTender(True)
    with (
        tempfile.TemporaryDirectory(prefix="ggzy-demo-bids-") as tmp,
        clock.frozen(clock.now() - timedelta(days=35)) as sim,
    ):
        work = Path(tmp)
        project = tendering.register_project(
            actor=tenderer, tenderer=tenderer_entity, terms=_terms(DONE_NAME, "works")
        )
        project = _publish(project, tenderer, days=21)
        section = project.sections.get(number=1)
        sim.advance(days=2)
        handed = []
        for n, (user, entity) in enumerate(bidders[:3]):
            _deposit(user, entity, section, n)
            sim.advance(hours=3)
            bid, key = _bid(var_dir, user, entity, section, f"{17100000 + n * 135000}.00", work)
            handed.append((user, bid, key))
        assert section.bid_deadline is not None
        sim.set(section.bid_deadline + timedelta(minutes=1))
        session = opening.start_opening(actor=_user("zuzhi"), section=section)
        for user, bid, key in handed:
            sim.advance(minutes=2)
            bid.refresh_from_db()
            opening.submit_key(actor=user, bid=bid, content_key=key)
        sim.advance(minutes=1)
        opening.close_opening(actor=_user("zuzhi"), opening=Opening.objects.get(pk=session.pk))
        result.projects.append((project.name, project.public_id))
        result.opening_sections.append(section.public_id)
    live = tendering.register_project(
        actor=tenderer, tenderer=tenderer_entity,
        terms=_terms(OPEN_NAME, "works", name="体育馆改造", estimated_price="3000000.00",
                     max_price="2950000.00", deposit="50000.00"),
    )  # fmt: skip
    live = _publish(live, tenderer, days=21)
    result.projects.append((live.name, live.public_id))
    return result
