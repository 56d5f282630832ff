"""The sealed bid envelope (加密投标文件): seal on the bidder's machine, verify without any key on
the platform, unwrap the content key on the bidder's machine, open with the content key.

Shared by ``ggzy-client`` and the server (``ggzy.trust`` imports it): no Django, no network.
Every refusal is an :class:`EnvelopeError` with a ``code``; the format and the codes are in
docs/envelope.md. Payloads are streamed chunk by chunk, never held whole in memory.
"""

from __future__ import annotations

import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from zipfile import ZipInfo

from cryptography import x509
from cryptography.exceptions import InvalidTag

from ggzy_client.envelope_crypto import KEY_SIZES, ChunkCipher, HashWorker, aad, nonce
from ggzy_client.envelope_format import (
    CIPHERS,
    FORMAT,
    M_FORMAT,
    M_MANIFEST,
    M_RECIPIENT,
    M_SIG,
    M_SIGNER,
    M_WRAPPED,
    PART_RE,
    TAG_SIZE,
    EnvelopeError,
    iter_part,
    open_zip,
    parse_manifest,
    read_member,
    stored_size,
)
from ggzy_client.envelope_seal import DEFAULT_CHUNK, SealResult, seal
from ggzy_client.keys import KeyError_, Keystore, certificate_public_key, digest, load_certificates

__all__ = [
    "CIPHERS",
    "DEFAULT_CHUNK",
    "Envelope",
    "EnvelopeError",
    "OpenedFile",
    "SealResult",
    "open_envelope",
    "read_envelope",
    "seal",
    "unwrap_content_key",
    "verify_envelope",
]


@dataclass(frozen=True)
class Envelope:
    """A parsed envelope (format checked; signature and digests only after verify_envelope)."""

    path: Path
    manifest: dict[str, Any]
    manifest_bytes: bytes
    signature: bytes
    signer_certs: tuple[x509.Certificate, ...]  # the signing certificate first, then its chain
    recipient_cert: x509.Certificate
    wrapped_key: bytes
    parts: dict[str, ZipInfo] = field(repr=False)

    @property
    def envelope_id(self) -> str:
        return str(self.manifest["envelope_id"])

    @property
    def signer_cert(self) -> x509.Certificate:
        return self.signer_certs[0]

    @property
    def files(self) -> list[dict[str, Any]]:
        return list(self.manifest["files"])

    @property
    def manifest_digest(self) -> str:
        return digest(self.manifest["digest_alg"], self.manifest_bytes).hex()


@dataclass(frozen=True)
class OpenedFile:
    index: int
    name: str
    size: int
    plaintext_digest: str
    path: Path | None  # where the plaintext was written (None: verified only)


# --- reading and verifying (no key) -------------------------------------------------------------


def read_envelope(path: Path | str) -> Envelope:
    """Parse an envelope safely: ZIP structure, members, manifest schema and canonical form,
    certificates, and that the payload parts are the ones the manifest names, of its sizes."""
    path = Path(path)
    with open(path, "rb") as fp, open_zip(fp) as zf:
        if read_member(zf, M_FORMAT) != FORMAT.encode():
            raise EnvelopeError("bad_format", f"the format member is not {FORMAT!r}")
        manifest_bytes = read_member(zf, M_MANIFEST)
        manifest = parse_manifest(manifest_bytes)
        signer_certs = _certificates(read_member(zf, M_SIGNER), M_SIGNER)
        recipient = _certificates(read_member(zf, M_RECIPIENT), M_RECIPIENT)
        if len(recipient) != 1:
            raise EnvelopeError("bad_certificate", f"{M_RECIPIENT} must hold one certificate")
        parts = {i.filename: i for i in zf.infolist() if PART_RE.fullmatch(i.filename)}
        env = Envelope(
            path,
            manifest,
            manifest_bytes,
            read_member(zf, M_SIG),
            tuple(signer_certs),
            recipient[0],
            read_member(zf, M_WRAPPED),
            parts,
        )
    _check_parts_listed(env)
    return env


