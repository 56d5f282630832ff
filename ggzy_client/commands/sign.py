"""``ggzy-client sign`` and ``ggzy-client verify``: detached signatures over a file.

    ggzy-client sign FILE --key KEYSTORE [--password PW | --password-file F] [--cert CERT]
                          [--cms [--pem]] [--out PATH]
    ggzy-client verify FILE SIGFILE [--ca CAFILE]

``sign`` writes ``FILE.sig.json`` (``ggzy-sig/1``) or, with ``--cms``, ``FILE.p7s`` (DER CMS
SignedData, PEM with ``--pem``; RSA and ECDSA keys). ``verify`` reads either kind; ``--ca`` also
checks that a certificate in CAFILE issued the signer's (directly or through the embedded chain)
— a local convenience, the platform validates chains and revocation itself.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from cryptography import x509

from ggzy_client import keys
from ggzy_client.cli import ClientError
from ggzy_client.signatures import (
    VerifiedSignature,
    cms_to_pem,
    dumps_sigfile,
    sign_cms,
    sign_detached,
    verify_cms,
    verify_detached,
)

MAX_CHAIN = 8


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("sign", help="sign a file (detached ggzy-sig/1, or CMS)")
    p.add_argument("file", type=Path)
    p.add_argument("--key", required=True, type=Path, help="keystore: PEM or PKCS#12")
    pw = p.add_mutually_exclusive_group()
    pw.add_argument("--password", help="keystore password")
    pw.add_argument("--password-file", type=Path, help="file whose first line is the password")
    p.add_argument("--cert", type=Path, help="signer certificate (and chain), PEM or DER")
    p.add_argument("--cms", action="store_true", help="write CMS SignedData (RSA, ECDSA)")
    p.add_argument("--pem", action="store_true", help="with --cms: PEM instead of DER")
    p.add_argument("--out", type=Path, help="output path (FILE.sig.json, FILE.p7s with --cms)")
    p.set_defaults(func=cmd_sign)

    v = subparsers.add_parser("verify", help="verify a file's detached signature")
    v.add_argument("file", type=Path)
    v.add_argument("sigfile", type=Path, help="FILE.sig.json or CMS (.p7s, DER or PEM)")
    v.add_argument("--ca", type=Path, help="CA certificate(s): also check who issued the signer")
    v.set_defaults(func=cmd_verify)


def _password(args: argparse.Namespace) -> str | None:
    if args.password_file is not None:
        lines = args.password_file.read_text(encoding="utf-8").splitlines()
        return lines[0] if lines else ""
    return args.password  # type: ignore[no-any-return]


def cmd_sign(args: argparse.Namespace) -> int:
    if args.pem and not args.cms:
        raise ClientError("usage", "--pem applies to --cms output only")
    keystore = keys.load_keystore(args.key, _password(args), args.cert)
    if keystore.certificate is None:
        raise ClientError("no_certificate", "no certificate for the key: give --cert")
    data = args.file.read_bytes()
    if args.cms:
        der = sign_cms(data, keystore)
        out_bytes = cms_to_pem(der) if args.pem else der
        out = args.out or args.file.with_name(args.file.name + ".p7s")
    else:
        out_bytes = dumps_sigfile(sign_detached(data, keystore, name=args.file.name))
        out = args.out or args.file.with_name(args.file.name + ".sig.json")
    out.write_bytes(out_bytes)
    print(f"signed {args.file} -> {out} ({keystore.key.family}, {_subject(keystore.certificate)})")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    data = args.file.read_bytes()
    blob = args.sigfile.read_bytes()
    is_json = blob.lstrip()[:1] == b"{"
    result = verify_detached(blob, data) if is_json else verify_cms(blob, data)
    issuer = ""
    if args.ca is not None:
        issuer = _issued_by_ca(result, keys.load_certificates(args.ca.read_bytes()))
    when = result.signed_at.isoformat() if result.signed_at else "no signing time"
    print(
        f"ok: {args.file} signed by {result.subject} ({result.family}, {result.digest_alg} "
        f"{result.digest.hex()}, claimed {when}){issuer}"
    )
    return 0


def _subject(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string()


def _issued_by_ca(result: VerifiedSignature, cas: list[x509.Certificate]) -> str:
    """Walk from the signer up the embedded chain until a CA in ``cas`` signed a certificate."""
    current = result.certificate
    pool = list(result.chain)
    for _ in range(MAX_CHAIN):
        for ca in cas:
            if _signed(current, ca):
                return f"; issued under {_subject(ca)}"
        parent = next((c for c in pool if _signed(current, c)), None)
        if parent is None:
            break
        pool.remove(parent)
        current = parent
    raise ClientError("untrusted_signer", "the signer's certificate was not issued by --ca")


def _signed(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    if cert.issuer != issuer.subject:
        return False
    try:
        return keys.signed_by(cert, keys.certificate_public_key(issuer))
    except keys.KeyError_:
        return False
