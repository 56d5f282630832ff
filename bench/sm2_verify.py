"""SM2 signature verification per second on one core, and the other families for context.

In one process pinned to one CPU, each measured for ``--seconds`` (after a warm-up):

* SM2 verify through ``ggzy_client.keys.PublicKey.verify`` (what the platform and the client
  call) and through the raw ``tongsuopy`` call underneath it, for the wrapper's overhead (ratio);
* SM2 verify with ``gmssl``'s pure-Python ``CryptSM2.verify_with_sm3`` when gmssl is importable
  (``pip install gmssl==3.2.2``; skipped otherwise), on the same DER signatures (cross-checked);
* SM2 sign, ECDSA P-256 and RSA-2048 verify through ``keys``;
* a whole ``ggzy-sig/1`` verification (``signatures.verify_detached``: JSON, base64, certificate
  parse, digest, signature) for SM2, the server-side cost per uploaded signature.

Messages are 256 random bytes (a statement's size); 64 distinct key/message/signature sets are
cycled so nothing is cached. Target (the issue): SM2 verification ≥ 1,500/s on one core.

    .venv/bin/python bench/sm2_verify.py             # 3 s per measurement
    .venv/bin/python bench/sm2_verify.py --quick     # 0.3 s per measurement
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import common

from ggzy_client import keys

TARGET = 1500
SETS = 64
MSG_BYTES = 256


def rate(fn: Callable[[int], Any], seconds: float) -> tuple[float, int]:
    """Calls per second of ``fn(i)`` over at least ``seconds`` (after a short warm-up)."""
    for i in range(20):
        fn(i)
    n, t0 = 0, time.perf_counter()
    deadline = t0 + seconds
    while True:
        for _ in range(50):
            fn(n)
            n += 1
        now = time.perf_counter()
        if now >= deadline:
            return n / (now - t0), n


def _sets(family: str) -> list[tuple[keys.PrivateKey, bytes, bytes]]:
    out = []
    for _ in range(SETS if family != keys.RSA else 8):
        key = keys.generate_private_key(family)
        msg = os.urandom(MSG_BYTES)
        out.append((key, msg, key.sign(msg)))
    return out


def _verify_bench(family: str) -> Callable[[int], Any]:
    sets = [(k.public_key(), m, s) for k, m, s in _sets(family)]

    def run(i: int) -> None:
        pub, msg, sig = sets[i % len(sets)]
        if not pub.verify(sig, msg):
            raise AssertionError("verification failed")

    return run


def _sm2_benches() -> dict[str, Callable[[int], Any]]:
    from tongsuopy.crypto import hashes as thashes
    from tongsuopy.crypto.asymciphers import ec as tec

    sets = _sets(keys.SM2)
    pubs = [(k.public_key(), m, s) for k, m, s in sets]
    alg = tec.ECDSA(thashes.SM3())

    def wrapped(i: int) -> None:
        pub, msg, sig = pubs[i % SETS]
        if not pub.verify(sig, msg):
            raise AssertionError

    def raw(i: int) -> None:
        pub, msg, sig = pubs[i % SETS]
        pub.key._key.verify(sig, msg, alg)  # raises InvalidSignature on failure

    def sign(i: int) -> None:
        key, msg, _ = sets[i % SETS]
        key.sign(msg)

    benches = {"sm2 verify (keys)": wrapped, "sm2 verify (raw tongsuopy)": raw}
    gm = _gmssl_bench(pubs)
    if gm is not None:
        benches["sm2 verify (gmssl, pure Python)"] = gm
    benches["sm2 sign (keys)"] = sign
    benches["sm2 ggzy-sig/1 verify_detached"] = _sigfile_bench(sets)
    return benches


def _gmssl_bench(pubs: list[tuple[keys.PublicKey, bytes, bytes]]) -> Callable[[int], Any] | None:
    try:
        from gmssl import sm2 as gsm2
    except ImportError:
        common.log("gmssl not importable: skipped (pip install gmssl==3.2.2)")
        return None
    crypts = []
    for pub, msg, sig in pubs:
        nums = pub.key._key.public_numbers()
        c = gsm2.CryptSM2(private_key=None, public_key="", asn1=True)
        c.public_key = f"{nums.x:064x}{nums.y:064x}"  # its constructor's lstrip("04") mangles keys
        if not c.verify_with_sm3(sig.hex(), msg):  # same signatures: cross-check
            raise AssertionError("gmssl disagrees with tongsuopy")
        crypts.append((c, msg, sig.hex()))

    def run(i: int) -> None:
        c, msg, sig = crypts[i % len(crypts)]
        if not c.verify_with_sm3(sig, msg):
            raise AssertionError

    return run


def _sigfile_bench(sets: list[tuple[keys.PrivateKey, bytes, bytes]]) -> Callable[[int], Any]:
    sys.path.insert(0, str(common.REPO / "tests" / "client"))
    import sigpki  # the tests' PKI helpers: SM2 certificates via the openssl CLI

    from ggzy_client import signatures

    ca = sigpki.make_ca(keys.SM2, "Bench CA")
    docs = []
    for _ in range(8):
        ks = sigpki.make_signer(keys.SM2, ca)
        msg = os.urandom(MSG_BYTES)
        docs.append((signatures.dumps_sigfile(signatures.sign_detached(msg, ks)), msg))

    def run(i: int) -> None:
        blob, msg = docs[i % len(docs)]
        signatures.verify_detached(blob, msg)

    return run


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="0.3 s per measurement")
    p.add_argument("--seconds", type=float, default=3.0)
    args = p.parse_args(argv)
    seconds = 0.3 if args.quick else args.seconds
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    benches = _sm2_benches()
    benches["ecdsa p-256 verify (keys)"] = _verify_bench(keys.ECDSA)
    benches["rsa-2048 verify (keys)"] = _verify_bench(keys.RSA)
    results: dict[str, tuple[float, int]] = {}
    for name, fn in benches.items():
        common.log(name)
        results[name] = rate(fn, seconds)
    _report(results, seconds)
    common.save_result("sm2_verify", {k: {"per_s": r, "n": n} for k, (r, n) in results.items()})
    ok = results["sm2 verify (keys)"][0] >= TARGET
    return 0 if ok else 1


def _report(results: dict[str, tuple[float, int]], seconds: float) -> None:
    base = results["sm2 verify (keys)"][0]
    rows = [[name, r, 1e6 / r, n, f"{r / base:.2f}×"] for name, (r, n) in results.items()]
    print(common.md_table(["operation (one core)", "per s", "µs each", "calls", "vs keys"], rows))
    raw = results["sm2 verify (raw tongsuopy)"][0]
    print(
        f"\n{seconds:g} s per measurement, {MSG_BYTES}-byte messages, pinned to one CPU. "
        f"keys.PublicKey.verify / raw tongsuopy = {base / raw:.3f}. "
        f"Target SM2 verify ≥ {TARGET:,}/s: **{'met' if base >= TARGET else 'NOT met'}** "
        f"({base:,.0f}/s)."
    )


if __name__ == "__main__":
    sys.exit(main())
