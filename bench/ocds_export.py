"""OCDS export (``ggzy export ocds``) of N contracting processes, each a section taken through
announcement, signed opening record (3 bids), candidates' publicity (3 candidates), award
notice and published contract; against a baseline that fetches the same rows the same way and
``orjson.dumps`` them without the OCDS mapping.

    .venv/bin/python bench/ocds_export.py                       # 100,000 on PostgreSQL
    .venv/bin/python bench/ocds_export.py --backend sqlite
    .venv/bin/python bench/ocds_export.py -n 2000               # quick

Setup (not timed): the database ``ggzy_bench_ocds`` (PostgreSQL, dropped and re-created; or an
SQLite file in a temporary ``GGZY_VAR``), migrated, then ``bulk_create`` of 1,000 bidders, 100
tenderers, and per process one project, section, tender document, opening (with its signed
record's JSON: 3 bids), 3 bids, evaluation session, publicity, 3 candidates, award notice and
published contract. Timed: ``ggzy export ocds --output FILE`` (release packages, JSON Lines)
and ``--records`` (record packages with ocdsmerge's compiled release), each as its own process
(Django start-up included); the baseline in a child process of the same run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import common  # noqa: E402

DB_NAME = "ggzy_bench_ocds"
BATCH = 5000
T = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)


def _hex(*parts: Any) -> str:
    return hashlib.md5(":".join(map(str, parts)).encode()).hexdigest()


def seed(n: int) -> dict[str, float]:
    """bulk_create the world (see the module docstring)."""
    from ggzy.accounts.models import User
    from ggzy.award.models import AwardNotice, Candidate, Contract, Publicity
    from ggzy.bidding.models import Bid, Opening
    from ggzy.catalog.models import Category, Procedure, Ruleset
    from ggzy.catalog.services import install_default_catalog
    from ggzy.core.identifiers import make_uscc
    from ggzy.evaluation.models import EvaluationSession
    from ggzy.registry.models import Entity, Region
    from ggzy.tendering.models import Project, Section, TenderDocument

    started = time.perf_counter()
    install_default_catalog(actor="system:bench")
    user = User.objects.create(username="bench")
    region = Region.objects.create(code="320100", name="南京市")
    category = Category.objects.get(code="works")
    ruleset = Ruleset.objects.filter(category=category).order_by("-version").first()
    procedure = Procedure.objects.get(code="open_tender")

    def entities(count: int, start: int, **kw: Any) -> list[Entity]:
        rows = [Entity(uscc=make_uscc(f"9132010{start + k:010d}"), name=f"南京第{start + k}公司",
                       entity_type="enterprise", legal_representative="某某", address="南京市",
                       region=region, registered_at=T, updated_at=T, **kw)
                for k in range(count)]  # fmt: skip
        return Entity.objects.bulk_create(rows, batch_size=BATCH)

    bidders = entities(1000, 1, is_bidder=True)
    tenderers = entities(100, 5000, is_tenderer=True)
    for lo in range(0, n, BATCH):
        hi = min(n, lo + BATCH)
        ks = range(lo, hi)
        published = {k: T + timedelta(minutes=k) for k in ks}
        projects = Project.objects.bulk_create([
            Project(public_id=_hex("p", k), name=f"基准项目{k}", category=category,
                    ruleset=ruleset, procedure=procedure, tenderer=tenderers[k % 100],
                    region=region, funding_source="财政资金", budget=Decimal("12000000.00"),
                    status="published", created_by=user, created_at=published[k],
                    published_at=published[k], announcement=f"招标公告{k}")
            for k in ks])  # fmt: skip
        sections = Section.objects.bulk_create([
            Section(project=p, number=1, public_id=_hex("s", k), name="施工",
                    estimated_price=Decimal("10000000.00"), max_price=Decimal("9800000.00"),
                    deposit=Decimal("0.00"), qualification_requirements="二级及以上",
                    evaluation_method="comprehensive", bid_validity_days=90,
                    documents_from=published[k], bid_deadline=published[k] + timedelta(days=21),
                    original_deadline=published[k] + timedelta(days=21))
            for k, p in zip(ks, projects, strict=True)])  # fmt: skip
        TenderDocument.objects.bulk_create([
            TenderDocument(project=p, public_id=_hex("d", k), kind="tender", name="招标文件.pdf",
                           content_type="application/pdf", size=1000, sha256="0" * 64,
                           sm3="0" * 64, storage_name=_hex("f", k), uploaded_by=user,
                           uploaded_at=published[k], published_at=published[k])
            for k, p in zip(ks, projects, strict=True)])  # fmt: skip
        closed = {k: published[k] + timedelta(days=21, seconds=1) for k in ks}
        prices = [Decimal("9000000.00"), Decimal("9500000.00"), Decimal("9300000.50")]
        trio = {k: [bidders[(k * 3 + j) % 1000] for j in range(3)] for k in ks}
        bids = Bid.objects.bulk_create([
            Bid(public_id=_hex("b", k, j), section_tag=_hex("t", k), bidder_tag=_hex("u", k, j),
                owner_tag=_hex("o", k, j), sealed_identity="x", envelope_id=_hex("e", k, j),
                storage_name="x", size=1, file_sha256="0" * 64, manifest_digest="0" * 64,
                status="opened", received_at=published[k] + timedelta(days=20), section=s,
                entity=trio[k][j], opened_at=closed[k], price=prices[j], duration_days=300)
            for k, s in zip(ks, sections, strict=True) for j in range(3)])  # fmt: skip
        openings = Opening.objects.bulk_create([
            Opening(section=s, status="closed", started_at=closed[k], started_by=user,
                    closed_at=closed[k], bid_count=3, record={
                        "version": "ggzy-opening-record/1", "section": None, "bids": [
                            {"bid": b.public_id, "bidder": b.entity.name, "uscc": b.entity.uscc,
                             "received_at": b.received_at.isoformat(), "price": str(b.price),
                             "duration_days": 300, "decryption": "opened"}
                            for b in bids[(k - lo) * 3:(k - lo) * 3 + 3]]})
            for k, s in zip(ks, sections, strict=True)])  # fmt: skip
        sessions = EvaluationSession.objects.bulk_create([
            EvaluationSession(public_id=_hex("v", k), section=s, opening=o, status="signed",
                              panel="works", scheme={}, label_seed="x", label_commitment="x",
                              draw_seed="x", created_by=user, created_at=closed[k],
                              signed_at=closed[k] + timedelta(hours=2))
            for k, s, o in zip(ks, sections, openings, strict=True)])  # fmt: skip
        starts = {k: closed[k] + timedelta(hours=3) for k in ks}
        publicities = Publicity.objects.bulk_create([
            Publicity(public_id=_hex("g", k), section=s, session=v, regime="works",
                      report_sha256="0" * 64, report_signed_at=closed[k], starts_at=starts[k],
                      ends_at=starts[k] + timedelta(days=3), published_by=user,
                      published_at=starts[k])
            for k, s, v in zip(ks, sections, sessions, strict=True)])  # fmt: skip
        candidates = Candidate.objects.bulk_create([
            Candidate(publicity=g, rank=r + 1, label=f"A{r}", bid=bids[(k - lo) * 3 + r],
                      entity=trio[k][r], price=prices[r])
            for k, g in zip(ks, publicities, strict=True) for r in range(3)])  # fmt: skip
        awards = AwardNotice.objects.bulk_create([
            AwardNotice(public_id=_hex("a", k), section=s, publicity=g,
                        winner=candidates[(k - lo) * 3], entity=trio[k][0], amount=prices[0],
                        record={}, record_sha256="0" * 64, signature="x", key_id="x",
                        issued_by=user, issued_at=starts[k] + timedelta(days=3))
            for k, s, g in zip(ks, sections, publicities, strict=True)])  # fmt: skip
        Contract.objects.bulk_create([
            Contract(public_id=_hex("c", k), award=a, amount=prices[0],
                     signed_on=date(2025, 5, 1), deadline=date(2025, 6, 1),
                     security_form="bank_guarantee", recorded_by=user,
                     recorded_at=starts[k] + timedelta(days=4),
                     published_at=starts[k] + timedelta(days=4))
            for k, a in zip(ks, awards, strict=True)])  # fmt: skip
        common.log(f"seeded {hi:,}/{n:,}")
    return {"seed_s": round(time.perf_counter() - started, 1)}


def baseline(repeat: int) -> float:
    """The same rows, fetched the same way (``ocds_packages.batches``), each process's model
    rows and loaded rows ``orjson.dumps``-ed as they are, with no OCDS mapping."""
    import orjson

    from ggzy.core import clock
    from ggzy.exchange import ocds_packages as packages

    def plain(value: Any) -> Any:  # rows as objects, Decimal as text
        return value._asdict() if hasattr(value, "_asdict") else str(value)

    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        with open(os.devnull, "wb") as sink:
            for batch, loaded in packages.batches(now=clock.now()):
                for s in batch:
                    publicity = s.award_publicity
                    candidates = loaded.candidates.get(publicity.pk, []) if publicity else []
                    row = {
                        "section": s,
                        "tenderer": loaded.orgs[s.project.tenderer_id],
                        "documents": loaded.documents.get(s.project.pk, []),
                        "clarifications": loaded.clarifications.get(s.project.pk, []),
                        "candidates": [(c, loaded.orgs[c.entity_id]) for c in candidates],
                    }
                    sink.write(orjson.dumps(row, default=plain) + b"\n")
        best = min(best, time.perf_counter() - started)
    return best


def child(args: argparse.Namespace) -> None:
    common.child_setup()
    if args.step == "seed":
        result: dict[str, Any] = seed(args.n)
    elif args.step == "analyze":
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        result = {}
    else:
        result = {"baseline_s": round(baseline(args.repeat), 2)}
    Path(args.out).write_text(json.dumps(result))


def timed_export(env: dict[str, str], *extra: str) -> tuple[float, int, int, float]:
    """Wall time of the ``ggzy export ocds`` process, its lines, bytes and peak RSS (MiB)."""
    with tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False) as fh:
        target = fh.name
    try:
        started = time.perf_counter()
        proc = subprocess.Popen([common.GGZY, "export", "ocds", "--output", target, *extra],
                                env=env, cwd=REPO)  # fmt: skip
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - started
        if status != 0:
            raise SystemExit(f"export failed: {status}")
        size = os.path.getsize(target)
        with open(target, "rb") as fh2:
            lines = sum(1 for _ in fh2)
        return elapsed, lines, size, usage.ru_maxrss / 1024
    finally:
        os.unlink(target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=100_000)
    parser.add_argument("--backend", choices=common.BACKENDS, default="postgresql")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="reuse the seeded PostgreSQL database of a previous run",
    )
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--step", default="seed")
    parser.add_argument("--out", default="")
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    var_dir = tempfile.mkdtemp(prefix="ggzy-bench-ocds-")
    env = common.base_env(var_dir)
    if args.backend == "sqlite" and args.reuse:
        raise SystemExit("--reuse is for PostgreSQL (the SQLite file lives in a temporary dir)")
    if args.backend == "postgresql":
        env["DATABASE_URL"] = common.pg_url(DB_NAME)
    seeded = {"seed_s": "reused"}
    if not args.reuse:
        if args.backend == "postgresql":
            for cmd in (["dropdb", "--if-exists", "--force", DB_NAME], ["createdb", DB_NAME]):
                subprocess.run([*cmd, "-h", common.PG_HOST, "-p", common.PG_PORT,
                                "-U", common.PG_USER], check=True)  # fmt: skip
        subprocess.run([common.GGZY, "migrate", "-v0", "--noinput"], check=True, env=env, cwd=REPO)
        seeded = common.run_child("ocds_export.py", ["-n", str(args.n), "--step", "seed"], env)
        common.log(f"seeded in {seeded['seed_s']} s")
    # a freshly bulk-loaded database has no planner statistics yet (autovacuum has not run)
    common.run_child("ocds_export.py", ["--step", "analyze"], env)
    releases = timed_export(env)
    records = timed_export(env, "--records")
    base = common.run_child("ocds_export.py", ["--step", "baseline", "--repeat",
                                               str(args.repeat)], env)["baseline_s"]  # fmt: skip
    print(f"\n### OCDS export ({args.backend}, {releases[1]:,} contracting processes)\n")
    print(f"Command: `.venv/bin/python bench/ocds_export.py -n {args.n} --backend "
          f"{args.backend}` — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n")  # fmt: skip
    print("| what | seconds | processes/s | output | peak RSS | vs baseline |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, (secs, lines, size, rss) in (("`ggzy export ocds` (release packages)", releases),
                                      ("`ggzy export ocds --records`", records)):  # fmt: skip
        print(f"| {name} | {secs:.1f} | {lines / secs:,.0f} | {size / 2**20:,.0f} MiB "
              f"({lines:,} lines) | {rss:,.0f} MiB | {secs / base:.1f}× |")  # fmt: skip
    print(f"| baseline: same fetch + `orjson.dumps` of the rows | {base:.1f} | "
          f"{releases[1] / base:,.0f} | – | – | 1.0× |\n")  # fmt: skip
    print(f"Seeding (bulk_create, not timed above): {seeded['seed_s']} s.\n")
    print(common.machine_markdown())


if __name__ == "__main__":
    main()
