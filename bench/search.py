"""Full-text search latency: 1,000,000 synthetic Chinese announcements, typical two-term queries
with one filter, on PostgreSQL and on SQLite, through :func:`ggzy.disclosure.search.search`.

Measured in one run:

* ``load`` — generate the records (titles and bodies from a vocabulary of regions, owners,
  project words, works and notice types; ~150 characters each), bulk-insert them into both
  databases, segment each once (``search.entry_for``) and bulk-upsert the entries
  (``search.write_entries``, the path ``index_records`` takes) into both. PostgreSQL builds
  its GIN index after the load; SQLite's FTS5 index follows the entries through its triggers
  and is merged (``'optimize'``) at the end. Both are ANALYZEd.
* ``search`` — ``--queries`` (240) queries ``"<word> <word>"`` (a project word and a works or
  notice word, or a district and a project word) each with one filter (region or category),
  after 20 warm-up queries: the whole call (segmentation, ranked query, capped count, records,
  highlighting), p50/p95/p99.
* ``raw FTS`` — the same queries through the engine's ranked query alone (no segmentation,
  count, records or highlighting): what the layer adds.
* ``LIKE baseline`` — the same words and filter as ``title LIKE '%w%' OR body LIKE '%w%'`` for
  both words, newest 20, on the first 100,000 records only (a tenth of the data).

Databases: PostgreSQL ``ggzy_bench_search`` (dropped and created; dropped at the end unless
``--keep``), SQLite a file in a temporary directory. ``--reuse DIR`` measures again on what a
``--keep`` run left (DIR is the SQLite directory it printed), without loading.

    .venv/bin/python bench/search.py                       # full: 1,000,000 records
    .venv/bin/python bench/search.py --records 20000 --queries 50   # smoke run
    .venv/bin/python bench/search.py --keep; .venv/bin/python bench/search.py --reuse DIR
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common

PG_NAME = "ggzy_bench_search"
SUBSET = 100_000

# --- vocabulary ---------------------------------------------------------------------------------

DISTRICTS = [  # (code, province/city prefix, district)
    ("110105", "北京市", "朝阳区"), ("110108", "北京市", "海淀区"), ("310115", "上海市", "浦东新区"),
    ("310104", "上海市", "徐汇区"), ("320102", "南京市", "玄武区"), ("320106", "南京市", "鼓楼区"),
    ("320205", "无锡市", "锡山区"), ("320506", "苏州市", "吴中区"), ("320583", "苏州市", "昆山市"),
    ("330106", "杭州市", "西湖区"), ("330212", "宁波市", "鄞州区"), ("340104", "合肥市", "蜀山区"),
    ("350203", "厦门市", "思明区"), ("370102", "济南市", "历下区"), ("370212", "青岛市", "崂山区"),
    ("410105", "郑州市", "金水区"), ("420106", "武汉市", "武昌区"), ("430104", "长沙市", "岳麓区"),
    ("440106", "广州市", "天河区"), ("440305", "深圳市", "南山区"), ("450103", "南宁市", "青秀区"),
    ("500112", "重庆市", "渝北区"), ("510107", "成都市", "武侯区"), ("520102", "贵阳市", "南明区"),
    ("530102", "昆明市", "五华区"), ("610113", "西安市", "雁塔区"), ("620102", "兰州市", "城关区"),
    ("130104", "石家庄市", "桥西区"), ("140105", "太原市", "小店区"), ("210102", "沈阳市", "和平区"),
    ("220104", "长春市", "朝阳区"), ("230103", "哈尔滨市", "南岗区"), ("360111", "南昌市", "青山湖区"),
    ("460106", "海口市", "龙华区"), ("640104", "银川市", "兴庆区"), ("650102", "乌鲁木齐市", "天山区"),
]  # fmt: skip
CATEGORIES = [("works", 50), ("procurement", 35), ("land", 6), ("property", 5), ("mining", 4)]
PROJECTS = {
    "works": ["第一中学教学楼", "人民医院门诊楼", "城市主干道", "跨江大桥", "污水处理厂", "供水管网",
              "安置房小区", "体育馆", "图书馆", "河道整治", "老旧小区", "燃气管道", "垃圾中转站",
              "产业园区道路", "地下综合管廊", "公园绿化", "高速公路连接线", "农村公路", "水库除险加固",
              "幼儿园", "职业技术学院实训楼", "消防站", "公交场站", "停车场"],
    "procurement": ["办公设备", "医疗设备", "教学设备", "信息化系统", "视频监控系统", "公务用车",
                    "食材配送服务", "物业管理服务", "保洁服务", "安保服务", "图书采购", "网络安全设备",
                    "服务器及存储", "实验室仪器", "课桌椅", "空调设备", "电梯", "救护车"],
    "land": ["国有建设用地使用权", "商住用地", "工业用地", "仓储用地"],
    "property": ["国有股权", "房产租赁", "车辆处置", "设备资产"],
    "mining": ["采矿权", "探矿权", "建筑用砂石矿"],
}  # fmt: skip
WORKS = {
    "works": ["施工", "监理", "设计", "勘察", "施工总承包", "工程总承包", "改造工程", "新建工程",
              "维修工程", "扩建工程"],
    "procurement": ["采购项目", "采购", "服务项目", "运维服务", "租赁"],
    "land": ["出让", "挂牌出让", "拍卖出让"],
    "property": ["转让", "挂牌转让", "公开招租"],
    "mining": ["出让", "挂牌出让"],
}  # fmt: skip
NOTICES = [("announcement", "招标公告", 45), ("clarification", "澄清公告", 10),
           ("candidates", "中标候选人公示", 15), ("award", "中标结果公告", 15),
           ("contract", "合同公告", 10), ("failure", "流标公告", 5)]  # fmt: skip
PROCEDURES = {"works": ["open_tender", "invited_tender"], "procurement": ["open_tender",
              "competitive_negotiation", "inquiry", "single_source"], "land": ["listing", "auction"],
              "property": ["listing"], "mining": ["listing", "auction"]}  # fmt: skip
OWNERS = ["教育局", "卫生健康委员会", "住房和城乡建设局", "交通运输局", "水务局", "城市管理局",
          "财政局", "公安局", "自然资源和规划局", "城投集团有限公司", "人民医院", "第一中学"]  # fmt: skip
FUNDS = ["财政资金", "自筹资金", "专项债券资金", "财政资金和自筹资金"]


def make_record(i: int, rnd: random.Random, t0: datetime) -> dict[str, Any]:
    code, city, district = rnd.choice(DISTRICTS)
    category = rnd.choices([c for c, _ in CATEGORIES], [w for _, w in CATEGORIES])[0]
    project = rnd.choice(PROJECTS[category])
    works = rnd.choice(WORKS[category])
    kind, notice, _ = rnd.choices(NOTICES, [w for *_, w in NOTICES])[0]
    owner = f"{city}{district}{rnd.choice(OWNERS)}"
    title = f"{city}{district}{project}{works}{notice}"
    body = (f"{owner}{project}{works}项目已由{district}发展和改革局批准，资金来源为{rnd.choice(FUNDS)}，"
            f"招标人为{owner}。项目建设地点位于{city}{district}，最高投标限价{rnd.randint(50, 90000)}万元，"
            f"计划工期{rnd.randint(30, 900)}日历天。投标人须具备相应资质，请于规定时间内在公共资源交易"
            f"平台下载招标文件并递交投标文件。")  # fmt: skip
    published = t0 - timedelta(minutes=i * 3 + rnd.randint(0, 2))
    return {"id": i, "key": f"bench:{i}", "seq": i, "kind": kind, "source": "",
            "project_code": f"{code}2026{i:08d}", "title": title, "body": body,
            "category": category, "region": code, "procedure": rnd.choice(PROCEDURES[category]),
            "status": "published", "published_at": published, "changed_at": published,
            "url": f"/announcements/{i}/"}  # fmt: skip


def make_queries(n: int, rnd: random.Random) -> list[dict[str, str]]:
    out = []
    for i in range(n):
        code, _city, district = rnd.choice(DISTRICTS)
        category = rnd.choices([c for c, _ in CATEGORIES], [w for _, w in CATEGORIES])[0]
        project = rnd.choice(PROJECTS[category])
        shape = i % 3
        if shape == 0:
            words = f"{project} {rnd.choice(WORKS[category])}"
        elif shape == 1:
            words = f"{project} {rnd.choice([n for _, n, _ in NOTICES])}"
        else:
            words = f"{district} {project}"
        # one filter: region (1/36 of the records) or category (4–50 %)
        flt = {"region": code} if i % 2 == 0 else {"category": category}
        out.append({"q": words, **flt})
    return out


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


def stats(ms: list[float]) -> dict[str, float]:
    return {"p50": pct(ms, 50), "p95": pct(ms, 95), "p99": pct(ms, 99), "mean": sum(ms) / len(ms),
            "n": len(ms)}  # fmt: skip


# --- child: load and measure --------------------------------------------------------------------


def child(args: argparse.Namespace) -> dict[str, Any]:
    import ggzy.settings as s

    s.DATABASES["lite"] = {
        **s.DATABASES["default"],
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ["GGZY_BENCH_SQLITE"],
        "CONN_MAX_AGE": 0,
        "OPTIONS": {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
            "PRAGMA busy_timeout=20000;",
            "timeout": 20,
        },
    }
    for key in ("USER", "PASSWORD", "HOST", "PORT"):
        s.DATABASES["lite"][key] = ""
    import django

    django.setup()
    from django.db import connections, transaction

    from ggzy.disclosure import search
    from ggzy.disclosure.models import PublicRecord

    aliases = {"postgresql": "default", "sqlite": "lite"}
    rnd = random.Random(20261203)
    t0 = datetime(2026, 12, 1, tzinfo=UTC)
    result: dict[str, Any] = {"records": args.records, "load": {}}

    if args.reuse:  # the databases a --keep run left: measure again, load nothing
        for alias in aliases.values():
            count = PublicRecord.objects.using(alias).count()
            if count != args.records:
                raise SystemExit(f"--reuse: {alias} holds {count:,} records, not {args.records:,}")
        return measure(args, result, aliases)
    with connections["default"].cursor() as cur:
        cur.execute("DROP INDEX IF EXISTS disclosure_search_gin")
    started = time.perf_counter()
    seg_s = pg_s = lite_s = 0.0
    for start in range(1, args.records + 1, args.batch):
        rows = [
            make_record(i, rnd, t0) for i in range(start, min(start + args.batch, args.records + 1))
        ]
        a = time.perf_counter()
        records = [PublicRecord(**r) for r in rows]
        entries = [search.entry_for(r) for r in records]
        b = time.perf_counter()
        with transaction.atomic(using="default"):
            PublicRecord.objects.using("default").bulk_create(records)
            search.write_entries(entries, using="default")
        c = time.perf_counter()
        with transaction.atomic(using="lite"):
            PublicRecord.objects.using("lite").bulk_create(records)
            search.write_entries(entries, using="lite")
        d = time.perf_counter()
        seg_s, pg_s, lite_s = seg_s + b - a, pg_s + c - b, lite_s + d - c
        if (start // args.batch) % 20 == 0:
            common.log(f"loaded {start + len(rows) - 1:,}  segment {seg_s:.0f}s  pg {pg_s:.0f}s  "
                       f"sqlite {lite_s:.0f}s")  # fmt: skip
    a = time.perf_counter()
    with connections["default"].cursor() as cur:
        cur.execute("SET maintenance_work_mem = '512MB'")
        cur.execute("CREATE INDEX disclosure_search_gin ON disclosure_searchentry "
                    "USING gin (search_vector)")  # fmt: skip
        cur.execute("ANALYZE")
    b = time.perf_counter()
    with connections["lite"].cursor() as cur:
        cur.execute("INSERT INTO disclosure_search_fts(disclosure_search_fts) VALUES ('optimize')")
        cur.execute("ANALYZE")
    c = time.perf_counter()
    with connections["default"].cursor() as cur:
        cur.execute("SELECT pg_database_size(current_database())")
        pg_size = cur.fetchone()[0]
    result["load"] = {
        "total_s": time.perf_counter() - started, "segment_s": seg_s,
        "postgresql_insert_s": pg_s, "postgresql_gin_analyze_s": b - a,
        "sqlite_insert_s": lite_s, "sqlite_optimize_analyze_s": c - b,
        "postgresql_bytes": pg_size, "sqlite_bytes": os.path.getsize(os.environ["GGZY_BENCH_SQLITE"]),
    }  # fmt: skip
    common.log("load", json.dumps(result["load"]))
    return measure(args, result, aliases)


def measure(
    args: argparse.Namespace, result: dict[str, Any], aliases: dict[str, str]
) -> dict[str, Any]:
    from django.db import connections

    from ggzy.disclosure import search
    from ggzy.disclosure.search_backends import Match, engine_for
    from ggzy.disclosure.search_segment import facet_tokens, query_terms

    queries = make_queries(args.queries + 20, random.Random(7))
    warm, measured = queries[:20], queries[20:]
    for backend, alias in aliases.items():
        for q in warm:
            search.search(q["q"], **{k: v for k, v in q.items() if k != "q"}, using=alias)
        times, hits, totals = [], [], []
        for q in measured:
            a = time.perf_counter()
            page = search.search(q["q"], **{k: v for k, v in q.items() if k != "q"}, using=alias)
            times.append((time.perf_counter() - a) * 1000)
            hits.append(len(page.hits))
            totals.append(page.total)
        engine = engine_for(connections[alias])
        raw = []
        for q in measured:
            flt = [(k, v) for k, v in q.items() if k != "q"]
            m = Match(terms=query_terms(q["q"]), facets=facet_tokens(flt))
            a = time.perf_counter()
            engine.ranked(m, limit=20, offset=0)
            raw.append((time.perf_counter() - a) * 1000)
        like = []
        with connections[alias].cursor() as cur:
            for q in measured:
                w1, w2 = q["q"].split(" ", 1)
                ((col, val),) = [(k, v) for k, v in q.items() if k != "q"]
                a = time.perf_counter()
                cur.execute(
                    f"SELECT id FROM disclosure_publicrecord WHERE id <= %s AND {col} = %s "
                    "AND (title LIKE %s OR body LIKE %s) AND (title LIKE %s OR body LIKE %s) "
                    "ORDER BY published_at DESC LIMIT 20",
                    [SUBSET, val, f"%{w1}%", f"%{w1}%", f"%{w2}%", f"%{w2}%"],
                )
                cur.fetchall()
                like.append((time.perf_counter() - a) * 1000)
        result[backend] = {
            "search_ms": stats(times), "raw_fts_ms": stats(raw), "like_100k_ms": stats(like),
            "zero_hit_queries": sum(1 for h in hits if h == 0),
            "median_total": pct([float(t) for t in totals], 50),
            "capped_totals": sum(1 for t in totals if t >= search.COUNT_CAP),
        }  # fmt: skip
        common.log(backend, json.dumps(result[backend]))
    result["example_queries"] = measured[:6]
    return result


# --- parent -------------------------------------------------------------------------------------


def _pg(*argv: str) -> None:
    subprocess.run([argv[0], "-h", common.PG_HOST, "-p", common.PG_PORT, "-U", common.PG_USER,
                    *argv[1:]], check=True, capture_output=True)  # fmt: skip


def markdown(r: dict[str, Any], seconds: float, command: str) -> str:
    load = r["load"]
    lines = [
        f"### Full-text search (`bench/search.py`) — {time.strftime('%Y-%m-%d')}",
        "",
        f"`{command}` — {r['records']:,} synthetic announcements, {r['postgresql']['search_ms']['n']} "
        f"two-term queries with one filter (region or category), after 20 warm-up queries; "
        f"run took {seconds / 60:.1f} min.",
        "",
        "| backend | search p50 | p95 | p99 | raw FTS query p50 / p95 | LIKE scan, 100k subset p50 / p95 | LIKE p50 ÷ search p50 |",
        "|---|---|---|---|---|---|---|",
    ]  # fmt: skip
    for backend in ("postgresql", "sqlite"):
        b = r[backend]
        s, raw, like = b["search_ms"], b["raw_fts_ms"], b["like_100k_ms"]
        lines.append(f"| {backend} | {s['p50']:.1f} ms | {s['p95']:.1f} ms | {s['p99']:.1f} ms | "
                     f"{raw['p50']:.1f} / {raw['p95']:.1f} ms | {like['p50']:.1f} / {like['p95']:.1f} ms | "
                     f"{like['p50'] / s['p50']:.1f}× |")  # fmt: skip
    lines += [
        "",
        "- search = the whole `search.search()` call (segmentation, ranked query, total capped at "
        "1000, records, highlighting); raw FTS = the engine's ranked query alone; LIKE = "
        "`(title LIKE '%w1%' OR body LIKE '%w1%') AND (… w2 …)` + the filter, newest 20, on "
        "the first 100,000 records only (a tenth of the data).",
        f"- hits: median total per query {r['postgresql']['median_total']:.0f} (PostgreSQL), "
        f"{r['postgresql']['capped_totals']} of the queries hit the 1000 cap, "
        f"{r['postgresql']['zero_hit_queries']} had no hit.",
        (f"- load: {load['total_s'] / 60:.1f} min in all — segmentation (jieba, once) "
        f"{load['segment_s']:.0f} s, PostgreSQL inserts {load['postgresql_insert_s']:.0f} s + GIN "
        f"index and ANALYZE {load['postgresql_gin_analyze_s']:.0f} s, SQLite inserts (FTS5 by "
        f"trigger) {load['sqlite_insert_s']:.0f} s + optimize and ANALYZE "
        f"{load['sqlite_optimize_analyze_s']:.0f} s; database size PostgreSQL "
        f"{load['postgresql_bytes'] / 2**30:.2f} GiB, SQLite {load['sqlite_bytes'] / 2**30:.2f} GiB."
         if load else "- load: none — measured on the databases a `--keep` run left (`--reuse`)"),
        "",
        common.machine_markdown(),
    ]  # fmt: skip
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=240)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--keep", action="store_true", help="keep both databases")
    parser.add_argument("--reuse", default="", metavar="DIR",
                        help="measure again on the databases a --keep run left (its SQLite "
                             "directory), without loading")  # fmt: skip
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        with open(args.out, "w", encoding="utf-8") as fh:
            json.dump(child(args), fh)
        return
    if not common.pg_available():
        sys.exit("PostgreSQL is not reachable at 127.0.0.1:5432")
    started = time.perf_counter()
    var_dir = args.reuse or tempfile.mkdtemp(prefix="ggzy-bench-search-")
    if not args.reuse:
        _pg("dropdb", "--if-exists", "--force", PG_NAME)
        _pg("createdb", PG_NAME)
    env = common.base_env(var_dir)
    env_pg = {**env, "DATABASE_URL": common.pg_url(PG_NAME)}
    try:
        common.log("migrating both databases")
        subprocess.run([common.GGZY, "migrate", "-v0", "--noinput"], check=True, env=env,
                       cwd=common.REPO)  # fmt: skip
        subprocess.run([common.GGZY, "migrate", "-v0", "--noinput"], check=True, env=env_pg,
                       cwd=common.REPO)  # fmt: skip
        env_pg["GGZY_BENCH_SQLITE"] = os.path.join(var_dir, "ggzy.sqlite3")
        out = os.path.join(var_dir, "result.json")
        subprocess.run([common.PYTHON, os.path.abspath(__file__), "--child", "--out", out,
                        "--records", str(args.records), "--queries", str(args.queries),
                        "--batch", str(args.batch),
                        *(["--reuse", args.reuse] if args.reuse else [])],
                       check=True, env=env_pg)  # fmt: skip
        with open(out, encoding="utf-8") as fh:
            result = json.load(fh)
    finally:
        if args.keep or args.reuse:
            common.log(f"kept: {common.pg_url(PG_NAME)} and {var_dir}")
        else:
            _pg("dropdb", "--if-exists", "--force", PG_NAME)
            shutil.rmtree(var_dir, ignore_errors=True)
    command = "python bench/search.py" + ("" if args.records == 1_000_000 else
                                          f" --records {args.records} --queries {args.queries}")  # fmt: skip
    command += " --reuse DIR" if args.reuse else ""
    print(json.dumps(result, ensure_ascii=False, indent=1))
    print()
    print(markdown(result, time.perf_counter() - started, command))


if __name__ == "__main__":
    main()
