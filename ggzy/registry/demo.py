"""The demo world: regions, about 50 entities, a user for every role, and a ledger worth opening.

Everything goes through the services, so the demo exercises the same write path as real users.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction

from ggzy.accounts.models import User
from ggzy.accounts.roles import Role
from ggzy.accounts.services import create_user
from ggzy.core.identifiers import make_resident_id, make_uscc
from ggzy.core.models import CalendarDay
from ggzy.ledger.services import append_event, sign_tree_head
from ggzy.registry import services
from ggzy.registry.models import Entity, Region

DEMO_PASSWORD = "Demo-2026-ggzy"
SYSTEM = "system:demo"

REGIONS = [
    ("320000", "江苏省", None),
    ("320100", "南京市", "320000"),
    ("320200", "无锡市", "320000"),
    ("320300", "徐州市", "320000"),
    ("320400", "常州市", "320000"),
    ("320500", "苏州市", "320000"),
    ("320600", "南通市", "320000"),
    ("520000", "贵州省", None),
    ("520100", "贵阳市", "520000"),
    ("520300", "遵义市", "520000"),
]

# (username, display name, roles, is Django staff)
PEOPLE = [
    ("admin", "系统管理员", [Role.CENTER_ADMIN], True),
    ("shouli", "受理岗 王敏", [Role.CENTER_INTAKE], True),
    ("zuzhi", "组织岗 李强", [Role.CENTER_OPERATIONS], True),
    ("guidang", "归档岗 张丽", [Role.CENTER_ARCHIVE], True),
    ("caiwu", "财务岗 陈静", [Role.CENTER_FINANCE], True),
    ("jianguan", "住建局 赵刚", [Role.REGULATOR], False),
    ("jijian", "纪委监委 孙洁", [Role.INSPECTOR], False),
    ("shenji", "审计局 周涛", [Role.AUDITOR], False),
    ("zhuanjia", "评标专家 吴刚", [Role.EXPERT], False),
]

# 2026 public holidays and make-up working days (国务院办公厅 2026 年部分节假日安排). The center
# confirms and edits this table in the back office.
HOLIDAYS_2026 = [
    *[(date(2026, 1, d), False, "元旦") for d in (1, 2)],
    (date(2026, 1, 4), True, "元旦调休上班"),
    *[(date(2026, 2, d), False, "春节") for d in (16, 17, 18, 19, 20, 23)],
    (date(2026, 2, 14), True, "春节调休上班"),
    (date(2026, 2, 28), True, "春节调休上班"),
    (date(2026, 4, 6), False, "清明节"),
    *[(date(2026, 5, d), False, "劳动节") for d in (1, 4, 5)],
    (date(2026, 5, 9), True, "劳动节调休上班"),
    (date(2026, 6, 19), False, "端午节"),
    (date(2026, 9, 25), False, "中秋节"),
    *[(date(2026, 10, d), False, "国庆节") for d in (1, 2, 5, 6, 7)],
    (date(2026, 9, 20), True, "国庆节调休上班"),
    (date(2026, 10, 10), True, "国庆节调休上班"),
]

PREFIXES = [
    "金陵",
    "锡山",
    "彭城",
    "龙城",
    "姑苏",
    "崇川",
    "黔城",
    "筑城",
    "遵道",
    "江海",
    "长江",
    "淮海",
    "紫金",
    "太湖",
    "云贵",
    "乌江",
    "钟山",
    "秦淮",
    "梁溪",
    "虎丘",
    "娄山",
    "花溪",
    "运河",
    "石湖",
]
TRADES = [
    ("建设工程有限公司", "enterprise", "bidder", ("建筑工程施工总承包", "一级")),
    ("市政工程集团有限公司", "enterprise", "bidder", ("市政公用工程施工总承包", "二级")),
    ("信息技术股份有限公司", "enterprise", "bidder", ("信息系统建设和服务能力", "CS3")),
    ("医疗器械有限公司", "enterprise", "bidder", ("医疗器械经营许可", "")),
    ("工程咨询有限公司", "enterprise", "agent", ("工程咨询单位甲级资信", "甲级")),
    ("招标代理有限公司", "enterprise", "agent", ("政府采购代理机构登记", "")),
    ("交通投资集团有限公司", "enterprise", "tenderer", None),
    ("人民医院", "institution", "tenderer", None),
    ("第一中学", "institution", "tenderer", None),
    ("住房和城乡建设局", "government", "tenderer", None),
]


@dataclass
class DemoResult:
    created: bool
    users: list[tuple[str, str, str]]
    entities: int


def _org_code(rng: random.Random) -> str:
    """A GB 11714 organisation code (8 characters + check) for positions 9–17 of the USCC."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = "".join(rng.choice(alphabet[:10] + "ABCDEFGHJKLMNPQRTUWXY") for _ in range(8))
    weights = [3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(
        (int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body, weights, strict=True)
    )
    check = 11 - total % 11
    return body + ("X" if check == 10 else "0" if check == 11 else str(check))


def load_demo() -> DemoResult:
    if User.objects.filter(username="admin").exists():
        return DemoResult(False, _user_lines(), Entity.objects.count())
    rng = random.Random(20261123)
    with transaction.atomic():
        for code, name, parent in REGIONS:
            Region.objects.get_or_create(code=code, defaults={"name": name, "parent_id": parent})
        for day, working, name in HOLIDAYS_2026:
            CalendarDay.objects.update_or_create(
                day=day, defaults={"is_working_day": working, "name": name}
            )
        append_event(
            actor=SYSTEM,
            event_type="core.calendar_loaded",
            subject="calendar:2026",
            payload={"days": len(HOLIDAYS_2026)},
        )
        for n, (username, display, roles, staff) in enumerate(PEOPLE):
            user = create_user(
                actor=SYSTEM,
                username=username,
                password=DEMO_PASSWORD,
                roles=list(roles),
                display_name=display,
                resident_id=make_resident_id(f"32010219{70 + n}0{n + 1}15{n + 1:03d}"),
                check_password=False,
            )
            if staff:
                User.objects.filter(pk=user.pk).update(
                    is_staff=True, is_superuser=username == "admin"
                )
        cities = [r for r in REGIONS if r[2] is not None]
        for i in range(50):
            suffix, etype, role, qual = TRADES[i % len(TRADES)]
            city_code, city_name, _ = cities[i % len(cities)]
            prefix = PREFIXES[i % len(PREFIXES)]
            authority = {"enterprise": "91", "institution": "12", "government": "11"}[etype]
            code = make_uscc(f"{authority}{city_code}{_org_code(rng)}")
            user = create_user(
                actor=SYSTEM,
                username=f"{role}{i + 1:02d}",
                password=DEMO_PASSWORD,
                roles=[role],
                display_name=f"{prefix}{suffix[:2]}经办人",
                check_password=False,
            )
            quals = []
            if qual:
                quals.append(
                    services.QualificationData(
                        qualification_type=qual[0],
                        grade=qual[1],
                        issuer=f"{city_name}住房和城乡建设局",
                        number=f"D{rng.randrange(10**8, 10**9)}",
                        valid_from=date(2023, 1, 1),
                        valid_until=date(2028, 12, 31) if i % 7 else date(2026, 6, 30),
                    )
                )
            entity = services.register_entity(
                actor=user,
                data=services.EntityData(
                    uscc=code,
                    name=f"{city_name[:-1]}{prefix}{suffix}"
                    if etype != "government"
                    else f"{city_name}{suffix}",
                    entity_type=etype,
                    legal_representative=rng.choice(["王", "李", "张", "刘", "陈", "杨"])
                    + rng.choice(["伟", "芳", "军", "静", "磊", "燕"]),
                    legal_representative_id=make_resident_id(
                        f"{city_code}19{rng.randrange(60, 99)}0{rng.randrange(1, 9)}1{rng.randrange(0, 9)}{rng.randrange(100, 999)}"
                    ),
                    address=f"{city_name}{prefix}路{rng.randrange(1, 300)}号",
                    region=city_code,
                    is_bidder=role == "bidder",
                    is_tenderer=role == "tenderer",
                    is_agent=role == "agent",
                    registered_capital=Decimal(rng.randrange(100, 50000) * 10000)
                    if etype == "enterprise"
                    else None,
                    bank_name=f"中国建设银行{city_name}分行",
                    bank_account=f"3205{rng.randrange(10**15, 10**16)}",
                    licence_valid_from=date(2010 + i % 10, 1 + i % 12, 1),
                    contacts=[
                        services.ContactData(
                            name=f"{prefix}联系人", phone=f"13{rng.randrange(10**8, 10**9)}"
                        )
                    ],
                    qualifications=quals,
                ),
            )
            if i % 5 == 0:
                services.update_entity(
                    actor=user,
                    entity=entity,
                    changes={"address": f"{city_name}{prefix}大道{rng.randrange(1, 99)}号"},
                )
        sign_tree_head()
    return DemoResult(True, _user_lines(), Entity.objects.count())


def _user_lines() -> list[tuple[str, str, str]]:
    lines = [(u, d, ",".join(r.value for r in roles)) for u, d, roles, _ in PEOPLE]
    lines += [
        ("bidder01", "投标人（市场主体管理员）", "bidder"),
        ("tenderer07", "招标人", "tenderer"),
        ("agent05", "招标代理", "agent"),
    ]
    return lines
