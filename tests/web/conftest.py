"""Fixtures for the portal tests: a registered entity and form data that registers one."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from ggzy.registry.services import ContactData, EntityData, QualificationData, register_entity
from tests.conftest import uscc


def entity_form(code: str, **overrides: str) -> dict[str, str]:
    """What a person fills in on /entities/register/ (one contact and one qualification row)."""
    data = {
        "uscc": code,
        "name": "南京测试建设工程有限公司",
        "entity_type": "enterprise",
        "is_bidder": "on",
        "legal_representative": "张三",
        "legal_representative_id": "",
        "registered_capital": "5000000.00",
        "address": "南京市玄武区测试路1号",
        "region": "320100",
        "bank_name": "中国银行南京分行",
        "bank_account": "6217 0000 1234 5678",
        "licence_valid_from": "2020-01-01",
        "licence_valid_until": "",
        "contact-name": "李四",
        "contact-title": "经理",
        "contact-phone": "13800000000",
        "contact-email": "",
        "qual-qualification_type": "建筑工程施工总承包",
        "qual-grade": "二级",
        "qual-issuer": "江苏省住房和城乡建设厅",
        "qual-number": "D232000001",
        "qual-valid_from": "2024-01-01",
        "qual-valid_until": "2029-12-31",
    }
    data.update(overrides)
    return data


def make_entity(actor: Any, n: int, name: str, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "uscc": uscc(n),
        "name": name,
        "entity_type": "enterprise",
        "legal_representative": "王五",
        "address": "南京市鼓楼区中山路100号",
        "region": "320100",
        "is_bidder": True,
        "registered_capital": Decimal("10000000.00"),
        "bank_name": "中国工商银行南京分行",
        "bank_account": "4301015209100012345",
        "licence_valid_from": date(2015, 6, 1),
        "contacts": [ContactData(name="赵六", phone="025-84000000", title="投标专员")],
        "qualifications": [
            QualificationData(
                qualification_type="市政公用工程施工总承包",
                issuer="江苏省住房和城乡建设厅",
                number="D332000009",
                grade="一级",
                valid_from=date(2021, 1, 1),
                valid_until=date(2026, 1, 1),
            )
        ],
    }
    values.update(overrides)
    return register_entity(actor=actor, data=EntityData(**values))


@pytest.fixture
def entity(users, region):  # type: ignore[no-untyped-def]
    """An entity registered by the ``bidder`` user, who is therefore its administrator."""
    return make_entity(users["bidder"], 1, "南京金陵建设工程有限公司")
