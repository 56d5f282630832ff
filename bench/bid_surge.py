"""Deadline surge: N bidders upload sealed bids over HTTP to gunicorn on PostgreSQL within the
final seconds before the section deadline; time to receipt, lost/duplicated bids, and a
``kill -9`` of the whole server mid-surge (docs/benchmarks-bidding.md).

    .venv/bin/python bench/bid_surge.py                          # 500 × 1 MiB, uniform over 60 s
    .venv/bin/python bench/bid_surge.py --arrivals last10        # all 500 in the last 10 s
    .venv/bin/python bench/bid_surge.py --crash-at 30            # kill -9 the server group at +30 s
    .venv/bin/python bench/bid_surge.py --crash-at 30 --recover post   # clients just re-upload
    .venv/bin/python bench/bid_surge.py --quick                  # 30 × 1 MiB over 20 s

Steps: a fresh PostgreSQL database; ``bidding_world.py`` builds the world (N bidders with bound
P-256 certificates and API tokens, the section published with the clock frozen so that its
deadline falls at a chosen real time) and seals one envelope per bidder *before* anything is
timed; ``gunicorn ggzy.wsgi:application -w W`` serves it in the production ledger configuration
(``GGZY_LEDGER_MODE`` unset → deferred on PostgreSQL, ``GGZY_LEDGER_CHAINER`` unset → writers
unless ``--chainer process``, which also starts ``ggzy ledger chainer``). The surge starts
``--window`` seconds before the deadline; one client thread per bidder (stdlib ``http.client``,
bodies preloaded in memory) starts its upload at its arrival time.

A client whose connection is refused retries (nothing was sent). A client whose request was sent
but got no answer (the server died) asks ``GET /api/v1/bidding/bids`` once the server is back: a
bid listed there is *recovered* (stored although its POST never answered), otherwise it uploads
again while the deadline allows. With ``--recover post`` it uploads the same envelope again at
once instead (a stored bid answers 200 with its receipt: *replayed*). Afterwards every receipt is checked over HTTP
(``POST /api/v1/bidding/receipts/verify``) and, in a child, against the database and the stored
file (``bids.verify_receipt``, SHA-256 of the stored envelope); every stored bid row of the section
is matched to a receipt a client holds; orphan files and unchained ledger rows are counted and the
ledger is verified.

Baseline, same run, same gunicorn, worker count and arrival schedule: ``baseline_app`` below, a
WSGI app that spools the body to a file, copies it (SHA-256 on the way) and answers 201 — the file
work of a bid upload without the envelope checks, the database and the ledger. Also the p50/p99
of a trivial public GET (``/api/v1/ledger/key``) on the real server, sequential, before the surge.
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
import signal
import socket
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

HOST = "127.0.0.1"
RECOVER = "get"  # after a lost answer: "get" = ask GET /bidding/bids; "post" = upload again
GUNICORN = str(REPO / ".venv" / "bin" / "gunicorn")


# --- the baseline server app ----------------------------------------------------------------------

BASELINE_DIR = os.environ.get("GGZY_BENCH_BASELINE_DIR", tempfile.gettempdir())


def baseline_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Spool the body to a file, copy it to a second file computing SHA-256, answer 201 JSON."""
    stream = environ["wsgi.input"]
    left = int(environ.get("CONTENT_LENGTH") or 0)
    if environ["REQUEST_METHOD"] != "POST":
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b"{}"]
    fd, spool = tempfile.mkstemp(dir=BASELINE_DIR, prefix="upload-", suffix=".part")
    with os.fdopen(fd, "wb") as fh:
        while left > 0:
            chunk = stream.read(min(1 << 20, left))
            if not chunk:
                break
            fh.write(chunk)
            left -= len(chunk)
    h, size = hashlib.sha256(), 0
    target = spool[: -len(".part")] + ".bin"
    with open(spool, "rb") as src, open(target, "xb") as dst:
        while chunk := src.read(1 << 20):
            h.update(chunk)
            dst.write(chunk)
            size += len(chunk)
    os.unlink(spool)
    digest = h.hexdigest()
    body = json.dumps({"id": digest[:32], "size": size, "sha256": digest, "receipt": None}).encode()
    start_response("201 Created", [("Content-Type", "application/json"),
                                   ("Content-Length", str(len(body)))])  # fmt: skip
    return [body]


# --- server control -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


