"""Opening (开标): N sealed bids of S MiB decrypted and verified by ``ggzy.bidding.opening`` on
PostgreSQL, against raw AES-256-GCM decryption + SHA-256 of the same number of bytes
(docs/benchmarks-bidding.md).

    .venv/bin/python bench/opening.py                 # 200 × 10 MiB, aes-256-gcm
    .venv/bin/python bench/opening.py --cipher sm4-gcm
    .venv/bin/python bench/opening.py --quick         # 20 × 2 MiB

Setup (not timed): a fresh PostgreSQL database, ``bidding_world.py`` with N bidders, one envelope
each (``bid.json`` + random payload), every bid submitted through ``bids.submit_bid`` with the
clock frozen before the deadline; the deadline is already past in real time when the opening
starts. Timed, in one child process, as the opening runs it: ``start_opening`` (center
operations) → ``submit_key(bidder, bid, content_key)`` for every bid, the key being what
``ggzy_client.envelope.unwrap_content_key`` gave the bidder → ``close_opening``. Each
``submit_key`` hashes the stored envelope against the committed SHA-256, decrypts every part to
disk, checks each plaintext digest, reads ``bid.json`` and appends a ledger event.

The setup's writes are flushed (``os.sync()``) before the timed part. Baseline, same child, same run: for each bid, ``cryptography``'s ``AESGCM.decrypt`` (or SM4-GCM
through the envelope's own ``ChunkCipher`` for ``--cipher sm4-gcm``) over the same number of
1 MiB chunks held in memory, and ``hashlib`` SHA-256 (SM3 for SM4) of the plaintext — no file,
no database. Best of ``--repeat``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import common  # noqa: E402

CHUNK = 1 << 20


def baseline(cipher: str, sizes: list[int], repeat: int) -> dict[str, Any]:
    """Raw decrypt + digest of len(sizes) plaintexts of the given sizes, chunk by chunk."""
    from ggzy_client.envelope_crypto import DEFAULT_DIGEST, KEY_SIZES, ChunkCipher, aad, nonce

    key = os.urandom(KEY_SIZES[cipher])
    eid = os.urandom(16)
    biggest = max(sizes)
    plain = os.urandom(biggest)
    n = -(-biggest // CHUNK)
    if cipher == "aes-256-gcm":
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        aes = AESGCM(key)
        seal = lambda i, m: aes.encrypt(nonce(0, i), m, aad(eid, 0, i, i == n - 1))  # noqa: E731
        open_ = lambda i, c: aes.decrypt(nonce(0, i), c, aad(eid, 0, i, i == n - 1))  # noqa: E731
    else:
        cc = ChunkCipher(cipher, key)
        seal = lambda i, m: cc.seal(nonce(0, i), m, aad(eid, 0, i, i == n - 1))  # noqa: E731
        open_ = lambda i, c: cc.open(nonce(0, i), c, aad(eid, 0, i, i == n - 1))  # noqa: E731
    sealed = [seal(i, plain[i * CHUNK : (i + 1) * CHUNK]) for i in range(n)]
    alg = DEFAULT_DIGEST[cipher]

    def once() -> None:
        for size in sizes:
            h = hashlib.new(alg)
            for i in range(-(-size // CHUNK)):
                h.update(open_(i, sealed[i]))
            h.digest()

    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        once()
        best = min(best, time.perf_counter() - t)
    return {"seconds": best, "digest": alg, "bytes": sum(sizes)}


def child(world_path: str, out: str, repeat: int) -> None:
    import json

    common.child_setup()
    from ggzy.accounts.models import User
    from ggzy.bidding import opening
    from ggzy.bidding.models import Bid
    from ggzy.bidding.states import BidStatus
    from ggzy.tendering.models import Section

    world = json.loads(Path(world_path).read_text())
    ops = User.objects.get(pk=world["operations_user"])
    users = {u.pk: u for u in User.objects.filter(pk__in=[r["user_id"] for r in world["bidders"]])}
    section = Section.objects.select_related("project").get(pk=world["section_pk"])
    per_bid: list[float] = []
    t_all = time.perf_counter()
    t = time.perf_counter()
    op = opening.start_opening(actor=ops, section=section)
    t_start = time.perf_counter() - t
    bids = {b.public_id: b for b in Bid.objects.filter(section=section)}
    for row in world["bidders"]:
        t = time.perf_counter()
        opening.submit_key(actor=users[row["user_id"]], bid=bids[row["bid"]],
                           content_key=bytes.fromhex(row["content_key"]))  # fmt: skip
        per_bid.append(time.perf_counter() - t)
    t = time.perf_counter()
    op = opening.close_opening(actor=ops, opening=op)
    t_close = time.perf_counter() - t
    total = time.perf_counter() - t_all
    opened = {b.public_id: b for b in Bid.objects.filter(section=section)}
    wrong = [
        r["bid"] for r in world["bidders"]
        if opened[r["bid"]].status != BidStatus.OPENED or str(opened[r["bid"]].price) != r["price"]
    ]  # fmt: skip
    sizes = [sum(f["size"] for f in opened[r["bid"]].files) for r in world["bidders"]]
    base = baseline(world["cipher"], sizes, repeat)
    common.write_out(out, {
        "total_s": total, "start_s": t_start, "close_s": t_close,
        "per_bid_p50_s": common.percentile(per_bid, 50),
        "per_bid_p99_s": common.percentile(per_bid, 99),
        "per_bid_max_s": max(per_bid), "per_bid_mean_s": sum(per_bid) / len(per_bid),
        "opened": len(opened) - len(wrong), "wrong": wrong, "opening_status": op.status,
        "record_bids": len((op.record or {}).get("bids", [])),
        "plaintext_bytes": sum(sizes),
        "stored_bytes": sum(b.size for b in opened.values()),
        "baseline": base,
    })  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="20 bids × 2 MiB")
    p.add_argument("--bids", type=int, default=200)
    p.add_argument("--size-mb", type=float, default=10.0, help="envelope size, MiB")
    p.add_argument("--cipher", default="aes-256-gcm", choices=("aes-256-gcm", "sm4-gcm"))
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--world", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        child(args.world, args.out, args.repeat)
        return 0
    if args.quick:
        args.bids, args.size_mb = min(args.bids, 20), min(args.size_mb, 2.0)
    if not common.pg_available():
        print("PostgreSQL not reachable on 127.0.0.1:5432: skipped")
        return 0
    info = common.machine_info()
    work = Path(tempfile.mkdtemp(prefix="ggzy-bench-opening-"))
    try:
        with common.fresh_db("postgresql", "opening") as env:
            t = time.perf_counter()
            common.log(f"world: {args.bids} bids × {args.size_mb} MiB, {args.cipher}")
            world = common.run_child("bidding_world.py", [
                "--bidders", str(args.bids), "--size-mb", str(args.size_mb),
                "--work", str(work / "world"), "--deadline-epoch", str(time.time() - 60),
                "--cipher", args.cipher, "--submit",
            ], env)  # fmt: skip
            setup_s = time.perf_counter() - t
            import json

            for row in world["bidders"]:  # the bidders' own copies are not needed any more
                Path(row["envelope"]).unlink(missing_ok=True)
            (work / "world.json").write_text(json.dumps(world))
            # flush the setup's writes (≈ 3× the bid bytes) so their writeback does not land in
            # the timed opening; a real opening comes long after the uploads
            t = time.perf_counter()
            os.sync()
            sync_s = time.perf_counter() - t
            common.log(f"opening (sync after setup: {sync_s:.1f} s)")
            load = os.getloadavg()[0]
            r = common.run_child("opening.py", ["--world", str(work / "world.json"),
                                                "--repeat", str(args.repeat)], env)  # fmt: skip
            r["load_avg_before_after"] = [load, os.getloadavg()[0]]
            r["sync_before_s"] = sync_s
    finally:
        shutil.rmtree(work, ignore_errors=True)
    r.update(machine=info, args=vars(args), setup_s=setup_s, world_timings=world["timings"])
    path = common.save_result("opening", r)
    b = r["baseline"]
    mb = r["plaintext_bytes"] / 2**20
    print(common.md_table(
        ["cipher", "bids", "MiB each", "opening total s", "per bid p50 / p99 / max s", "MiB/s",
         f"baseline raw decrypt + {b['digest']} s", "ratio (opening ÷ raw)", "opened OK",
         "load avg"],
        [[args.cipher, args.bids, f"{args.size_mb:g}", r["total_s"],
          f"{r['per_bid_p50_s']:.3f} / {r['per_bid_p99_s']:.3f} / {r['per_bid_max_s']:.3f}",
          mb / r["total_s"], b["seconds"], f"{r['total_s'] / b['seconds']:.1f}×",
          f"{r['opened']}/{args.bids}",
          f"{r['load_avg_before_after'][0]:.2f} → {r['load_avg_before_after'][1]:.2f}"]],
    ))  # fmt: skip
    print(
        f"\nstart_opening {r['start_s']:.2f} s, close_opening {r['close_s']:.2f} s; "
        f"status {r['opening_status']}; setup {setup_s:.0f} s (not timed)\nraw: {path}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
