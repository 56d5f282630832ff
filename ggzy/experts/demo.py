"""The demo expert pool: a specialty taxonomy and about 60 experts in the demo's regions —
including the demo user ``zhuanjia`` (applied and approved), two applications waiting in the
queue, a suspended and a retired expert — so a draw can be shown. Everything through the
services, like the rest of the demo; idempotent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction

from ggzy.accounts.models import User
from ggzy.accounts.roles import Role
from ggzy.accounts.services import create_user
from ggzy.core import clock
from ggzy.core.identifiers import make_resident_id
from ggzy.experts import services, taxonomy
from ggzy.experts.checks import ExpertData
from ggzy.experts.models import Expert, Specialty
from ggzy.registry.models import Entity, EntityStatus

SYSTEM = "system:demo"
DEMO_PASSWORD = "Demo-2026-ggzy"

# (code, name, works) — works: R20 applies; children inherit
TAXONOMY = [
    ("A", "工程类", True),
    ("A01", "房屋建筑工程", None),
    ("A01.01", "土建", None),
    ("A01.02", "给排水", None),
    ("A01.03", "建筑电气", None),
    ("A01.04", "暖通空调", None),
    ("A02", "市政公用工程", None),
    ("A02.01", "道路桥梁", None),
    ("A02.02", "给水排水管网", None),
    ("A03", "交通工程", None),
    ("A03.01", "公路", None),
    ("A04", "水利水电工程", None),
    ("A05", "工程造价", None),
    ("B", "货物类", False),
    ("B01", "信息化设备", None),
    ("B01.01", "计算机及网络设备", None),
    ("B02", "医疗设备", None),
    ("B03", "办公设备及家具", None),
    ("C", "服务类", False),
    ("C01", "信息技术服务", None),
    ("C02", "物业管理", None),
    ("C03", "工程咨询与监理", None),
    ("D", "经济与法律", False),
    ("D01", "财务会计", None),
    ("D02", "法律", None),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["建国", "海燕", "志强", "丽华", "永明", "晓东", "秀英", "卫东", "国平", "文静",
         "建华", "立新", "红梅", "振宇", "春生"]  # fmt: skip
# (specialty, others, title level, title name)
PROFILES = [
    ("A01.01", ["A05"], "associate_senior", "高级工程师"),
    ("A01.02", ["A01.04"], "senior", "正高级工程师"),
    ("A01.03", [], "associate_senior", "高级工程师"),
    ("A02.01", ["A03.01"], "senior", "教授级高级工程师"),
    ("A02.02", [], "associate_senior", "高级工程师"),
    ("A03.01", ["A02.01"], "associate_senior", "高级工程师"),
    ("A04", [], "senior", "正高级工程师"),
    ("A05", ["A01.01"], "associate_senior", "高级经济师"),
    ("B01.01", ["C01"], "intermediate", "工程师"),
    ("B02", [], "associate_senior", "副主任医师"),
    ("B03", [], "intermediate", "经济师"),
    ("C02", [], "intermediate", "经济师"),
    ("C03", ["A05"], "associate_senior", "高级工程师"),
    ("D01", [], "associate_senior", "高级会计师"),
    ("D02", [], "intermediate", "律师"),
]
CITIES = ["320100", "320200", "320300", "320400", "320500", "320600", "520100", "520300"]
POOL_SIZE = 60


@dataclass
class DemoExperts:
    created: bool
    experts: int
    specialties: int


def _resident_id(city: str, i: int) -> str:
    return make_resident_id(f"{city}19{60 + i % 30}{1 + i % 12:02d}{1 + i % 28:02d}{i:03d}")


def load_demo_experts() -> DemoExperts:
    if Specialty.objects.exists():
        return DemoExperts(False, Expert.objects.count(), Specialty.objects.count())
    admin = User.objects.get(username="admin")
    employers = list(Entity.objects.filter(status=EntityStatus.ACTIVE).order_by("pk"))
    with transaction.atomic():
        for code, name, works in TAXONOMY:
            taxonomy.create_specialty(actor=admin, code=code, name=name, is_works=works)
        made = [_demo_user_expert(admin, employers[0])]
        for i in range(POOL_SIZE - 1):
            specialty, others, level, title = PROFILES[i % len(PROFILES)]
            city = CITIES[i % len(CITIES)]
            made.append(services.register_expert(actor=admin, data=ExpertData(
                name=SURNAMES[i % len(SURNAMES)] + GIVEN[(i * 7) % len(GIVEN)],
                resident_id=_resident_id(city, i + 1),
                phone=f"139{i + 1:08d}",
                title_level=level,
                title_name=title,
                years_in_field=8 + (i * 5) % 27,
                employer=employers[(i * 3 + 1) % len(employers)].uscc,
                region=city,
                primary_specialty=specialty,
                other_specialties=others,
            )))  # fmt: skip
        today = clock.today()
        services.suspend_expert(actor=admin, expert=made[5], reason="评标活动中迟到两次",
                                until=today + timedelta(days=90))  # fmt: skip
        services.retire_expert(actor=admin, expert=made[9], reason="本人申请退出")
        services.add_unavailability(actor=admin, expert=made[1], start=today + timedelta(days=7),
                                    end=today + timedelta(days=9), reason="出差")  # fmt: skip
        services.declare_conflict(actor=admin, expert=made[2], entity=employers[4],
                                  reason="配偶在该单位任职")  # fmt: skip
        for n, (specialty, years, level) in enumerate([("A01.01", 10, "associate_senior"),
                                                       ("A02.01", 6, "intermediate")]):  # fmt: skip
            applicant = create_user(actor=SYSTEM, username=f"zhuanjia{n + 2:02d}",
                                    password=DEMO_PASSWORD, roles=[Role.EXPERT],
                                    display_name=f"申请入库专家{n + 2}", check_password=False)  # fmt: skip
            services.apply(actor=applicant, data=ExpertData(
                name=f"申请人{SURNAMES[n]}{GIVEN[n]}", resident_id=_resident_id("320100", 900 + n),
                phone=f"1370000000{n}", title_level=level, title_name="工程师",
                years_in_field=years, employer=employers[n + 2].uscc, region="320100",
                primary_specialty=specialty,
            ))  # fmt: skip
    return DemoExperts(True, Expert.objects.count(), Specialty.objects.count())


def _demo_user_expert(admin: User, employer: Entity) -> Expert:
    """The demo user ``zhuanjia`` applies and is approved, like any expert."""
    user = User.objects.get(username="zhuanjia")
    expert = services.apply(actor=user, data=ExpertData(
        name=user.display_name.split()[-1] or "吴刚", resident_id=user.resident_id,
        phone="13912345678", title_level="senior", title_name="教授级高级工程师",
        years_in_field=22, employer=employer.uscc, region="320100",
        primary_specialty="A01.01", other_specialties=["A02.01", "A05"],
    ))  # fmt: skip
    return services.approve_application(actor=admin, expert=expert)
