"""OCP red flags over 1,000,000 OCDS compiled releases (issue 7: < 120 s), with a parse-only
baseline in the same run.

    .venv/bin/python bench/redflags.py                    # 1,000,000 releases
    .venv/bin/python bench/redflags.py --releases 20000   # smoke run
    flock /tmp/bench.lock .venv/bin/python bench/redflags.py --markdown /work/notes/redflags_bench.md

Steps: generate N seeded synthetic compiled releases (bids extension, 2–14 bids, awards with
classified items, parties with addresses and contact points; a share of them built to trip each
flag) into a JSONL file in a temporary directory, in two worker processes — not timed. Then, each
in a fresh child process so that its peak RSS is its own:

- **timed**: ``load_releases(path)`` + ``red_flags(frames)`` with all 12 indicators (default
  settings, CNY);
- **baseline**: reading the same file and parsing every line with ``orjson.loads``, nothing else
  (the floor of any Python implementation that looks at each release once; ``load_releases``
  does this plus the extraction into frames).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TARGET_SECONDS = 120.0
SEED = 20261207
BASE = datetime(2024, 1, 1, tzinfo=UTC)
N_FIRMS = 60_000
N_COVER = 300  # firms that bid often and never win (R025)
N_BUYERS = 3_000
N_HETERO = 40  # suppliers that win across many divisions (R048)
DIVISIONS = [f"{d:02d}" for d in (3, 9, 14, 15, 18, 22, 30, 31, 32, 33, 34, 35, 37, 38, 39, 42,
                                   43, 44, 45, 48, 50, 51, 55, 60, 63, 64, 65, 66, 70, 71, 72, 73,
                                   75, 76, 77, 79, 80, 85, 90, 92, 98)]  # fmt: skip
# the share of releases built to trip each flag (others may trip by chance)
TRIP = {"R003": 0.03, "R018": 0.02, "R024": 0.02, "R028": 0.01, "R030": 0.01, "R035": 0.01,
        "R036": 0.02, "R044": 0.01, "R058": 0.02, "R038": 0.02}  # fmt: skip


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def firm(i: int) -> dict[str, Any]:
    return {"id": f"CN-USCC-91{i:016d}", "name": f"企业{i}"}


def firm_party(i: int, roles: list[str], shared: bool = False) -> dict[str, Any]:
    street, j = ("共享路1号", 0) if shared else (f"科技路{i % 997}号{i}室", i)
    return {
        **firm(i), "roles": roles,
        "address": {"streetAddress": street, "locality": f"城区{j % 50}", "region": "云南省",
                    "postalCode": f"65{j % 10000:04d}", "countryName": "中国"},
        "contactPoint": {"name": f"联系人{i}", "telephone": f"0871-{i:08d}"},
    }  # fmt: skip


def release(i: int, rng: random.Random) -> dict[str, Any]:
    trip = {code for code, share in TRIP.items() if rng.random() < share}
    buyer = rng.randrange(N_BUYERS)
    if "R038" in trip:
        buyer = rng.randrange(40)  # buyers 0–39 disqualify heavily
    start = BASE + timedelta(minutes=rng.randrange(3 * 365 * 24 * 60))
    days = rng.randint(3, 14) if "R003" in trip else rng.randint(20, 45)
    end = start + timedelta(days=days)
    method = "open" if rng.random() < 0.85 else "selective"
    estimate = round(rng.uniform(1e5, 5e7), -2)
    n = rng.randint(2, 14)
    tenderers = rng.sample(range(N_COVER, N_FIRMS), n)
    if rng.random() < 0.08:
        tenderers[-1] = rng.randrange(N_COVER)  # a cover bidder joins (R025)
    if "R018" in trip:
        tenderers = [tenderers[0]] * 2  # two bids, one tenderer
    # the lowest bid, the runner-up 3–6 % above it (so that d has a tight, positive IQR), the
    # others above the runner-up
    low = estimate * rng.uniform(0.80, 0.90)
    amounts = [round(low * (1 + rng.uniform(0.065, 0.25)), 2) for _ in tenderers]
    win, second = 0, 1
    amounts[win], amounts[second] = round(low, 2), round(low * (1 + rng.uniform(0.03, 0.06)), 2)
    order = sorted(range(len(amounts)), key=amounts.__getitem__)
    if "R024" in trip:
        amounts[second] = round(amounts[win] * 1.0001, 2)
    if "R058" in trip:
        amounts[win] = round(amounts[second] * 0.5, 2)
    if "R028" in trip:
        amounts[order[-1]] = amounts[order[-2]]
    statuses = ["valid"] * len(amounts)
    if "R036" in trip:
        statuses[win] = "disqualified"
        win = second
    if "R035" in trip:
        statuses = ["disqualified"] * len(amounts)
        statuses[win] = "valid"
    if "R038" in trip:
        for k in rng.sample(range(len(amounts)), len(amounts) // 2):
            if k != win:
                statuses[k] = "disqualified"
    if tenderers[-1] < N_COVER and win == len(tenderers) - 1:
        win = second if second != win else order[1]  # cover bidders never win
    bid_dates = [start + timedelta(days=rng.randint(1, days), minutes=rng.randrange(1440))
                 for _ in amounts]  # fmt: skip
    bid_dates = [min(d, end - timedelta(minutes=1)) for d in bid_dates]
    if "R030" in trip:
        bid_dates[win] = end + timedelta(hours=2)
    supplier = tenderers[win]
    if rng.random() < 0.002:
        supplier = N_FIRMS + rng.randrange(N_HETERO)  # a heterogeneous supplier wins
        tenderers[win] = supplier
    bids = [{
        "id": f"{i}-{k}", "date": stamp(bid_dates[k]), "status": statuses[k],
        "value": {"amount": amounts[k], "currency": "CNY"}, "tenderers": [firm(t)],
    } for k, t in enumerate(tenderers)]  # fmt: skip
    if supplier >= N_FIRMS:
        codes = [rng.choice(DIVISIONS) for _ in range(rng.randint(1, 3))]
    else:
        width = 1 + supplier % 6  # suppliers span 1–6 divisions, so the counts have an IQR
        home = supplier % (len(DIVISIONS) - width + 1)
        codes = [DIVISIONS[home + rng.randrange(width)] for _ in range(rng.randint(1, 3))]
    items = [{"id": str(k), "classification": {"scheme": "CPV", "id": f"{c}{rng.randrange(10**6):06d}"}}
             for k, c in enumerate(codes)]  # fmt: skip
    awards = [{"id": f"{i}-a", "status": "active", "date": stamp(end + timedelta(days=7)),
               "value": {"amount": amounts[win], "currency": "CNY"},
               "suppliers": [firm(supplier)], "items": items}]  # fmt: skip
    if rng.random() < 0.1:
        awards.append(
            {"id": f"{i}-b", "status": "unsuccessful", "suppliers": [firm(tenderers[second])]}
        )
    shared = "R044" in trip
    parties = [
        {"id": f"CN-USCC-12{buyer:016d}", "name": f"采购人{buyer}", "roles": ["buyer", "procuringEntity"]},
        *(firm_party(t, ["tenderer", "supplier"] if t == supplier else ["tenderer"], shared and k < 2)
          for k, t in enumerate(dict.fromkeys(tenderers))),
    ]  # fmt: skip
    cancelled = rng.random() < 0.01
    return {
        "ocid": f"ocds-bench00-{i:07d}", "id": f"{i}-compiled", "date": stamp(end), "tag": ["compiled"],
        "initiationType": "tender", "parties": parties,
        "buyer": {"id": f"CN-USCC-12{buyer:016d}", "name": f"采购人{buyer}"},
        "tender": {
            "id": f"T{i}", "title": f"项目{i}", "status": "cancelled" if cancelled else "complete",
            "procuringEntity": {"id": f"CN-USCC-12{buyer:016d}", "name": f"采购人{buyer}"},
            "value": {"amount": estimate, "currency": "CNY"},
            "procurementMethod": method, "procurementMethodDetails": "公开招标" if method == "open" else "邀请招标",
            "awardCriteria": "priceOnly" if rng.random() < 0.6 else "ratedCriteria",
            "mainProcurementCategory": rng.choice(["works", "goods", "services"]),
            "tenderPeriod": {"startDate": stamp(start), "endDate": stamp(end)},
            "numberOfTenderers": len(set(tenderers)),
        },
        "bids": {"details": bids},
        "awards": awards,
    }  # fmt: skip


def generate_part(args: tuple[str, int, int]) -> int:
    path, first, count = args
    rng = random.Random(SEED * 1_000_003 + first)
    size = 0
    with open(path, "wb") as out:
        chunk = []
        for i in range(first, first + count):
            chunk.append(orjson.dumps(release(i, rng)))
            if len(chunk) == 5000:
                data = b"\n".join(chunk) + b"\n"
                out.write(data)
                size += len(data)
                chunk = []
        if chunk:
            data = b"\n".join(chunk) + b"\n"
            out.write(data)
            size += len(data)
    return size


def generate(path: Path, n: int) -> float:
    parts = 2
    step = (n + parts - 1) // parts
    jobs = [(f"{path}.{k}", k * step, min(step, n - k * step)) for k in range(parts)]
    with multiprocessing.get_context("fork").Pool(parts) as pool:
        pool.map(generate_part, jobs)
    with open(path, "wb") as out:
        for part, _, _ in jobs:
            with open(part, "rb") as handle:
                while block := handle.read(1 << 24):
                    out.write(block)
            os.unlink(part)
    return path.stat().st_size / 2**20


# --- children ----------------------------------------------------------------------------------


def peak_rss_mib(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def child_timed(path: str) -> dict[str, Any]:
    from ggzy.supervision.redflags import RedFlagSettings, flag_summary, load_releases, red_flags

    t0 = time.perf_counter()
    frames = load_releases(path, workers=2)
    t1 = time.perf_counter()
    flags = red_flags(frames, RedFlagSettings())
    t2 = time.perf_counter()
    summary = flag_summary(flags)
    counts = dict(flags.group_by("code").len().sort("code").iter_rows())
    return {
        "load_s": t1 - t0, "indicators_s": t2 - t1, "total_s": t2 - t0,
        "releases": frames.processes.height, "bids": frames.bids.height,
        "parties": frames.parties.height, "problems": len(frames.problems),
        "flags": flags.height, "flagged_processes": summary.height, "flags_by_code": counts,
        "peak_rss_mib": peak_rss_mib(),
        "worker_peak_rss_mib": peak_rss_mib(resource.RUSAGE_CHILDREN),
    }  # fmt: skip


def child_baseline(path: str) -> dict[str, Any]:
    t0 = time.perf_counter()
    n = 0
    with open(path, "rb") as handle:
        for line in handle:
            orjson.loads(line)
            n += 1
    return {"orjson_s": time.perf_counter() - t0, "lines": n, "peak_rss_mib": peak_rss_mib()}


def run_child(kind: str, path: Path) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--child", kind, "--path", str(path)],
                         check=True, capture_output=True, text=True)  # fmt: skip
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


# --- report ------------------------------------------------------------------------------------


def git(*argv: str) -> str:
    return subprocess.run(
        ["git", "-C", str(REPO), *argv], capture_output=True, text=True
    ).stdout.strip()


def markdown(r: dict[str, Any], command: str) -> str:
    t, b = r["timed"], r["baseline"]
    verdict = "**met**" if t["total_s"] < TARGET_SECONDS else "**missed**"
    flags = ", ".join(f"{k} {v:,}" for k, v in t["flags_by_code"].items())
    return f"""## Red flags over 1,000,000 OCDS releases (issue 7)

