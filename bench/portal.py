"""Public portal and change feed (issue 6): requests/s of the portal's list and project pages and
of the JSON listing, served by gunicorn on PostgreSQL with 200,000 public records, loaded by
``wrk`` from a second process on loopback; and the change feed read by one client from the
start to the end, records/s.

    .venv/bin/python bench/portal.py            # 200,000 records, 30 s per measurement
    .venv/bin/python bench/portal.py --quick    # 20,000 records, 10 s per measurement

Setup (not timed): the database ``ggzy_bench_portal`` (dropped and created, migrated); the
default catalog (``install_default_catalog``) and 81 regions of Jiangsu (a provincial
platform); then ``--records`` ``PublicRecord`` rows written with COPY: ~5 records per project
(announcement, 0–2 clarifications, the opening record or a failure, candidates, award,
contract) over two years, categories / procedures / regions / statuses as the builders write
them, Chinese titles, bodies (an announcement ~1,500 characters, the others as short as the
builders make them) and ``data``; feed positions in the order the records changed, every
``changed_at`` months in the past (the feed's settle delay holds nothing back).
``ProjectorState`` points at the ledger head and at the last position, so ``catch_up()`` finds
nothing to do (no ledger events are behind the records: none are replayed). ANALYZE.

Served: ``gunicorn ggzy.wsgi:application -w 2×nproc`` (sync workers, no access log, DEBUG off,
``GGZY_LEDGER_*`` unset: the production configuration; ``ggzy serve`` is Django's development
server and is not measured). Timed, each for ``--duration`` seconds after a warm-up, with
``wrk -t2 -c<--connections, default = workers>`` (a Lua script picks a random path of the scenario
per request and prints the percentiles), after 3 s of the same load not measured: a worker's
first request imports the URLconf and views (~2.7 s), which otherwise shows as multi-second
tails: the portal's first page, a filtered page (category + region), the deepest
page (500), project pages (random projects), the JSON listing (first and filtered page).
**Baseline**, same server, same tool: ``GET /api/v1/info`` (the middleware stack and the API
framework, no query); every page's ratio to it. A *floor* beside it: the change feed asked past
its end (``catch_up()``'s three reads and one indexed query, an empty page) — what any read of
the projection costs before it renders anything. Server CPU per request (gunicorn workers and the
PostgreSQL backends, from ``/proc``) beside it. Queries per page are counted in a child with
``CaptureQueriesContext`` (the tests assert they do not grow with the data).

Change feed: one client follows ``/api/v1/disclosure/changes?limit=1000`` from ``after=0`` to
``has_more: false`` over HTTP (stdlib ``http.client``, ``orjson``), checks it got every record
exactly once (count, unique keys, increasing positions). **Baseline**, same run: raw ``psycopg``
keyset pages ``SELECT <the same columns> … WHERE seq > %s ORDER BY seq LIMIT 1000`` and
``orjson.dumps`` of each page, in one process.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import common  # noqa: E402

DB_NAME = "ggzy_bench_portal"
HOST = "127.0.0.1"
GUNICORN = str(REPO / ".venv" / "bin" / "gunicorn")
FEED_COLUMNS = ("key", "seq", "kind", "source", "project_code", "section_code", "title", "body",
                "category", "region", "procedure", "status", "published_at", "changed_at", "url",
                "data")  # fmt: skip
COPY_COLUMNS = (*FEED_COLUMNS, "search_text", "ledger_seq")
START = datetime(2024, 10, 1, tzinfo=UTC)  # projects published over two years from here
SPAN = timedelta(days=730) - timedelta(days=75)  # the last contract still months before "now"

# --- vocabulary ---------------------------------------------------------------------------------

CITIES = {  # Jiangsu: city -> districts (GB/T 2260)
    "320100": ("南京市", {"320102": "玄武区", "320104": "秦淮区", "320105": "建邺区",
               "320106": "鼓楼区", "320111": "浦口区", "320113": "栖霞区", "320115": "江宁区"}),
    "320200": ("无锡市", {"320205": "锡山区", "320206": "惠山区", "320211": "滨湖区",
               "320213": "梁溪区", "320214": "新吴区", "320281": "江阴市", "320282": "宜兴市"}),
    "320300": ("徐州市", {"320302": "鼓楼区", "320303": "云龙区", "320311": "泉山区",
               "320312": "铜山区", "320321": "丰县", "320322": "沛县"}),
    "320400": ("常州市", {"320402": "天宁区", "320404": "钟楼区", "320411": "新北区",
               "320412": "武进区", "320413": "金坛区", "320481": "溧阳市"}),
    "320500": ("苏州市", {"320505": "虎丘区", "320506": "吴中区", "320507": "相城区",
               "320508": "姑苏区", "320509": "吴江区", "320581": "常熟市", "320582": "张家港市",
               "320583": "昆山市", "320585": "太仓市"}),
    "320600": ("南通市", {"320612": "通州区", "320613": "崇川区", "320614": "海门区",
               "320623": "如东县", "320681": "启东市", "320682": "如皋市"}),
    "320700": ("连云港市", {"320703": "连云区", "320706": "海州区", "320707": "赣榆区"}),
    "320800": ("淮安市", {"320803": "淮安区", "320804": "淮阴区", "320812": "清江浦区",
               "320813": "洪泽区"}),
    "320900": ("盐城市", {"320902": "亭湖区", "320903": "盐都区", "320904": "大丰区",
               "320981": "东台市"}),
    "321000": ("扬州市", {"321002": "广陵区", "321003": "邗江区", "321012": "江都区",
               "321081": "仪征市", "321084": "高邮市"}),
    "321100": ("镇江市", {"321102": "京口区", "321111": "润州区", "321112": "丹徒区",
               "321181": "丹阳市"}),
    "321200": ("泰州市", {"321202": "海陵区", "321203": "高港区", "321204": "姜堰区",
               "321281": "兴化市", "321283": "泰兴市"}),
    "321300": ("宿迁市", {"321302": "宿城区", "321311": "宿豫区", "321322": "沭阳县"}),
}  # fmt: skip
PLACES = [(city, name, city, name) for city, (name, _) in CITIES.items()] + [
    (code, district, city, name)
    for city, (name, districts) in CITIES.items()
    for code, district in districts.items()
]  # (region code, place name, city code, city name)
CATEGORIES = [("works", "GC", 50), ("procurement", "ZC", 38), ("land", "TD", 6),
              ("state-property", "CQ", 4), ("mining", "KY", 2)]  # fmt: skip
PROCEDURES = {"works": ["open_tender", "open_tender", "invited_tender"],
              "procurement": ["open_tender", "competitive_consultation", "competitive_negotiation",
                              "inquiry", "single_source"],
              "land": ["listing", "auction"], "state-property": ["listing"],
              "mining": ["listing", "auction"]}  # fmt: skip
SUBJECTS = {
    "works": ["第一中学教学楼", "人民医院门诊楼", "城市主干道", "跨江大桥", "污水处理厂", "供水管网",
              "安置房小区", "体育馆", "图书馆", "河道整治", "老旧小区", "燃气管道", "垃圾中转站",
              "产业园区道路", "地下综合管廊", "公园绿化", "农村公路", "水库除险加固", "幼儿园"],
    "procurement": ["办公设备", "医疗设备", "教学设备", "信息化系统", "视频监控系统", "公务用车",
                    "食材配送服务", "物业管理服务", "保洁服务", "安保服务", "网络安全设备",
                    "服务器及存储", "实验室仪器", "课桌椅", "空调设备", "救护车"],
    "land": ["国有建设用地使用权", "商住用地", "工业用地", "仓储用地"],
    "state-property": ["国有股权", "房产租赁", "车辆处置", "设备资产"],
    "mining": ["采矿权", "建筑用砂石矿"],
}  # fmt: skip
WORKS = {"works": ["施工", "监理", "设计", "施工总承包", "改造工程", "新建工程", "维修工程"],
         "procurement": ["采购项目", "服务项目", "运维服务"], "land": ["挂牌出让", "拍卖出让"],
         "state-property": ["挂牌转让", "公开招租"], "mining": ["挂牌出让"]}  # fmt: skip
OWNERS = ["教育局", "卫生健康委员会", "住房和城乡建设局", "交通运输局", "水务局", "城市管理局",
          "财政局", "公安局", "自然资源和规划局", "城投集团有限公司", "人民医院", "第一中学"]  # fmt: skip
FIRMS = ["建设工程", "建筑安装", "市政工程", "路桥工程", "信息技术", "科技发展", "医疗器械",
         "物业管理", "环境工程", "水利工程", "装饰工程", "设备"]  # fmt: skip
FUNDS = ["财政资金", "自筹资金", "专项债券资金", "财政资金和自筹资金"]


def _firm(rnd: random.Random, city: str) -> dict[str, str]:
    n = rnd.randrange(100_000)
    name = f"{city}{'华瑞中天宏远恒信金诚鼎盛'[n % 11]}{rnd.choice(FIRMS)}有限公司"
    return {"name": name, "uscc": f"91{n:06d}MA{hashlib.md5(str(n).encode()).hexdigest()[:8].upper()}"}  # fmt: skip


def _announcement_body(p: dict[str, Any], rnd: random.Random) -> str:
    days = rnd.randint(60, 900)
    price = p["budget"]
    return (
        f"一、招标条件\n本招标项目{p['name']}已由{p['place']}发展和改革局以{p['place'][:2]}发改"
        f"〔{p['year']}〕{rnd.randint(10, 300)}号批准建设，招标人为{p['owner']}，建设资金来自"
        f"{rnd.choice(FUNDS)}，出资比例为100%。项目已具备招标条件，现对该项目进行公开招标。\n"
        f"二、项目概况与招标范围\n建设地点：{p['city_name']}{p['place']}。建设规模：总建筑面积约"
        f"{rnd.randint(2000, 90000)}平方米，最高投标限价{price}元。计划工期：{days}日历天。"
        f"招标范围：施工图纸及工程量清单所包含的全部内容，包括土建、安装、装饰装修、室外配套等。"
        f"标段划分：本项目划分为1个标段。\n三、投标人资格要求\n1. 投标人须具备独立法人资格，"
        f"具有建设行政主管部门核发的相应专业承包资质，并在人员、设备、资金等方面具有相应的施工"
        f"能力；拟派项目负责人须具备相应专业注册建造师执业资格，具备有效的安全生产考核合格证书，"
        f"且未担任其他在建工程项目的项目负责人。2. 近三年内在类似工程中无重大质量、安全事故，"
        f"未被列入失信被执行人名单、重大税收违法失信主体名单和政府采购严重违法失信行为记录名单。"
        f"3. 本次招标不接受联合体投标。\n四、招标文件的获取\n凡有意参加投标者，请于公告发布之日起"
        f"登录{p['city_name']}公共资源交易平台，使用数字证书免费下载招标文件及相关资料，获取时间"
        f"不少于5日。招标文件获取截止时间同投标截止时间。\n五、投标文件的递交\n投标文件递交的截止"
        f"时间（投标截止时间，下同）为开标当日9时30分，投标人应在截止时间前通过交易平台递交加密的"
        f"电子投标文件。逾期送达或未按要求加密的投标文件，交易平台将予以拒收。开标采用远程不见面"
        f"方式，投标人在开标后规定时间内使用数字证书完成解密。\n六、投标保证金\n投标保证金金额为"
        f"{int(float(price)) // 50}元，可采用银行保函、保险保单或电子保函等非现金形式提交。\n七、发布公告的"
        f"媒介\n本次招标公告同时在中国招标投标公共服务平台、{p['city_name']}公共资源交易平台上发布。"
        f"\n八、联系方式\n招标人：{p['owner']}，地址：{p['city_name']}{p['place']}，联系人：王工，"
        f"电话：0{rnd.randint(510, 527)}-{rnd.randint(10000000, 89999999)}。招标代理机构："
        f"{p['agent']['name']}，联系人：李工，电话：0{rnd.randint(510, 527)}-"
        f"{rnd.randint(10000000, 89999999)}。\n"
    )


def _project(n: int, rnd: random.Random) -> dict[str, Any]:
    region, place, _city, city_name = rnd.choice(PLACES)
    category, trading, _ = rnd.choices(CATEGORIES, [w for *_, w in CATEGORIES])[0]
    published = START + SPAN * rnd.random()
    subject = rnd.choice(SUBJECTS[category])
    name = f"{place if place != city_name else ''}{subject}{rnd.choice(WORKS[category])}"
    return {
        "public_id": f"prj_{n:07d}", "code": f"{region}{published.year}{trading}{n:06d}",
        "section": f"sec_{n:07d}", "name": f"{city_name}{name}", "region": region,
        "place": place, "city_name": city_name, "category": category, "year": published.year,
        "procedure": rnd.choice(PROCEDURES[category]), "published": published,
        "owner": f"{city_name}{place if place != city_name else ''}{rnd.choice(OWNERS)}",
        "agent": _firm(rnd, city_name), "budget": f"{rnd.randint(50, 90000) * 10000}.00",
    }  # fmt: skip


def project_records(n: int, rnd: random.Random) -> list[dict[str, Any]]:
    """The disclosed records of one project, in the order they were disclosed."""
    p = _project(n, rnd)
    out: list[dict[str, Any]] = []
    at = p["published"]
    fails = rnd.random() < 0.05
    stages = ["announcement"] + ["clarification"] * rnd.choices([0, 1, 2], [70, 20, 10])[0]
    stages += ["failure"] if fails else ["opening", "candidates", "award", "contract"]
    if not fails and rnd.random() < 0.15:
        stages.pop()  # the contract not yet published
    final = {"failure": "failed", "opening": "opened", "candidates": "publicity",
             "award": "awarded", "contract": "contracted"}[stages[-1]]  # fmt: skip
    bidders = [_firm(rnd, p["city_name"]) for _ in range(rnd.randint(3, 8))]
    prices = sorted(int(float(p["budget"]) * rnd.uniform(0.82, 0.99)) for _ in bidders)
    project_url, section_url = f"/projects/{p['public_id']}/", f"/award/sections/{p['section']}/"
    for number, stage in enumerate(stages):
        at += timedelta(days=rnd.uniform(2, 25), seconds=rnd.randint(0, 86_399))
        where = {"category": p["category"], "region": p["region"], "procedure": p["procedure"]}
        rec: dict[str, Any] = {"project_code": p["code"], "section_code": f"{p['code']}001",
                               "published_at": p["published"] if stage == "announcement" else at,
                               "source": "", **where}  # fmt: skip
        if stage == "announcement":
            rec.update(key=f"announcement:{p['public_id']}", title=f"{p['name']}招标公告",
                       body=_announcement_body(p, rnd), status=final, url=project_url,
                       section_code="", data={
                           "project": p["public_id"], "trading_code": p["code"], "name": p["name"],
                           **where, "tenderer": {"name": p["owner"]}, "agent": p["agent"],
                           "budget": p["budget"], "funding_source": rnd.choice(FUNDS),
                           "published_at": p["published"].isoformat(),
                           "sections": [{"section": p["section"], "code": f"{p['code']}001",
                                         "number": 1, "name": "第一标段", "max_price": p["budget"],
                                         "status": final}],
                           "documents": [{"name": "招标文件.pdf", "kind": "tender",
                                          "sha256": hashlib.sha256(p["code"].encode()).hexdigest()}],
                       })  # fmt: skip
            at = p["published"]
        elif stage == "clarification":
            rec.update(key=f"clarification:{p['public_id']}:{number}",
                       title=f"{p['name']}澄清与修改（第{number}次）", status="issued",
                       body=f"各潜在投标人：{p['name']}招标文件第三章“评标办法”第2.2.4项及工程量"
                            f"清单第{rnd.randint(3, 40)}项作如下修改：原“{rnd.randint(2, 9)}项”"
                            f"修改为“{rnd.randint(2, 9)}项”，投标截止时间及开标时间不变。本澄清与"
                            f"修改是招标文件的组成部分，与招标文件具有同等效力，请各投标人据此编制"
                            f"投标文件。如有疑问请与招标代理机构联系。",
                       url=f"{project_url}#clarification-{number}", section_code="",
                       data={"project": p["public_id"], "number": number,
                             "title": f"第{number}次澄清"})  # fmt: skip
        elif stage == "failure":
            rec.update(key=f"failure:{p['section']}", title=f"{p['name']} 第一标段 流标公告",
                       body="递交投标文件的投标人少于3个，本标段流标。", status="failed",
                       url=project_url, data={"section": p["section"], "reason": "too_few_bids",
                                              "at": at.isoformat()})  # fmt: skip
        elif stage == "opening":
            bids = [{"bidder": b["name"], "uscc": b["uscc"], "price": f"{x}.00"}
                    for b, x in zip(bidders, prices, strict=True)]  # fmt: skip
            rec.update(key=f"opening:{p['section']}", title=f"{p['name']} 第一标段 开标记录",
                       body=" ".join(b["name"] for b in bidders), status="opened",
                       url=project_url, data={"section": p["section"], "record": {"bids": bids},
                                              "signature": hashlib.sha512(p["code"].encode()).hexdigest(),
                                              "record_seq": n})  # fmt: skip
        elif stage == "candidates":
            rows = [{"rank": i + 1, "bidder": b, "price": f"{x}.00", "withdrawn": False}
                    for i, (b, x) in enumerate(zip(bidders[:3], prices[:3], strict=True))]  # fmt: skip
            rec.update(key=f"candidates:{p['section']}", status=final, url=section_url,
                       title=f"{p['name']} 第一标段 中标候选人公示",
                       body=" ".join(f"第{r['rank']}名 {r['bidder']['name']}" for r in rows),
                       data={"section": p["section"], "starts_at": at.isoformat(),
                             "ends_at": (at + timedelta(days=3)).isoformat(),
                             "candidates": rows})  # fmt: skip
        elif stage == "award":
            rec.update(key=f"award:{p['section']}", status=final, url=section_url,
                       title=f"{p['name']} 第一标段 中标结果公告",
                       body=f"中标人：{bidders[0]['name']}，中标金额：{prices[0]}.00元",
                       data={"section": p["section"], "winner": bidders[0], "rank": 1,
                             "amount": f"{prices[0]}.00", "issued_at": at.isoformat(),
                             "record_sha256": hashlib.sha256(p["section"].encode()).hexdigest()})  # fmt: skip
        else:
            rec.update(key=f"contract:{p['section']}", status="contracted", url=section_url,
                       title=f"{p['name']} 第一标段 合同公开",
                       body=f"合同金额：{prices[0]}.00元，签订日期：{at.date()}，供应商/承包人："
                            f"{bidders[0]['name']}",
                       data={"section": p["section"], "supplier": bidders[0],
                             "amount": f"{prices[0]}.00", "signed_on": str(at.date())})  # fmt: skip
        rec["kind"] = stage
        rec["changed_at"] = max(rec["published_at"], at) + timedelta(seconds=rnd.randint(1, 60))
        out.append(rec)
    # the announcement shows the project's status: its last version is the last change
    out[0]["changed_at"] = out[-1]["changed_at"] + timedelta(seconds=1)
    return out


# --- child: load the records --------------------------------------------------------------------


def child_seed(args: argparse.Namespace) -> dict[str, Any]:
    common.child_setup()
    import orjson
    from django.db import connection, transaction

    from ggzy.catalog.services import install_default_catalog
    from ggzy.disclosure import projector
    from ggzy.disclosure.models import ProjectorState, PublicRecord
    from ggzy.ledger.models import Event
    from ggzy.registry.models import Region

    t = time.perf_counter()
    install_default_catalog(actor="system:bench")
    Region.objects.get_or_create(code="320000", defaults={"name": "江苏省"})
    for city, (name, districts) in CITIES.items():
        Region.objects.get_or_create(code=city, defaults={"name": name, "parent_id": "320000"})
        for code, district in districts.items():
            Region.objects.get_or_create(code=code, defaults={"name": district, "parent_id": city})
    rnd = random.Random(20261204)
    rows: list[dict[str, Any]] = []
    projects = 0
    while len(rows) < args.records:
        projects += 1
        rows += project_records(projects, rnd)
    rows = rows[: args.records]
    rows.sort(key=lambda r: r["changed_at"])  # positions in the order the records changed
    generate_s = time.perf_counter() - t
    t = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        cols = ", ".join(COPY_COLUMNS)
        with cur.cursor.copy(f"COPY disclosure_publicrecord ({cols}) FROM STDIN") as copy:
            for seq, r in enumerate(rows, 1):
                copy.write_row([*(r[c] for c in FEED_COLUMNS[:1]), seq,
                                *(r[c] for c in FEED_COLUMNS[2:-1]),
                                orjson.dumps(r["data"]).decode(), "", None])  # fmt: skip
        head = Event.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
        ProjectorState.objects.update_or_create(
            pk=1, defaults={"ledger_seq": head, "record_seq": len(rows)}
        )
    copy_s = time.perf_counter() - t
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE disclosure_publicrecord")
        cur.execute("SELECT pg_total_relation_size('disclosure_publicrecord')")
        size = cur.fetchone()[0]
    outcome = projector.catch_up()
    assert outcome.events == 0 and outcome.written == 0, outcome
    assert PublicRecord.objects.count() == len(rows)
    codes = sorted({r["project_code"] for r in rows})
    sample = random.Random(7).sample(codes, min(1000, len(codes)))
    return {"records": len(rows), "projects": projects, "ledger_head": head,
            "kinds": {k: sum(r["kind"] == k for r in rows) for k in
                      ("announcement", "clarification", "opening", "failure", "candidates", "award",
                       "contract")},
            "body_chars_mean": sum(len(r["body"]) for r in rows) / len(rows),
            "table_bytes": size, "generate_s": generate_s, "copy_s": copy_s,
            "project_codes": sample}  # fmt: skip


def child_queries(args: argparse.Namespace) -> dict[str, Any]:
    """Queries per page, counted through Django's test client on the loaded database."""
    common.child_setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    out = {}
    for name, path in json.loads(args.paths).items():
        with CaptureQueriesContext(connection) as ctx:
            status = Client().get(path).status_code
        assert status == 200, (path, status)
        out[name] = [len(ctx.captured_queries), [q["sql"][:200] for q in ctx.captured_queries]]
    return out


