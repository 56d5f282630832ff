"""Public portal and change feed (issue 6): requests/s of the portal's list and project pages and
of the JSON listing, served by gunicorn on PostgreSQL with 200,000 public records, loaded by
``wrk`` from a second process on loopback, with the portal cache off and on; and the change feed
read by one client from the start to the end, records/s.

    .venv/bin/python bench/portal.py            # 200,000 records, 30 s per measurement
    .venv/bin/python bench/portal.py --quick    # 20,000 records, 10 s per measurement

Setup (not timed): the database ``ggzy_bench_portal`` (dropped and created, migrated: the
schema's indexes, ``disclosure_pub_seq`` among them); the default catalog and 81 regions of
Jiangsu; then ``--records`` ``PublicRecord`` rows (``bench/portal_data.py``) written with COPY:
~5 records per project over two years, as the builders write them; feed positions in the order
the records changed, every ``changed_at`` months in the past (the feed's settle delay holds
nothing back). ``ProjectorState`` points at the ledger head and at the last position, so
``catch_up()`` finds nothing to do (its one query). VACUUM ANALYZE.

Served: ``gunicorn ggzy.wsgi:application -w 2×nproc`` (sync workers, no access log, DEBUG off,
``GGZY_LEDGER_*`` unset: the production configuration), twice: first with
``GGZY_PORTAL_CACHE_SECONDS=0`` (every page built: the cold cost of each request), then with the
default (60 s, Django's default cache: a LocMemCache in each worker) — what production serves.
Timed, each for ``--duration`` seconds, with ``wrk -t2 -c<--connections, default = workers>`` (a
Lua script picks a random path of the scenario per request), after the page is checked for 200
and loaded 3 s unmeasured (a worker's first request imports the URLconf, ~2.7 s; with the cache
on, this also fills each worker's cache for the single-URL pages): the portal's first page, a
filtered page (category + region), the deepest page (500), project pages (1,000 random
projects), the JSON listing (first and filtered page; not cached). **Baseline**, same server,
same tool: ``GET /api/v1/info`` (middleware and the API framework, no query); every page's ratio
to the baseline of its server. A *floor*: the change feed asked past its end (``catch_up()`` and
one indexed query). Server CPU per request (gunicorn and the PostgreSQL backends, from
``/proc``). Cache hits and misses: a gunicorn config (``post_worker_init``) counts
``LocMemCache.get`` of the portal's keys per worker into a shared file. Queries per page are
counted in a child with ``CaptureQueriesContext``: cache off, and on (a miss, then a hit).
What if: the project page again with the cache's ``MAX_ENTRIES`` raised (``--entries``, default
5,000; Django's default is 300 per worker, fewer than the 1,000 projects asked for).

Change feed: one client follows ``/api/v1/disclosure/changes?limit=1000`` from ``after=0`` to
``has_more: false`` over HTTP (stdlib ``http.client``, ``orjson``), checks it got every record
exactly once (count, unique keys, increasing positions). **Baseline**, same run: raw ``psycopg``
keyset pages ``SELECT <the same columns> … WHERE seq > %s ORDER BY seq LIMIT 1000`` and
``orjson.dumps`` of each page, in one process.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import math
import mmap
import os
import random
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import common  # noqa: E402
from portal_data import CITIES, project_records  # noqa: E402

DB_NAME = "ggzy_bench_portal"
HOST = "127.0.0.1"
GUNICORN = str(REPO / ".venv" / "bin" / "gunicorn")
FEED_COLUMNS = ("key", "seq", "kind", "source", "project_code", "section_code", "title", "body",
                "category", "region", "procedure", "status", "published_at", "changed_at", "url",
                "data")  # fmt: skip
COPY_COLUMNS = (*FEED_COLUMNS, "search_text", "ledger_seq")

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
    """Queries per page, counted through Django's test client on the loaded database: with the
    cache off, then with it on — the first request (a miss) and the same request again (a hit)."""
    common.child_setup()
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    def count(path: str) -> tuple[int, list[str]]:
        with CaptureQueriesContext(connection) as ctx:
            status = Client().get(path).status_code
        assert status == 200, (path, status)
        return len(ctx.captured_queries), [q["sql"][:200] for q in ctx.captured_queries]

    out = {}
    for name, path in json.loads(args.paths).items():
        cache.clear()
        with override_settings(GGZY_PORTAL_CACHE_SECONDS=0):
            off, sql = count(path)
        with override_settings(GGZY_PORTAL_CACHE_SECONDS=60):
            miss, hit = count(path)[0], count(path)[0]
        out[name] = {"off": off, "miss": miss, "hit": hit, "sql": sql}
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


# Counts the portal cache's hits and misses in every gunicorn worker, into a file the bench
# reads: each worker adds to its own two counters (no lock needed) in a shared mapping.
HITS_CONF = """
import mmap, os, struct
_map = mmap.mmap(os.open(%(path)r, os.O_RDWR), %(size)d)