def _certificates(data: bytes, member: str) -> list[x509.Certificate]:
    try:
        certs = load_certificates(data) if data else []
    except KeyError_ as exc:
        raise EnvelopeError("bad_certificate", f"{member}: {exc}") from exc
    if not certs:
        raise EnvelopeError("bad_certificate", f"{member} holds no certificate")
    return certs


def _check_parts_listed(env: Envelope) -> None:
    if set(env.parts) != {f["part"] for f in env.files}:
        raise EnvelopeError(
            "manifest_mismatch", "the payload parts are not the ones the manifest lists"
        )
    for f in env.files:
        if env.parts[f["part"]].file_size != stored_size(f["size"], env.manifest["chunk_size"]):
            raise EnvelopeError("digest_mismatch", f"{f['part']}: size differs from the manifest")


def verify_envelope(path: Path | str) -> Envelope:
    """What the platform checks at upload, without any key: the format, the manifest signature
    by the signing certificate's key, that the manifest describes this envelope's wrapped key
    and recipient, and every payload part's size, ciphertext digest and CRC. Certificate chains
    and bindings are the caller's (``signer_certs``, ``recipient_cert`` are exposed)."""
    env = read_envelope(path)
    check_signature(env)
    with open(env.path, "rb") as fp:
        for f in env.files:
            ct_digest, crc = _part_digest(fp, env, f)
            if ct_digest != f["ciphertext_digest"]:
                raise EnvelopeError("digest_mismatch", f"{f['part']}: ciphertext digest differs")
            if crc != env.parts[f["part"]].CRC:
                raise EnvelopeError("truncated", f"{f['part']}: bad CRC-32")
    return env


def check_signature(env: Envelope) -> None:
    """The manifest signature and its references to the key material (cheap: no payload)."""
    m = env.manifest
    try:
        signer_key = certificate_public_key(env.signer_cert)
        recipient_key = certificate_public_key(env.recipient_cert)
    except KeyError_ as exc:
        raise EnvelopeError("bad_certificate", str(exc)) from exc
    if not signer_key.verify(env.signature, env.manifest_bytes):
        raise EnvelopeError(
            "signature_invalid", "the manifest signature does not verify with signer.pem's key"
        )
    wrap = m["key_wrap"]
    if (
        signer_key.fingerprint() != m["signer"]["fingerprint"]
        or recipient_key.fingerprint() != wrap["recipient_fingerprint"]
        or recipient_key.family != wrap["family"]
        or digest(m["digest_alg"], env.wrapped_key).hex() != wrap["wrapped_key_digest"]
    ):
        raise EnvelopeError(
            "manifest_mismatch",
            "the manifest does not describe this envelope's signer, recipient or wrapped key",
        )


def _part_digest(fp: IO[bytes], env: Envelope, f: dict[str, Any]) -> tuple[str, int]:
    hasher, crc = HashWorker(env.manifest["digest_alg"]), 0
    try:
        for piece in iter_part(fp, env.parts[f["part"]], env.manifest["chunk_size"] + TAG_SIZE):
            hasher.feed(piece)
            crc = zlib.crc32(piece, crc)
        return hasher.hexdigest(), crc
    finally:
        hasher.close()


# --- unwrapping and opening ---------------------------------------------------------------------


def unwrap_content_key(path: Path | str, keystore: Keystore) -> bytes:
    """The content key, unwrapped with the recipient's private key (on the bidder's machine)."""
    env = read_envelope(path)
    wrap = env.manifest["key_wrap"]
    if keystore.key.public_key().fingerprint() != wrap["recipient_fingerprint"]:
        raise EnvelopeError(
            "unwrap_failed",
            "this key is not the envelope's recipient "
            f"(the envelope wants key {wrap['recipient_fingerprint'][:16]}…)",
        )
    try:
        key = keystore.key.unwrap(env.wrapped_key)
    except KeyError_ as exc:
        raise EnvelopeError("unwrap_failed", str(exc)) from exc
    if len(key) != KEY_SIZES[env.manifest["cipher"]]:
        raise EnvelopeError("unwrap_failed", "the unwrapped content key has the wrong length")
    return key


