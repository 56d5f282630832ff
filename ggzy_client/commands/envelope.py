"""``ggzy-client seal | unwrap | inspect | open``: the sealed bid envelope (docs/envelope.md).

    ggzy-client seal FILE... --section CODE --key KEYSTORE [--password PW | --password-file F]
                     [--cert CERT] [--enc-cert CERT] [--cipher sm4-gcm|aes-256-gcm] [--out PATH]
    ggzy-client unwrap ENVELOPE --key KEYSTORE [--password…] [--enc-key KEYSTORE] [--out FILE]
    ggzy-client inspect ENVELOPE [--json]
    ggzy-client open ENVELOPE (--content-key HEX | --key KEYSTORE [--enc-key KEYSTORE]) [--out DIR]

The private keys never leave this machine: ``unwrap`` prints the content key (hex), which the
bidder hands the platform at the opening.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

from ggzy_client import envelope, keys
from ggzy_client.cli import ClientError


def register(subparsers: Any) -> None:
    _register_seal(subparsers)
    u = subparsers.add_parser("unwrap", help="unwrap an envelope's content key (prints hex)")
    u.add_argument("envelope", type=Path)
    _key_args(u, required=False)
    u.add_argument("--out", type=Path, help="write the hex key to this file (mode 0600)")
    u.set_defaults(func=cmd_unwrap)

    i = subparsers.add_parser("inspect", help="show an envelope's manifest and verify it")
    i.add_argument("envelope", type=Path)
    i.add_argument("--json", action="store_true", help="machine-readable output")
    i.set_defaults(func=cmd_inspect)

    o = subparsers.add_parser("open", help="decrypt an envelope locally and check its digests")
    o.add_argument("envelope", type=Path)
    o.add_argument("--content-key", help="the content key, hex (from `unwrap`)")
    _key_args(o, required=False)
    o.add_argument("--out", type=Path, help="directory for the plaintext (omit: verify only)")
    o.set_defaults(func=cmd_open)


def _register_seal(subparsers: Any) -> None:
    s = subparsers.add_parser("seal", help="seal files into an encrypted, signed bid envelope")
    s.add_argument("files", nargs="+", type=Path, metavar="FILE")
    s.add_argument("--section", required=True, help="the target section code (标段编号)")
    _key_args(s, required=True, enc_key=False)
    s.add_argument("--cert", type=Path, help="signing certificate (and chain), PEM or DER")
    s.add_argument("--enc-cert", type=Path, help="encryption certificate (default: --cert's)")
    s.add_argument("--cipher", choices=envelope.CIPHERS, default="sm4-gcm")
    s.add_argument("--out", type=Path, help="envelope path (default: envelope-SECTION-ID.zip)")
    s.set_defaults(func=cmd_seal)


def _key_args(p: argparse.ArgumentParser, *, required: bool, enc_key: bool = True) -> None:
    p.add_argument("--key", required=required, type=Path, help="keystore: PEM or PKCS#12")
    pw = p.add_mutually_exclusive_group()
    pw.add_argument("--password", help="keystore password")
    pw.add_argument("--password-file", type=Path, help="file whose first line is the password")
    if enc_key:
        p.add_argument("--enc-key", type=Path, help="separate encryption keystore (same password)")


def _password(args: argparse.Namespace) -> str | None:
    if args.password_file is not None:
        lines = args.password_file.read_text(encoding="utf-8").splitlines()
        return lines[0] if lines else ""
    return args.password  # type: ignore[no-any-return]


def _decryption_keystore(args: argparse.Namespace) -> keys.Keystore:
    path = args.enc_key or args.key
    if path is None:
        raise ClientError("usage", "give --key (or --enc-key) to unwrap the content key")
    return keys.load_keystore(path, _password(args))


def cmd_seal(args: argparse.Namespace) -> int:
    keystore = keys.load_keystore(args.key, _password(args), args.cert)
    if keystore.certificate is None:
        raise ClientError("no_certificate", "no certificate for the key: give --cert")
    recipient = None
    if args.enc_cert is not None:
        recipient = keys.load_certificates(args.enc_cert.read_bytes())[0]
    out = args.out or Path(f"envelope-{_slug(args.section)}-{os.urandom(4).hex()}.zip")
    result = envelope.seal(
        files=args.files,
        section=args.section,
        keystore=keystore,
        recipient=recipient,
        cipher=args.cipher,
        out=out,
    )
    print(f"envelope: {result.path}")
    print(f"envelope id: {result.envelope_id}")
    print(f"manifest digest ({result.digest_alg}): {result.manifest_digest}")
    return 0


def _slug(section: str) -> str:
    return re.sub(r"[^0-9A-Za-z._-]+", "_", section).strip("._") or "section"


def cmd_unwrap(args: argparse.Namespace) -> int:
    key = envelope.unwrap_content_key(args.envelope, _decryption_keystore(args)).hex()
    if args.out is None:
        print(key)
        return 0
    fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key + "\n")
    os.chmod(args.out, 0o600)
    print(f"content key written to {args.out} (mode 0600)", file=sys.stderr)
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    env = envelope.read_envelope(args.envelope)
    try:
        envelope.verify_envelope(args.envelope)
        result: dict[str, Any] = {"ok": True}
    except envelope.EnvelopeError as exc:
        result = {"ok": False, "code": exc.code, "message": str(exc)}
    report = {
        "envelope": str(args.envelope),
        "manifest_digest": env.manifest_digest,
        "signer": env.signer_cert.subject.rfc4514_string(),
        "recipient": env.recipient_cert.subject.rfc4514_string(),
        "manifest": env.manifest,
        "verification": result,
    }
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        _print_report(report)
    return 0 if result["ok"] else 1


def _print_report(r: dict[str, Any]) -> None:
    m = r["manifest"]
    print(f"envelope:   {r['envelope']} ({m['format']})")
    print(f"id:         {m['envelope_id']}   section: {m['section']}   created: {m['created_at']}")
    print(f"cipher:     {m['cipher']}, chunk {m['chunk_size']}, digest {m['digest_alg']}")
    print(f"signer:     {r['signer']}  [{m['signer']['fingerprint'][:16]}…]")
    wrap = m["key_wrap"]
    print(
        f"recipient:  {r['recipient']}  [{wrap['family']}, {wrap['recipient_fingerprint'][:16]}…]"
    )
    print(f"manifest digest ({m['digest_alg']}): {r['manifest_digest']}")
    for f in m["files"]:
        print(f"  file {f['index']}: {f['name']}  {f['size']} bytes  {f['plaintext_digest']}")
    print(f"machine:    {json.dumps(m['machine'], ensure_ascii=False)}")
    v = r["verification"]
    print("verification: ok" if v["ok"] else f"verification: FAILED [{v['code']}] {v['message']}")


def cmd_open(args: argparse.Namespace) -> int:
    if args.content_key is not None:
        if args.key is not None or args.enc_key is not None:
            raise ClientError("usage", "give either --content-key or --key, not both")
        try:
            content_key = bytes.fromhex(args.content_key.strip())
        except ValueError as exc:
            raise ClientError("bad_content_key", "--content-key is not hexadecimal") from exc
    else:
        content_key = envelope.unwrap_content_key(args.envelope, _decryption_keystore(args))
    opened = envelope.open_envelope(args.envelope, content_key, args.out)
    for f in opened:
        where = f" -> {f.path}" if f.path is not None else ""
        print(f"ok {f.name}  {f.size} bytes  {f.plaintext_digest}{where}")
    if args.out is None:
        print("verified; nothing written (give --out DIR to write the plaintext)")
    return 0
