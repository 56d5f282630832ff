"""Fairness fixtures: the catalog and the default rules installed, a tenderer with a works
project, and helpers to upload its documents and move it to accepted."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from ggzy.accounts.roles import Role
from ggzy.catalog.services import install_default_catalog
from ggzy.fairness.services import install_default_rules
from ggzy.tendering import services as tendering
from tests.api.support import register
from tests.conftest import make_user
from tests.fairness.support import make_docx

BAD_CLAUSE = "投标人须在本市设立分支机构或办事处。"
GOOD_TEXT = ["第一章 招标公告", "投标人须具有市政公用工程施工总承包三级及以上资质。",
             "不得要求投标人在本地设立分支机构。"]  # fmt: skip


@pytest.fixture
def world(db, region, frozen_clock):  # type: ignore[no-untyped-def]
    install_default_catalog(actor="system:test")
    install_default_rules(actor="system:test")


@pytest.fixture
def tenderer(world):  # type: ignore[no-untyped-def]
    return make_user("tenderer_admin", Role.TENDERER)


@pytest.fixture
def tenderer_entity(tenderer):  # type: ignore[no-untyped-def]
    return register(tenderer, 7, is_bidder=False, is_tenderer=True)


def terms(**overrides):  # type: ignore[no-untyped-def]
    values = {
        "name": "玄武大道改造工程",
        "category": "works",
        "procedure": "open_tender",
        "region": "320100",
        "funding_source": "财政资金",
        "budget": Decimal("10000000"),
        "investment_project_code": "2026-320100-48-01-000001",
        "sections": [{
            "name": "第1标段", "estimated_price": "5000000", "deposit": "50000",
            "qualification_requirements": "市政公用工程施工总承包三级及以上",
            "evaluation_method": "lowest_price",
        }],
    }  # fmt: skip
    values.update(overrides)
    return tendering.ProjectTerms(**values)


@pytest.fixture
def project(tenderer, tenderer_entity):  # type: ignore[no-untyped-def]
    return tendering.register_project(actor=tenderer, tenderer=tenderer_entity, terms=terms())


def upload(actor, project, data: bytes, name: str = "招标文件.docx", kind: str = "tender"):  # type: ignore[no-untyped-def]
    return tendering.upload_document(
        actor=actor, project=project, kind=kind, name=name, stream=io.BytesIO(data)
    )


@pytest.fixture
def bad_document(tenderer, project):  # type: ignore[no-untyped-def]
    return upload(tenderer, project, make_docx([*GOOD_TEXT, BAD_CLAUSE]))


@pytest.fixture
def stranger(world):  # type: ignore[no-untyped-def]
    return make_user("other_tenderer", Role.TENDERER)
