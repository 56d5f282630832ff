"""``ggzy-client login | bind | sign-request | submit | hand-over`` against a live server."""

from __future__ import annotations

import json
import stat
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.urls import reverse

from ggzy.accounts.models import User
from ggzy.accounts.roles import Role
from ggzy.accounts.services import issue_token
from ggzy.core import clock
from ggzy.registry.models import Entity
from ggzy.trust import signing
from ggzy.trust.issuing import Issued
from ggzy.trust.models import CertificateBinding, SealedEnvelope, SigningRequest
from ggzy_client import cli, envelope
from tests.api.support import register
from tests.conftest import make_user
from tests.trust import pki

OWN = ("ggzy_client.commands.remote",)
FAMILIES = ("sm2", "ecdsa", "rsa")
DIGEST = "ab" * 32
SECRET = b"MARKER-REMOTE-BID-5e1a price 987,654.00"


@dataclass
class World:
    server: str
    bidder: User
    entity: Entity
    tmp: Path

    def keystore(self, issued: Issued, name: str) -> Path:
        """A PEM keystore file: key, certificate, then the chain."""
        ca = pki.test_ca(issued.key.family)
        path = self.tmp / f"{name}.pem"
        path.write_bytes(issued.key.to_pem() + issued.pem + b"".join(ca.pems()[::-1]))
        return path

    def cert(self, family: str) -> Issued:
        return pki.entity_cert(family, self.entity.uscc)


@pytest.fixture(autouse=True)
def _only_remote_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "COMMAND_MODULES", OWN)
    monkeypatch.delenv("GGZY_SERVER", raising=False)


@pytest.fixture
def world(live_server, region, settings, tmp_path: Path) -> World:  # type: ignore[no-untyped-def]
    settings.GGZY_ENVELOPE_DIR = tmp_path / "store"
    for family in FAMILIES:
        pki.onboard(family)
    bidder = make_user("acme_admin", Role.BIDDER)
    return World(live_server.url, bidder, register(bidder, 1), tmp_path)


def run(capsys: pytest.CaptureFixture[str], world: World, *argv: str) -> tuple[int, str, str]:
    code = cli.main([argv[0], "--server", world.server, *argv[1:]])
    out, err = capsys.readouterr()
    return code, out, err


