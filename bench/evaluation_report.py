"""Building the evaluation report through the Django services on PostgreSQL: 50 bids, 9 experts,
20 criteria (issue 5: scoring a section including report generation < 2 s).

    .venv/bin/python bench/evaluation_report.py               # 10 repeats
    .venv/bin/python bench/evaluation_report.py --repeats 5 --bids 50 --experts 9

The world is real, in a throwaway database (``common.fresh_db``): a works section published with
20 criteria (price 30 + 19 scored factors), ``--bids`` bidders each sealing a small bid and
handing over its key at the opening, whose record is signed; a session from that record, nine
experts on the committee, the automated review confirmed by every member, scoring started.
Then each expert's scores (bids × 19) go in through the service's batch path
(``services_scoring.submit_scores``, one call per expert, timed as "load").

Timed per repeat with ``time.perf_counter``: ``services_report.build_report`` end to end — the
completeness checks, reading the session's bids, members and every score from the database, the
engine (``score_section``), the canonical report bytes, their SHA-256, storing them and the
ledger event, in its transaction. Between repeats the session is put back to ``scoring`` (bench
only), so every repeat builds the same report from the same rows; the bytes must be identical.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import common  # noqa: E402

SCORED = 19  # + the price = 20 criteria


def criteria() -> list[dict[str, str]]:
    # 16 × 4 points + 3 × 2 points = 70 scored, the price 30
    out = [{"name": "投标报价", "weight": "30", "kind": "price"}]
    for i in range(SCORED):
        out.append({"name": f"评审因素{i + 1}", "weight": "4" if i < 16 else "2",
                    "kind": "technical" if i % 2 else "business"})  # fmt: skip
    return out


def child(out: str, bids: int, experts: int, repeats: int) -> None:
    common.child_setup()
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.GGZY_OPENING_SETTLE_SECONDS = 0

    from ggzy.bidding import register as bid_register
    from ggzy.core import clock
    from ggzy.evaluation import config, services, services_report, services_review, services_scoring
    from ggzy.evaluation.models import EvaluationSession, Score
    from ggzy.ledger import signing
    from ggzy.registry.models import Region
    from tests.evaluation import world as w

    signing.ensure_key()
    bid_register.ensure_key()
    province, _ = Region.objects.get_or_create(code="320000", defaults={"name": "江苏省"})
    Region.objects.get_or_create(code="320100", defaults={"name": "南京市", "parent": province})
    timings: dict[str, float] = {}
    rng = random.Random(5)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=30)
    with clock.frozen(start) as handle:
        t = time.perf_counter()
        world = w.make_world(handle, bidders=bids, criteria=criteria())
        if experts > len(world.members):
            w.make_experts(world, experts - len(world.members))
        timings["world_s"] = time.perf_counter() - t
        t = time.perf_counter()
        prices = [f"{rng.randrange(8_000_000, 9_700_000)}.00" for _ in range(bids)]
        w.open_section(world, prices)
        timings["opening_s"] = time.perf_counter() - t
        session = services.create_session(actor=world.staff, section=world.section)
        chosen = [m.expert for m in world.members[:experts]]
        services.form_committee(actor=world.staff, session=session, experts=chosen,
                                chair=chosen[0])  # fmt: skip
        services_review.start_review(actor=world.staff, session=session)
        ids = list(session.findings.values_list("pk", flat=True))
        for m in world.members[:experts]:
            services_review.cast_votes(
                actor=m.user, session=session, votes=[(f, True, "") for f in ids]
            )
        services_review.start_scoring(actor=world.staff, session=session)
        session.refresh_from_db()
        for bid in session.bids.filter(low_price="pending"):
            services_scoring.decide_low_price(actor=world.members[0].user, session=session,
                                              bid=bid.label, accepted=True, note="成本说明合理")  # fmt: skip
        scored = config.scheme(session.scheme).scored_criteria
        labels = [b.label for b in session.bids.all() if b.valid]
        t = time.perf_counter()
        for m in world.members[:experts]:
            entries = [
                services_scoring.ScoreEntry(
                    label, c.id, str(rng.randrange(0, int(c.max_points) * 2 + 1) / 2), "理由"
                )
                for label in labels
                for c in scored
            ]
            services_scoring.submit_scores(actor=m.user, session=session, entries=entries)
        timings["load_scores_s"] = time.perf_counter() - t
        score_rows = Score.objects.filter(session=session).count()

        runs: list[float] = []
        digests = set()
        for n in range(repeats + 1):  # the first is a warm-up
            EvaluationSession.objects.filter(pk=session.pk).update(
                status="scoring", report=None, report_sha256="", report_built_at=None
            )
            fresh = EvaluationSession.objects.get(pk=session.pk)
            t = time.perf_counter()
            result = services_report.build_report(actor=world.staff, session=fresh)
            elapsed = time.perf_counter() - t
            if n:
                runs.append(elapsed)
            stored = EvaluationSession.objects.get(pk=session.pk)
            data = bytes(stored.report or b"")
            assert hashlib.sha256(data).hexdigest() == stored.report_sha256
            digests.add(stored.report_sha256)
    common.write_out(out, {
        "bids": bids, "valid_bids": len(labels), "experts": experts, "criteria": SCORED + 1,
        "score_rows": score_rows, "repeats": repeats, "runs_s": runs,
        "median_s": statistics.median(runs), "max_s": max(runs), "min_s": min(runs),
        "report_bytes": len(data), "identical_reports": len(digests) == 1,
        "candidates": list(result.candidates), "timings": timings,
    })  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bids", type=int, default=50)
    p.add_argument("--experts", type=int, default=9)
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        child(args.out, args.bids, args.experts, args.repeats)
        return 0
    if not common.pg_available():
        print("PostgreSQL not reachable on 127.0.0.1:5432: skipped")
        return 0
    info = common.machine_info()
    with common.fresh_db("postgresql", "evaluation") as env:
        common.log(f"world: {args.bids} bids, {args.experts} experts, {SCORED + 1} criteria")
        r: dict[str, Any] = common.run_child("evaluation_report.py", [
            "--bids", str(args.bids), "--experts", str(args.experts),
            "--repeats", str(args.repeats)], env)  # fmt: skip
    r.update(machine=info, args=vars(args))
    path = common.save_result("evaluation_report", r)
    print(common.md_table(
        ["bids", "experts", "criteria", "score rows", "build_report median s", "min s", "max s",
         "load scores s (9 batches)", "report bytes", "same bytes every run"],
        [[r["bids"], r["experts"], r["criteria"], r["score_rows"], r["median_s"], r["min_s"],
          r["max_s"], r["timings"]["load_scores_s"], r["report_bytes"], "yes" if r["identical_reports"] else "NO"]],
    ))  # fmt: skip
    print(f"\nsetup: world {r['timings']['world_s']:.1f} s, opening {r['timings']['opening_s']:.1f} s"
          f" (not timed)\nraw: {path}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
