"""Sealed envelopes on the platform: upload verified without any key (receipt in the ledger),
refusals with their codes and nothing stored, opening with the handed-over content key."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from ggzy.accounts.roles import Role
from ggzy.accounts.services import issue_token
from ggzy.ledger.models import Event
from ggzy.trust.models import SealedEnvelope
from ggzy_client import envelope
from tests.api.support import api_client, assert_error, db_state
from tests.conftest import make_user, uscc
from tests.trust import pki

SECRET = "第三标段技术标：施工组织设计 MARKER-7d1f".encode()


@pytest.fixture(autouse=True)
def envelope_store(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.GGZY_ENVELOPE_DIR = tmp_path / "store"
    return settings.GGZY_ENVELOPE_DIR


@pytest.fixture
def http():  # type: ignore[no-untyped-def]
    return api_client()


@pytest.fixture
def secret(bidder):  # type: ignore[no-untyped-def]
    return issue_token(actor=bidder, name="t")[1]


def seal(issued, tmp_path: Path, cipher: str = "sm4-gcm", name: str = "bid") -> Path:  # type: ignore[no-untyped-def]
    src = tmp_path / f"{name}.txt"
    src.write_bytes(SECRET)
    out = tmp_path / f"{name}.ggzy-bid"
    envelope.seal(
        files=[src], section="S-2026-001", keystore=pki.keystore(issued), out=out, cipher=cipher
    )
    return out


def upload(http, path_or_bytes, secret, content_type="application/zip"):  # type: ignore[no-untyped-def]
    data = path_or_bytes.read_bytes() if isinstance(path_or_bytes, Path) else path_or_bytes
    return http.call(
        "POST", "/api/v1/trust/envelopes", raw=data, content_type=content_type, token=secret
    )


@pytest.mark.parametrize("cipher", ["sm4-gcm", "aes-256-gcm"])
def test_upload_verify_and_open_with_the_content_key(
    http, frozen_clock, bound, entity_cert, secret, tmp_path, envelope_store, cipher
):
    sealed = seal(entity_cert, tmp_path, cipher)
    r = upload(http, sealed, secret)
    assert r.status_code == 201, r.content
    receipt = r.json()
    assert receipt["section"] == "S-2026-001" and receipt["receipt_seq"]
    event = Event.objects.get(seq=receipt["receipt_seq"])
    assert event.event_type == "trust.envelope_received"
    # the platform holds ciphertext only
    stored = b"".join(p.read_bytes() for p in envelope_store.glob("*.ggzy-bid"))
    assert stored and SECRET not in stored
    # at opening, the bidder unwraps locally and hands over the content key
    key = envelope.unwrap_content_key(sealed, pki.keystore(entity_cert))
    opened = http.call(
        "POST",
        f"/api/v1/trust/envelopes/{receipt['id']}/open",
        {"content_key": key.hex()},
        token=secret,
    )
    assert opened.status_code == 200, opened.content
    assert [f["name"] for f in opened.json()["files"]] == ["bid.txt"]
    assert next((envelope_store / "opened" / receipt["id"]).iterdir()).read_bytes() == SECRET
    assert_error(
        http.call("POST", f"/api/v1/trust/envelopes/{receipt['id']}/open", {"content_key": key.hex()}, token=secret),
        409, "already_opened",
    )  # fmt: skip


def test_wrong_content_key_is_refused_and_recorded(
    http, frozen_clock, bound, entity_cert, secret, tmp_path
):
    receipt = upload(http, seal(entity_cert, tmp_path), secret).json()
    r = http.call(
        "POST",
        f"/api/v1/trust/envelopes/{receipt['id']}/open",
        {"content_key": "00" * 16},
        token=secret,
    )
    assert_error(r, 422, "wrong_content_key")
    assert SealedEnvelope.objects.get().opened_at is None
    assert Event.objects.filter(event_type="trust.envelope_open_refused").count() == 1


def tampered(path: Path, tmp_path: Path, how: str) -> bytes:
    data = path.read_bytes()
    if how == "truncated":
        return data[: len(data) // 2]
    if how == "not_zip":
        return b"%PDF-1.4 not an envelope"
    out = tmp_path / "t.zip"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            body = src.read(info)
            if how == "payload" and info.filename.startswith("payload/"):
                body = body[:10] + bytes([body[10] ^ 1]) + body[11:]
            dst.writestr(info, body)
    return out.read_bytes()


@pytest.mark.parametrize(
    ("how", "code"),
    [("truncated", "truncated"), ("not_zip", "not_zip"), ("payload", "digest_mismatch")],
)
def test_broken_envelopes_are_refused_and_nothing_is_stored(
    http, frozen_clock, bound, entity_cert, secret, tmp_path, envelope_store, how, code
):
    data = tampered(seal(entity_cert, tmp_path), tmp_path, how)
    before = db_state()
    assert_error(upload(http, data, secret), 422, code)
    assert db_state() == before and not SealedEnvelope.objects.exists()
    assert not list(envelope_store.glob("*.ggzy-bid")) and not list(envelope_store.glob("*.part"))


def test_manifest_swapped_between_envelopes(
    http, frozen_clock, bound, entity_cert, secret, tmp_path
):
    a, b = seal(entity_cert, tmp_path, name="a"), seal(entity_cert, tmp_path, name="b")
    out = tmp_path / "swapped.zip"
    with zipfile.ZipFile(a) as za, zipfile.ZipFile(b) as zb, zipfile.ZipFile(out, "w") as dst:
        for info in za.infolist():
            source = zb if info.filename in ("manifest.json", "manifest.sig") else za
            dst.writestr(info, source.read(info.filename))
    r = upload(http, out, secret)
    assert r.status_code == 422 and r.json()["code"] in ("manifest_mismatch", "digest_mismatch")
    assert not SealedEnvelope.objects.exists()


def test_unbound_or_foreign_certificates_are_refused(
    http, frozen_clock, bound, family, secret, tmp_path, entity
):
    stranger = pki.entity_cert(family, uscc(88), "他人公司")
    assert_error(upload(http, seal(stranger, tmp_path), secret), 422, "certificate_not_bound")
    other = issue_token(actor=make_user("other_bidder", Role.BIDDER), name="t")[1]
    assert_error(
        upload(http, seal(pki.entity_cert(family, entity.uscc), tmp_path), other), 403, "forbidden"
    )


def test_suspended_ca_stops_submission(
    http, frozen_clock, bound, entity_cert, secret, tmp_path, cas, family
):
    from ggzy.trust import services

    services.set_ca_status(actor="system:test", authority=cas[family], status="suspended")
    assert_error(upload(http, seal(entity_cert, tmp_path), secret), 422, "ca_suspended")


def test_only_zip_bodies_and_no_duplicates(
    http, frozen_clock, bound, entity_cert, secret, tmp_path
):
    sealed = seal(entity_cert, tmp_path)
    assert_error(
        upload(http, sealed, secret, content_type="application/json"), 415, "unsupported_media_type"
    )
    assert upload(http, sealed, secret).status_code == 201
    assert_error(upload(http, sealed, secret), 409, "envelope_duplicate")


def test_others_cannot_see_or_open(http, frozen_clock, bound, entity_cert, secret, tmp_path):
    receipt = upload(http, seal(entity_cert, tmp_path), secret).json()
    other = issue_token(actor=make_user("nosy", Role.BIDDER), name="t")[1]
    assert_error(
        http.call("GET", f"/api/v1/trust/envelopes/{receipt['id']}", token=other),
        404,
        "envelope_not_found",
    )
    r = http.call(
        "POST",
        f"/api/v1/trust/envelopes/{receipt['id']}/open",
        {"content_key": "00" * 16},
        token=other,
    )
    assert_error(r, 404, "envelope_not_found")


def test_a_late_second_opening_leaves_the_first_ones_plaintext(
    frozen_clock, bound, bidder, entity_cert, tmp_path, envelope_store
):
    from ggzy.core.errors import Conflict
    from ggzy.trust import envelopes

    sealed = seal(entity_cert, tmp_path)
    row = envelopes.receive_envelope(actor=bidder, upload=sealed)
    stale = SealedEnvelope.objects.get(pk=row.pk)  # read before the first opening: not opened
    key = envelope.unwrap_content_key(envelopes.stored_path(row), pki.keystore(entity_cert))
    opened = envelopes.open_with_key(actor=bidder, envelope=row, content_key=key)
    assert opened[0].path is not None and opened[0].path.read_bytes() == SECRET
    with pytest.raises(Conflict):
        envelopes.open_with_key(actor=bidder, envelope=stale, content_key=key)
    assert opened[0].path.read_bytes() == SECRET  # the winner's plaintext is untouched
    assert [p.name for p in (envelope_store / "opened").iterdir()] == [row.public_id]


def test_a_holder_who_left_the_entity_cannot_submit_or_sign_for_it(
    http, frozen_clock, bound, bidder, entity_cert, secret, tmp_path
):
    from ggzy.core.errors import ValidationFailed
    from ggzy.registry.models import Membership
    from ggzy.trust import signing
    from ggzy_client import signatures

    Membership.objects.filter(user=bidder).delete()  # (the registry has no removal service yet)
    with pytest.raises(ValidationFailed) as info:
        signing.record_signature(
            actor=bidder, document_name="d", document=b"d",
            sigfile=signatures.sign_detached(b"d", pki.keystore(entity_cert)),
        )  # fmt: skip
    assert info.value.code == "not_a_member"
    assert_error(upload(http, seal(entity_cert, tmp_path), secret), 403, "forbidden")