def me(world: World, token: str) -> dict[str, object]:
    req = urllib.request.Request(
        world.server + "/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())  # type: ignore[no-any-return]


def token_for(user: User) -> str:
    return issue_token(actor=user, name="test")[1]


# --- login and bind -----------------------------------------------------------------------------


@pytest.mark.parametrize("family", FAMILIES)
def test_login_saves_a_working_token(capsys, world: World, family: str) -> None:  # type: ignore[no-untyped-def]
    issued = world.cert(family)
    pki.bind(world.bidder, issued, world.entity)
    token_file = world.tmp / "home" / "token"
    code, out, err = run(
        capsys, world, "login", "--key", str(world.keystore(issued, family)),
        "--token-file", str(token_file),
    )  # fmt: skip
    assert code == 0, err
    assert "logged in as acme_admin" in out
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert me(world, token_file.read_text().strip())["username"] == "acme_admin"


def test_login_print_token(capsys, world: World) -> None:  # type: ignore[no-untyped-def]
    issued = world.cert("ecdsa")
    pki.bind(world.bidder, issued, world.entity)
    code, out, err = run(
        capsys, world, "login", "--key", str(world.keystore(issued, "k")), "--print-token"
    )
    assert code == 0, err
    token = out.split("token: ", 1)[1].strip()
    assert me(world, token)["username"] == "acme_admin"


def test_login_with_an_unbound_certificate_is_refused(capsys, world: World) -> None:  # type: ignore[no-untyped-def]
    key = world.keystore(world.cert("rsa"), "unbound")
    code, _, err = run(capsys, world, "login", "--key", str(key), "--print-token")
    assert code == 2
    assert err.startswith("error [certificate_not_bound]: ")


@pytest.mark.parametrize("family", FAMILIES)
def test_bind_then_login(capsys, world: World, family: str) -> None:  # type: ignore[no-untyped-def]
    key = str(world.keystore(world.cert(family), family))
    token = token_for(world.bidder)
    code, out, err = run(
        capsys, world, "bind", "--key", key, "--token", token, "--entity", world.entity.uscc
    )
    assert code == 0, err
    assert f"to entity {world.entity.uscc}" in out
    binding = CertificateBinding.objects.get()
    assert binding.holder == world.bidder and binding.entity == world.entity
    assert binding.family == family
    code, out, err = run(capsys, world, "login", "--key", key, "--print-token")
    assert code == 0, err


def test_bind_uses_the_saved_token(capsys, world: World) -> None:  # type: ignore[no-untyped-def]
    token_file = world.tmp / "token"
    token_file.write_text(token_for(world.bidder) + "\n")
    key = str(world.keystore(world.cert("sm2"), "sm2"))
    code, _, err = run(capsys, world, "bind", "--key", key, "--token-file", str(token_file))
    assert code == 0, err
    code, _, err = run(capsys, world, "bind", "--key", key, "--token-file", str(token_file))
    assert code == 2 and err.startswith("error [certificate_already_bound]: ")


def test_bind_without_a_token(capsys, world: World) -> None:  # type: ignore[no-untyped-def]
    key = str(world.keystore(world.cert("sm2"), "sm2"))
    missing = str(world.tmp / "nope")
    code, _, err = run(capsys, world, "bind", "--key", key, "--token-file", missing)
    assert code == 2 and err.startswith("error [not_logged_in]: ")
    code, _, err = run(capsys, world, "bind", "--key", key, "--token", "bogus")
    assert code == 2 and err.startswith("error [not_authenticated]: ")


def test_server_unreachable(capsys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    issued = pki.entity_cert("ecdsa", "91320100MA1XXXXX0X")
    key = tmp_path / "k.pem"
    key.write_bytes(issued.key.to_pem() + issued.pem)
    code = cli.main(["login", "--server", "http://127.0.0.1:9", "--key", str(key)])
    assert code == 2
    assert capsys.readouterr().err.startswith("error [server_unreachable]: ")


# --- QR signing requests ------------------------------------------------------------------------


def _sign_request(world: World, family: str, ttl: int | None = None) -> tuple[SigningRequest, str]:
    pki.bind(world.bidder, world.cert(family), world.entity)
    req = signing.create_signing_request(
        actor=world.bidder,
        document_name="合同.pdf",
        digest_alg="sm3",
        document_digest=DIGEST,
        ttl_seconds=ttl,
    )
    path = reverse("api:trust_sign_request", kwargs={"request_id": req.public_id})
    return req, world.server + path


@pytest.mark.parametrize("family", FAMILIES)
def test_sign_request_end_to_end(capsys, world: World, family: str) -> None:  # type: ignore[no-untyped-def]
    req, url = _sign_request(world, family)
    key = str(world.keystore(world.cert(family), family))
    code, out, err = run(capsys, world, "sign-request", url, "--key", key, "--yes")
    assert code == 0, err
    assert "合同.pdf" in out and DIGEST in out and "is signed" in out
    req.refresh_from_db()
    assert req.signature_id is not None
    assert req.signature.binding.family == family  # type: ignore[union-attr]


def test_sign_request_replay_is_refused(capsys, world: World) -> None:  # type: ignore[no-untyped-def]
    _, url = _sign_request(world, "ecdsa")
    key = str(world.keystore(world.cert("ecdsa"), "ecdsa"))
    assert run(capsys, world, "sign-request", url, "--key", key, "--yes")[0] == 0
    code, _, err = run(capsys, world, "sign-request", url, "--key", key, "--yes")
    assert code == 2 and err.startswith("error [request_used]: ")


def test_sign_request_expired_is_refused(capsys, world: World) -> None:  # type: ignore[no-untyped-def]
    key = str(world.keystore(world.cert("sm2"), "sm2"))
    with clock.frozen(datetime.now(UTC)) as frozen:  # process-global: the server thread sees it
        req, url = _sign_request(world, "sm2", ttl=30)
        frozen.advance(seconds=31)
        code, _, err = run(capsys, world, "sign-request", url, "--key", key, "--yes")
    assert code == 2 and err.startswith("error [request_expired]: ")
    req.refresh_from_db()
    assert req.signature_id is None


def test_sign_request_needs_confirmation(capsys, world: World) -> None:  # type: ignore[no-untyped-def]
    req, url = _sign_request(world, "rsa")
    key = str(world.keystore(world.cert("rsa"), "rsa"))
    code, _, err = run(capsys, world, "sign-request", url, "--key", key)  # stdin: no TTY
    assert code == 2 and err.startswith("error [not_confirmed]: ")
    req.refresh_from_db()
    assert req.signature_id is None


def test_sign_request_unknown(capsys, world: World) -> None:  # type: ignore[no-untyped-def]
    _, url = _sign_request(world, "rsa")
    key = str(world.keystore(world.cert("rsa"), "rsa"))
    code, _, err = run(capsys, world, "sign-request", url[:-3] + "000", "--key", key, "--yes")
    assert code == 2 and err.startswith("error [sign_request_not_found]: ")


# --- envelopes ----------------------------------------------------------------------------------


def _sealed(world: World, issued: Issued) -> Path:
    src = world.tmp / "商务标.txt"
    src.write_bytes(SECRET)
    out = world.tmp / "bid.ggzy-bid"
    envelope.seal(files=[src], section="S-2026-001", keystore=pki.keystore(issued), out=out)
    return out


@pytest.mark.parametrize("by", ["key", "content-key"])
def test_submit_and_hand_over(capsys, world: World, by: str) -> None:  # type: ignore[no-untyped-def]
    issued = world.cert("sm2")
    pki.bind(world.bidder, issued, world.entity)
    sealed = _sealed(world, issued)
    token = token_for(world.bidder)
    code, out, err = run(capsys, world, "submit", str(sealed), "--token", token)
    assert code == 0, err
    lines = dict(line.split(": ", 1) for line in out.strip().splitlines())
    row = SealedEnvelope.objects.get()
    assert lines["file sha256"] == row.file_sha256
    assert lines["receipt ledger seq"].isdigit()
    if by == "key":
        how = ["--key", str(world.keystore(issued, "sm2")), "--envelope", str(sealed)]
    else:
        hex_key = envelope.unwrap_content_key(sealed, pki.keystore(issued)).hex()
        how = ["--content-key", hex_key]
    code, out, err = run(capsys, world, "hand-over", row.public_id, *how, "--token", token)
    assert code == 0, err
    assert "商务标.txt" in out
    row.refresh_from_db()
    assert row.opened_at is not None


def test_submit_refusal_is_reported(capsys, world: World) -> None:  # type: ignore[no-untyped-def]
    junk = world.tmp / "junk.zip"
    junk.write_bytes(b"not a zip at all")
    code, _, err = run(capsys, world, "submit", str(junk), "--token", token_for(world.bidder))
    assert code == 2 and err.startswith("error [")
    assert SealedEnvelope.objects.count() == 0


def test_hand_over_needs_a_key(capsys, world: World) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run(capsys, world, "hand-over", "x" * 32, "--token", "t")
    assert code == 2 and err.startswith("error [usage]: ")


def test_the_client_signs_only_the_statement_it_showed() -> None:
    """A QR code (or a server) cannot get a login or another document signed: the statement is
    rebuilt from what was shown, and an audience pinned with --audience must match."""
    import argparse

    from ggzy_client.cli import ClientError
    from ggzy_client.commands.remote import _request_statement

    statement = {
        "audience": "openggzy:320000", "digest_alg": "sha256", "document_digest": "ab" * 32,
        "expires_at": "2026-11-23T02:10:00+00:00", "nonce": "n1", "purpose": "sign-request",
        "request": "r1",
    }  # fmt: skip
    shown = {
        "id": "r1", "digest_alg": "sha256", "document_digest": "ab" * 32,
        "expires_at": "2026-11-23T02:10:00Z", "statement": statement,
    }  # fmt: skip
    url = "http://h/api/v1/trust/sign-requests/r1"
    assert _request_statement(argparse.Namespace(audience=None), url, shown) == statement
    login = {"audience": "openggzy:320000", "nonce": "n1", "purpose": "login"}
    for bad in (
        {**shown, "statement": login},
        {**shown, "statement": {**statement, "document_digest": "cd" * 32}},
        {**shown, "statement": {**statement, "request": "r2"}},
    ):
        with pytest.raises(ClientError) as info:
            _request_statement(argparse.Namespace(audience=None), url, bad)
        assert info.value.code == "unexpected_statement"
    with pytest.raises(ClientError) as info:
        _request_statement(argparse.Namespace(audience="openggzy:520000"), url, shown)
    assert info.value.code == "unexpected_audience"
