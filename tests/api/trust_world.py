"""Trust objects for the API test worlds (tests/api): one recognized CA (ECDSA, the quickest to
sign with), an entity certificate bound to a holder, and builders for every trust request body.

Everything a request consumes (a challenge nonce, a not-yet-bound certificate, an envelope id)
is made fresh per call; keys that only need to differ from the world's are made once per process.
The CA's ``crl_url`` points at :func:`serve_crl`, a local HTTP server, so ``crls/fetch`` succeeds.
"""

from __future__ import annotations

import hashlib
import http.server
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

from ggzy.accounts.models import User
from ggzy.registry.models import Entity
from ggzy.trust import envelopes, services, signing
from ggzy.trust.issuing import Issued, IssuingCA, new_root
from ggzy.trust.models import (
    CertificateAuthority,
    CertificateBinding,
    DocumentSignature,
    SealedEnvelope,
    SigningRequest,
)
from ggzy_client import envelope as envelope_format
from ggzy_client import signatures
from tests.conftest import T0
from tests.trust import pki

FAMILY = "ecdsa"
CODE = f"test-{FAMILY}"
DOCUMENT = "投标承诺书：本公司承诺所提交材料真实有效。".encode()


@dataclass
class Trust:
    authority: CertificateAuthority
    holder: User  # holds ``certificate``, a member of ``entity``
    entity: Entity
    certificate: Issued  # the entity certificate of ``entity``, bound to ``holder``
    binding: CertificateBinding


def ca() -> pki.TestCA:
    return pki.test_ca(FAMILY)


@cache
def crl() -> bytes:
    """A CRL of the test CA's issuing certificate (nothing revoked), DER."""
    return ca().sub.crl(this_update=T0 - timedelta(hours=1), next_update=pki.NOT_AFTER)


@cache
def other_root() -> IssuingCA:
    """A CA that is not in the trust store, to onboard."""
    return new_root(
        FAMILY,
        {"country_name": "CN", "organization_name": "另一CA", "common_name": "other root"},
        not_before=pki.NOT_BEFORE,
        not_after=pki.NOT_AFTER,
    )


@cache
def extra_intermediate() -> IssuingCA:
    """A second intermediate under the test CA's root, to add to it."""
    return ca().root.intermediate(
        {"country_name": "CN", "organization_name": "测试CA", "common_name": "ecdsa sub 2"},
        not_before=pki.NOT_BEFORE,
        not_after=pki.NOT_AFTER,
    )


@contextmanager
def serve_crl() -> Iterator[str]:
    """Serve :func:`crl` on 127.0.0.1 for the length of the block; yields its URL."""
    body = crl()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/pkix-crl")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/test-ecdsa.crl"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def setup(*, holder: User, entity: Entity, crl_url: str) -> Trust:
    """Onboard the test CA (with ``crl_url``) and bind ``entity``'s certificate to ``holder``."""
    authority = services.onboard_ca(
        actor="system:test",
        code=CODE,
        name="测试CA ecdsa",
        certificates=ca().pems(),
        crl_url=crl_url,
    )
    certificate = pki.entity_cert(FAMILY, entity.uscc)
    binding = pki.bind(holder, certificate, entity)
    return Trust(authority, holder, entity, certificate, binding)


def pem(issued: Issued) -> str:
    return pki.pem(issued.certificate).decode()


def fresh_entity_certificate(entity: Entity) -> Issued:
    """A new certificate of ``entity`` (a new key), not bound to anyone yet."""
    return ca().issue({"common_name": entity.name[:60], "serial_number": entity.uscc})


def person_certificate(resident_id: str) -> Issued:
    return pki.person_cert(FAMILY, resident_id)


# --- objects ------------------------------------------------------------------------------------


def record_signature(t: Trust) -> DocumentSignature:
    return signing.record_signature(
        actor=t.holder,
        document_name="承诺书.txt",
        document=DOCUMENT,
        sigfile=signatures.sign_detached(DOCUMENT, pki.keystore(t.certificate)),
    )


