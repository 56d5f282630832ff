"""A tender world for tests: a tenderer, center staff, bidders with bound certificates, and a
published open-tender section; helpers that seal and submit bids the way ``ggzy-client`` does."""

from __future__ import annotations

import io
import json
import shutil
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from ggzy.accounts.models import User
from ggzy.accounts.roles import Role
from ggzy.catalog.services import install_default_catalog
from ggzy.core import clock
from ggzy.registry.models import Entity
from ggzy.tendering import services as tendering
from ggzy.tendering.models import Project, Section
from ggzy.trust.issuing import Issued
from ggzy_client import envelope as envelope_format
from tests.api.support import register
from tests.conftest import make_user
from tests.trust import pki

FAMILY = "ecdsa"


@dataclass
class Bidder:
    user: User
    entity: Entity
    issued: Issued

    @property
    def keystore(self) -> Any:
        return pki.keystore(self.issued)


@dataclass
class World:
    tenderer: User
    tenderer_entity: Entity
    intake: User
    operations: User
    bidders: list[Bidder] = field(default_factory=list)
    project: Project | None = None

    @property
    def section(self) -> Section:
        assert self.project is not None
        return self.project.sections.get(number=1)


def section_terms(**overrides: Any) -> dict[str, Any]:
    terms: dict[str, Any] = {
        "name": "主体工程施工",
        "estimated_price": "10000000.00",
        "max_price": "9800000.00",
        "deposit": "200000.00",
        "qualification_requirements": "具有建筑工程施工总承包二级及以上资质",
        "evaluation_method": "comprehensive",
        "criteria": [
            {"name": "投标报价", "weight": "60", "kind": "price"},
            {"name": "施工组织设计", "weight": "30", "kind": "technical"},
            {"name": "企业信誉", "weight": "10", "kind": "business"},
        ],
        "bid_validity_days": 90,
        "duration_days": 365,
    }
    terms.update(overrides)
    return terms


def project_terms(**overrides: Any) -> tendering.ProjectTerms:
    values: dict[str, Any] = {
        "name": "南京市某中学教学楼新建工程",
        "category": "works",
        "procedure": "open_tender",
        "region": "320100",
        "funding_source": "财政资金",
        "budget": "12000000.00",
        "investment_project_code": "2026-320100-47-01-000123",
        "sections": [section_terms()],
    }
    values.update(overrides)
    return tendering.ProjectTerms(**values)


def make_world(n_bidders: int = 3) -> World:
    install_default_catalog(actor="system:test")
    pki.onboard(FAMILY)
    tenderer = make_user("tenderer_admin", Role.TENDERER)
    tenderer_entity = register(
        tenderer,
        900,
        name="南京市某中学",
        is_bidder=False,
        is_tenderer=True,
        entity_type="institution",
    )
    world = World(
        tenderer=tenderer,
        tenderer_entity=tenderer_entity,
        intake=make_user("intake_staff", Role.CENTER_INTAKE),
        operations=make_user("ops_staff", Role.CENTER_OPERATIONS),
    )
    for n in range(1, n_bidders + 1):
        user = make_user(f"bidder{n}", Role.BIDDER)
        entity = register(user, n)
        issued = pki.entity_cert(FAMILY, entity.uscc, entity.name)
        pki.bind(user, issued, entity)
        world.bidders.append(Bidder(user, entity, issued))
    return world


def publish(
    world: World, *, days: int = 21, terms: tendering.ProjectTerms | None = None
) -> Project:
    """Register, submit, accept, upload the documents and publish: deadline ``days`` ahead."""
    project = tendering.register_project(
        actor=world.tenderer, tenderer=world.tenderer_entity, terms=terms or project_terms()
    )
    tendering.submit_project(actor=world.tenderer, project=project)
    tendering.accept_project(actor=world.intake, project=project)
    tendering.upload_document(
        actor=world.tenderer, project=project, kind="tender", name="招标文件.txt",
        stream=io.BytesIO("第一章 招标公告\n投标人须具备相应资质。\n".encode()),
    )  # fmt: skip
    now = clock.now()
    tendering.publish_project(
        actor=world.tenderer, project=project, announcement="招标公告正文",
        documents_from=now, documents_until=now + timedelta(days=6),
        bid_deadline=now + timedelta(days=days),
    )  # fmt: skip
    project.refresh_from_db()
    world.project = project
    return project


def seal(bidder: Bidder, section: Section, directory: Path, *, price: str = "9500000.00",
         section_code: str | None = None, tech: bytes = b"technical proposal") -> Path:  # fmt: skip
    """Seal a bid the way ``ggzy-client seal`` does: bid.json (the opening form) + a technical part."""
    directory.mkdir(parents=True, exist_ok=True)
    form = directory / "bid.json"
    form.write_text(json.dumps({"price": price, "duration_days": 300}))
    technical = directory / "technical.txt"
    technical.write_bytes(tech)
    out = directory / f"envelope-{bidder.entity.pk}-{len(list(directory.iterdir()))}.zip"
    envelope_format.seal(
        files=[form, technical], section=section_code or section.code or "", keystore=bidder.keystore,
        cipher="aes-256-gcm", out=out,
    )  # fmt: skip
    keep = out.with_suffix(".keep")
    shutil.copy(out, keep)  # the bidder keeps its own copy (the server moves the upload)
    return out


def content_key(envelope: Path) -> bytes:
    """What ``ggzy-client unwrap`` gives the bidder (from its kept copy)."""
    return envelope_format.unwrap_content_key(envelope.with_suffix(".keep"), _keystores[envelope])


_keystores: dict[Path, Any] = {}


def sealed(bidder: Bidder, section: Section, directory: Path, **kw: Any) -> Path:
    path = seal(bidder, section, directory, **kw)
    _keystores[path] = bidder.keystore
    return path
