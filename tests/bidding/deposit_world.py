"""A published section to deposit on: works (calendar-day refunds) or procurement (working days),
a bidder with its entity, a guarantee issuer with its bound certificate, staff users.

Import the fixtures into a test module: ``from tests.bidding.deposit_world import *``."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from ggzy.accounts.models import User
from ggzy.accounts.roles import Role
from ggzy.catalog.services import install_default_catalog
from ggzy.registry.models import Entity
from ggzy.tendering import services as tendering
from ggzy.tendering.models import Section
from ggzy_client import signatures
from tests.api.support import register
from tests.conftest import make_user
from tests.trust import pki

__all__ = [
    "DepWorld",
    "dep_no_cash_section",
    "dep_procurement",
    "dep_section",
    "dep_world",
    "guarantee_doc",
    "publish_section",
    "sign_guarantee",
]


@dataclass
class DepWorld:
    tenderer: Entity
    tenderer_user: User
    bidder: Entity
    bidder_user: User
    other_bidder: Entity
    other_user: User
    issuer: Entity
    issuer_user: User
    issuer_cert: Any
    intake: User
    operations: User  # the finance desk (center_finance)
    regulator: User
    clock: Any


def publish_section(
    w: DepWorld, *, category: str = "works", deposit: str = "20000.00", n: int = 1
) -> Section:
    """Register, submit, accept and publish a one-section project: documents issued now, on sale
    7 days, bid deadline 21 days later."""
    now = w.clock.moment
    terms = tendering.ProjectTerms(
        name=f"测试项目{n}",
        category=category,
        procedure="open_tender",
        region="320100",
        funding_source="财政资金",
        budget="5000000.00",
        subject_type="works" if category == "works" else "goods",
        investment_project_code="2026-320100-47-01-000001" if category == "works" else "",
        sections=[
            {
                "name": "第一标段",
                "estimated_price": "2000000.00",
                "deposit": deposit,
                "qualification_requirements": "具备相应资质",
                "evaluation_method": "lowest_price",
                "bid_validity_days": 90,
            }
        ],
    )
    project = tendering.register_project(actor=w.tenderer_user, tenderer=w.tenderer, terms=terms)
    tendering.submit_project(actor=w.tenderer_user, project=project)
    tendering.accept_project(actor=w.intake, project=project)
    tendering.upload_document(
        actor=w.tenderer_user,
        project=project,
        kind="tender",
        name="招标文件.txt",
        stream=io.BytesIO("招标文件正文".encode()),
    )
    tendering.publish_project(
        actor=w.tenderer_user,
        project=project,
        announcement="招标公告",
        documents_from=now,
        documents_until=now + timedelta(days=7),
        bid_deadline=now + timedelta(days=21),
    )
    return Section.objects.select_related("project__ruleset", "project__tenderer").get(
        project=project
    )


@pytest.fixture
def dep_world(db, frozen_clock, region):  # type: ignore[no-untyped-def]
    install_default_catalog(actor="system:test")
    pki.onboard("ecdsa")
    tenderer_user = make_user("dep_tenderer", Role.TENDERER)
    bidder_user = make_user("dep_bidder", Role.BIDDER)
    other_user = make_user("dep_other", Role.BIDDER)
    issuer_user = make_user("dep_bank", Role.BIDDER)  # a market user who registered the bank
    tenderer = register(tenderer_user, 71, is_tenderer=True, is_bidder=False)
    bidder = register(bidder_user, 72)
    other = register(other_user, 73)
    issuer = register(issuer_user, 74, name="测试银行南京分行")
    issuer_cert = pki.entity_cert("ecdsa", issuer.uscc, "测试银行")
    pki.bind(issuer_user, issuer_cert, issuer)
    return DepWorld(
        tenderer=tenderer,
        tenderer_user=tenderer_user,
        bidder=bidder,
        bidder_user=bidder_user,
        other_bidder=other,
        other_user=other_user,
        issuer=issuer,
        issuer_user=issuer_user,
        issuer_cert=issuer_cert,
        intake=make_user("dep_intake", Role.CENTER_INTAKE),
        operations=make_user("dep_finance", Role.CENTER_FINANCE),
        regulator=make_user("dep_regulator", Role.REGULATOR),
        clock=frozen_clock,
    )


@pytest.fixture
def dep_section(dep_world):  # type: ignore[no-untyped-def]
    return publish_section(dep_world)


@pytest.fixture
def dep_procurement(dep_world):  # type: ignore[no-untyped-def]
    return publish_section(dep_world, category="procurement", n=2)


@pytest.fixture
def dep_no_cash_section(dep_world):  # type: ignore[no-untyped-def]
    """A works section under a ruleset that refuses transfers and allows exemptions."""
    from ggzy.catalog import selectors
    from ggzy.catalog.services import publish_ruleset

    category = selectors.get_category("works")
    rules = dict(selectors.current_ruleset(category).rules)
    rules.update(deposit_cash_allowed=False, deposit_exemption_allowed=True)
    publish_ruleset(actor="system:test", category=category, rules_=rules, note="仅保函")
    return publish_section(dep_world, n=3)


def guarantee_doc(w: DepWorld, section: Section, /, **overrides: Any) -> bytes:
    deadline = section.bid_deadline
    assert deadline is not None
    terms = {
        "guarantee_number": "BH2026-0001",
        "issuer_uscc": w.issuer.uscc,
        "beneficiary": w.tenderer.uscc,
        "applicant": w.bidder.uscc,
        "section": section.code,
        "amount": str(section.deposit),
        "valid_until": (deadline + timedelta(days=120)).date().isoformat(),
    }
    terms.update(overrides)
    return json.dumps(terms, ensure_ascii=False).encode()


def sign_guarantee(w: DepWorld, document: bytes, issued: Any = None) -> dict[str, Any]:
    return signatures.sign_detached(document, pki.keystore(issued or w.issuer_cert))