def signing_request(t: Trust) -> SigningRequest:
    return signing.create_signing_request(
        actor=t.holder,
        document_name="评标报告",
        digest_alg="sha256",
        document_digest=hashlib.sha256(b"report").hexdigest(),
    )


def seal(t: Trust) -> tuple[bytes, bytes]:
    """A freshly sealed envelope (a new envelope id) of a small bid: (zip bytes, content key)."""
    with tempfile.TemporaryDirectory(prefix="ggzy-seal-") as work:
        bid = Path(work) / "商务标.pdf"
        bid.write_bytes(b"%PDF-1.7 bid " + bid.name.encode())
        result = envelope_format.seal(
            files=[bid],
            section="商务标",
            keystore=pki.keystore(t.certificate),
            out=Path(work) / "bid.ggzy-bid",
            cipher="aes-256-gcm",
        )
        key = envelope_format.unwrap_content_key(result.path, pki.keystore(t.certificate))
        return result.path.read_bytes(), key


@dataclass
class Received:
    row: SealedEnvelope
    content_key: bytes
    data: bytes  # the envelope as uploaded


def receive(t: Trust) -> Received:
    """An envelope of ``t.entity``, sealed and received (kept under ``GGZY_ENVELOPE_DIR``)."""
    data, key = seal(t)
    upload = envelopes.envelope_dir() / "upload-fixture.part"
    upload.write_bytes(data)  # receive_envelope moves it
    return Received(envelopes.receive_envelope(actor=t.holder, upload=upload), key, data)


# --- request bodies -----------------------------------------------------------------------------


def onboard_body() -> dict[str, Any]:
    return {
        "code": "other-ca",
        "name": "另一CA",
        "certificates": [pki.pem(other_root().certificate).decode()],
        "crl_url": "http://127.0.0.1/other.crl",
    }


def add_certificates_body() -> dict[str, Any]:
    return {"certificates": [pki.pem(extra_intermediate().certificate).decode()]}


def crl_body() -> dict[str, Any]:
    return {"crl": pki.b64(crl())}


def verify_body(t: Trust) -> dict[str, Any]:
    return {"certificate": pem(t.certificate), "purpose": "sign"}


def bind_body(issued: Issued, account: str, entity: Entity | None = None) -> dict[str, Any]:
    """Bind ``issued`` to ``account`` (a fresh challenge, signed with its key)."""
    nonce, sig = pki.sign_challenge(issued, "bind", account)
    body = {"certificate": pem(issued), "nonce": nonce, "signature": pki.b64(sig)}
    return body | ({"entity": entity.uscc} if entity is not None else {})


def login_body(issued: Issued) -> dict[str, Any]:
    nonce, sig = pki.sign_challenge(issued, "login")
    return {"certificate": pem(issued), "nonce": nonce, "signature": pki.b64(sig), "mode": "token"}


def signature_body(issued: Issued) -> dict[str, Any]:
    return {
        "document_name": "承诺书.txt",
        "document": pki.b64(DOCUMENT),
        "sigfile": signatures.sign_detached(DOCUMENT, pki.keystore(issued), name="承诺书.txt"),
    }


def sign_request_body() -> dict[str, Any]:
    return {
        "document_name": "评标报告",
        "digest_alg": "sha256",
        "document_digest": hashlib.sha256(b"report").hexdigest(),
        "ttl_seconds": 120,
    }


def answer_body(t: Trust, request: SigningRequest) -> dict[str, Any]:
    statement = signing.request_statement(request)
    sig = signatures.sign_statement(pki.keystore(t.certificate), statement)
    return {"certificate": pem(t.certificate), "signature": pki.b64(sig)}


def open_body(content_key: bytes) -> dict[str, Any]:
    return {"content_key": content_key.hex()}