def child_feed_baseline(args: argparse.Namespace) -> dict[str, Any]:
    """Raw psycopg keyset pages of the feed's columns + orjson.dumps, same page size."""
    import orjson
    import psycopg
    from psycopg.rows import dict_row

    sql = (f"SELECT {', '.join(FEED_COLUMNS)} FROM disclosure_publicrecord WHERE seq > %s "
           "ORDER BY seq LIMIT 1000")  # fmt: skip
    with psycopg.connect(os.environ["DATABASE_URL"], row_factory=dict_row) as conn:
        conn.execute(sql, (0,)).fetchall()  # warm
        t = time.perf_counter()
        after, n, size = 0, 0, 0
        while True:
            rows = conn.execute(sql, (after,)).fetchall()
            if not rows:
                break
            size += len(orjson.dumps({"records": rows, "next_cursor": str(rows[-1]["seq"])}))
            after, n = rows[-1]["seq"], n + len(rows)
        elapsed = time.perf_counter() - t
    return {"records": n, "seconds": elapsed, "per_s": n / elapsed, "bytes": size}


# --- the server and the load --------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=120)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def _ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


class CpuMeter:
    """CPU time of gunicorn (master and workers) and of this database's PostgreSQL backends
    while a measurement runs, sampled from /proc every 0.2 s (backends come and go with
    ``CONN_MAX_AGE``: a new one counts from zero, one that ends counts up to its last sample)."""

    def __init__(self, master: int) -> None:
        kids = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        self.server = [master, *map(int, kids)]
        self.tag = f" {DB_NAME} ".encode()
        self.start: dict[int, int] = {}
        self.last: dict[int, int] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _backends(self) -> list[int]:
        out = []
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                with contextlib.suppress(OSError):
                    cmd = Path(entry.path, "cmdline").read_bytes()
                    if cmd.startswith(b"postgres: ") and self.tag in cmd:
                        out.append(int(entry.name))
        return out

    def _sample(self) -> None:
        for pid in self._backends() + [-p for p in self.server]:
            with contextlib.suppress(OSError):
                self.last[pid] = _ticks(abs(pid))

    def __enter__(self) -> CpuMeter:
        self._sample()
        self.start = dict(self.last)
        self.thread.start()
        return self

    def _run(self) -> None:
        while not self.stop.wait(0.2):
            self._sample()

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()
        self._sample()

    def seconds(self, server: bool) -> float:
        total = sum(
            v - self.start.get(pid, 0) for pid, v in self.last.items() if (pid < 0) == server
        )
        return total / os.sysconf("SC_CLK_TCK")


