"""``ggzy ledger verify`` (``verify_ledger()``) throughput on a 1,000,000-event ledger.

For each configuration (SQLite/SM3, PostgreSQL/SM3, SQLite/SHA-256) a fresh database gets
1,000,000 generated, correctly chained events (``common.build_ledger``: rows computed with
chain.py's own functions and bulk-inserted — COPY on PostgreSQL, ``executemany`` on SQLite — then
``LedgerHead`` set, ``materialise()`` called once and one tree head signed). Then, in the same
process and run:

* the raw hashing rate of the bytes the chain hashes, ``prev_hash ‖ canonical_event`` for every
  event, with SM3 and with SHA-256 (one core, a plain loop over hashlib);
* a check that the verifier's one-format-string canonical form is byte-identical to
  ``EventFields.canonical()`` on a sample of rows;
* ``verify_ledger()`` (best of ``--runs``), and once the pre-optimisation implementation
  (``bench/verify_reference.py``) for the before/after figure;
* a tamper drill at full size: one row altered in the middle; the report (every problem, the
  first bad sequence) must equal the reference implementation's.

    .venv/bin/python bench/ledger_verify.py            # full: 1,000,000 events
    .venv/bin/python bench/ledger_verify.py --quick    # smoke run: 20,000 events
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common

CONFIGS = {  # name: (backend, ledger hash)
    "sqlite": ("sqlite", "sm3"),
    "postgresql": ("postgresql", "sm3"),
    "sqlite-sha256": ("sqlite", "sha256"),
}


def _cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _chained_bytes() -> list[bytes]:
    """``prev_hash ‖ EventFields.canonical()`` of every event, in order (what the chain hashes)."""
    from django.db import connection

    from ggzy.ledger.chain import EventFields

    out = []
    with connection.cursor() as cur:
        cur.execute(
            "SELECT seq, time_us, actor, client_addr, event_type, subject, payload_digest, "
            "prev_hash FROM ledger_event ORDER BY seq"
        )
        while batch := cur.fetchmany(50_000):
            for seq, t, actor, addr, etype, subject, pd, prev in batch:
                out.append(
                    bytes.fromhex(prev)
                    + EventFields(seq, t, actor, addr, etype, subject, pd).canonical()
                )
    return out


def _raw_rate(alg: str, data: list[bytes]) -> float:
    import hashlib

    best = float("inf")
    for _ in range(2):
        t = time.perf_counter()
        if alg == "sha256":
            sha = hashlib.sha256
            for b in data:
                sha(b).digest()
        else:
            new = hashlib.new
            for b in data:
                new("sm3", b).digest()
        best = min(best, time.perf_counter() - t)
    return len(data) / best


def _canonical_identity(sample: int) -> int:
    """Assert verify.py's f-string canonical form equals EventFields.canonical() on a sample."""
    import orjson
    from django.db import connection

    from ggzy.ledger import verify
    from ggzy.ledger.chain import EventFields

    dumps = orjson.dumps
    with connection.cursor() as cur:
        cur.execute("SELECT MAX(seq) FROM ledger_event")
        n = cur.fetchone()[0] or 0
        seqs = sorted(random.Random(7).sample(range(1, n + 1), min(sample, n)))
        checked = 0
        for i in range(0, len(seqs), 500):
            part = seqs[i : i + 500]
            cur.execute(
                "SELECT seq, time_us, actor, client_addr, event_type, subject, payload_digest, "
                f"prev_hash FROM ledger_event WHERE seq IN ({', '.join(map(str, part))})"
            )
            for seq, t, actor, addr, etype, subject, pd, prev in cur.fetchall():
                prefix = bytes.fromhex(prev)
                mine = verify._CANONICAL % (
                    prefix,
                    dumps(actor),
                    dumps(addr),
                    dumps(pd),
                    seq,
                    dumps(subject),
                    t,
                    dumps(etype),
                )
                theirs = prefix + EventFields(seq, t, actor, addr, etype, subject, pd).canonical()
                assert mine == theirs, (seq, mine, theirs)
                checked += 1
    # And the awkward strings: quotes, backslashes, control characters, non-BMP, CJK.
    for s in ['a"b\\c', "tab\there\nnl\x00\x1f", "标段一（二）", "emoji 😀 \u2028\u2029", ""]:
        f = EventFields(1, 2, s, s, s, s, s)
        assert (
            verify._CANONICAL % (b"", dumps(s), dumps(s), dumps(s), 1, dumps(s), 2, dumps(s))
            == f.canonical()
        )
        checked += 1
    return checked


