"""Shared helpers for the ledger benchmarks: throwaway databases, child processes, machine info,
fast generation of correctly chained ledgers, markdown tables.

Every benchmark runs against a database created for it and dropped afterwards (a PostgreSQL
database ``ggzy_bench_<pid>_<tag>`` or an SQLite file in a temporary ``GGZY_VAR``), never against
``var/`` or a database someone else uses. Django reads ``DATABASE_URL``/``GGZY_VAR`` at import
time, so the measured work runs in a child process started with that environment
(:func:`run_child`); the parent only orchestrates and prints.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PYTHON = str(REPO / ".venv" / "bin" / "python")
GGZY = str(REPO / ".venv" / "bin" / "ggzy")
PG_HOST = os.environ.get("GGZY_BENCH_PG_HOST", "127.0.0.1")
PG_USER = os.environ.get("GGZY_BENCH_PG_USER", "postgres")
PG_PORT = os.environ.get("GGZY_BENCH_PG_PORT", "5432")
BACKENDS = ("sqlite", "postgresql")


def log(*parts: Any) -> None:
    print(time.strftime("%H:%M:%S"), *parts, file=sys.stderr, flush=True)


# --- machine ------------------------------------------------------------------------------------


def _cmd(*argv: str) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def pg_available() -> bool:
    import socket

    try:
        socket.create_connection((PG_HOST, int(PG_PORT)), 2).close()
    except OSError:
        return False
    return True


def machine_info() -> dict[str, str]:
    import hashlib
    import sqlite3
    import ssl

    cpu = ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    with contextlib.suppress(OSError), open("/proc/meminfo", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    pg = ""
    if pg_available():
        pg = _cmd(
            "psql",
            "-h",
            PG_HOST,
            "-p",
            PG_PORT,
            "-U",
            PG_USER,
            "-d",
            "postgres",
            "-Atc",
            "SELECT version()",
        )
        pg = pg.split(" on ")[0]
        settings = _cmd(
            "psql",
            "-h",
            PG_HOST,
            "-p",
            PG_PORT,
            "-U",
            PG_USER,
            "-d",
            "postgres",
            "-Atc",
            "SELECT string_agg(name || '=' || setting, ', ' ORDER BY name) FROM pg_settings "
            "WHERE name IN ('fsync','synchronous_commit','shared_buffers','wal_sync_method',"
            "'commit_delay')",
        )
        pg = f"{pg} ({settings})" if settings else pg
    import django
    import orjson

    try:
        hashlib.new("sm3", b"")
        sm3 = "hashlib/OpenSSL"
    except ValueError:
        sm3 = "cryptography"
    commit = _cmd("git", "-C", str(REPO), "rev-parse", "--short", "HEAD")
    dirty = _cmd("git", "-C", str(REPO), "status", "--porcelain", "--", "ggzy/ledger")
    if dirty:
        commit += " + uncommitted " + ", ".join(
            line.split(maxsplit=1)[-1].removeprefix("ggzy/ledger/") for line in dirty.splitlines()
        )
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "commit": commit or "unknown",
        "load average (1/5/15 min)": " / ".join(f"{x:.2f}" for x in os.getloadavg()),
        "nproc": str(
            os.cpu_count() if not hasattr(os, "sched_getaffinity") else len(os.sched_getaffinity(0))
        ),
        "cpu": cpu or platform.processor(),
        "memory": mem,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "orjson": orjson.__version__,
        "openssl": ssl.OPENSSL_VERSION,
        "sm3": sm3,
        "sqlite": sqlite3.sqlite_version,
        "postgresql": pg or "not reachable",
    }


def machine_markdown(info: dict[str, str] | None = None) -> str:
    info = info or machine_info()
    return "\n".join(f"- **{k}**: {v}" for k, v in info.items())


# --- databases ----------------------------------------------------------------------------------


def pg_url(name: str) -> str:
    return f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"


def _psql_env() -> dict[str, str]:
    return {**os.environ, "PGCONNECT_TIMEOUT": "5"}


def base_env(var_dir: str, alg: str = "sm3") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "GGZY_VAR")}
    env.update(
        GGZY_VAR=var_dir,
        GGZY_LEDGER_HASH=alg,
        GGZY_LEDGER_KEY=str(Path(var_dir) / "keys" / "ledger-signing.pem"),
        DJANGO_SETTINGS_MODULE="ggzy.settings",
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONPATH=str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else ""),
    )
    return env


@contextlib.contextmanager
def fresh_db(
    backend: str, tag: str, *, alg: str = "sm3", keep: bool = False
) -> Iterator[dict[str, str]]:
    """A migrated, empty database for one benchmark; yields the child environment.

    ``backend`` is ``sqlite`` or ``postgresql``. The database (and the temporary ``GGZY_VAR``
    holding the SQLite file and the tree-head signing key) is removed on exit unless ``keep``.
    """
    var_dir = tempfile.mkdtemp(prefix=f"ggzy-bench-{tag}-")
    env = base_env(var_dir, alg)
    name = f"ggzy_bench_{os.getpid()}_{tag}".lower()
    if backend == "postgresql":
        subprocess.run(
            ["dropdb", "-h", PG_HOST, "-p", PG_PORT, "-U", PG_USER, "--if-exists", name],
            check=True,
            env=_psql_env(),
            capture_output=True,
        )
        subprocess.run(
            ["createdb", "-h", PG_HOST, "-p", PG_PORT, "-U", PG_USER, name],
            check=True,
            env=_psql_env(),
        )
        env["DATABASE_URL"] = pg_url(name)
    elif backend != "sqlite":
        raise ValueError(backend)
    env["GGZY_BENCH_BACKEND"] = backend
    try:
        subprocess.run([GGZY, "migrate", "-v0", "--noinput"], check=True, env=env, cwd=REPO)
        yield env
    finally:
        if not keep:
            if backend == "postgresql":
                subprocess.run(
                    [
                        "dropdb",
                        "-h",
                        PG_HOST,
                        "-p",
                        PG_PORT,
                        "-U",
                        PG_USER,
                        "--if-exists",
                        "--force",
                        name,
                    ],
                    env=_psql_env(),
                    capture_output=True,
                )
            shutil.rmtree(var_dir, ignore_errors=True)
        else:
            log(f"kept database: {env.get('DATABASE_URL') or var_dir}")


def run_child(script: str, args: list[str], env: dict[str, str]) -> Any:
    """Run ``bench/<script> --child …`` in ``env``; return the JSON it writes to ``--out``."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as fh:
        out = fh.name
    try:
        subprocess.run(
            [PYTHON, str(REPO / "bench" / script), "--child", "--out", out, *args],
            check=True,
            env=env,
            cwd=REPO,
        )
        with open(out, encoding="utf-8") as fh2:
            return json.load(fh2)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(out)