`{command}` — {r["date"]}, commit {r["commit"]}, 2 vCPU / 23.5 GiB, Python {r["python"]},
Polars {r["polars"]}. Load average before {r["load_before"]}, after {r["load_after"]}.

{r["releases"]:,} synthetic compiled releases (seeded; bids extension, 2–14 bids each,
{t["bids"]:,} bids, {t["parties"]:,} parties with addresses and contact points, awards with CPV
items; a share built to trip each flag), {r["file_mib"]:,.0f} MiB of JSONL, generated untimed in
{r["generate_s"]:.0f} s. Timed in a fresh process: `load_releases(path, workers=2)` (orjson per line,
the needed fields into flat Polars frames, two processes) and `red_flags(frames)` with all 12 indicators.

| phase | seconds |
|---|---|
| load (parse + flatten) | {t["load_s"]:.1f} |
| 12 indicators | {t["indicators_s"]:.1f} |
| **total** (target < {TARGET_SECONDS:.0f} s) | **{t["total_s"]:.1f}** — {verdict} |
| baseline: read + `orjson.loads` every line, nothing else | {b["orjson_s"]:.1f} |

- Ratio: the whole red-flag run takes {t["total_s"] / b["orjson_s"]:.2f}× the time of merely parsing
  the file with orjson in Python.
