"""The demo PKI: three active CAs, keystores on disk that load and validate, bound to the right
users; a second run changes nothing."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from django.core.management import call_command

from ggzy.registry.demo import load_demo
from ggzy.trust import validation
from ggzy.trust.bindings import active_binding
from ggzy.trust.demo import FAMILIES, ca_code, demo_bidders, load_demo_pki
from ggzy.trust.models import CertificateAuthority, CertificateBinding
from ggzy.trust.validation import CertificateRejected
from ggzy_client import keys

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tmp_path: Path):  # type: ignore[no-untyped-def]
    load_demo()
    return load_demo_pki(tmp_path), tmp_path / "demo-keys"


def test_three_active_cas(world) -> None:  # type: ignore[no-untyped-def]
    codes = {ca_code(f) for f in FAMILIES}
    cas = CertificateAuthority.objects.filter(code__in=codes)
    assert {(a.code, a.status) for a in cas} == {(c, "active") for c in codes}
    for a in cas:
        assert a.certificates.count() == 2
        assert a.subject_id_attribute == ""


def test_bidders_spread_over_families(world) -> None:  # type: ignore[no-untyped-def]
    result, _ = world
    assert result.created
    assert [result.keystores[u][0] for u in ("bidder01", "bidder02", "bidder03", "bidder04")] == [
        "sm2",
        "ecdsa",
        "rsa",
        "sm2",
    ]
    people = {"zhuanjia", "zuzhi", "jianguan"}  # person certificates: expert, staff, regulator
    assert set(result.keystores) == {u.username for u, _ in demo_bidders()} | people


def test_keystores_load_validate_and_are_bound(world) -> None:  # type: ignore[no-untyped-def]
    result, _ = world
    owners = {u.username: e for u, e in demo_bidders()}
    for username, (family, path) in result.keystores.items():
        ks = keys.load_keystore(path)
        assert ks.key.family == family and ks.certificate is not None and len(ks.chain) == 2
        report = validation.validate(ks.certificate, purpose="sign")
        assert report.authority.code == ca_code(family)
        binding = active_binding(report.fingerprint)
        assert binding is not None and binding.holder.username == username
        if username in owners:  # an entity certificate, bound to the entity the user acts for
            assert report.subject_identifier == owners[username].uscc
            assert binding.entity == owners[username]
        else:  # a person certificate: the holder's own ID number
            assert (report.kind, binding.entity) == ("person", None)
            assert report.subject_identifier == binding.holder.resident_id


def test_pkcs12_and_file_modes(world) -> None:  # type: ignore[no-untyped-def]
    result, root = world
    for family, path in result.keystores.values():
        p12 = path.parent / "keystore.p12"
        assert p12.exists() == (family != "sm2")
        if p12.exists():
            ks = keys.load_keystore(p12, "Demo-2026-ggzy")
            assert ks.certificate == keys.load_keystore(path).certificate
    for p in root.rglob("*"):
        mode = stat.S_IMODE(p.stat().st_mode)
        assert mode == (0o700 if p.is_dir() else 0o600), p
    for family in FAMILIES:
        for suffix in ("-root.pem", "-sub.pem", ".crl"):
            assert (root / "ca" / f"{ca_code(family)}{suffix}").is_file()


def test_revoked_demo_certificate_is_refused(world) -> None:  # type: ignore[no-untyped-def]
    _, root = world
    ks = keys.load_keystore(root / "revoked" / "key.pem")
    assert ks.certificate is not None
    with pytest.raises(CertificateRejected) as exc:
        validation.validate(ks.certificate, purpose="sign")
    assert exc.value.code == "revoked"


def test_second_run_changes_nothing(world) -> None:  # type: ignore[no-untyped-def]
    result, root = world
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    bindings = CertificateBinding.objects.count()
    again = load_demo_pki(root.parent)
    assert not again.created
    assert {u: f for u, (f, _) in again.keystores.items()} == {
        u: f for u, (f, _) in result.keystores.items()
    }
    assert CertificateBinding.objects.count() == bindings
    assert CertificateAuthority.objects.filter(code__startswith="demo-").count() == 3
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before


def test_demo_command_prints_keystores(tmp_path: Path, settings, capsys) -> None:  # type: ignore[no-untyped-def]
    settings.VAR_DIR = tmp_path
    call_command("demo")
    out = capsys.readouterr().out
    assert "demo PKI created" in out
    for family, user in (("sm2", "bidder01"), ("ecdsa", "bidder02"), ("rsa", "bidder03")):
        assert f"{family:<6} {user:<12} {tmp_path / 'demo-keys' / user / 'key.pem'}" in out
