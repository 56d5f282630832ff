"""``ggzy ca …`` and ``ggzy cert verify``: every subcommand, every refusal, nothing changed on refusal."""

from __future__ import annotations

import http.server
import json
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ggzy.ledger.models import Event
from ggzy.trust.issuing import IssuingCA
from ggzy.trust.models import CACertificate, CAStatusChange, CertificateAuthority, RevocationList
from ggzy.trust.validation import fingerprint
from ggzy_client import keys
from tests.trust import pki

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def verify(path: Path, *extra: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("cert", "verify", str(path), *extra, stdout=out)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue()
    return 0, out.getvalue()


def refused(*args: str) -> CommandError:
    with pytest.raises(CommandError) as info:
        run(*args)
    return info.value


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.fixture
def sm2_files(tmp_path: Path) -> tuple[Path, Path]:
    ca = pki.test_ca("sm2")
    return (
        write(tmp_path, "root.pem", pki.pem(ca.root.certificate)),
        write(tmp_path, "sub.der", keys.certificate_der(ca.sub.certificate)),
    )


@pytest.fixture
def leaf(tmp_path: Path) -> Path:
    return write(tmp_path, "leaf.pem", pki.entity_cert("sm2", _uscc()).pem)


def _uscc() -> str:
    from tests.conftest import uscc

    return uscc(7)


def _events(event_type: str) -> int:
    return Event.objects.filter(event_type=event_type).count()


# --- ca add / add-cert ----------------------------------------------------------------------


def test_add_onboards_the_ca_and_prints_its_fingerprints(frozen_clock, sm2_files) -> None:  # type: ignore[no-untyped-def]
    out = run(
        "ca", "add", *map(str, sm2_files), "--code", "cfca", "--name", "中金金融认证中心",
        "--subject-attribute", "serialNumber", "--crl-url", "http://crl.example/cfca.crl",
    )  # fmt: skip
    ca = CertificateAuthority.objects.get(code="cfca")
    assert (ca.name, ca.status, ca.subject_id_attribute, ca.crl_url) == (
        "中金金融认证中心",
        "active",
        "serialNumber",
        "http://crl.example/cfca.crl",
    )
    test_ca = pki.test_ca("sm2")
    for cert in (test_ca.root.certificate, test_ca.sub.certificate):
        assert fingerprint(cert) in out
    assert out.splitlines()[0] == "cfca  中金金融认证中心  [active]"
    assert "root" in out and "intermediate" in out
    assert _events("trust.ca_onboarded") == 1


def test_add_takes_several_certificates_in_one_pem_file(frozen_clock, tmp_path) -> None:  # type: ignore[no-untyped-def]
    both = write(tmp_path, "bundle.pem", b"".join(pki.test_ca("rsa").pems()))
    run("ca", "add", str(both), "--code", "bundle", "--name", "Bundle CA")
    assert CACertificate.objects.filter(authority__code="bundle").count() == 2


def test_add_cert_adds_an_intermediate(frozen_clock, sm2_files) -> None:  # type: ignore[no-untyped-def]
    root, sub = sm2_files
    run("ca", "add", str(root), "--code", "gd", "--name", "广东CA")
    out = run("ca", "add-cert", "gd", str(sub))
    assert out.startswith("added " + fingerprint(pki.test_ca("sm2").sub.certificate))
    assert CACertificate.objects.filter(authority__code="gd", is_root=False).count() == 1
    assert _events("trust.ca_certificates_added") == 1


def test_add_refusals_change_nothing(frozen_clock, sm2_files, tmp_path) -> None:  # type: ignore[no-untyped-def]
    root, sub = sm2_files
    junk = write(tmp_path, "junk.pem", b"not a certificate")
    leaf_file = write(tmp_path, "leaf.pem", pki.entity_cert("sm2", _uscc()).pem)
    assert str(refused("ca", "add", str(junk), "--code", "xx", "--name", "X")).startswith(
        "[bad_certificate] "
    )
    assert "[not_a_ca_certificate]" in str(
        refused("ca", "add", str(leaf_file), "--code", "xx", "--name", "X")
    )
    assert "[chain_incomplete]" in str(
        refused("ca", "add", str(sub), "--code", "xx", "--name", "X")
    )
    missing = refused("ca", "add", str(tmp_path / "nope.pem"), "--code", "xx", "--name", "X")
    assert missing.returncode == 2 and "nope.pem" in str(missing)
    assert CertificateAuthority.objects.count() == 0 and Event.objects.count() == 0

    run("ca", "add", str(root), str(sub), "--code", "gd", "--name", "广东CA")
    before = Event.objects.count()
    assert "[ca_code_taken]" in str(refused("ca", "add", str(root), "--code", "gd", "--name", "Y"))
    assert "[ca_certificate_exists]" in str(refused("ca", "add-cert", "gd", str(sub)))
    assert "[ca_not_found]" in str(refused("ca", "add-cert", "nosuch", str(sub)))
    assert Event.objects.count() == before
    assert CACertificate.objects.count() == 2


# --- ca list ----------------------------------------------------------------------------------


def test_list_shows_code_status_families_and_counts(frozen_clock, cas) -> None:  # type: ignore[no-untyped-def]
    rows = json.loads(run("ca", "list", "--json"))
    assert rows == [
        {
            "code": f"test-{f}",
            "name": f"测试CA {f}",
            "status": "active",
            "families": [f],
            "certificates": 2,
            "crl_updated": None,
            "crl_overdue": False,
        }
        for f in ("ecdsa", "rsa", "sm2")
    ]
    text = run("ca", "list").splitlines()
    assert len(text) == 3 and text[0].startswith("test-ecdsa") and "测试CA ecdsa" in text[0]


# --- status -----------------------------------------------------------------------------------


def test_suspended_ca_certificates_are_rejected_until_reinstated(frozen_clock, cas, leaf) -> None:  # type: ignore[no-untyped-def]
    assert verify(leaf, "--purpose", "sign")[0] == 0
    assert run("ca", "suspend", "test-sm2", "--reason", "年检") == "test-sm2: suspended\n"
    change = CAStatusChange.objects.filter(authority__code="test-sm2").last()
    assert (change.status, change.by, change.reason) == ("suspended", "system:cli", "年检")
    code, out = verify(leaf, "--purpose", "sign")
    assert code == 1
    assert out.startswith("rejected [ca_suspended]: 签发该证书的 CA 已暂停")
    # as of before the suspension it was fine (signatures made then stay verifiable)
    assert verify(leaf, "--at", "2026-11-01T00:00+08:00")[0] == 0
    assert run("ca", "reinstate", "test-sm2") == "test-sm2: active\n"
    assert verify(leaf)[0] == 0
    assert _events("trust.ca_status_changed") == 2


def test_retired_is_final(frozen_clock, cas, leaf) -> None:  # type: ignore[no-untyped-def]
    run("ca", "retire", "test-sm2", "--reason", "退出平台")
    before = Event.objects.count()
    err = refused("ca", "reinstate", "test-sm2")
    assert str(err).startswith("[bad_ca_transition] ")
    assert CertificateAuthority.objects.get(code="test-sm2").status == "retired"
    assert Event.objects.count() == before
    assert verify(leaf)[1].startswith("rejected [ca_retired]")
    assert "[ca_not_found]" in str(refused("ca", "suspend", "nosuch"))


# --- cert verify ------------------------------------------------------------------------------


def test_verify_prints_the_report(frozen_clock, cas, leaf) -> None:  # type: ignore[no-untyped-def]
    code, out = verify(leaf, "--purpose", "sign", "--json")
    report = json.loads(out)
    assert code == 0
    assert report["authority"] == "test-sm2"
    assert report["kind"] == "entity" and report["subject_identifier"] == _uscc()
    assert report["chain"] == ["CN=sm2 sub,O=测试CA sm2,C=CN", "CN=sm2 root,O=测试CA sm2,C=CN"]
    code, text = verify(leaf)
    assert code == 0 and text.splitlines()[0] == "valid"
    assert "chain:              CN=sm2 sub,O=测试CA sm2,C=CN → CN=sm2 root" in text
    assert f"identifier:         {_uscc()} (entity)" in text


def test_verify_rejections_exit_1(frozen_clock, cas, leaf, tmp_path) -> None:  # type: ignore[no-untyped-def]
    code, out = verify(leaf, "--at", "2028-06-01T00:00Z")
    assert (code, out.split(":")[0]) == (1, "rejected [expired]")
    ca_file = write(tmp_path, "root.pem", pki.pem(pki.test_ca("sm2").root.certificate))
    assert verify(ca_file)[1].startswith("rejected [ca_certificate]")
    code, out = verify(leaf, "--json", "--at", "2025-06-01T00:00Z")
    assert code == 1 and json.loads(out)["rejected"]["code"] == "not_yet_valid"


def test_verify_unknown_ca(frozen_clock, leaf) -> None:  # type: ignore[no-untyped-def]
    assert verify(leaf)[1].startswith("rejected [unknown_ca]")


@pytest.mark.parametrize(
    ("content", "extra", "message"),
    [
        (b"garbage", (), "[bad_certificate]"),
        (None, (), "cannot read file"),
        (b"x", ("--at", "yesterday"), "not an ISO 8601 time"),
        (b"x", ("--at", "2026-11-01T00:00"), "timezone required"),
    ],
)
def test_verify_bad_input_exits_2(tmp_path, content, extra, message) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "in.pem"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(CommandError) as info:
        call_command("cert", "verify", str(path), *extra, stdout=StringIO())
    assert info.value.returncode == 2
    assert message in str(info.value) and "\n" not in str(info.value)


# --- CRLs -------------------------------------------------------------------------------------


def _crl_with(serial: int) -> bytes:
    """A CRL from the sm2 test intermediate revoking ``serial`` (a private copy of the CA, so the
    shared test PKI's revocation list stays empty)."""
    sub = pki.test_ca("sm2").sub
    issuer = IssuingCA(sub.family, sub.key, sub.certificate)
    issuer.revoke(serial, datetime(2026, 11, 1, tzinfo=UTC))
    return issuer.crl(
        this_update=datetime(2026, 11, 20, tzinfo=UTC),
        next_update=datetime(2026, 12, 20, tzinfo=UTC),
        number=7,
    )


def test_crl_import_revokes(frozen_clock, cas, leaf, tmp_path) -> None:  # type: ignore[no-untyped-def]
    serial = pki.entity_cert("sm2", _uscc()).certificate.serial_number
    crl_file = write(tmp_path, "sub.crl", _crl_with(serial))
    out = run("ca", "crl", "test-sm2", str(crl_file))
    assert "1 entries" in out and "number 7" in out
    code, out = verify(leaf)
    assert code == 1 and out.startswith("rejected [revoked]")
    assert verify(leaf, "--at", "2026-10-01T00:00Z")[0] == 0
    assert RevocationList.objects.get().source == "cli:sub.crl"
    assert _events("trust.crl_imported") == 1
    json_rows = json.loads(run("ca", "list", "--json"))
    assert [r["crl_updated"] for r in json_rows if r["code"] == "test-sm2"] == [
        "2026-11-20T00:00:00+00:00"
    ]


def test_crl_refusals(frozen_clock, cas, tmp_path) -> None:  # type: ignore[no-untyped-def]
    good = write(tmp_path, "sub.crl", _crl_with(12345))
    junk = write(tmp_path, "junk.crl", b"nope")
    assert "[bad_crl]" in str(refused("ca", "crl", "test-sm2", str(junk)))
    assert "[crl_unknown_issuer]" in str(refused("ca", "crl", "test-rsa", str(good)))
    assert "[ca_not_found]" in str(refused("ca", "crl", "nosuch", str(good)))
    assert "[no_crl_url]" in str(refused("ca", "crl", "test-sm2", "--fetch"))
    assert "give a CRL FILE or --fetch" in str(refused("ca", "crl", "test-sm2"))
    assert RevocationList.objects.count() == 0 and _events("trust.crl_imported") == 0


@pytest.fixture
def crl_server() -> Iterator[tuple[str, dict[str, bytes]]]:
    """An HTTP server on 127.0.0.1 serving ``files[path]`` (no internet)."""
    files: dict[str, bytes] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = files.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", files
    finally:
        server.shutdown()
        server.server_close()


def test_crl_fetch_from_the_configured_url(frozen_clock, sm2_files, leaf, crl_server) -> None:  # type: ignore[no-untyped-def]
    base, files = crl_server
    files["/sm2.crl"] = _crl_with(pki.entity_cert("sm2", _uscc()).certificate.serial_number)
    run("ca", "add", *map(str, sm2_files), "--code", "gd", "--name", "广东CA",
        "--crl-url", f"{base}/sm2.crl")  # fmt: skip
    assert verify(leaf)[0] == 0
    assert "1 entries" in run("ca", "crl", "gd", "--fetch")
    assert RevocationList.objects.get().source == f"{base}/sm2.crl"
    assert verify(leaf)[1].startswith("rejected [revoked]")
    # fetching the same CRL again is a no-op
    run("ca", "crl", "gd", "--fetch")
    assert RevocationList.objects.count() == 1 and _events("trust.crl_imported") == 1


def test_crl_fetch_unreachable(frozen_clock, sm2_files) -> None:  # type: ignore[no-untyped-def]
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    run("ca", "add", *map(str, sm2_files), "--code", "gd", "--name", "广东CA",
        "--crl-url", f"http://127.0.0.1:{port}/x.crl")  # fmt: skip
    assert str(refused("ca", "crl", "gd", "--fetch")).startswith("[crl_unreachable] ")
    assert RevocationList.objects.count() == 0


def test_crl_refresh_fetches_every_configured_ca_and_reports_failures(
    frozen_clock, sm2_files, leaf, crl_server
) -> None:  # type: ignore[no-untyped-def]
    base, files = crl_server
    files["/sm2.crl"] = _crl_with(pki.entity_cert("sm2", _uscc()).certificate.serial_number)
    run("ca", "add", *map(str, sm2_files), "--code", "gd", "--name", "广东CA",
        "--crl-url", f"{base}/sm2.crl")  # fmt: skip
    pki.onboard("rsa")  # no CRL address: skipped
    out = run("ca", "crl-refresh")
    assert out.startswith("gd: CRL ") and "1 entries" in out and "test-rsa" not in out
    assert verify(leaf)[1].startswith("rejected [revoked]")
    del files["/sm2.crl"]  # the CA's server now answers 404
    assert "[crl_refresh_failed] gd" in str(refused("ca", "crl-refresh"))
