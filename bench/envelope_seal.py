"""Sealed bid envelope throughput and memory (docs/benchmarks.md, "Sealed bid envelope").

    .venv/bin/python bench/envelope_seal.py            # 100 MB payload, 1 GB memory run
    .venv/bin/python bench/envelope_seal.py --quick    # 20 MB payload, 200 MB memory run

For each cipher: seal, verify (what the server runs at upload, no key) and open (decrypt to a
directory, and verify-only) a payload file, against the raw chunked cipher over the same bytes in
memory with the same chunk size, in the same run (best of ``--repeat``). Then the RSS high-water
mark of a child process sealing a large file (VmHWM of the child, also checked against
``getrusage(RUSAGE_CHILDREN).ru_maxrss``). Temporary files are deleted afterwards.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

from ggzy_client import envelope, keys  # noqa: E402
from ggzy_client.envelope_crypto import DEFAULT_DIGEST, KEY_SIZES, ChunkCipher, aad, nonce  # noqa: E402

MB = 1_000_000
CHUNK = 1 << 20


def keystore() -> keys.Keystore:
    """A throwaway self-signed ECDSA bidder (the family does not affect payload speed)."""
    key = keys.generate_private_key("ecdsa")
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench-bidder")])
    now = dt.datetime.now(dt.UTC)
    usage = x509.KeyUsage(True, False, False, False, True, False, False, False, False)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(usage, critical=True)
        .sign(key.key, hashes.SHA256())
    )
    return keys.Keystore(key, cert)


def write_random(path: Path, size: int) -> None:
    with open(path, "wb") as fh:
        left = size
        while left:
            n = min(16 << 20, left)
            fh.write(os.urandom(n))
            left -= n


def best(fn: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def raw_cipher(cipher: str, data: bytes, repeat: int) -> tuple[float, float]:
    """Seconds to encrypt / decrypt ``data`` chunk by chunk in memory (same nonce/AAD layout;
    each chunk's output is dropped, so this is the cipher alone, no buffer growth)."""
    c = ChunkCipher(cipher, os.urandom(KEY_SIZES[cipher]))
    eid, view, n = os.urandom(16), memoryview(data), -(-len(data) // CHUNK)
    chunks = [view[i * CHUNK : (i + 1) * CHUNK] for i in range(n)]
    sealed = [c.seal(nonce(0, i), ch, aad(eid, 0, i, i == n - 1)) for i, ch in enumerate(chunks)]

    def enc() -> None:
        for i, ch in enumerate(chunks):
            c.seal(nonce(0, i), ch, aad(eid, 0, i, i == n - 1))

    def dec() -> None:
        for i, ct in enumerate(sealed):
            c.open(nonce(0, i), ct, aad(eid, 0, i, i == n - 1))

    return best(enc, repeat), best(dec, repeat)


def measure_cipher(cipher: str, payload: Path, work: Path, repeat: int) -> dict[str, Any]:
    size = payload.stat().st_size
    ks = keystore()
    raw_enc, raw_dec = raw_cipher(cipher, payload.read_bytes(), repeat)
    out = work / f"{cipher}.zip"

    def do_seal() -> None:
        envelope.seal(
            files=[payload], section="BENCH", keystore=ks, cipher=cipher, out=out, machine={}
        )

    t_seal = best(do_seal, repeat)
    key = envelope.unwrap_content_key(out, ks)
    t_verify = best(lambda: envelope.verify_envelope(out), repeat)

    def do_open() -> None:
        shutil.rmtree(work / "opened", ignore_errors=True)
        envelope.open_envelope(out, key, work / "opened")

    t_open = best(do_open, repeat)
    t_check = best(lambda: envelope.open_envelope(out, key), repeat)
    alg = DEFAULT_DIGEST[cipher]
    data = payload.read_bytes()
    t_hash = best(lambda: keys.new_hash(alg).digest(data), repeat)
    mbs = lambda s: size / MB / s  # noqa: E731
    return {
        "cipher": cipher,
        "digest": alg,
        "size_mb": size / MB,
        "raw_encrypt_mbs": mbs(raw_enc),
        "raw_decrypt_mbs": mbs(raw_dec),
        "seal_mbs": mbs(t_seal),
        "open_mbs": mbs(t_open),
        "open_verify_only_mbs": mbs(t_check),
        "verify_mbs": mbs(t_verify),
        "digest_mbs": mbs(t_hash),
        "seal_ratio": raw_enc / t_seal,
        "open_ratio": raw_dec / t_open,
        "envelope_overhead_bytes": out.stat().st_size - size,
    }


def child_seal(path: str, cipher: str) -> None:
    """In a child process: seal ``path`` and print JSON with the RSS high-water marks."""
    ks = keystore()
    before = vm_hwm_kb()
    out = Path(path).with_suffix(".zip")
    t = time.perf_counter()
    envelope.seal(
        files=[Path(path)], section="BENCH", keystore=ks, cipher=cipher, out=out, machine={}
    )
    elapsed = time.perf_counter() - t
    out.unlink()
    print(json.dumps({"hwm_before_kb": before, "hwm_kb": vm_hwm_kb(), "seconds": elapsed}))


def vm_hwm_kb() -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


def measure_memory(size: int, cipher: str, work: Path) -> dict[str, Any]:
    big = work / f"big-{cipher}.bin"
    write_random(big, size)
    try:
        proc = subprocess.run(
            [sys.executable, __file__, "--child-seal", str(big), "--cipher", cipher],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
    finally:
        big.unlink()
    result = json.loads(proc.stdout)
    ru = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux, max over children
    return {
        "cipher": cipher,
        "size_mb": size / MB,
        "hwm_mb": result["hwm_kb"] / 1024,
        "hwm_after_imports_mb": result["hwm_before_kb"] / 1024,
        "children_maxrss_mb": ru / 1024,
        "seal_mbs": size / MB / result["seconds"],
    }


def report(rows: list[dict[str, Any]], mem: list[dict[str, Any]]) -> str:
    lines = [
        "| cipher (digest) | MB | raw enc MB/s | seal MB/s | seal ÷ raw | raw dec MB/s | open MB/s "
        "| open ÷ raw | open, verify only MB/s | verify (server, no key) MB/s | digest alone MB/s |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['cipher']} ({r['digest']}) | {r['size_mb']:.0f} | {r['raw_encrypt_mbs']:,.0f} "
            f"| {r['seal_mbs']:,.0f} | {r['seal_ratio']:.0%} | {r['raw_decrypt_mbs']:,.0f} "
            f"| {r['open_mbs']:,.0f} | {r['open_ratio']:.0%} | {r['open_verify_only_mbs']:,.0f} "
            f"| {r['verify_mbs']:,.0f} | {r['digest_mbs']:,.0f} |"
        )
    lines += [
        "",
        "| cipher | file MB | peak RSS (VmHWM) MB | RSS after imports MB | ru_maxrss children MB "
        "| seal MB/s |",
        "|---|---|---|---|---|---|",
    ]
    for m in mem:
        lines.append(
            f"| {m['cipher']} | {m['size_mb']:,.0f} | {m['hwm_mb']:.1f} | {m['hwm_after_imports_mb']:.1f} "
            f"| {m['children_maxrss_mb']:.1f} | {m['seal_mbs']:,.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--child-seal", help=argparse.SUPPRESS)
    p.add_argument("--cipher", default="sm4-gcm", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child_seal:
        child_seal(args.child_seal, args.cipher)
        return 0
    payload_size = (20 if args.quick else 100) * MB
    big_size = (200 if args.quick else 1000) * MB
    work = Path(tempfile.mkdtemp(prefix="ggzy-bench-envelope-"))
    try:
        # memory first, while this parent is small (ru_maxrss of a child counts the pages it
        # shares with the parent between fork and exec)
        mem = [measure_memory(big_size, c, work) for c in envelope.CIPHERS]
        payload = work / "payload.bin"
        write_random(payload, payload_size)
        rows = [measure_cipher(c, payload, work, args.repeat) for c in envelope.CIPHERS]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(report(rows, mem))
    print(f"\nload average: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
