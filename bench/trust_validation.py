"""Certificate chain validation with revocation check, per family, against a real trust store.

For each backend (SQLite; PostgreSQL when it answers on 127.0.0.1:5432) a fresh database gets
three CAs onboarded through ``services.onboard_ca`` (SM2, ECDSA P-256, RSA-2048; root +
intermediate each) and, per CA, a CRL of ``--revoked`` serials imported through
``services.import_crl``. Then, in one process pinned to one CPU, for ``--seconds`` each:

* ``validation.validate(cert, purpose="sign")`` cycling through ``--leaves`` distinct valid leaf
  certificates per family (chain lookup, CA status, validity, revocation query, key usage,
  subject identifier — everything a login or signature check runs);
* the baseline: the raw signature check of the leaf by its intermediate
  (``ggzy_client.keys.signed_by``) on the same leaves; the ratio says what the rest costs.

Target (the issue): ≥ 1,000 chain validations with revocation check per second (SM2 slowest).

    .venv/bin/python bench/trust_validation.py                # 3 s per measurement
    .venv/bin/python bench/trust_validation.py --quick        # 0.5 s, 1,000 revoked, 50 leaves
    .venv/bin/python bench/trust_validation.py --backends sqlite --profile
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from datetime import UTC, datetime
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import common

TARGET = 1000
FAMILIES = ("sm2", "ecdsa", "rsa")
NOT_BEFORE = datetime(2026, 1, 1, tzinfo=UTC)
NOT_AFTER = datetime(2028, 1, 1, tzinfo=UTC)


def rate(fn: Any, n_items: int, seconds: float) -> tuple[float, int]:
    for i in range(min(n_items, 50)):
        fn(i)
    n, t0 = 0, time.perf_counter()
    deadline = t0 + seconds
    while True:
        for _ in range(50):
            fn(n % n_items)
            n += 1
        now = time.perf_counter()
        if now >= deadline:
            return n / (now - t0), n


# --- child: build the store and measure ---------------------------------------------------------


def _build(family: str, leaves: int, revoked: int) -> tuple[list[Any], Any, dict[str, float]]:
    from ggzy.core.identifiers import make_uscc
    from ggzy.trust import services
    from ggzy.trust.issuing import new_root

    t = time.perf_counter()
    org = f"Bench CA {family}"
    root = new_root(
        family,
        {"country_name": "CN", "organization_name": org, "common_name": f"{family} root"},
        not_before=NOT_BEFORE,
        not_after=NOT_AFTER,
    )
    sub = root.intermediate(
        {"country_name": "CN", "organization_name": org, "common_name": f"{family} sub"},
        not_before=NOT_BEFORE,
        not_after=NOT_AFTER,
    )
    services.onboard_ca(
        actor="system:bench",
        code=f"bench-{family}",
        name=org,
        certificates=[
            common_pem(root.certificate),
            common_pem(sub.certificate),
        ],
    )
    certs = [
        sub.issue(
            {"common_name": f"投标单位{i}", "serial_number": make_uscc(f"9132010{1000 + i:010d}")},
            not_before=NOT_BEFORE,
            not_after=NOT_AFTER,
        ).certificate
        for i in range(leaves)
    ]
    t_issue = time.perf_counter() - t
    t = time.perf_counter()
    revoked_at = datetime(2026, 6, 1, tzinfo=UTC)
    for _ in range(revoked):
        sub.revoke(secrets.randbits(63) | 1 << 62, revoked_at)  # never one of the leaves' serials
    crl = sub.crl(this_update=datetime(2026, 11, 1, tzinfo=UTC), next_update=NOT_AFTER)
    t_crl = time.perf_counter() - t
    t = time.perf_counter()
    row = services.import_crl(actor="system:bench", data=crl)
    t_import = time.perf_counter() - t
    assert row.entries == revoked
    return certs, sub, {"issue_s": t_issue, "crl_build_s": t_crl, "crl_import_s": t_import}


def common_pem(cert: Any) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding

    return cert.public_bytes(Encoding.PEM)  # type: ignore[no-any-return]


def child(args: argparse.Namespace) -> None:
    common.child_setup()
    from django.db import connection

    from ggzy.trust import validation
    from ggzy_client import keys

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    out: dict[str, Any] = {"backend": connection.vendor, "families": {}}
    for family in FAMILIES:
        common.log(f"{connection.vendor} {family}: building store")
        certs, sub, setup = _build(family, args.leaves, args.revoked)
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("ANALYZE trust_revokedcertificate")
        sub_key = keys.certificate_public_key(sub.certificate)
        for cert in certs:  # every leaf validates: nothing below measures a rejection
            assert validation.validate(cert, purpose="sign").kind == "entity"

        def full(i: int, certs: list[Any] = certs) -> None:
            validation.validate(certs[i], purpose="sign")

        def raw(i: int, certs: list[Any] = certs, key: Any = sub_key) -> None:
            if not keys.signed_by(certs[i], key):
                raise AssertionError

        common.log(f"{connection.vendor} {family}: measuring")
        if args.profile:
            _profile(full, len(certs), f"{connection.vendor}-{family}")
        v_rate, v_n = rate(full, len(certs), args.seconds)
        s_rate, s_n = rate(raw, len(certs), args.seconds)
        out["families"][family] = {
            "validate_per_s": v_rate,
            "validate_n": v_n,
            "signed_by_per_s": s_rate,
            "signed_by_n": s_n,
            **setup,
        }
    common.write_out(args.out, out)


def _profile(fn: Any, n_items: int, tag: str) -> None:
    import cProfile
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    for i in range(2000):
        fn(i % n_items)
    prof.disable()
    path = common.results_dir() / f"trust_validation-{tag}.prof"
    prof.dump_stats(str(path))
    print(f"\n<details><summary>cProfile {tag} (2,000 validations)</summary>\n\n```")
    pstats.Stats(prof, stream=sys.stdout).sort_stats("cumulative").print_stats(25)
    print("```\n</details>\n", flush=True)


# --- parent -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--leaves", type=int, default=200)
    p.add_argument("--revoked", type=int, default=10_000)
    p.add_argument("--backends", default=",".join(common.BACKENDS))
    p.add_argument("--profile", action="store_true", help="cProfile 2,000 validations per family")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:
        args.seconds, args.leaves, args.revoked = 0.5, 50, 1000
    if args.child:
        child(args)
        return 0
    passthrough = ["--seconds", str(args.seconds), "--leaves", str(args.leaves)]
    passthrough += ["--revoked", str(args.revoked)] + (["--profile"] if args.profile else [])
    results = []
    for backend in args.backends.split(","):
        if backend == "postgresql" and not common.pg_available():
            common.log("postgresql not reachable: skipped")
            continue
        with common.fresh_db(backend, "trustval") as env:
            results.append(run(passthrough, env))
    _report(results, args)
    common.save_result("trust_validation", results)
    slowest = min(f["validate_per_s"] for r in results for f in r["families"].values())
    return 0 if slowest >= TARGET else 1


def run(passthrough: list[str], env: dict[str, str]) -> Any:
    return common.run_child("trust_validation.py", passthrough, env)


def _report(results: list[Any], args: argparse.Namespace) -> None:
    rows = []
    for r in results:
        for family, f in r["families"].items():
            rows.append(
                [
                    r["backend"],
                    family,
                    f["validate_per_s"],
                    1e6 / f["validate_per_s"],
                    f["signed_by_per_s"],
                    1e6 / f["signed_by_per_s"],
                    f"{f['validate_per_s'] / f['signed_by_per_s']:.2f}",
                    f"{f['crl_import_s']:.2f}",
                ]
            )
    headers = ["backend", "family", "validate/s", "µs each", "signed_by/s", "µs each"]
    headers += ["validate / signed_by", "CRL import s"]
    print(common.md_table(headers, rows))
    slowest = min((row[2] for row in rows), default=0.0)
    print(
        f"\n{args.seconds:g} s per measurement, one CPU, {args.leaves} distinct leaves per family, "
        f"{args.revoked:,} revoked serials per CA. Target ≥ {TARGET:,} validations/s: "
        f"**{'met' if slowest >= TARGET else 'NOT met'}** (slowest {slowest:,.0f}/s)."
    )


if __name__ == "__main__":
    sys.exit(main())
