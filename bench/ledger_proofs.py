"""Inclusion and consistency proofs on a 1,000,000-event ledger (SQLite and PostgreSQL).

The ledger is built as in ``ledger_verify.py`` (generated, correctly chained rows bulk-inserted,
``LedgerHead`` set, ``materialise()`` once, one tree head signed over all events). Then, timed one
call at a time after a short warm-up, through the same functions the API and CLI use:

* ``proofs.inclusion_proof(seq)`` for ~200 random events (against the latest signed head);
* ``proofs.consistency_proof(old, N)`` for ~200 random older sizes ``old``, each with a signed
  tree head (``_sign_heads`` signs them after the build, as ``sign_tree_head`` would have when the
  ledger had ``old`` events);

Every proof is then checked offline (``ggzy.ledger.offline.check`` with the platform key), and its
size reported: audit-path hashes (``⌈log2 n⌉`` at most), raw hash bytes, and the JSON document.

    .venv/bin/python bench/ledger_proofs.py            # full: 1,000,000 events, 200 proofs each
    .venv/bin/python bench/ledger_proofs.py --quick    # smoke run: 20,000 events, 50 proofs
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common


def _stats(times: list[float], sizes: list[int], hashes: list[int]) -> dict[str, Any]:
    return {
        "count": len(times),
        "median_ms": common.percentile(times, 50) * 1e3,
        "p95_ms": common.percentile(times, 95) * 1e3,
        "max_ms": max(times) * 1e3,
        "hashes_max": max(hashes),
        "hashes_median": common.percentile([float(h) for h in hashes], 50),
        "json_bytes_median": common.percentile([float(s) for s in sizes], 50),
        "json_bytes_max": max(sizes),
    }


def _sign_heads(sizes: list[int]) -> float:
    """Signed tree heads at earlier sizes, as sign_tree_head() would have made them had it run
    when the ledger had that many events (root from the stored nodes, same message and key)."""
    from django.db import transaction

    from ggzy.ledger import signing
    from ggzy.ledger.chain import canonical_json
    from ggzy.ledger.models import TreeHead
    from ggzy.ledger.proofs import tree_root
    from ggzy.ledger.services import ledger_alg, tree_head_message

    t = time.perf_counter()
    alg = ledger_alg()
    t0_us = 1_790_000_000_000_000
    for size in sorted(set(sizes)):
        if TreeHead.objects.filter(size=size).exists():
            continue
        root = tree_root(size).hex()
        time_us = t0_us + size * 997
        body = tree_head_message(size=size, root=root, alg=alg, time_us=time_us)
        with transaction.atomic():
            TreeHead.objects.create(
                size=size,
                root=root,
                alg=alg,
                time_us=time_us,
                key_id=signing.key_id(),
                signature=signing.sign(canonical_json(body)),
            )
    return time.perf_counter() - t


def _measure(n: int, count: int, rng: random.Random, key: str, olds: list[int]) -> dict[str, Any]:
    from ggzy.ledger import offline, proofs

    perf = time.perf_counter
    for seq, old in zip(rng.sample(range(1, n + 1), 10), olds, strict=False):  # warm-up
        proofs.inclusion_proof(seq)
        proofs.consistency_proof(old, n)
    out: dict[str, Any] = {}
    times, sizes, hashes, docs = [], [], [], []
    for seq in rng.sample(range(1, n + 1), count):
        t = perf()
        p = proofs.inclusion_proof(seq)
        times.append(perf() - t)
        docs.append(p)
    for p in docs:
        offline.check(json.loads(json.dumps(p)), key)
        sizes.append(len(json.dumps(p, ensure_ascii=False, separators=(",", ":")).encode()))
        hashes.append(len(p["audit_path"]))
    out["inclusion"] = _stats(times, sizes, hashes)
    times, sizes, hashes, docs = [], [], [], []
    for old in olds:
        t = perf()
        p = proofs.consistency_proof(old, n)
        times.append(perf() - t)
        docs.append(p)
    for p in docs:
        offline.check(json.loads(json.dumps(p)), key)
        sizes.append(len(json.dumps(p, ensure_ascii=False, separators=(",", ":")).encode()))
        hashes.append(len(p["proof"]))
    out["consistency"] = _stats(times, sizes, hashes)
    return out


def child(args: argparse.Namespace) -> dict[str, Any]:
    common.child_setup()
    from django.db import connection

    from ggzy.ledger import signing

    n = args.events
    res: dict[str, Any] = {"backend": connection.vendor, "events": n}
    common.log(f"{connection.vendor}: building {n:,} events")
    res["build"] = common.build_ledger(n)
    common.log(f"  built: {res['build']}")
    key = signing.public_key_pem()
    olds = random.Random(6962).sample(range(1, n), args.proofs)
    res["build"]["sign_heads_s"] = _sign_heads(olds)
    res.update(_measure(n, args.proofs, random.Random(2026), key, olds))
    res["log2n"] = math.ceil(math.log2(n))
    with connection.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM ledger_merklenode")
        res["stored_nodes"] = cur.fetchone()[0]
    res["load"] = os.getloadavg()[0]
    for label, part in (("", res), ("proposed ", res.get("proposed") or {})):
        for kind in ("inclusion", "consistency"):
            if kind in part:
                s = part[kind]
                common.log(
                    f"  {label}{kind}: median {s['median_ms']:.2f} ms, p95 {s['p95_ms']:.2f} ms, "
                    f"≤{s['hashes_max']} hashes, ~{s['json_bytes_median']:.0f} B JSON"
                )
    return res


def table(results: list[dict[str, Any]]) -> str:
    rows = []
    for r in results:
        for label, part in (("", r), (" (proposed changes)", r.get("proposed") or {})):
            for kind in ("inclusion", "consistency"):
                if kind not in part:
                    continue
                s = part[kind]
                rows.append(
                    [
                        r["backend"],
                        kind + label,
                        r["events"],
                        s["count"],
                        f"{s['median_ms']:.2f}",
                        f"{s['p95_ms']:.2f}",
                        f"{s['max_ms']:.2f}",
                        f"{s['hashes_median']:.0f} / {s['hashes_max']} (⌈log2 n⌉ = {r['log2n']})",
                        f"{s['hashes_max'] * 32}",
                        f"{s['json_bytes_median']:,.0f} / {s['json_bytes_max']:,}",
                    ]
                )
    out = [
        common.md_table(
            [
                "backend",
                "proof",
                "events",
                "proofs",
                "median ms",
                "p95 ms",
                "max ms",
                "hashes median / max",
                "max path bytes (raw)",
                "JSON bytes median / max",
            ],
            rows,
        )
    ]
    for r in results:
        b = r["build"]
        out.append(
            f"\n{r['backend']}: {r['stored_nodes']:,} stored Merkle nodes; build: generate "
            f"{b['generate_s']:.0f} s, insert {b['insert_s']:.0f} s, materialise() "
            f"{b['materialise_s']:.0f} s; load average {r['load']:.1f}; every proof checked offline."
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smoke run: 20,000 events, 50 proofs")
    p.add_argument("--events", type=int, help="events (default 1,000,000)")
    p.add_argument("--proofs", type=int, help="proofs of each kind (default 200)")
    p.add_argument("--backends", default="sqlite,postgresql")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.events = args.events or (20_000 if args.quick else 1_000_000)
    args.proofs = args.proofs or (50 if args.quick else 200)
    if args.child:
        common.write_out(args.out, child(args))
        return 0
    info = common.machine_info()
    results = []
    for backend in [b for b in args.backends.split(",") if b]:
        if backend == "postgresql" and not common.pg_available():
            common.log("PostgreSQL not reachable: skipped")
            continue
        with common.fresh_db(backend, "proofs") as env:
            results.append(
                common.run_child(
                    "ledger_proofs.py",
                    [
                        "--events",
                        str(args.events),
                        "--proofs",
                        str(args.proofs),
                    ],
                    env,
                )
            )
    print(f"### Ledger proofs ({info['date']}, {info['nproc']} CPUs: {info['cpu']})\n")
    print(table(results))
    path = common.save_result(
        "ledger_proofs", {"machine": info, "args": vars(args), "results": results}
    )
    common.log(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
