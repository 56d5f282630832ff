"""The demo's external trading system (第三方电子交易系统): 某市建设工程电子交易系统, operated by
a demo agency, accredited by the demo's center administrator, sends one project's announcement,
opening record and candidates through :func:`ggzy.exchange.ingest.ingest` — so the portal shows
a project from another source beside the platform's own. Idempotent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ggzy.accounts.models import User
from ggzy.core import clock
from ggzy.exchange import ingest
from ggzy.exchange.models import ExternalSystem
from ggzy.registry.models import Entity, EntityStatus

CODE = "city-etrade"
NAME = "某市建设工程电子交易系统"
PROJECT = "JSGC-2026-0088"
TITLE = "【演示】滨江大道市政配套工程施工"


@dataclass
class DemoExternal:
    created: bool
    code: str = CODE
    project: str = f"{CODE}.{PROJECT}"
    key: str = ""  # the API key, when issued by this run (shown this once)


def _records(now: Any) -> list[dict[str, Any]]:
    base = {"project_code": PROJECT, "section_code": "BD1", "category": "works",
            "region": "320100", "procedure": "open",
            "url": f"https://etrade.example.cn/projects/{PROJECT}"}  # fmt: skip
    day = timedelta(days=1)
    return [
        {**base, "record_id": f"{PROJECT}-ann", "kind": "announcement", "status": "announced",
         "title": f"{TITLE}招标公告", "published_at": (now - 20 * day).isoformat(),
         "body": "招标范围：滨江大道市政配套工程施工，计划工期240日历天。", "data": {"budget":
         "38600000.00"}},
        {**base, "record_id": f"{PROJECT}-open", "kind": "opening", "status": "opened",
         "title": f"{TITLE}开标记录", "published_at": (now - 3 * day).isoformat(),
         "body": "共5家投标人递交投标文件，均已解密。", "data": {"bidders": 5}},
        {**base, "record_id": f"{PROJECT}-cand", "kind": "candidates", "status": "publicity",
         "title": f"{TITLE}中标候选人公示", "published_at": now.isoformat(),
         "body": "第一中标候选人：某建设集团有限公司，投标报价36,980,000.00元。",
         "data": {"publicity_days": 3}},
    ]  # fmt: skip


def load_demo_external() -> DemoExternal:
    if ExternalSystem.objects.filter(code=CODE).exists():
        return DemoExternal(created=False)
    admin = User.objects.get(username="admin")
    operator = (
        Entity.objects.filter(status=EntityStatus.ACTIVE, is_agent=True).order_by("pk").first()
        or Entity.objects.filter(status=EntityStatus.ACTIVE).order_by("pk").first()
    )
    if operator is None:
        return DemoExternal(created=False)
    system, key = ingest.accredit(actor=admin, code=CODE, name=NAME, operator=operator,
                                  homepage="https://etrade.example.cn")  # fmt: skip
    for n, raw in enumerate(_records(clock.now()), start=1):
        ingest.ingest(system=system, idempotency_key=f"demo-{n}", raw=raw)
    return DemoExternal(created=True, key=key)