LUA = """
local paths = {%s}
local n = #paths
local threads = 0
setup = function(thread) threads = threads + 1; thread:set("id", threads) end
init = function(args) math.randomseed(os.time() * 7919 + id) end
request = function() return wrk.format("GET", paths[math.random(n)]) end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests": %%d, "duration_us": %%d, "bytes": %%d, ' ..
    '"p50_us": %%d, "p95_us": %%d, "p99_us": %%d, "max_us": %%d, "connect": %%d, "read": %%d, ' ..
    '"write": %%d, "status": %%d, "timeout": %%d}\\n', summary.requests, summary.duration,
    summary.bytes, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def wrk(port: int, paths: list[str], duration: int, connections: int, work: Path) -> dict[str, Any]:
    script = work / "paths.lua"
    script.write_text(LUA % ", ".join(json.dumps(p) for p in paths))
    argv = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--timeout", "30s", "-s",
            str(script), f"http://{HOST}:{port}"]  # fmt: skip
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("WRKJSON "))
    r = json.loads(line.removeprefix("WRKJSON "))
    r["per_s"] = r["requests"] / (r["duration_us"] / 1e6)
    return r


def measure(port: int, master: int, paths: list[str], args: argparse.Namespace,
            work: Path) -> dict[str, Any]:  # fmt: skip
    for p in paths[:8]:  # check the page answers 200
        status, body = get(port, p)
        assert status == 200, (p, status, body[:300])
    # then warm every worker on it concurrently: a worker's first request imports the URLconf and
    # the views (~2.7 s), its first page compiles the templates, its first query connects
    wrk(port, paths, 3, 2 * args.workers, work)
    with CpuMeter(master) as cpu:
        r = wrk(port, paths, args.duration, args.connections, work)
    r["server_cpu_ms"] = cpu.seconds(server=True) * 1000 / max(r["requests"], 1)
    r["pg_cpu_ms"] = cpu.seconds(server=False) * 1000 / max(r["requests"], 1)
    r["bytes_per_request"] = r["bytes"] / max(r["requests"], 1)
    return r


def read_feed(port: int) -> dict[str, Any]:
    import orjson

    conn = http.client.HTTPConnection(HOST, port, timeout=120)
    keys: set[str] = set()
    n, after, pages, size, last_seq, ordered = 0, "0", 0, 0, 0, True
    t = time.perf_counter()
    while True:
        conn.request("GET", f"/api/v1/disclosure/changes?after={after}&limit=1000")
        resp = conn.getresponse()
        body = resp.read()
        if resp.will_close:
            conn.close()
            conn = http.client.HTTPConnection(HOST, port, timeout=120)
        assert resp.status == 200, (resp.status, body[:300])
        page = orjson.loads(body)
        for rec in page["records"]:
            ordered &= rec["seq"] > last_seq
            last_seq = rec["seq"]
            keys.add(rec["key"])
        n, pages, size, after = (
            n + len(page["records"]),
            pages + 1,
            size + len(body),
            page["next_cursor"],
        )
        if not page["has_more"]:
            break
    elapsed = time.perf_counter() - t
    conn.close()
    return {"records": n, "unique_keys": len(keys), "increasing": ordered, "pages": pages,
            "bytes": size, "seconds": elapsed, "per_s": n / elapsed}  # fmt: skip


def scenarios(codes: list[str], records: int) -> dict[str, list[str]]:
    return {
        "baseline GET /api/v1/info": ["/api/v1/info"],
        "floor: feed at its end ?after=<last>&limit=1": [
            f"/api/v1/disclosure/changes?after={records}&limit=1"],
        "portal /disclosure/ (first page)": ["/disclosure/"],
        "portal filtered ?category=works&region=320500": ["/disclosure/?category=works&region=320500"],
        "portal deepest page ?page=500": ["/disclosure/?page=500"],
        "project page /disclosure/projects/<code>/ (random)": [f"/disclosure/projects/{c}/" for c in codes],
        "API /api/v1/disclosure/records (first page)": ["/api/v1/disclosure/records"],
        "API records ?category=procurement&region=320100&page=2": [
            "/api/v1/disclosure/records?category=procurement&region=320100&page=2"],
    }  # fmt: skip


# --- parent ---------------------------------------------------------------------------------------


WHAT_IF_INDEX = ("CREATE INDEX disclosure_pub_seq ON disclosure_publicrecord "
                 "(published_at DESC, seq DESC)")  # fmt: skip
WHAT_IF_PAGES = ("portal /disclosure/ (first page)", "portal deepest page ?page=500",
                 "API /api/v1/disclosure/records (first page)")  # fmt: skip


def _psql(sql: str) -> None:
    _pg("psql", "-d", DB_NAME, "-v", "ON_ERROR_STOP=1", "-Atc", sql)


def _pg(*argv: str) -> None:
    subprocess.run([argv[0], "-h", common.PG_HOST, "-p", common.PG_PORT, "-U", common.PG_USER,
                    *argv[1:]], check=True, capture_output=True)  # fmt: skip


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    env = common.base_env(str(work / "var"))
    env["DATABASE_URL"] = common.pg_url(DB_NAME)
    env.pop("GGZY_DEBUG", None)
    env.pop("GGZY_LEDGER_MODE", None)
    env.pop("GGZY_LEDGER_CHAINER", None)
    _pg("dropdb", "--if-exists", "--force", DB_NAME)
    _pg("createdb", DB_NAME)
    result: dict[str, Any] = {"machine_before": common.machine_info(), "args": vars(args)}
    common.log("migrating")
    subprocess.run([common.GGZY, "migrate", "-v0", "--noinput"], check=True, env=env, cwd=REPO)
    common.log(f"loading {args.records:,} records")
    seed = common.run_child("portal.py", ["--seed", "--records", str(args.records)], env)
    codes = seed.pop("project_codes")
    result["seed"] = seed
    common.log("seeded", json.dumps(seed, ensure_ascii=False))
    plan = scenarios(codes, seed["records"])
    pages = {name: paths[0] for name, paths in plan.items()}
    queries = common.run_child("portal.py", ["--queries", "--paths", json.dumps(pages)], env)
    result["queries"] = queries
    port = free_port()
    argv = [GUNICORN, "ggzy.wsgi:application", "-w", str(args.workers), "-b", f"{HOST}:{port}",
            "--timeout", "120", "--backlog", "2048"]  # fmt: skip
    result["server"] = " ".join(["gunicorn", *argv[1:]]).replace(str(port), "<port>")
    log = open(work / "gunicorn.log", "ab")  # noqa: SIM115
    server = subprocess.Popen(argv, env=env, cwd=REPO, stdout=log, stderr=log,
                              start_new_session=True)  # fmt: skip
    try:
        for _ in range(300):
            with contextlib.suppress(OSError):
                if get(port, "/api/v1/info")[0] == 200:
                    break
            time.sleep(0.1)
        result["load"] = {}
        for name, paths in plan.items():
            common.log(f"wrk {args.duration}s: {name}")
            r = measure(port, server.pid, paths, args, work)
            result["load"][name] = r
            common.log(f"  {r['per_s']:.0f} req/s  p50 {r['p50_us'] / 1000:.1f} ms  "
                       f"p95 {r['p95_us'] / 1000:.1f} ms  errors {r['status']}+{r['timeout']}")  # fmt: skip
        common.log("change feed: one client from the start to the end")
        result["feed"] = read_feed(port)
        common.log("  ", json.dumps(result["feed"]))
        if not args.no_what_if:  # the unfiltered pages again, with the index their order needs
            common.log(f"what if: {WHAT_IF_INDEX}")
            _psql(WHAT_IF_INDEX)
            _psql("ANALYZE disclosure_publicrecord")
            result["what_if"] = {}
            for name in WHAT_IF_PAGES:
                r = measure(port, server.pid, plan[name], args, work)
                result["what_if"][name] = r
                common.log(f"  {name}: {r['per_s']:.0f} req/s  p50 {r['p50_us'] / 1000:.1f} ms")
    finally:
        os.killpg(server.pid, 15)
        server.wait(30)
        log.close()
    result["feed_baseline"] = common.run_child("portal.py", ["--feed-baseline"], env)
    common.log("  baseline", json.dumps(result["feed_baseline"]))
    result["gunicorn_log_tail"] = (work / "gunicorn.log").read_text(errors="replace")[-2000:]
    result["machine_after"] = common.machine_info()
    if not args.keep:
        _pg("dropdb", "--if-exists", "--force", DB_NAME)
    return result


def markdown(r: dict[str, Any]) -> str:
    load, base = r["load"], r["load"]["baseline GET /api/v1/info"]
    q = r["queries"]
    rows = []
    for name, x in load.items():
        target = "—" if name.startswith(("baseline", "floor")) else "≥ 300"
        verdict = "—" if target == "—" else ("**met**" if x["per_s"] >= 300 else "**missed**")
        nq = q.get(name, [0])[0]
        mean = r["args"]["connections"] / x["per_s"] * 1000  # Little's law: the true mean
        rows.append([name, target, round(x["per_s"]), f"{mean:.1f}", f"{x['p50_us'] / 1000:.1f} / "
                     f"{x['p95_us'] / 1000:.1f} / {x['p99_us'] / 1000:.1f}",
                     f"{x['per_s'] / base['per_s']:.2f}×", nq,
                     f"{x['server_cpu_ms']:.1f} + {x['pg_cpu_ms']:.1f}",
                     f"{x['bytes_per_request'] / 1024:.1f}", x["status"] + x["timeout"], verdict])  # fmt: skip
    f, fb = r["feed"], r["feed_baseline"]
    exact = f["records"] == f["unique_keys"] == r["seed"]["records"] and f["increasing"]
    table = common.md_table(
        ["page", "target req/s", "req/s", "mean ms", "p50 / p95 / p99 ms (wrk)", "ratio to baseline", "queries",
         "CPU ms/req gunicorn + PG", "KiB/resp", "errors", "verdict"], rows)  # fmt: skip
    feed = common.md_table(
        ["change feed", "target", "measured", "baseline (psycopg + orjson)", "ratio", "verdict"],
        [["records/s to one client, limit=1000", "≥ 5,000", round(f["per_s"]), round(fb["per_s"]),
          f"{f['per_s'] / fb['per_s']:.2f}", "**met**" if f["per_s"] >= 5000 else "**missed**"],
         ["every record exactly once", f"{r['seed']['records']:,}",
          f"{f['records']:,} records, {f['unique_keys']:,} unique keys, increasing: {f['increasing']}",
          "—", "—", "**met**" if exact else "**missed**"]])  # fmt: skip
    what_if = ""
    if r.get("what_if"):
        what_if = f"What if (same run, same server), after `{WHAT_IF_INDEX}`:\n\n" + common.md_table(
            ["page", "req/s without → with", "p50 / p95 ms with", "ratio to baseline with",
             "CPU ms/req gunicorn + PG with", "verdict with"],
            [[name, f"{load[name]['per_s']:.0f} → {x['per_s']:.0f}",
              f"{x['p50_us'] / 1000:.1f} / {x['p95_us'] / 1000:.1f}",
              f"{x['per_s'] / base['per_s']:.2f}×", f"{x['server_cpu_ms']:.1f} + {x['pg_cpu_ms']:.1f}",
              "**met**" if x["per_s"] >= 300 else "**missed**"] for name, x in r["what_if"].items()])  # fmt: skip
    mb, ma = r["machine_before"], r["machine_after"]
    return "\n\n".join([
        f"{mb['date']}, commit `{mb['commit']}`, {mb['nproc']} × {mb['cpu']}, {mb['memory']}, "
        f"{mb['postgresql']}; load average {mb['load average (1/5/15 min)']} before, "
        f"{ma['load average (1/5/15 min)']} after. Server: `{r['server']}`; load: `wrk -t2 "
        f"-c{r['args']['connections']} -d{r['args']['duration']}s`. Records: {r['seed']['records']:,} "
        f"over {r['seed']['projects']:,} projects ({json.dumps(r['seed']['kinds'])}; body "
        f"{r['seed']['body_chars_mean']:.0f} characters on average; table "
        f"{r['seed']['table_bytes'] / 2**20:.0f} MiB).",
        table, feed, what_if,
        f"Feed: {f['pages']} pages, {f['bytes'] / 2**20:.0f} MiB in {f['seconds']:.1f} s; baseline "
        f"{fb['bytes'] / 2**20:.0f} MiB in {fb['seconds']:.1f} s.",
    ])  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 records, 10 s each")
    parser.add_argument("--records", type=int, default=None)
    parser.add_argument("--duration", type=int, default=None, help="seconds per measurement")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1))
    parser.add_argument("--connections", type=int, default=None, help="default: --workers")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--no-what-if", action="store_true",
                        help="skip the second measurement with the (published_at, seq) index")  # fmt: skip
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", default="", help=argparse.SUPPRESS)
    parser.add_argument("--seed", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--queries", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--paths", default="{}", help=argparse.SUPPRESS)
    parser.add_argument("--feed-baseline", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.records = args.records or (20_000 if args.quick else 200_000)
    args.duration = args.duration or (10 if args.quick else 30)
    args.connections = args.connections or args.workers
    if args.child:
        fn = child_seed if args.seed else child_queries if args.queries else child_feed_baseline
        common.write_out(args.out, fn(args))
        return
    if not common.pg_available():
        sys.exit("PostgreSQL is not reachable at 127.0.0.1:5432")
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install -y wrk)")
    work = Path(tempfile.mkdtemp(prefix="ggzy-bench-portal-"))
    try:
        result = run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    path = common.save_result("portal", result)
    print(markdown(result))
    print(f"\nraw: {path.relative_to(REPO)}")


if __name__ == "__main__":
    main()