- Peak RSS: {t["peak_rss_mib"]:,.0f} MiB the timed process; {t["worker_peak_rss_mib"]:,.0f} MiB the
  larger of its two parse workers (they exit before the indicators start); {b["peak_rss_mib"]:,.0f}
  MiB the orjson baseline.
- Flags: {t["flags"]:,} on {t["flagged_processes"]:,} processes ({flags}).
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--releases", type=int, default=1_000_000)
    parser.add_argument("--markdown", help="also write the markdown section to this file")
    parser.add_argument("--child", choices=["timed", "baseline"])
    parser.add_argument("--path")
    args = parser.parse_args()
    if args.child:
        fn = {"timed": child_timed, "baseline": child_baseline}
        print(json.dumps(fn[args.child](args.path)))
        return
    import polars as pl

    with tempfile.TemporaryDirectory(prefix="redflags-bench-") as tmp:
        path = Path(tmp) / "releases.jsonl"
        t0 = time.perf_counter()
        size = generate(path, args.releases)
        generated = time.perf_counter() - t0
        load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
        timed = run_child("timed", path)
        baseline = run_child("baseline", path)
        load_after = " ".join(f"{x:.2f}" for x in os.getloadavg())
    dirty = " with uncommitted changes" if git("status", "--porcelain") else ""
    result = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": git("rev-parse", "--short", "HEAD") + dirty,
        "python": sys.version.split()[0], "polars": pl.__version__,
        "releases": args.releases, "file_mib": size, "generate_s": generated,
        "load_before": load_before, "load_after": load_after,
        "timed": timed, "baseline": baseline,
        "ratio_to_orjson": timed["total_s"] / baseline["orjson_s"],
        "target_s": TARGET_SECONDS, "met": timed["total_s"] < TARGET_SECONDS,
    }  # fmt: skip
    command = "flock /tmp/bench.lock .venv/bin/python bench/redflags.py" + (
        f" --releases {args.releases}" if args.releases != 1_000_000 else ""
    )
    print(json.dumps(result, indent=2, ensure_ascii=False))
    text = markdown(result, command)
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