def child_setup() -> None:
    """Inside a child: configure Django from the environment fresh_db() prepared."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ggzy.settings")
    import django

    django.setup()


def write_out(path: str, data: Any) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(data, fh)


# --- generating a ledger fast -------------------------------------------------------------------

EVENT_TYPES = (
    "project.published",
    "bid.submitted",
    "bid.opened",
    "award.announced",
    "contract.signed",
    "deposit.refunded",
    "account.login",
)
COLUMNS = (
    "seq",
    "time_us",
    "actor",
    "client_addr",
    "event_type",
    "subject",
    "payload",
    "payload_digest",
    "prev_hash",
    "hash",
)


def sample_payload(i: int) -> dict[str, Any]:
    """A realistic small payload: amounts as strings, a Chinese name, nested list."""
    return {
        "project": f"GGZY-2026-{i // 7:07d}",
        "amount": f"{(i * 7919) % 100_000_000 / 100:.2f}",
        "bidder": f"某某建设工程有限公司{i % 97}",
        "lots": [i % 5, (i + 1) % 5],
        "note": "开标记录" if i % 3 == 0 else "",
    }


def canonical_body(payload: dict[str, Any]) -> str:
    from ggzy.ledger.chain import canonical_json

    return canonical_json(payload).decode()


def generate_rows(
    n: int,
    alg: str,
    *,
    start: int = 1,
    prev_hex: str = "0" * 64,
    t0_us: int = 1_790_000_000_000_000,
) -> Iterator[tuple[Any, ...]]:
    """Correctly chained ledger rows ``start..start+n-1``, computed with chain.py's own functions."""
    from ggzy.ledger.chain import EventFields, canonical_json, chain_hash, hasher

    h = hasher(alg)
    prev = bytes.fromhex(prev_hex)
    for seq in range(start, start + n):
        body = canonical_json(sample_payload(seq))
        fields = EventFields(
            seq=seq,
            time_us=t0_us + seq * 997,
            actor=f"user:{seq % 503}",
            addr=f"10.{seq % 7}.{seq % 251}.{seq % 13}" if seq % 11 else "cli",
            type=EVENT_TYPES[seq % len(EVENT_TYPES)],
            subject=f"project:GGZY-2026-{seq // 7:07d}" + ("/标段一" if seq % 4 == 0 else ""),
            payload_digest=h(body).hex(),
        )
        digest = chain_hash(h, prev, fields)
        yield (
            seq,
            fields.time_us,
            fields.actor,
            fields.addr,
            fields.type,
            fields.subject,
            body.decode(),
            fields.payload_digest,
            prev.hex(),
            digest.hex(),
        )
        prev = digest


