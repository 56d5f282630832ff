"""Run every ledger benchmark and print one markdown report (``make bench``).

    .venv/bin/python bench/run_all.py            # full runs (~15–25 minutes on 2 cores)
    .venv/bin/python bench/run_all.py --quick    # smoke runs (~2 minutes)
    .venv/bin/python bench/run_all.py --only append,proofs

Each benchmark creates and drops its own databases (PostgreSQL ones are skipped when no server
answers on 127.0.0.1:5432). Raw results go to bench/results/*.json (git-ignored).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common

BENCHES = {
    "equivalence": "verify_equivalence.py",
    "append": "ledger_append.py",
    "verify": "ledger_verify.py",
    "proofs": "ledger_proofs.py",
    "envelope": "envelope_seal.py",
    "sm2": "sm2_verify.py",
    "trust": "trust_validation.py",
}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small smoke runs of every benchmark")
    p.add_argument("--only", help=f"comma-separated subset of {', '.join(BENCHES)}")
    args = p.parse_args(argv)
    chosen = [b for b in (args.only.split(",") if args.only else BENCHES) if b]
    unknown = set(chosen) - set(BENCHES)
    if unknown:
        p.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    info = common.machine_info()
    print("## OpenGGZY ledger benchmarks\n")
    print(
        f"`{' '.join(['.venv/bin/python', 'bench/run_all.py', *(argv if argv is not None else sys.argv[1:])])}`\n"
    )
    print(common.machine_markdown(info))
    failed = []
    for name in chosen:
        cmd = [common.PYTHON, str(common.REPO / "bench" / BENCHES[name])]
        if args.quick:
            cmd.append("--quick")
        print(f"\n### {name}\n\n`{' '.join(cmd[1:])}`\n", flush=True)
        t = time.perf_counter()
        proc = subprocess.run(cmd, cwd=common.REPO, stdout=subprocess.PIPE, text=True)
        print(proc.stdout.strip())
        print(f"\n_{name}: {time.perf_counter() - t:.0f} s, exit {proc.returncode}_", flush=True)
        if proc.returncode:
            failed.append(name)
    if failed:
        print(f"\nFAILED: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