def post_worker_init(worker):
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache
    at = 16 * (worker.age %% %(slots)d)
    if os.environ.get("BENCH_CACHE_MAX_ENTRIES"):  # what if OPTIONS["MAX_ENTRIES"] were this
        caches["default"]._max_entries = int(os.environ["BENCH_CACHE_MAX_ENTRIES"])
    get = LocMemCache.get

    def counted(self, key, default=None, version=None):
        value = get(self, key, default, version)
        if key.startswith("disclosure:"):
            slot = at + (8 if value is default else 0)
            struct.pack_into("q", _map, slot, struct.unpack_from("q", _map, slot)[0] + 1)
        return value

    LocMemCache.get = counted
"""
SLOTS = 64


class CacheCounter:
    """The portal cache's (hits, misses) summed over the workers, read from the shared file."""

    def __init__(self, work: Path) -> None:
        self.path = work / "cache-hits.bin"
        self.path.write_bytes(bytes(16 * SLOTS))
        self.conf = work / "gunicorn_conf.py"
        self.conf.write_text(HITS_CONF % {"path": str(self.path), "size": 16 * SLOTS,
                                          "slots": SLOTS})  # fmt: skip

    def read(self) -> tuple[int, int]:
        with open(self.path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as m:
            values = struct.unpack_from(f"{2 * SLOTS}q", m)
        return sum(values[0::2]), sum(values[1::2])


def measure(port: int, master: int, paths: list[str], args: argparse.Namespace, work: Path,
            counter: CacheCounter) -> dict[str, Any]:  # fmt: skip
    start = counter.read()
    for p in paths[:8]:  # check the page answers 200
        status, body = get(port, p)
        assert status == 200, (p, status, body[:300])
    # then warm every worker on it concurrently: a worker's first request imports the URLconf and
    # the views (~2.7 s), its first page compiles the templates, its first query connects
    wrk(port, paths, 3, 2 * args.workers, work)
    before = counter.read()
    with CpuMeter(master) as cpu:
        r = wrk(port, paths, args.duration, args.connections, work)
    after = counter.read()
    r["cache_hits"], r["cache_misses"] = after[0] - before[0], after[1] - before[1]
    r["cache_expected_misses"] = expected_misses(len(paths), args.workers,
                                                 sum(before) - sum(start),
                                                 r["cache_hits"] + r["cache_misses"])  # fmt: skip
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


BASELINE = "baseline GET /api/v1/info"
FLOOR = "floor: feed at its end ?after=<last>&limit=1"
PROJECT = "project page /disclosure/projects/<code>/ (random)"
HTML = ("portal /disclosure/ (first page)", "portal filtered ?category=works&region=320500",
        "portal deepest page ?page=500", PROJECT)  # fmt: skip


def scenarios(codes: list[str], records: int) -> dict[str, list[str]]:
    return {
        BASELINE: ["/api/v1/info"],
        FLOOR: [f"/api/v1/disclosure/changes?after={records}&limit=1"],
        HTML[0]: ["/disclosure/"],
        HTML[1]: ["/disclosure/?category=works&region=320500"],
        HTML[2]: ["/disclosure/?page=500"],
        PROJECT: [f"/disclosure/projects/{c}/" for c in codes],
        "API /api/v1/disclosure/records (first page)": ["/api/v1/disclosure/records"],
        "API records ?category=procurement&region=320100&page=2": [
            "/api/v1/disclosure/records?category=procurement&region=320100&page=2"],
    }  # fmt: skip


def expected_misses(urls: int, workers: int, before: int, during: int) -> float:
    """Misses expected while ``during`` requests follow ``before`` ones, each for one of ``urls``
    paths at random and taken by one of ``workers`` at random, if no entry is evicted or expires:
    each (path, worker) pair misses once, the first time."""
    pairs = urls * workers

    def seen(n: int) -> float:
        return pairs * -math.expm1(n * math.log1p(-1 / pairs)) if pairs > 1 else min(n, 1)

    return seen(before + during) - seen(before)


# --- parent ---------------------------------------------------------------------------------------


def _pg(*argv: str) -> None:
    subprocess.run([argv[0], "-h", common.PG_HOST, "-p", common.PG_PORT, "-U", common.PG_USER,
                    *argv[1:]], check=True, capture_output=True)  # fmt: skip


@contextlib.contextmanager
def serving(env: dict[str, str], args: argparse.Namespace, work: Path, counter: CacheCounter,
            result: dict[str, Any]) -> Any:  # fmt: skip
    """gunicorn on a free port with ``env``: yields (port, master pid)."""
    port = free_port()
    argv = [GUNICORN, "ggzy.wsgi:application", "-w", str(args.workers), "-b", f"{HOST}:{port}",
            "--timeout", "120", "--backlog", "2048", "-c", str(counter.conf)]  # fmt: skip
    result["server"] = " ".join(["gunicorn", *argv[1:-2]]).replace(str(port), "<port>")
    log = open(work / "gunicorn.log", "ab")  # noqa: SIM115
    server = subprocess.Popen(argv, env=env, cwd=REPO, stdout=log, stderr=log,
                              start_new_session=True)  # fmt: skip
    try:
        for _ in range(300):
            with contextlib.suppress(OSError):
                if get(port, "/api/v1/info")[0] == 200:
                    break
            time.sleep(0.1)
        yield port, server.pid
    finally:
        os.killpg(server.pid, 15)
        server.wait(30)
        log.close()


def load(name: str, paths: list[str], server: tuple[int, int], args: argparse.Namespace,
         work: Path, counter: CacheCounter) -> dict[str, Any]:  # fmt: skip
    common.log(f"wrk {args.duration}s: {name}")
    r = measure(*server, paths, args, work, counter)
    common.log(f"  {r['per_s']:.0f} req/s  p50 {r['p50_us'] / 1000:.1f} ms  "
               f"p95 {r['p95_us'] / 1000:.1f} ms  errors {r['status']}+{r['timeout']}  "
               f"cache {r['cache_hits']} hits / {r['cache_misses']} misses")  # fmt: skip
    return r


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    env = common.base_env(str(work / "var"))
    env["DATABASE_URL"] = common.pg_url(DB_NAME)
    for name in ("GGZY_DEBUG", "GGZY_LEDGER_MODE", "GGZY_LEDGER_CHAINER",
                 "GGZY_PORTAL_CACHE_SECONDS"):  # fmt: skip
        env.pop(name, None)
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
    result["queries"] = common.run_child("portal.py", ["--queries", "--paths", json.dumps(pages)],
                                         env)  # fmt: skip
    counter = CacheCounter(work)
    result["load"], result["cached"] = {}, {}
    common.log("cache off: GGZY_PORTAL_CACHE_SECONDS=0")
    with serving({**env, "GGZY_PORTAL_CACHE_SECONDS": "0"}, args, work, counter, result) as srv:
        for name, paths in plan.items():
            result["load"][name] = load(name, paths, srv, args, work, counter)
        common.log("change feed: one client from the start to the end")
        result["feed"] = read_feed(srv[0])
        common.log("  ", json.dumps(result["feed"]))
    common.log("cache on: the default GGZY_PORTAL_CACHE_SECONDS (60), LocMemCache per worker")
    with serving(env, args, work, counter, result) as srv:
        for name in (BASELINE, *HTML):
            result["cached"][name] = load(name, plan[name], srv, args, work, counter)
    if args.entries:
        common.log(f"cache on, what if LocMemCache MAX_ENTRIES were {args.entries} (default 300)")
        with serving({**env, "BENCH_CACHE_MAX_ENTRIES": str(args.entries)}, args, work, counter,
                     result) as srv:  # fmt: skip
            result["entries"] = load(PROJECT, plan[PROJECT], srv, args, work, counter)
    result["feed_baseline"] = common.run_child("portal.py", ["--feed-baseline"], env)
    common.log("  baseline", json.dumps(result["feed_baseline"]))
    result["gunicorn_log_tail"] = (work / "gunicorn.log").read_text(errors="replace")[-2000:]
    result["machine_after"] = common.machine_info()
    if not args.keep:
        _pg("dropdb", "--if-exists", "--force", DB_NAME)
    return result


def _row(r: dict[str, Any], name: str, cache: str, x: dict[str, Any], base: float) -> list[Any]:
    target = "—" if name in (BASELINE, FLOOR) else "≥ 300"
    verdict = "—" if target == "—" else ("**met**" if x["per_s"] >= 300 else "**missed**")
    q = r["queries"].get(name.partition(", MAX_ENTRIES")[0], {})
    nq = q.get("off", 0) if cache != "on" else f"{q.get('hit', 0)} hit / {q.get('miss', 0)} miss"
    mean = r["args"]["connections"] / x["per_s"] * 1000  # Little's law: the true mean
    seen = x.get("cache_hits", 0) + x.get("cache_misses", 0)
    hits = f"{x['cache_hits'] / seen:.1%}" if seen and cache == "on" else "—"
    return [name, target, cache, round(x["per_s"]), f"{mean:.1f}",
            f"{x['p50_us'] / 1000:.1f} / {x['p95_us'] / 1000:.1f} / {x['p99_us'] / 1000:.1f}",
            f"{x['per_s'] / base:.2f}×", nq, f"{x['server_cpu_ms']:.1f} + {x['pg_cpu_ms']:.1f}",
            f"{x['bytes_per_request'] / 1024:.1f}", hits, x["status"] + x["timeout"], verdict]  # fmt: skip


def markdown(r: dict[str, Any]) -> str:
    load, cached = r["load"], r["cached"]
    rows = [_row(r, name, "off" if name in HTML else "—", x, load[BASELINE]["per_s"])
            for name, x in load.items()]  # fmt: skip
    rows += [_row(r, name, "on", x, cached[BASELINE]["per_s"]) for name, x in cached.items()]
    if r.get("entries"):
        rows.append(_row(r, f"{PROJECT}, MAX_ENTRIES {r['args']['entries']:,} (what if)", "on",
                         r["entries"], cached[BASELINE]["per_s"]))  # fmt: skip
    f, fb = r["feed"], r["feed_baseline"]
    exact = f["records"] == f["unique_keys"] == r["seed"]["records"] and f["increasing"]
    table = common.md_table(
        ["page", "target req/s", "cache", "req/s", "mean ms", "p50 / p95 / p99 ms (wrk)",
         "ratio to baseline", "queries", "CPU ms/req gunicorn + PG", "KiB/resp", "cache hits",
         "errors", "verdict"], rows)  # fmt: skip
    feed = common.md_table(
        ["change feed", "target", "measured", "baseline (psycopg + orjson)", "ratio", "verdict"],
        [["records/s to one client, limit=1000", "≥ 5,000", round(f["per_s"]), round(fb["per_s"]),
          f"{f['per_s'] / fb['per_s']:.2f}", "**met**" if f["per_s"] >= 5000 else "**missed**"],
         ["every record exactly once", f"{r['seed']['records']:,}",
          f"{f['records']:,} records, {f['unique_keys']:,} unique keys, increasing: {f['increasing']}",
          "—", "—", "**met**" if exact else "**missed**"]])  # fmt: skip
    p = cached.get(PROJECT, {})
    mb, ma = r["machine_before"], r["machine_after"]
    return "\n\n".join([
        f"{mb['date']}, commit `{mb['commit']}`, {mb['nproc']} × {mb['cpu']}, {mb['memory']}, "
        f"{mb['postgresql']}; load average {mb['load average (1/5/15 min)']} before, "
        f"{ma['load average (1/5/15 min)']} after. Server: `{r['server']}`; load: `wrk -t2 "
        f"-c{r['args']['connections']} -d{r['args']['duration']}s`. Records: {r['seed']['records']:,} "
        f"over {r['seed']['projects']:,} projects ({json.dumps(r['seed']['kinds'])}; body "
        f"{r['seed']['body_chars_mean']:.0f} characters on average; table "
        f"{r['seed']['table_bytes'] / 2**20:.0f} MiB).",
        table, feed,
        f"Project page, cache on: {p.get('cache_misses', 0):,} misses measured, "
        f"{p.get('cache_expected_misses', 0):,.0f} expected if nothing were evicted"
        + (f"; with MAX_ENTRIES {r['args']['entries']:,}: {r['entries']['cache_misses']:,} "
           f"measured, {r['entries']['cache_expected_misses']:,.0f} expected."
           if r.get("entries") else "."),
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
    parser.add_argument("--entries", type=int, default=5000,
                        help="the project page again with this LocMemCache MAX_ENTRIES (0: skip)")  # fmt: skip
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