def _tamper_drill(n: int) -> dict[str, Any]:
    """Alter event n/2, then compare the optimised report with the reference implementation's."""
    import verify_reference
    from django.db import connection

    from ggzy.ledger import triggers
    from ggzy.ledger.verify import verify_ledger

    target = max(1, n // 2 + 123) if n > 300 else max(1, n // 2)
    with triggers.unlocked(connection), connection.cursor() as cur:
        cur.execute("UPDATE ledger_event SET subject = 'project:TAMPERED' WHERE seq = %s", [target])
    t = time.perf_counter()
    new = verify_ledger()
    new_s = time.perf_counter() - t
    t = time.perf_counter()
    ref = verify_reference.verify_ledger()
    ref_s = time.perf_counter() - t
    a, b = new.as_dict(), ref.as_dict()
    for d in (a, b):
        d.pop("seconds")
        d.pop("events_per_second")
    return {
        "target": target,
        "first_bad_seq": new.first_bad_seq,
        "kinds": [p.kind for p in new.problems],
        "identical": a == b,
        "seconds": new_s,
        "reference_seconds": ref_s,
    }


def child(args: argparse.Namespace) -> dict[str, Any]:
    common.child_setup()
    import verify_reference
    from django.conf import settings
    from django.db import connection

    from ggzy.ledger.verify import verify_ledger

    res: dict[str, Any] = {
        "backend": connection.vendor,
        "alg": settings.GGZY_LEDGER_HASH,
        "events": args.events,
    }
    common.log(f"{connection.vendor}/{settings.GGZY_LEDGER_HASH}: building {args.events:,} events")
    res["build"] = common.build_ledger(args.events)
    common.log(f"  built: {res['build']}")
    res["canonical_checked"] = _canonical_identity(2_000)
    data = _chained_bytes()
    res["chained_bytes_avg"] = sum(map(len, data)) / max(1, len(data))
    res["raw_sm3"] = _raw_rate("sm3", data)
    res["raw_sha256"] = _raw_rate("sha256", data)
    del data
    common.log(
        f"  raw chain hashing: SM3 {res['raw_sm3']:,.0f}/s, SHA-256 {res['raw_sha256']:,.0f}/s"
    )
    runs = []
    for _ in range(args.runs):
        load = os.getloadavg()[0]
        c0, t = _cpu(), time.perf_counter()
        report = verify_ledger()
        wall, cpu = time.perf_counter() - t, _cpu() - c0
        assert report.ok and report.size == args.events, report.as_dict()
        runs.append(
            {
                "seconds": wall,
                "cpu_seconds": cpu,
                "rate": args.events / wall,
                "load": load,
                "nodes": report.nodes_checked,
                "heads": report.heads_checked,
            }
        )
        common.log(
            f"  verify_ledger(): {wall:.2f} s, {args.events / wall:,.0f} events/s "
            f"(CPU {cpu:.2f} s, load {load:.1f})"
        )
    res["runs"] = runs
    if args.reference:
        c0, t = _cpu(), time.perf_counter()
        report = verify_reference.verify_ledger()
        wall, cpu = time.perf_counter() - t, _cpu() - c0
        assert report.ok, report.as_dict()
        res["reference"] = {"seconds": wall, "cpu_seconds": cpu, "rate": args.events / wall}
        common.log(f"  reference (before): {wall:.2f} s, {args.events / wall:,.0f} events/s")
    if args.tamper:
        res["tamper"] = _tamper_drill(args.events)
        common.log(f"  tamper drill: {res['tamper']}")
    return res


def table(results: list[dict[str, Any]]) -> str:
    rows = []
    for r in results:
        best = min(r["runs"], key=lambda x: x["seconds"])
        ref = r.get("reference")
        rows.append(
            [
                r["backend"],
                r["alg"],
                r["events"],
                f"{best['seconds']:.2f}",
                best["rate"],
                f"{best['cpu_seconds']:.1f}",
                ref["rate"] if ref else "–",
                f"{best['rate'] / ref['rate']:.1f}×" if ref else "–",
                r["raw_sm3"],
                r["raw_sha256"],
                f"{best['rate'] / r['raw_sm3']:.2f}",
                f"{best['rate'] / r['raw_sha256']:.2f}",
                f"{best['load']:.1f}",
            ]
        )
    out = [
        common.md_table(
            [
                "backend",
                "ledger hash",
                "events",
                "verify s (best)",
                "events/s",
                "CPU s",
                "before events/s",
                "speed-up",
                "raw SM3/s (1 core)",
                "raw SHA-256/s (1 core)",
                "÷ raw SM3",
                "÷ raw SHA-256",
                "load avg",
            ],
            rows,
        )
    ]
    for r in results:
        b = r["build"]
        line = (
            f"\n{r['backend']}/{r['alg']}: all runs "
            + ", ".join(f"{x['rate']:,.0f}/s" for x in r["runs"])
            + f"; {r['runs'][0]['nodes']:,} stored nodes and {r['runs'][0]['heads']} signed head checked; "
            f"chained message {r['chained_bytes_avg']:.0f} bytes on average; canonical form identical on "
            f"{r['canonical_checked']:,} samples; build: generate {b['generate_s']:.0f} s, insert "
            f"{b['insert_s']:.0f} s, materialise() {b['materialise_s']:.0f} s."
        )
        if t := r.get("tamper"):
            line += (
                f" Tamper drill (seq {t['target']} altered): first bad seq {t['first_bad_seq']} "
                f"({', '.join(t['kinds'])}), report identical to the reference: "
                f"{'yes' if t['identical'] else 'NO'} ({t['seconds']:.1f} s vs {t['reference_seconds']:.1f} s)."
            )
        out.append(line)
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smoke run: 20,000 events")
    p.add_argument("--events", type=int, help="events per ledger (default 1,000,000)")
    p.add_argument("--runs", type=int, default=3, help="verify runs per ledger (best is reported)")
    p.add_argument("--configs", default=",".join(CONFIGS), help=f"of {', '.join(CONFIGS)}")
    p.add_argument(
        "--no-reference",
        dest="reference",
        action="store_false",
        help="skip timing the pre-optimisation verify",
    )
    p.add_argument("--no-tamper", dest="tamper", action="store_false", help="skip the tamper drill")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.events = args.events or (20_000 if args.quick else 1_000_000)
    if args.child:
        common.write_out(args.out, child(args))
        return 0
    info = common.machine_info()
    results = []
    for name in [c for c in args.configs.split(",") if c]:
        backend, alg = CONFIGS[name]
        if backend == "postgresql" and not common.pg_available():
            common.log("PostgreSQL not reachable: skipped")
            continue
        extra = []
        if name == "sqlite-sha256":  # the SHA-256 ledger: verify speed only
            extra = ["--no-reference", "--no-tamper"]
        else:
            extra = ([] if args.reference else ["--no-reference"]) + (
                [] if args.tamper else ["--no-tamper"]
            )
        with common.fresh_db(backend, f"verify_{alg}", alg=alg) as env:
            results.append(
                common.run_child(
                    "ledger_verify.py",
                    ["--events", str(args.events), "--runs", str(args.runs), *extra],
                    env,
                )
            )
    print(f"### Ledger verify ({info['date']}, {info['nproc']} CPUs: {info['cpu']})\n")
    print(table(results))
    path = common.save_result(
        "ledger_verify", {"machine": info, "args": vars(args), "results": results}
    )
    common.log(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
