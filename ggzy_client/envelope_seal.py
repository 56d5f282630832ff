"""Sealing an envelope on the bidder's machine (streaming: one chunk in memory at a time, the
plaintext and ciphertext digests computed on background threads). Public entry point:
:func:`ggzy_client.envelope.seal`, defined here."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zipfile import ZIP_STORED, ZipFile

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ggzy_client import __version__, fingerprint
from ggzy_client.envelope_crypto import (
    DEFAULT_DIGEST,
    KEY_SIZES,
    ChunkCipher,
    HashWorker,
    aad,
    nonce,
)
from ggzy_client.envelope_format import (
    CIPHERS,
    DIGESTS,
    FORMAT,
    M_FORMAT,
    M_MANIFEST,
    M_RECIPIENT,
    M_SIG,
    M_SIGNER,
    M_WRAPPED,
    MAX_CHUNK,
    MAX_FILES,
    MIN_CHUNK,
    TOOL_NAME,
    EnvelopeError,
    canonical_json,
    chunk_count,
    names_problem,
    part_name,
    section_problem,
)
from ggzy_client.keys import KeyError_, Keystore, PublicKey, certificate_public_key, digest

DEFAULT_CHUNK = 1 << 20


@dataclass(frozen=True)
class SealResult:
    path: Path
    envelope_id: str
    manifest_digest: str  # hex digest (``digest_alg``) of the exact manifest.json bytes
    digest_alg: str
    manifest: dict[str, Any]


# --- sealing ------------------------------------------------------------------------------------


def seal(
    *,
    files: list[Path],
    section: str,
    keystore: Keystore,
    recipient: x509.Certificate | None = None,
    cipher: str = "sm4-gcm",
    out: Path,
    chunk_size: int = DEFAULT_CHUNK,
    machine: dict[str, Any] | None = None,
    digest_alg: str | None = None,
) -> SealResult:
    """Seal ``files`` for ``section`` into the envelope ``out``: a fresh content key encrypts
    the payload and is wrapped to ``recipient`` (default: the keystore's own certificate); the
    manifest is signed with the keystore's key. The content key is not returned."""
    files = [Path(f) for f in files]
    alg = digest_alg or DEFAULT_DIGEST.get(cipher, "")
    _check_seal_args(files, section, cipher, alg, chunk_size)
    signer_cert = _signer_certificate(keystore)
    recipient = recipient or signer_cert
    recipient_key = _recipient_key(recipient)
    content_key = os.urandom(KEY_SIZES[cipher])
    envelope_id = uuid.uuid4().hex
    wrapped = recipient_key.wrap(content_key)
    out = Path(out)
    tmp = out.with_name(f".{envelope_id}.tmp")
    try:
        with open(tmp, "wb") as fh, ZipFile(fh, "w", ZIP_STORED, allowZip64=True) as zf:
            zf.writestr(M_FORMAT, FORMAT)
            sealer = _Sealer(zf, ChunkCipher(cipher, content_key), envelope_id, chunk_size, alg)
            entries = [sealer.seal_file(i, path) for i, path in enumerate(files)]
            manifest = {
                "format": FORMAT,
                "envelope_id": envelope_id,
                "section": section,
                "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "tool": {"name": TOOL_NAME, "version": __version__},
                "cipher": cipher,
                "chunk_size": chunk_size,
                "digest_alg": alg,
                "files": entries,
                "key_wrap": {
                    "family": recipient_key.family,
                    "recipient_fingerprint": recipient_key.fingerprint(),
                    "wrapped_key_digest": digest(alg, wrapped).hex(),
                },
                "signer": {"fingerprint": keystore.key.public_key().fingerprint()},
                "machine": fingerprint.collect() if machine is None else machine,
            }
            manifest_bytes = canonical_json(manifest)
            zf.writestr(M_MANIFEST, manifest_bytes)
            zf.writestr(M_SIG, keystore.key.sign(manifest_bytes))
            zf.writestr(M_SIGNER, b"".join(_pem(c) for c in (signer_cert, *keystore.chain)))
            zf.writestr(M_RECIPIENT, _pem(recipient))
            zf.writestr(M_WRAPPED, wrapped)
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    manifest_digest = digest(alg, manifest_bytes).hex()
    return SealResult(out, envelope_id, manifest_digest, alg, manifest)


def _check_seal_args(
    files: list[Path], section: str, cipher: str, alg: str, chunk_size: int
) -> None:
    if cipher not in CIPHERS:
        raise EnvelopeError("bad_cipher", f"cipher must be one of {', '.join(CIPHERS)}")
    if alg not in DIGESTS:
        raise EnvelopeError("bad_digest", f"digest must be one of {', '.join(DIGESTS)}")
    if not MIN_CHUNK <= chunk_size <= MAX_CHUNK:
        raise EnvelopeError("bad_chunk_size", f"chunk size must be {MIN_CHUNK}..{MAX_CHUNK}")
    if problem := section_problem(section):
        raise EnvelopeError("bad_section", problem)
    if not 1 <= len(files) <= MAX_FILES:
        raise EnvelopeError("no_files", f"give 1 to {MAX_FILES} files to seal")
    if problem := names_problem([f.name for f in files]):
        raise EnvelopeError("bad_file_name", problem)
    for f in files:
        if not f.is_file():
            raise EnvelopeError("no_such_file", f"{f} is not a readable regular file")


def _key_usage(cert: x509.Certificate) -> x509.KeyUsage | None:
    try:
        return cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return None
    except ValueError as exc:
        raise EnvelopeError("bad_certificate", "unreadable certificate extensions") from exc


def _signer_certificate(keystore: Keystore) -> x509.Certificate:
    cert = keystore.certificate
    if cert is None:
        raise EnvelopeError("no_certificate", "the keystore has no certificate for its key")
    ku = _key_usage(cert)
    if ku is not None and not (ku.digital_signature or ku.content_commitment):
        raise EnvelopeError("signer_not_for_signing", "the certificate's key usage forbids signing")
    return cert


def _recipient_key(cert: x509.Certificate) -> PublicKey:
    ku = _key_usage(cert)
    if ku is not None and not (ku.key_encipherment or ku.data_encipherment or ku.key_agreement):
        raise EnvelopeError(
            "recipient_not_for_encryption",
            "the encryption certificate's key usage allows no key encipherment or agreement",
        )
    try:
        return certificate_public_key(cert)
    except KeyError_ as exc:
        raise EnvelopeError("bad_certificate", str(exc)) from exc


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


class _Sealer:
    def __init__(self, zf: ZipFile, cipher: ChunkCipher, eid: str, chunk: int, alg: str) -> None:
        self.zf, self.cipher, self.eid, self.chunk, self.alg = zf, cipher, eid, chunk, alg
        self.eid_bytes = bytes.fromhex(eid)

    def seal_file(self, index: int, path: Path) -> dict[str, Any]:
        with open(path, "rb") as src:
            size = os.fstat(src.fileno()).st_size
            n = chunk_count(size, self.chunk)
            pt_hash, ct_hash = HashWorker(self.alg), HashWorker(self.alg)
            try:
                with self.zf.open(part_name(index), "w", force_zip64=True) as dst:
                    for c in range(n):
                        data = src.read(self.chunk)
                        if len(data) != (self.chunk if c < n - 1 else size - self.chunk * c):
                            raise _changed(path)
                        pt_hash.feed(data)
                        sealed = self.cipher.seal(
                            nonce(index, c), data, aad(self.eid_bytes, index, c, c == n - 1)
                        )
                        ct_hash.feed(sealed)
                        dst.write(sealed)
                if src.read(1):
                    raise _changed(path)
                pt_digest, ct_digest = pt_hash.hexdigest(), ct_hash.hexdigest()
            finally:
                pt_hash.close()
                ct_hash.close()
        return {
            "index": index,
            "name": path.name,
            "size": size,
            "plaintext_digest": pt_digest,
            "ciphertext_digest": ct_digest,
            "part": part_name(index),
            "chunks": n,
        }


def _changed(path: Path) -> EnvelopeError:
    return EnvelopeError("file_changed", f"{path} changed while it was being sealed")