class Server:
    """gunicorn (and, with ``--chainer process``, ``ggzy ledger chainer``) in its own process
    group, so ``kill -9`` of the group takes the master and every worker at once."""

    def __init__(self, app: str, env: dict[str, str], port: int, workers: int, log: Path,
                 chainer: bool = False, pythonpath: str | None = None,
                 threads: int = 1) -> None:  # fmt: skip
        self.app, self.env, self.port, self.workers, self.log = app, env, port, workers, log
        self.threads = threads
        self.chainer, self.pythonpath = chainer, pythonpath
        self.procs: list[subprocess.Popen[bytes]] = []
        self.on_start: Any = lambda srv: None

    def start(self, warm: bool = True) -> float:
        """Start; return the seconds until the first answer (then warm every worker unless
        ``warm`` is false — after a crash the surge's own requests are the warm-up)."""
        t = time.perf_counter()
        argv = [GUNICORN, self.app, "-w", str(self.workers), "-b", f"{HOST}:{self.port}",
                "--timeout", "300", "--backlog", "2048", "--access-logfile", "-"]  # fmt: skip
        if self.threads > 1:  # gthread workers: bodies are read while other requests verify
            argv += ["--threads", str(self.threads)]
        if self.pythonpath:
            argv += ["--pythonpath", self.pythonpath]
        logf = open(self.log, "ab")  # noqa: SIM115
        master = subprocess.Popen(argv, env=self.env, cwd=REPO, stdout=logf, stderr=logf,
                                  start_new_session=True)  # fmt: skip
        self.procs = [master]
        self.on_start(self)
        if self.chainer:  # its own session: killed with the server (kill9 signals each group)
            self.procs.append(subprocess.Popen([common.GGZY, "ledger", "chainer"], env=self.env,
                                               cwd=REPO, stdout=logf, stderr=logf,
                                               start_new_session=True))  # fmt: skip
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                status, _ = request("GET", self.port, "/api/v1/ledger/key", timeout=60)
            except (Refused, Lost, OSError):
                time.sleep(0.1)
                continue
            if status >= 500:
                time.sleep(0.1)
                continue
            first = time.perf_counter() - t
            if warm:  # each worker imports Django and connects lazily
                for _ in range(self.workers * 3):
                    request("GET", self.port, "/api/v1/ledger/key", timeout=10)
            return first
        self.kill9()
        raise RuntimeError(f"server did not start, see {self.log}")

    @property
    def pgid(self) -> int:
        return self.procs[0].pid

    def cpu_seconds(self) -> float:
        """utime + stime of the master and its live workers (children) so far."""
        pids = [self.pgid]
        with contextlib.suppress(OSError):
            kids = Path(f"/proc/{self.pgid}/task/{self.pgid}/children").read_text().split()
            pids += [int(k) for k in kids]
        total = 0
        for pid in pids:
            with contextlib.suppress(OSError):
                f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(f[11]) + int(f[12])
        return total / os.sysconf("SC_CLK_TCK")

    def kill9(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
        for p in self.procs:
            p.wait()

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill9()


# --- HTTP client ----------------------------------------------------------------------------------


class Refused(Exception):
    """Connect failed: nothing was sent."""


class Lost(Exception):
    """The request was (perhaps partly) sent and no complete answer came back."""


def request(method: str, port: int, path: str, body: bytes | None = None,
            headers: dict[str, str] | None = None, timeout: float = 300) -> tuple[int, bytes]:  # fmt: skip
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        try:
            conn.connect()
        except OSError as exc:
            raise Refused(str(exc)) from None
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, resp.read()
        except (OSError, http.client.HTTPException) as exc:
            raise Lost(f"{type(exc).__name__}: {exc}") from None
    finally:
        conn.close()


def schedule(n: int, window: float, mode: str, margin: float, seed: int) -> list[float]:
    """Arrival offsets (s after the surge start) for n bidders; the deadline is at ``window``."""
    rnd = random.Random(seed)
    if mode == "uniform":
        lo, hi = 0.0, window - margin
    elif mode.startswith("last"):
        last = float(mode[4:])
        lo, hi = window - last, window - margin
    else:
        raise ValueError(mode)
    return [lo + rnd.random() * (hi - lo) for _ in range(n)]


def client(i: int, row: dict[str, Any], data: bytes, port: int, path: str, t0: float,
           offset: float, deadline: float, out: dict[str, Any], down: threading.Event) -> None:  # fmt: skip
    auth = {"Authorization": f"Bearer {row['token']}"}
    headers = {**auth, "Content-Type": "application/zip", "Content-Length": str(len(data))}
    rec: dict[str, Any] = {"i": i, "offset": offset, "attempts": 0, "refused": 0, "lost": 0,
                           "outcome": None}  # fmt: skip
    out[i] = rec
    start = t0 + offset
    time.sleep(max(0.0, start - time.time()))
    rec["start"] = time.time()
    while True:
        rec["attempts"] += 1
        try:
            status, body = request("POST", port, path, data, headers)
        except Refused:
            rec["refused"] += 1
            if time.time() >= deadline + 5:
                rec["outcome"] = "gave_up_refused"
                break
            time.sleep(0.2)
            continue
        except Lost as exc:
            rec["lost"] += 1
            rec["lost_error"] = str(exc)[:200]
            rec["lost_at"] = time.time()
            if RECOVER == "post":  # the same envelope again: a stored one answers with its receipt
                time.sleep(0.2)
                continue
            found = recover(port, auth, deadline)
            if found is not None:
                rec.update(outcome="recovered", end=time.time(), bid=found["id"],
                           receipt=found["receipt"])  # fmt: skip
                break
            if time.time() >= deadline:
                rec["outcome"] = "lost_no_bid"
                break
            continue  # nothing stored: upload again
        rec["end"] = time.time()
        rec["status"] = status
        try:
            payload = json.loads(body)
        except ValueError:
            payload = {"raw": body[:300].decode(errors="replace")}
        if status == 201:
            rec.update(outcome="receipt", bid=payload["id"], receipt=payload["receipt"])
        elif status == 200 and isinstance(payload, dict) and "receipt" in payload:
            rec.update(outcome="replayed", bid=payload["id"], receipt=payload["receipt"])
        else:
            rec.update(outcome=f"http_{status}", error=payload)
        break


def recover(port: int, auth: dict[str, str], deadline: float) -> dict[str, Any] | None:
    """After a lost answer: is there a bid of mine? (waits for the server to come back)"""
    while time.time() < deadline + 120:
        try:
            status, body = request("GET", port, "/api/v1/bidding/bids", headers=auth, timeout=60)
        except (Refused, Lost):
            time.sleep(0.2)
            continue
        if status == 200:
            listed = json.loads(body)
            return listed[0] if listed else None
        time.sleep(0.2)
    return None


def surge(world: dict[str, Any], bodies: list[bytes], port: int, t0: float, offsets: list[float],
          deadline: float, path_of: Any, crash: Any = None) -> dict[int, dict[str, Any]]:  # fmt: skip
    out: dict[int, dict[str, Any]] = {}
    down = threading.Event()
    threads = [
        threading.Thread(
            target=client,
            args=(i, row, bodies[i], port, path_of(row), t0, offsets[i], deadline, out, down),
            daemon=True,
        )
        for i, row in enumerate(world["bidders"])
    ]
    for th in threads:
        th.start()
    if crash is not None:
        crash()
    for th in threads:
        th.join()
    return out


def latency_stats(recs: list[dict[str, Any]], outcomes: tuple[str, ...]) -> dict[str, Any]:
    lat = [r["end"] - r["start"] for r in recs if r["outcome"] in outcomes and "end" in r]
    ends = [r["end"] for r in recs if r["outcome"] in outcomes and "end" in r]
    starts = [r["start"] for r in recs if "start" in r]
    span = (max(ends) - min(starts)) if ends else float("nan")
    return {
        "n": len(lat),
        "p50_s": common.percentile(lat, 50),
        "p95_s": common.percentile(lat, 95),
        "p99_s": common.percentile(lat, 99),
        "max_s": max(lat) if lat else float("nan"),
        "span_s": span,
        "throughput_per_s": len(lat) / span if ends else float("nan"),
    }


def machine_busy() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine from /proc/stat."""
    f = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = f[3] + f[4]
    return sum(f) - idle, sum(f)


def pg_cpu_seconds(dbname: str) -> float:
    """utime + stime of the live PostgreSQL backends connected to ``dbname`` (a backend that
    exited during the window is not counted)."""
    total = 0
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if dbname not in (d / "cmdline").read_text(errors="replace"):
                continue
            stat = (d / "stat").read_text()
            f = stat.rsplit(")", 1)[1].split()
            total += int(f[11]) + int(f[12])
    return total / os.sysconf("SC_CLK_TCK")


class WaitSampler(threading.Thread):
    """Every 0.2 s: what the database's non-idle backends are doing (pg_stat_activity wait
    events) — lock waits show where the submissions serialise."""

    def __init__(self, dbname: str) -> None:
        super().__init__(daemon=True)
        self.dbname, self.counts, self.samples = dbname, {}, 0
        self.stop = threading.Event()

    def run(self) -> None:
        import psycopg

        with psycopg.connect(f"host={common.PG_HOST} port={common.PG_PORT} user={common.PG_USER} "
                             f"dbname=postgres", autocommit=True) as conn:  # fmt: skip
            while not self.stop.wait(0.2):
                rows = conn.execute(
                    "SELECT coalesce(wait_event_type, 'CPU'), coalesce(wait_event, 'running'), "
                    "count(*) FROM pg_stat_activity WHERE datname = %s AND state <> 'idle' "
                    "AND pid <> pg_backend_pid() GROUP BY 1, 2", (self.dbname,)).fetchall()  # fmt: skip
                self.samples += 1
                for kind, event, n in rows:
                    key = f"{kind}:{event}"
                    self.counts[key] = self.counts.get(key, 0) + n

    def result(self) -> dict[str, Any]:
        return {"samples": self.samples,
                "mean_backends": {k: round(v / max(1, self.samples), 2)
                                  for k, v in sorted(self.counts.items(), key=lambda kv: -kv[1])}}  # fmt: skip


def trivial_get(port: int, n: int = 200) -> dict[str, float]:
    lat = []
    for _ in range(n):
        t = time.perf_counter()
        status, _ = request("GET", port, "/api/v1/ledger/key")
        assert status == 200, status
        lat.append(time.perf_counter() - t)
    return {"p50_s": common.percentile(lat, 50), "p99_s": common.percentile(lat, 99)}


# --- verification (child) -------------------------------------------------------------------------


def child_verify(world_path: str, clients_path: str, out: str) -> None:
    common.child_setup()
    from ggzy.bidding import bids as svc
    from ggzy.bidding import register
    from ggzy.bidding.models import Bid
    from ggzy.core.errors import DomainError
    from ggzy.ledger.models import PendingEvent
    from ggzy.trust.envelopes import envelope_dir

    world = json.loads(Path(world_path).read_text())
    clients = json.loads(Path(clients_path).read_text())
    rows = list(Bid.objects.filter(section_tag=register.section_tag(world["section"])))
    by_id = {b.public_id: b for b in rows}
    per_bidder: dict[str, int] = {}
    for b in rows:
        per_bidder[b.bidder_tag] = per_bidder.get(b.bidder_tag, 0) + 1
    entity_of = {r["i"]: r["entity_id"] for r in world["bidders"]}
    receipts = {c["bid"]: c for c in clients if c["outcome"] in ("receipt", "replayed")}
    recovered = {c["bid"]: c for c in clients if c["outcome"] == "recovered"}
    problems: list[str] = []
    verified = 0
    for bid_id, c in {**receipts, **recovered}.items():
        bid = by_id.get(bid_id)
        if bid is None:
            problems.append(f"receipt for {bid_id} (client {c['i']}): no such bid row")
            continue
        try:
            svc.verify_receipt(body=c["receipt"]["body"], signature=c["receipt"]["signature"])
        except DomainError as exc:
            problems.append(f"{bid_id}: receipt does not verify: {exc.code}")
            continue
        stored = svc.bid_path(bid)
        h = hashlib.sha256()
        with open(stored, "rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
        if (
            h.hexdigest() != bid.file_sha256
            or bid.file_sha256 != c["receipt"]["body"]["file_sha256"]
        ):
            problems.append(f"{bid_id}: stored file digest differs")
            continue
        if svc.identity(bid)["entity"] != entity_of[c["i"]]:
            problems.append(f"{bid_id}: sealed identity names another entity")
            continue
        verified += 1
    stored_without_receipt = [b.public_id for b in rows if b.public_id not in receipts]
    names = {b.storage_name for b in rows}
    edir = envelope_dir()
    orphan_files = [p.name for p in edir.glob("*.ggzy-bid") if p.name not in names]
    spool_left = [p.name for p in edir.glob("upload-*.part")]
    pending = PendingEvent.objects.count()
    no_seq = sum(1 for b in rows if b.receipt_seq is None)
    from ggzy.ledger.append import chain_pending
    from ggzy.ledger.verify import verify_ledger

    chain_pending()
    report = verify_ledger()
    common.write_out(out, {
        "rows": len(rows),
        "statuses": {s: sum(1 for b in rows if b.status == s) for s in {b.status for b in rows}},
        "duplicates": sum(n - 1 for n in per_bidder.values() if n > 1),
        "receipts_held": len(receipts),
        "recovered_held": len(recovered),
        "verified": verified,
        "problems": problems,
        "stored_without_receipt": stored_without_receipt,
        "stored_without_receipt_recovered": [b for b in stored_without_receipt if b in recovered],
        "orphan_envelope_files": len(orphan_files),
        "spool_files_left": len(spool_left),
        "pending_ledger_rows_after_surge": pending,
        "bids_without_receipt_seq": no_seq,
        "ledger_verify": f"ok={report.ok} size={report.size} problems={len(report.problems)}",
    })  # fmt: skip


# --- orchestration --------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    info = common.machine_info()
    work = Path(tempfile.mkdtemp(prefix="ggzy-bench-surge-"))
    result: dict[str, Any] = {"machine": info, "args": vars(args)}
    running: list[Server] = []
    try:
        with common.fresh_db("postgresql", "surge") as env:
            if args.chainer == "process":
                env["GGZY_LEDGER_CHAINER"] = "process"
            result["ledger"] = {
                "GGZY_LEDGER_MODE": env.get("GGZY_LEDGER_MODE", "(unset → deferred)"),
                "GGZY_LEDGER_CHAINER": env.get("GGZY_LEDGER_CHAINER", "(unset → writers)"),
            }
            deadline = time.time() + args.lead
            common.log(f"world: {args.bidders} bidders, deadline in {args.lead:.0f} s")
            t = time.perf_counter()
            world = common.run_child("bidding_world.py", [
                "--bidders", str(args.bidders), "--size-mb", str(args.size_mb),
                "--work", str(work / "world"), "--deadline-epoch", str(deadline),
                "--cipher", args.cipher,
            ], env)  # fmt: skip
            result["setup_s"] = time.perf_counter() - t
            result["world_timings"] = world["timings"]
            deadline = world["deadline_epoch"]
            (work / "world.json").write_text(json.dumps(world))
            bodies = [Path(r["envelope"]).read_bytes() for r in world["bidders"]]
            result["body_bytes"] = {"min": min(map(len, bodies)), "max": max(map(len, bodies))}
            port = free_port()
            server = Server("ggzy.wsgi:application", env, port, args.workers, work / "gunicorn.log",
                            chainer=args.chainer == "process", threads=args.threads)  # fmt: skip
            server.on_start = lambda srv: srv not in running and running.append(srv)
            result["server_start_s"] = server.start()
            result["trivial_get"] = trivial_get(port)
            t0 = deadline - args.window
            if time.time() > t0 - 1:
                raise SystemExit(
                    f"setup took too long: surge start passed; raise --lead ({args.lead})"
                )
            offsets = schedule(args.bidders, args.window, args.arrivals, args.margin, args.seed)
            crash_info: dict[str, Any] = {}

            def crash() -> None:
                if args.crash_at is None:
                    return
                time.sleep(max(0.0, t0 + args.crash_at - time.time()))
                crash_info["killed_at_offset_s"] = time.time() - t0
                server.kill9()
                common.log("crash: kill -9 of the server's process group")
                time.sleep(args.down)
                crash_info["restart_to_first_answer_s"] = server.start(warm=False)
                crash_info["back_at_offset_s"] = time.time() - t0

            common.log(f"surge: {args.bidders} uploads, arrivals {args.arrivals}, "
                       f"starts in {t0 - time.time():.1f} s")  # fmt: skip
            time.sleep(max(0.0, t0 - 1 - time.time()))  # CPU counters from the surge start
            load_before = os.getloadavg()
            dbname = env["DATABASE_URL"].rsplit("/", 1)[1]
            sampler = WaitSampler(dbname)
            sampler.start()
            cpu0, pg0, busy0 = server.cpu_seconds(), pg_cpu_seconds(dbname), machine_busy()
            recs = surge(world, bodies, port, t0, offsets, deadline,
                         lambda row: f"/api/v1/bidding/sections/{world['section']}/bids",
                         crash)  # fmt: skip
            result["load_avg_before_after"] = [load_before[0], os.getloadavg()[0]]
            sampler.stop.set()
            sampler.join()
            result["pg_waits"] = sampler.result()
            busy1 = machine_busy()
            result["cpu"] = {
                # after a crash the counters restart with the new server: this is the new one's
                "gunicorn_s": server.cpu_seconds() - (0 if args.crash_at is not None else cpu0),
                "postgres_s": pg_cpu_seconds(dbname) - pg0,
                "machine_busy_fraction": (busy1[0] - busy0[0]) / max(1, busy1[1] - busy0[1]),
            }
            result["crash"] = crash_info or None
            clients = [recs[i] for i in sorted(recs)]
            for c in clients:
                c.setdefault("outcome", "not_started")
            outcomes: dict[str, int] = {}
            for c in clients:
                outcomes[c["outcome"]] = outcomes.get(c["outcome"], 0) + 1
            result["outcomes"] = outcomes
            result["errors_sample"] = [c.get("error") for c in clients if c.get("error")][:5]
            result["latency_receipt"] = latency_stats(clients, ("receipt",))
            # (arrival offset s, seconds to the answer) per upload, for the timeline of the tail
            result["timeline"] = [
                [round(c["start"] - t0, 3), round(c["end"] - c["start"], 4)]
                for c in clients
                if "end" in c and "start" in c
            ]
            result["latency_receipt_or_recovered"] = latency_stats(
                clients, ("receipt", "replayed", "recovered"))  # fmt: skip
            result["completed_after_deadline"] = sum(
                1 for c in clients if c.get("end", 0) > deadline and c["outcome"] == "receipt"
            )
            result["retries"] = {"refused": sum(c["refused"] for c in clients),
                                 "lost": sum(c["lost"] for c in clients),
                                 "attempts": sum(c["attempts"] for c in clients)}  # fmt: skip
            # every receipt over HTTP
            bad = 0
            for c in clients:
                if c["outcome"] in ("receipt", "replayed", "recovered"):
                    st, body = request("POST", port, "/api/v1/bidding/receipts/verify",
                                       json.dumps({"body": c["receipt"]["body"],
                                                   "signature": c["receipt"]["signature"]}).encode(),
                                       {"Content-Type": "application/json"})  # fmt: skip
                    bad += st != 200 or not json.loads(body).get("valid")
            result["http_receipt_verify_failures"] = bad
            server.stop()
            (work / "clients.json").write_text(json.dumps(clients))
            result["verify"] = common.run_child(
                "bid_surge.py", ["--verify", str(work / "world.json"), str(work / "clients.json")],
                env)  # fmt: skip
            shutil.copy(work / "gunicorn.log", common.results_dir() / "bid_surge-gunicorn.log")

            # baseline: the same schedule against a plain upload app on the same gunicorn
            bdir = work / "baseline"
            bdir.mkdir()
            benv = {**env, "GGZY_BENCH_BASELINE_DIR": str(bdir)}
            bport = free_port()
            base = Server("bid_surge:baseline_app", benv, bport, args.workers,
                          work / "baseline.log", pythonpath=str(REPO / "bench"),
                          threads=args.threads)  # fmt: skip
            base.on_start = lambda srv: running.append(srv)
            base.start()
            bt0 = time.time() + 2
            brecs = surge(world, bodies, bport, bt0, offsets, bt0 + args.window,
                          lambda row: "/upload")  # fmt: skip
            base.stop()
            bclients = [brecs[i] for i in sorted(brecs)]
            result["baseline"] = latency_stats(bclients, ("receipt",)) | {
                "ok": sum(1 for c in bclients if c.get("status") == 201),
                "files": len(list(bdir.glob("*.bin"))),
            }
    finally:
        for srv in running:
            with contextlib.suppress(Exception):
                srv.kill9()
        shutil.rmtree(work, ignore_errors=True)
    return result


def report(r: dict[str, Any]) -> str:
    lr, b, v = r["latency_receipt"], r["baseline"], r["verify"]
    a = r["args"]
    lines = [
        f"{a['bidders']} bidders × {r['body_bytes']['min'] / 2**20:.2f} MiB, arrivals "
        f"`{a['arrivals']}` in the last {a['window']:.0f} s, gunicorn -w {a['workers']} --threads {a.get('threads', 1)}, "
        f"ledger {r['ledger']}, crash {r['crash']}, after a lost answer: {a.get('recover', 'get')}",
        "",
        "| server | receipts | p50 s | p95 s | p99 s | max s | throughput /s | load avg |",
        "|---|---|---|---|---|---|---|---|",
        f"| bid submission | {lr['n']} | {lr['p50_s']:.3f} | {lr['p95_s']:.3f} | {lr['p99_s']:.3f} "
        f"| {lr['max_s']:.3f} | {lr['throughput_per_s']:.1f} | "
        f"{r['load_avg_before_after'][0]:.2f} → {r['load_avg_before_after'][1]:.2f} |",
        f"| baseline upload app | {b['n']} | {b['p50_s']:.3f} | {b['p95_s']:.3f} | {b['p99_s']:.3f} "
        f"| {b['max_s']:.3f} | {b['throughput_per_s']:.1f} | |",
        "",
        f"CPU during the surge: gunicorn {r['cpu']['gunicorn_s']:.1f} s, postgres backends "
        f"{r['cpu']['postgres_s']:.1f} s, machine busy {r['cpu']['machine_busy_fraction']:.0%} "
        f"→ {(r['cpu']['gunicorn_s'] + r['cpu']['postgres_s']) / max(1, r['retries']['attempts']) * 1000:.0f} ms "
        f"server CPU per POST (a refused late bid costs nearly as much as a received one)",
        f"PostgreSQL backends of the database during the surge (mean count per 0.2 s sample, "
        f"non-idle): {r['pg_waits']['mean_backends']}",
        f"p99 ratio (bid ÷ baseline): {lr['p99_s'] / b['p99_s']:.1f}×; trivial GET p50/p99: "
        f"{r['trivial_get']['p50_s'] * 1000:.1f} / {r['trivial_get']['p99_s'] * 1000:.1f} ms",
        f"outcomes: {r['outcomes']}; retries: {r['retries']}; receipts completed after the "
        f"deadline: {r['completed_after_deadline']}; HTTP receipt verify failures: "
        f"{r['http_receipt_verify_failures']}",
        f"database: {v['rows']} rows {v['statuses']}, duplicates {v['duplicates']}, verified "
        f"{v['verified']} of {v['receipts_held']} receipts + {v['recovered_held']} recovered, "
        f"problems {len(v['problems'])}, stored without a POST receipt "
        f"{len(v['stored_without_receipt'])} (recovered by GET {len(v['stored_without_receipt_recovered'])}), "
        f"orphan envelope files {v['orphan_envelope_files']}, spool files left {v['spool_files_left']}, "
        f"pending ledger rows {v['pending_ledger_rows_after_surge']}, bids without receipt_seq "
        f"{v['bids_without_receipt_seq']}, ledger verify {v['ledger_verify']}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="30 bidders over 20 s")
    p.add_argument("--bidders", type=int, default=500)
    p.add_argument("--size-mb", type=float, default=1.0, help="envelope size, MiB")
    p.add_argument(
        "--window", type=float, default=60.0, help="surge starts this long before the deadline"
    )
    p.add_argument("--arrivals", default="uniform", help="uniform | lastN (all in the last N s)")
    p.add_argument(
        "--margin", type=float, default=2.0, help="last arrival this long before the deadline"
    )
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--threads", type=int, default=1, help="threads per worker (gthread when > 1)")
    p.add_argument("--chainer", choices=("writers", "process"), default="writers")
    p.add_argument("--cipher", default="aes-256-gcm")
    p.add_argument("--lead", type=float, default=None, help="deadline this long after setup starts")
    p.add_argument("--crash-at", type=float, default=None, help="kill -9 the server at +S s")
    p.add_argument("--down", type=float, default=1.0, help="seconds before the restart")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--recover",
        choices=("get", "post"),
        default="get",
        help="after a lost answer: look the bid up (GET) or upload the same envelope again",
    )
    p.add_argument("--verify", nargs=2, help=argparse.SUPPRESS)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.verify:
        child_verify(args.verify[0], args.verify[1], args.out)
        return 0
    global RECOVER
    RECOVER = args.recover
    if args.quick:
        args.bidders, args.window = min(args.bidders, 30), min(args.window, 20.0)
    if args.lead is None:  # setup ≈ 0.1 s per bidder here, plus server start and a margin
        args.lead = args.window + 40 + 0.15 * args.bidders * max(1.0, args.size_mb)
    if not common.pg_available():
        print("PostgreSQL not reachable on 127.0.0.1:5432: skipped")
        return 0
    r = run(args)
    path = common.save_result("bid_surge", r)
    print(report(r))
    print(f"\nraw: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
