"""The optimised ``verify_ledger()`` must report exactly what the reference implementation
(``bench/verify_reference.py``, the pre-optimisation code) reports — clean or tampered.

For each backend a 300-event ledger (two signed heads, all nodes materialised) is built once and
cloned per case; each case tampers with its clone (altered, deleted, inserted, moved, re-chained
rows; non-canonical hex; wrongly typed values; rewritten, deleted and bogus Merkle nodes; forged,
future and bad-signature tree heads; a changed or missing ledger head; …) and compares the full
reports (every problem, sizes, counters; not the timings), or the exception raised, in three
modes:

* ``default``  — the module as shipped (one 65,536-event chunk here, scanned in-process);
* ``chunked``  — ``CHUNK_LEVEL = 4`` (16-event chunks, so chunk boundaries, cross-chunk links and
  the node levels above the chunks are exercised), scanned in-process;
* ``parallel`` — ``CHUNK_LEVEL = 4`` with forked worker processes.

    .venv/bin/python bench/verify_equivalence.py [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common

N = 300

# name: SQL statements (run with the append-only triggers unlocked), or a Python action name.
CASES: dict[str, list[str]] = {
    "clean": [],
    "subject altered @7": ["UPDATE ledger_event SET subject = 'x' WHERE seq = 7"],
    "time_us altered @33 (chunk start)": [
        "UPDATE ledger_event SET time_us = time_us + 1 WHERE seq = 33"
    ],
    "actor altered @300 (last)": ["UPDATE ledger_event SET actor = 'user:1' WHERE seq = 300"],
    "payload altered @100": ["UPDATE ledger_event SET payload = '{\"i\":1000}' WHERE seq = 100"],
    "payload digest altered @64": [
        "UPDATE ledger_event SET payload_digest = '0000000000000000000000000000000000000000000000000000000000000000' WHERE seq = 64"
    ],
    "deleted @9": ["DELETE FROM ledger_event WHERE seq = 9"],
    "deleted @17 (first of a chunk)": ["DELETE FROM ledger_event WHERE seq = 17"],
    "deleted @300 (last)": ["DELETE FROM ledger_event WHERE seq = 300"],
    "deleted @1": ["DELETE FROM ledger_event WHERE seq = 1"],
    "deleted 40..60": ["DELETE FROM ledger_event WHERE seq BETWEEN 40 AND 60"],
    "moved @4 to 1004": ["UPDATE ledger_event SET seq = seq + 1000 WHERE seq = 4"],
    "moved @4 to 0": ["UPDATE ledger_event SET seq = 0 WHERE seq = 4"],
    "moved @4 to -5": ["UPDATE ledger_event SET seq = -5 WHERE seq = 4"],
    "prev_hash altered @51": [
        "UPDATE ledger_event SET prev_hash = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' WHERE seq = 51"
    ],
    "prev_hash uppercase @51": [
        "UPDATE ledger_event SET prev_hash = upper(prev_hash) WHERE seq = 51"
    ],
    "hash uppercase @50": ["UPDATE ledger_event SET hash = upper(hash) WHERE seq = 50"],
    "hash uppercase @300": ["UPDATE ledger_event SET hash = upper(hash) WHERE seq = 300"],
    "hash not hex @50": ["UPDATE ledger_event SET hash = 'zz' WHERE seq = 50"],
    "two rows swapped 10<->11": [
        "UPDATE ledger_event SET seq = -10 WHERE seq = 10",
        "UPDATE ledger_event SET seq = 10 WHERE seq = 11",
        "UPDATE ledger_event SET seq = 11 WHERE seq = -10",
    ],
    "inserted forged row @12": ["@insert_forged"],
    "re-chained rewrite from 6": ["@rechain"],
    "appended row, head not moved": ["@append_unrecorded"],
    "tree head root forged": [
        "UPDATE ledger_treehead SET root = '0000000000000000000000000000000000000000000000000000000000000000' WHERE size = 200"
    ],
    "tree head signature garbage": [
        "UPDATE ledger_treehead SET signature = 'AAAA' WHERE size = 300"
    ],
    "tree head beyond the table": ["@future_head"],
    "tree head deleted": ["DELETE FROM ledger_treehead WHERE size = 200"],
    "node level 1 altered": ["@node:1:5"],
    "node level 4 altered": ["@node:4:3"],
    "node level 6 altered (above small chunks)": ["@node:6:2"],
    "node level 8 altered (top)": ["@node:8:0"],
    "node deleted": ['DELETE FROM ledger_merklenode WHERE level = 2 AND "index" = 7'],
    "bogus node far right": ["@bogus:3:9999"],
    "bogus node level 0": ["@bogus:0:5"],
    "bogus node level 40": ["@bogus:40:0"],
    "bogus node negative index": ["@bogus:2:-1"],
    "head size +1": ["UPDATE ledger_ledgerhead SET size = size + 1"],
    "head size -1": ["UPDATE ledger_ledgerhead SET size = size - 1"],
    "head last_hash altered": [
        "UPDATE ledger_ledgerhead SET last_hash = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'"
    ],
    "head alg sha256": ["UPDATE ledger_ledgerhead SET alg = 'sha256'"],
    "head alg unknown": ["UPDATE ledger_ledgerhead SET alg = 'md5'"],
    "head row missing": ["DELETE FROM ledger_ledgerhead"],
    "no events at all": ["DELETE FROM ledger_event"],
    "everything empty": [
        "DELETE FROM ledger_event",
        "DELETE FROM ledger_merklenode",
        "DELETE FROM ledger_treehead",
        "UPDATE ledger_ledgerhead SET size = 0, "
        "last_hash = '0000000000000000000000000000000000000000000000000000000000000000'",
    ],
}
SQLITE_ONLY: dict[str, list[str]] = {
    "time_us REAL @20": ["UPDATE ledger_event SET time_us = time_us + 0.5 WHERE seq = 20"],
    "time_us text @20": ["UPDATE ledger_event SET time_us = 'abc' WHERE seq = 20"],
    "seq REAL 20.5": ["UPDATE ledger_event SET seq = 20.5 WHERE seq = 20"],
    "subject blob @20": ["UPDATE ledger_event SET subject = CAST(subject AS BLOB) WHERE seq = 20"],
    "node level REAL": ['UPDATE ledger_merklenode SET level = 1.5 WHERE level = 1 AND "index" = 3'],
    "node index text": [
        'UPDATE ledger_merklenode SET "index" = \'x\' WHERE level = 1 AND "index" = 3'
    ],
    "node hash text": [
        "UPDATE ledger_merklenode SET hash = 'abc' WHERE level = 1 AND \"index\" = 3"
    ],
}


# --- child --------------------------------------------------------------------------------------


def _build() -> None:
    from django.db import transaction

    from ggzy.ledger.services import append_event, materialise, sign_tree_head

    for i in range(N):
        with transaction.atomic():
            append_event(
                actor=f"user:{i % 7}",
                event_type="bid.submitted",
                subject=f"project:{i // 3}/标段{i % 2}",
                payload=common.sample_payload(i),
                addr="10.0.0.1" if i % 5 else "",
            )
        if i + 1 == 200:
            sign_tree_head()
    sign_tree_head()
    materialise()


def _apply(step: str) -> None:
    from django.db import connection

    from ggzy.ledger import signing
    from ggzy.ledger.chain import EventFields, canonical_json, hasher
    from ggzy.ledger.models import Event
    from ggzy.ledger.services import tree_head_message

    def sql(q: str, params: Any = ()) -> None:
        with connection.cursor() as cur:
            cur.execute(q, params)

    if not step.startswith("@"):
        sql(step)
    elif step == "@insert_forged":
        e = Event.objects.get(seq=12)
        for s in range(N, 11, -1):
            sql("UPDATE ledger_event SET seq = %s WHERE seq = %s", (s + 1, s))
        sql(
            "INSERT INTO ledger_event (seq, time_us, actor, client_addr, event_type, subject, payload, "
            "payload_digest, prev_hash, hash) VALUES (12, %s, 'user:666', '', 'x', 'forged', '{}', %s, %s, %s)",
            (e.time_us, e.payload_digest, e.prev_hash, "ab" * 32),
        )
    elif step == "@rechain":
        h = hasher("sm3")
        rows = list(Event.objects.order_by("seq"))
        prev = bytes.fromhex(rows[4].hash)
        for e in rows[5:]:
            subject = "rewritten" if e.seq == 6 else e.subject
            f = EventFields(
                e.seq, e.time_us, e.actor, e.client_addr, e.event_type, subject, e.payload_digest
            )
            new = h(prev + f.canonical())
            sql(
                "UPDATE ledger_event SET subject = %s, prev_hash = %s, hash = %s WHERE seq = %s",
                (subject, prev.hex(), new.hex(), e.seq),
            )
            prev = new
        sql("UPDATE ledger_ledgerhead SET last_hash = %s", (prev.hex(),))
    elif step == "@append_unrecorded":
        last = Event.objects.order_by("-seq").first()
        assert last is not None
        h = hasher("sm3")
        body = b"{}"
        f = EventFields(last.seq + 1, last.time_us + 1, "user:9", "", "x", "late", h(body).hex())
        digest = h(bytes.fromhex(last.hash) + f.canonical())
        sql(
            "INSERT INTO ledger_event (seq, time_us, actor, client_addr, event_type, subject, payload, "
            "payload_digest, prev_hash, hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                f.seq,
                f.time_us,
                f.actor,
                f.addr,
                f.type,
                f.subject,
                body.decode(),
                f.payload_digest,
                last.hash,
                digest.hex(),
            ),
        )
    elif step == "@future_head":
        body = tree_head_message(size=N + 10, root="cd" * 32, alg="sm3", time_us=1)
        sql(
            "INSERT INTO ledger_treehead (size, root, alg, time_us, key_id, signature) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            (N + 10, "cd" * 32, "sm3", 1, signing.key_id(), signing.sign(canonical_json(body))),
        )
    elif step.startswith("@node:"):
        _, level, index = step.split(":")
        sql(
            'UPDATE ledger_merklenode SET hash = %s WHERE level = %s AND "index" = %s',
            (bytes(32), int(level), int(index)),
        )
    elif step.startswith("@bogus:"):
        _, level, index = step.split(":")
        sql(
            'INSERT INTO ledger_merklenode (level, "index", hash) VALUES (%s, %s, %s)',
            (int(level), int(index), bytes(32)),
        )
    else:
        raise ValueError(step)


def _outcome(fn: Any) -> Any:
    try:
        r = fn()
    except Exception as exc:  # the reference may crash on some tampering: so must the new one
        return ("raised", type(exc).__name__, str(exc))
    d = r.as_dict()
    d.pop("seconds")
    d.pop("events_per_second")
    d["all_problems"] = [p.as_dict() for p in r.problems]
    return d


def child(args: argparse.Namespace) -> dict[str, Any]:
    common.child_setup()
    from django.db import connection

    from ggzy.ledger import triggers

    if args.build:
        _build()
        return {"built": N}
    import verify_reference

    from ggzy.ledger import verify

    steps = (CASES | SQLITE_ONLY)[args.case]
    with triggers.unlocked(connection):
        for step in steps:
            _apply(step)
    expected = _outcome(verify_reference.verify_ledger)
    out = {"case": args.case, "expected": expected, "modes": {}}
    modes = {"default": (16, 10**12), "chunked": (4, 10**12), "parallel": (4, 32)}
    for mode, (level, parallel_min) in modes.items():
        verify.CHUNK_LEVEL, verify.CHUNK, verify.PARALLEL_MIN = level, 1 << level, parallel_min
        got = _outcome(verify.verify_ledger)
        workers = verify._workers(N, -(-N // verify.CHUNK))
        out["modes"][mode] = {
            "same": got == expected,
            "got": got if got != expected else None,
            "workers": workers,
        }
    return out


# --- parent -------------------------------------------------------------------------------------


def _clone(backend: str, template_env: dict[str, str], name: str) -> dict[str, str]:
    env = dict(template_env)
    var = tempfile.mkdtemp(prefix="ggzy-bench-eq-")
    shutil.copytree(Path(template_env["GGZY_VAR"]) / "keys", Path(var) / "keys")
    env["GGZY_VAR"] = var
    env["GGZY_LEDGER_KEY"] = str(Path(var) / "keys" / "ledger-signing.pem")
    if backend == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            src = Path(template_env["GGZY_VAR"]) / f"ggzy.sqlite3{suffix}"
            if src.exists():
                shutil.copy(src, Path(var) / src.name)
    else:
        template = template_env["DATABASE_URL"].rsplit("/", 1)[1]
        subprocess.run(
            [
                "createdb",
                "-h",
                common.PG_HOST,
                "-p",
                common.PG_PORT,
                "-U",
                common.PG_USER,
                "-T",
                template,
                name,
            ],
            check=True,
        )
        env["DATABASE_URL"] = common.pg_url(name)
    return env


def _drop(backend: str, env: dict[str, str], name: str) -> None:
    if backend == "postgresql":
        subprocess.run(
            [
                "dropdb",
                "-h",
                common.PG_HOST,
                "-p",
                common.PG_PORT,
                "-U",
                common.PG_USER,
                "--if-exists",
                name,
            ],
            check=False,
        )
    shutil.rmtree(env["GGZY_VAR"], ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--backends", default="sqlite,postgresql")
    p.add_argument("--quick", action="store_true", help="accepted for symmetry; the run is small")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    p.add_argument("--build", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--case", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        common.write_out(args.out, child(args))
        return 0
    rows, failures = [], 0
    for backend in [b for b in args.backends.split(",") if b]:
        if backend == "postgresql" and not common.pg_available():
            common.log("PostgreSQL not reachable: skipped")
            continue
        with common.fresh_db(backend, "eq_tpl") as tpl:
            common.run_child("verify_equivalence.py", ["--build"], tpl)
            if backend == "postgresql":  # a template database must have no other sessions
                subprocess.run(
                    [
                        "psql",
                        "-h",
                        common.PG_HOST,
                        "-p",
                        common.PG_PORT,
                        "-U",
                        common.PG_USER,
                        "-d",
                        "postgres",
                        "-qAtc",
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '"
                        + tpl["DATABASE_URL"].rsplit("/", 1)[1]
                        + "'",
                    ],
                    check=False,
                    capture_output=True,
                )
            cases = CASES | (SQLITE_ONLY if backend == "sqlite" else {})
            for i, case in enumerate(cases):
                name = f"ggzy_bench_{os.getpid()}_eq_{i}"
                env = _clone(backend, tpl, name)
                try:
                    r = common.run_child("verify_equivalence.py", ["--case", case], env)
                finally:
                    _drop(backend, env, name)
                exp = r["expected"]
                if isinstance(exp, list):
                    summary = f"raises {exp[1]}"
                else:
                    summary = (
                        "clean"
                        if exp["ok"]
                        else f"first bad {exp['first_bad_seq']} ({', '.join(sorted({x['kind'] for x in exp['all_problems']}))})"
                    )
                same = all(m["same"] for m in r["modes"].values())
                if r["modes"]["parallel"]["workers"] < 2 or r["modes"]["chunked"]["workers"]:
                    raise SystemExit("the parallel mode did not fork workers (or chunked did)")
                failures += not same
                rows.append(
                    [backend, case, summary]
                    + ["✓" if m["same"] else "✗ DIFFERS" for m in r["modes"].values()]
                )
                if not same:
                    common.log(f"DIFFERENCE {backend} {case}: expected {exp}; got {r['modes']}")
    print(
        common.md_table(
            [
                "backend",
                "case",
                "reference verdict",
                "default",
                "chunked (16)",
                "parallel (16, forked)",
            ],
            rows,
        )
    )
    print(f"\n{len(rows) - failures} of {len(rows)} cases identical in every mode.")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