def open_envelope(
    path: Path | str, content_key: bytes, out_dir: Path | None = None
) -> list[OpenedFile]:
    """Decrypt every file, checking each chunk's tag and each file's plaintext digest and size
    against the (signature-checked) manifest. With ``out_dir`` the plaintext files are written
    there — all of them or none; without it they are only verified."""
    env = read_envelope(path)
    check_signature(env)
    if len(content_key) != KEY_SIZES[env.manifest["cipher"]]:
        raise EnvelopeError(
            "bad_content_key", f"{env.manifest['cipher']} needs a content key of "
            f"{KEY_SIZES[env.manifest['cipher']]} bytes"
        )  # fmt: skip
    opener = _Opener(env, ChunkCipher(env.manifest["cipher"], content_key), out_dir)
    return opener.run()


class _Opener:
    def __init__(self, env: Envelope, cipher: ChunkCipher, out_dir: Path | None) -> None:
        self.env, self.cipher, self.out_dir = env, cipher, out_dir
        self.chunk = env.manifest["chunk_size"]
        self.eid = bytes.fromhex(env.envelope_id)
        self.temps: list[tuple[Path, Path]] = []

    def run(self) -> list[OpenedFile]:
        if self.out_dir is not None:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            for f in self.env.files:
                if (self.out_dir / f["name"]).exists():
                    raise EnvelopeError("output_exists", f"{self.out_dir / f['name']} exists")
        try:
            with open(self.env.path, "rb") as fp:
                opened = [self._open_file(fp, f) for f in self.env.files]
            for tmp, final in self.temps:
                os.replace(tmp, final)
        except BaseException:
            for tmp, _ in self.temps:
                tmp.unlink(missing_ok=True)
            raise
        return opened

    def _sink(self, f: dict[str, Any]) -> tuple[IO[bytes] | None, Path | None]:
        if self.out_dir is None:
            return None, None
        tmp = self.out_dir / f".ggzy-open-{self.env.envelope_id[:12]}-{f['index']:04d}.part"
        final = self.out_dir / f["name"]
        self.temps.append((tmp, final))
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        return os.fdopen(fd, "wb"), final

    def _open_file(self, fp: IO[bytes], f: dict[str, Any]) -> OpenedFile:
        index, n = f["index"], f["chunks"]
        sink, final = self._sink(f)
        hasher, size = HashWorker(self.env.manifest["digest_alg"]), 0
        try:
            pieces = iter_part(fp, self.env.parts[f["part"]], self.chunk + TAG_SIZE)
            for c, piece in enumerate(pieces):
                try:
                    data = self.cipher.open(
                        nonce(index, c), piece, aad(self.eid, index, c, c == n - 1)
                    )
                except InvalidTag:
                    raise self._tag_failure(f, c) from None
                hasher.feed(data)
                size += len(data)
                if sink is not None:
                    sink.write(data)
            pt_digest = hasher.hexdigest()
        finally:
            hasher.close()
            if sink is not None:
                sink.close()
        if size != f["size"] or pt_digest != f["plaintext_digest"]:
            raise EnvelopeError(
                "plaintext_mismatch", f"{f['name']}: the plaintext differs from the manifest"
            )
        return OpenedFile(index, f["name"], size, pt_digest, final)

    def _tag_failure(self, f: dict[str, Any], chunk: int) -> EnvelopeError:
        with open(self.env.path, "rb") as fp:
            intact = _part_digest(fp, self.env, f)[0] == f["ciphertext_digest"]
        if intact and f["index"] == 0 and chunk == 0:
            return EnvelopeError(
                "wrong_content_key", "the content key does not decrypt this envelope"
            )
        return EnvelopeError("payload_altered", f"{f['part']}: chunk {chunk} fails authentication")
