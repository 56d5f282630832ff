"""Ledger append throughput: PostgreSQL with 8 concurrent writer processes, SQLite with one.

Every append is its own transaction, as a service call makes it::

    with transaction.atomic():
        append_event(actor=..., event_type=..., subject=..., payload=...)

Measured in the same run, on the same fresh database, with the same number of writer processes
(forked after ``django.setup()``, started together at a barrier):

* ``plain INSERT (baseline)`` — one single-row ``INSERT`` per transaction into a table the
  benchmark creates (``bench_plain``), through the same Django connection and
  ``transaction.atomic()``: what the database and driver cost without the chain;
* ``ledger append`` — ``append_event`` in the backend's default ``GGZY_LEDGER_MODE``
  (``--events``, 100,000);
* the variants (``--variant-events``, 20,000 each): a small domain row (``bench_domain``) inserted
  in the same transaction before ``append_event``; on PostgreSQL the ``inline`` mode too, and the
  deferred mode with a ``ggzy ledger chainer`` process (``GGZY_LEDGER_CHAINER=process``).

A run ends when every event is chained (pending events left by the deferred mode are chained
and timed). Afterwards the chain is checked: sequence numbers exactly ``1..N``, every
``prev_hash`` equal to the previous row's ``hash``, each writer's events in its own order, and
``verify_ledger()`` clean. Client CPU is the writers' own; server CPU is read from
``/proc/<backend pid>/stat`` of each writer's PostgreSQL backend.

    .venv/bin/python bench/ledger_append.py            # full (~8 minutes)
    .venv/bin/python bench/ledger_append.py --quick    # smoke run: 2,000 events
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common

KINDS = ("plain", "ledger", "domain", "inline", "chainer")
KIND_LABEL = {
    "plain": "plain INSERT (baseline)",
    "ledger": "ledger append",
    "domain": "domain row + append",
    "inline": "ledger append",
    "chainer": "ledger append, deferred, `ggzy ledger chainer` process (GGZY_LEDGER_CHAINER=process)",
}


def _mode_for(kind: str) -> str | None:
    """The GGZY_LEDGER_MODE a run uses (None: the backend's default)."""
    return {"inline": "inline", "chainer": "deferred"}.get(kind)


# --- child: runs inside a configured Django process ---------------------------------------------


def _proc_cpu(pid: int) -> float:
    """User+system CPU seconds of a local process (the PostgreSQL backend serving a writer)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def _writer(kind: str, wid: int, count: int, barrier: Any, queue: Any) -> None:
    try:
        _write(kind, wid, count, barrier, queue)
    except BaseException:
        import traceback

        barrier.abort()
        queue.put({"wid": wid, "error": traceback.format_exc()})
        raise


def _write(kind: str, wid: int, count: int, barrier: Any, queue: Any) -> None:
    from django.db import connection, transaction

    from ggzy.ledger.services import append_event

    connection.ensure_connection()
    backend_pid = None
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_backend_pid()")
            backend_pid = cur.fetchone()[0]
    starts: list[float] = []
    ends: list[float] = []
    payload = common.sample_payload
    barrier.wait()
    cpu0 = time.process_time()
    srv0 = _proc_cpu(backend_pid) if backend_pid else float("nan")
    perf = time.perf_counter
    for i in range(count):
        t = perf()
        if kind == "plain":
            body = common.canonical_body(payload(i))
            with transaction.atomic(), connection.cursor() as cur:
                cur.execute(
                    "INSERT INTO bench_plain (writer, i, subject, body) VALUES (%s, %s, %s, %s)",
                    (wid, i, f"project:GGZY-{wid}-{i}", body),
                )
        elif kind == "ledger":
            with transaction.atomic():
                append_event(
                    actor=f"user:{wid}",
                    event_type="bid.submitted",
                    subject=f"w{wid}:{i}",
                    payload=payload(i),
                )
        elif kind == "inline":
            with transaction.atomic():
                append_event(
                    actor=f"user:{wid}",
                    event_type="bid.submitted",
                    subject=f"i{wid}:{i}",
                    payload=payload(i),
                )
        elif kind == "chainer":
            with transaction.atomic():
                append_event(
                    actor=f"user:{wid}",
                    event_type="bid.submitted",
                    subject=f"c{wid}:{i}",
                    payload=payload(i),
                )
        else:
            with transaction.atomic():
                with connection.cursor() as cur:
                    cur.execute(
                        "INSERT INTO bench_domain (project, bidder, amount) VALUES (%s, %s, %s)",
                        (f"GGZY-{wid}-{i}", f"bidder-{wid}", (i * 7919) % 100_000_000 / 100),
                    )
                append_event(
                    actor=f"user:{wid}",
                    event_type="bid.submitted",
                    subject=f"d{wid}:{i}",
                    payload=payload(i),
                )
        starts.append(t)
        ends.append(perf())
    cpu = time.process_time() - cpu0
    srv = (_proc_cpu(backend_pid) - srv0) if backend_pid else float("nan")
    queue.put({"wid": wid, "starts": starts, "ends": ends, "cpu": cpu, "server_cpu": srv})
    connection.close()


def _flush_pending() -> tuple[int, float]:
    """Chain whatever a deferred run left pending (none should be); returns (count, seconds)."""
    from ggzy.ledger import services

    if not hasattr(services, "chain_pending"):
        return 0, 0.0
    t = time.perf_counter()
    n = services.chain_pending()
    return n, time.perf_counter() - t


def _current_mode() -> str:
    from ggzy.ledger import services

    return services.ledger_mode() if hasattr(services, "ledger_mode") else "inline"


def _chainer(stop: Any, queue: Any) -> None:
    from django.db import connection

    from ggzy.ledger.append import chain_batch
    from ggzy.ledger.models import PendingEvent

    cpu0 = time.process_time()
    n = 0
    while True:  # what `ggzy ledger chainer` runs (append.run_chainer), with a stop signal
        chained = chain_batch()
        n += chained or 0
        if chained:
            continue
        if stop.is_set() and not PendingEvent.objects.exists():
            break
        time.sleep(0.0005)
    queue.put({"chained": n, "end": time.perf_counter(), "cpu": time.process_time() - cpu0})
    connection.close()


def _run_kind(kind: str, writers: int, total: int) -> dict[str, Any]:
    import multiprocessing

    from django.conf import settings
    from django.db import connections

    default_mode = getattr(settings, "GGZY_LEDGER_MODE", "inline")
    settings.GGZY_LEDGER_MODE = _mode_for(kind) or default_mode
    settings.GGZY_LEDGER_CHAINER = "process" if kind == "chainer" else "writers"
    mode = _current_mode() if kind != "plain" else "–"
    connections.close_all()  # the writers are forked: none may inherit an open connection
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(writers)
    queue = ctx.Queue()
    per = [total // writers + (1 if w < total % writers else 0) for w in range(writers)]
    procs = [
        ctx.Process(target=_writer, args=(kind, w, per[w], barrier, queue)) for w in range(writers)
    ]
    stop = ctx.Event()
    chainer_q = ctx.Queue()
    chainer = ctx.Process(target=_chainer, args=(stop, chainer_q)) if kind == "chainer" else None
    load0 = os.getloadavg()
    if chainer:
        chainer.start()
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    chainer_info = None
    if chainer:
        stop.set()
        chainer_info = chainer_q.get()
        chainer.join()
    errors = [r["error"] for r in results if "error" in r]
    if errors:
        for p in procs:
            p.kill()
        raise RuntimeError(f"a writer failed:\n{errors[0]}")
    for p in procs:
        p.join()
        if p.exitcode:
            raise RuntimeError(f"writer exited with {p.exitcode}")
    t_done = time.perf_counter()
    left, flush_s = _flush_pending() if kind != "plain" else (0, 0.0)
    settings.GGZY_LEDGER_MODE = default_mode
    load1 = os.getloadavg()
    start = min(r["starts"][0] for r in results if r["starts"])
    end = max(r["ends"][-1] for r in results if r["ends"])
    if left:  # the run is not over until every event is chained
        end = max(end, t_done + flush_s)
    if chainer_info:
        end = max(end, chainer_info["end"])
    lat = [e - s for r in results for s, e in zip(r["starts"], r["ends"], strict=True)]
    ends = sorted(e for r in results for e in r["ends"])
    # Commits per whole second of the run: the sustained rate is the slowest whole second.
    buckets: dict[int, int] = {}
    for e in ends:
        buckets[int(e - start)] = buckets.get(int(e - start), 0) + 1
    whole = [buckets.get(s, 0) for s in range(int(end - start))]
    wall = end - start
    return {
        "kind": kind,
        "mode": mode,
        "left_pending": left,
        "writers": writers,
        "events": total,
        "seconds": wall,
        "rate": total / wall,
        "rate_min_1s": min(whole) if whole else None,
        "rate_median_1s": common.percentile([float(x) for x in whole], 50) if whole else None,
        "lat_p50_ms": common.percentile(lat, 50) * 1e3,
        "lat_p99_ms": common.percentile(lat, 99) * 1e3,
        "client_cpu_us": (sum(r["cpu"] for r in results) + (chainer_info or {}).get("cpu", 0.0))
        / total
        * 1e6,
        "server_cpu_us": sum(r["server_cpu"] for r in results) / total * 1e6,
        "load_before": load0[0],
        "load_after": load1[0],
    }


def _check_chain(expected_total: int) -> dict[str, Any]:
    from django.db import connection

    from ggzy.ledger.verify import verify_ledger

    problems = []
    last = "0" * 64
    expected = 1
    with connection.cursor() as cur:
        cur.execute("SELECT seq, prev_hash, hash FROM ledger_event ORDER BY seq")
        while batch := cur.fetchmany(20_000):
            for seq, prev_hash, digest in batch:
                if seq != expected:
                    problems.append(f"seq {seq} where {expected} expected (gap or duplicate)")
                    expected = seq
                if prev_hash != last:
                    problems.append(f"seq {seq}: prev_hash is not the previous event's hash (fork)")
                last = digest
                expected += 1
        if expected - 1 != expected_total:
            problems.append(f"{expected - 1} events, {expected_total} expected")
        # Commit order is chain order: each writer's events appear in the order it wrote them.
        cur.execute("SELECT subject FROM ledger_event ORDER BY seq")
        seen: dict[str, int] = {}
        for (subject,) in cur.fetchall():
            w, i = subject.split(":")
            if int(i) <= seen.get(w, -1):
                problems.append(f"writer {w} out of order at {i}")
            seen[w] = int(i)
    t = time.perf_counter()
    report = verify_ledger()
    verify_s = time.perf_counter() - t
    if not report.ok:
        problems.append(f"verify_ledger: {report.as_dict()['problems'][:3]}")
    return {
        "events": expected - 1,
        "problems": problems[:20],
        "verify_ok": report.ok,
        "verify_seconds": verify_s,
    }


def child(args: argparse.Namespace) -> dict[str, Any]:
    common.child_setup()
    from django.db import connection

    vendor = connection.vendor
    with connection.cursor() as cur:
        if vendor == "postgresql":
            cur.execute(
                "CREATE TABLE bench_plain (id bigserial PRIMARY KEY, writer int NOT NULL, "
                "i int NOT NULL, subject varchar(200) NOT NULL, body text NOT NULL)"
            )
            cur.execute(
                "CREATE TABLE bench_domain (id bigserial PRIMARY KEY, project varchar(64) "
                "NOT NULL, bidder varchar(64) NOT NULL, amount numeric(14, 2) NOT NULL)"
            )
        else:
            cur.execute(
                "CREATE TABLE bench_plain (id integer PRIMARY KEY, writer int NOT NULL, "
                "i int NOT NULL, subject varchar(200) NOT NULL, body text NOT NULL)"
            )
            cur.execute(
                "CREATE TABLE bench_domain (id integer PRIMARY KEY, project varchar(64) "
                "NOT NULL, bidder varchar(64) NOT NULL, amount decimal NOT NULL)"
            )
    runs = []
    ledger_total = 0
    default_mode = _current_mode()
    for kind in args.kinds:
        if kind == "inline" and default_mode == "inline":
            continue  # the same as "ledger" on this backend
        if kind == "chainer" and vendor != "postgresql":
            continue  # SQLite has one writer at a time anyway
        n = args.events if kind in ("plain", "ledger") else args.variant_events
        common.log(f"{vendor}: {KIND_LABEL[kind]}, {args.writers} writer(s), {n:,} transactions")
        r = _run_kind(kind, args.writers, n)
        common.log(
            f"  {r['rate']:,.0f}/s (slowest second {r['rate_min_1s']}), "
            f"p50 {r['lat_p50_ms']:.2f} ms, p99 {r['lat_p99_ms']:.2f} ms"
        )
        runs.append(r)
        if kind != "plain":
            ledger_total += n
    check = _check_chain(ledger_total) if ledger_total else None
    return {"backend": vendor, "runs": runs, "check": check}


# --- parent -------------------------------------------------------------------------------------


def table(results: list[dict[str, Any]]) -> str:
    rows = []
    for res in results:
        base = next((r for r in res["runs"] if r["kind"] == "plain"), None)
        for r in res["runs"]:
            ratio = (
                f"{r['rate'] / base['rate']:.2f}×"
                if base and r is not base
                else "1×"
                if base
                else "–"
            )
            label = KIND_LABEL[r["kind"]]
            if r["kind"] in ("ledger", "domain", "inline"):
                label += f" ({r['mode']})"
            if r.get("left_pending"):
                label += f" [{r['left_pending']} chained after the writers ended]"
            rows.append(
                [
                    res["backend"],
                    label,
                    r["writers"],
                    r["events"],
                    r["rate"],
                    r["rate_min_1s"] if r["rate_min_1s"] is not None else "–",
                    ratio,
                    f"{r['lat_p50_ms']:.2f} / {r['lat_p99_ms']:.2f}",
                    f"{r['client_cpu_us']:.0f}",
                    "–"
                    if r["server_cpu_us"] != r["server_cpu_us"]
                    else f"{r['server_cpu_us']:.0f}",
                    f"{r['load_before']:.1f} → {r['load_after']:.1f}",
                ]
            )
    out = [
        common.md_table(
            [
                "backend",
                "transaction",
                "writers",
                "events",
                "events/s",
                "slowest 1 s",
                "vs baseline",
                "latency p50 / p99 ms",
                "client CPU µs/txn",
                "server CPU µs/txn",
                "load avg",
            ],
            rows,
        )
    ]
    for res in results:
        c = res["check"]
        if c:
            verdict = "no fork, no gap" if not c["problems"] else "; ".join(c["problems"])
            out.append(
                f"\n{res['backend']}: chain check over {c['events']:,} events: {verdict}; "
                f"verify_ledger() {'clean' if c['verify_ok'] else 'FAILED'} "
                f"in {c['verify_seconds']:.2f} s."
            )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smoke run: 2,000 events per run")
    p.add_argument("--events", type=int, help="events per run (default 100,000)")
    p.add_argument(
        "--variant-events",
        type=int,
        help="events for the variants: domain row, inline mode, dedicated chainer (default 20,000)",
    )
    p.add_argument("--pg-writers", type=int, default=8)
    p.add_argument("--sqlite-writers", type=int, default=1)
    p.add_argument("--backends", default="postgresql,sqlite")
    p.add_argument("--kinds", default=",".join(KINDS))
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    p.add_argument("--writers", type=int, default=1, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.events = args.events or (2_000 if args.quick else 100_000)
    args.variant_events = args.variant_events or (1_000 if args.quick else 20_000)
    if isinstance(args.kinds, str):
        args.kinds = [k for k in args.kinds.split(",") if k]
    if args.child:
        common.write_out(args.out, child(args))
        return 0
    backends = [b for b in args.backends.split(",") if b]
    if "postgresql" in backends and not common.pg_available():
        common.log("PostgreSQL not reachable: skipped")
        backends.remove("postgresql")
    info = common.machine_info()
    results = []
    for backend in backends:
        writers = args.pg_writers if backend == "postgresql" else args.sqlite_writers
        with common.fresh_db(backend, "append") as env:
            results.append(
                common.run_child(
                    "ledger_append.py",
                    [
                        "--writers",
                        str(writers),
                        "--events",
                        str(args.events),
                        "--variant-events",
                        str(args.variant_events),
                        "--kinds",
                        ",".join(args.kinds),
                    ],
                    env,
                )
            )
    print(f"### Ledger append ({info['date']}, {info['nproc']} CPUs: {info['cpu']})\n")
    print(table(results))
    path = common.save_result(
        "ledger_append", {"machine": info, "args": vars(args), "results": results}
    )
    common.log(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