def bulk_load_ledger(n: int, *, batch: int = 50_000) -> dict[str, float]:
    """Load ``n`` generated, correctly chained events straight into ``ledger_event`` (inside a
    configured child), then point ``LedgerHead`` at the last one. Returns timings.

    This bypasses ``append_event`` (which would take minutes for a million events) but writes the
    exact rows it would write. PostgreSQL uses COPY, SQLite ``executemany``.
    """
    from django.conf import settings
    from django.db import connection, transaction

    from ggzy.ledger.models import LedgerHead

    alg = settings.GGZY_LEDGER_HASH
    t_gen = t_ins = 0.0
    rows = generate_rows(n, alg)
    last = "0" * 64
    done = 0
    while done < n:
        t = time.perf_counter()
        chunk = [next(rows) for _ in range(min(batch, n - done))]
        t_gen += time.perf_counter() - t
        t = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cur:
            if connection.vendor == "postgresql":
                raw = cur.cursor  # psycopg 3 cursor
                with raw.copy(f"COPY ledger_event ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                    for r in chunk:
                        copy.write_row(r)
            else:
                cur.executemany(
                    f"INSERT INTO ledger_event ({', '.join(COLUMNS)}) VALUES ({', '.join('%s' for _ in COLUMNS)})",
                    chunk,
                )
        t_ins += time.perf_counter() - t
        done += len(chunk)
        last = chunk[-1][-1]
    with transaction.atomic():
        LedgerHead.objects.update_or_create(
            pk=1, defaults={"size": n, "last_hash": last, "alg": alg}
        )
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE ledger_event")
    return {"generate_s": t_gen, "insert_s": t_ins}


def build_ledger(n: int) -> dict[str, float]:
    """bulk_load_ledger + materialise() + one signed tree head, with timings."""
    from ggzy.ledger.services import materialise, sign_tree_head

    timings = bulk_load_ledger(n)
    t = time.perf_counter()
    materialise()
    timings["materialise_s"] = time.perf_counter() - t
    t = time.perf_counter()
    sign_tree_head()
    timings["sign_head_s"] = time.perf_counter() - t
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE ledger_merklenode")
            cur.execute("VACUUM ANALYZE ledger_event")
    return timings


# --- output -------------------------------------------------------------------------------------


def md_table(headers: list[str], rows: list[list[Any]]) -> str:
    def cell(x: Any) -> str:
        if isinstance(x, float):
            return f"{x:,.2f}" if abs(x) < 100 else f"{x:,.0f}"
        if isinstance(x, int):
            return f"{x:,}"
        return str(x)

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(x) for x in r) + " |" for r in rows]
    return "\n".join(lines)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = (len(s) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def results_dir() -> Path:
    d = REPO / "bench" / "results"
    d.mkdir(exist_ok=True)
    return d


def save_result(name: str, data: Any) -> Path:
    path = results_dir() / f"{name}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2))
    return path
