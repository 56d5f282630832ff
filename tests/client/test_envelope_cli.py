"""``ggzy-client seal | unwrap | inspect | open`` through ``ggzy_client.cli.main``."""

from __future__ import annotations

import importlib.util
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

from ggzy_client import cli, keys
from tests.client import pki
from tests.client.test_envelope import flip_byte

OWN = ("ggzy_client.commands.envelope",)
MARKER = b"MARKER-TOUBIAO-CLI-41d2"


@pytest.fixture(autouse=True)
def _only_envelope_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "COMMAND_MODULES", OWN)


@pytest.fixture(scope="module")
def bidder(tmp_path_factory: pytest.TempPathFactory) -> pki.Holder:
    d = tmp_path_factory.mktemp("cli-pki")
    return pki.issue(pki.make_ca("sm2", d), "sm2", "bidder01", d)


@pytest.fixture
def bid(tmp_path: Path) -> Path:
    f = tmp_path / "商务标.txt"
    f.write_bytes(b"price 1,234,567.00 " + MARKER)
    return f


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _seal(capsys: pytest.CaptureFixture[str], bidder: pki.Holder, bid: Path, out: Path) -> str:
    code, stdout, _ = run(
        capsys, "seal", str(bid), "--section", "S-01", "--key", str(bidder.key_path),
        "--out", str(out),
    )  # fmt: skip
    assert code == 0
    lines = dict(line.split(": ", 1) for line in stdout.strip().splitlines())
    assert lines["envelope"] == str(out)
    assert len(lines["envelope id"]) == 32 and len(lines["manifest digest (sm3)"]) == 64
    return lines["envelope id"]


def test_seal_inspect_unwrap_open(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bidder: pki.Holder, bid: Path
) -> None:
    env = tmp_path / "bid.zip"
    envelope_id = _seal(capsys, bidder, bid, env)
    assert MARKER not in env.read_bytes()

    code, out, _ = run(capsys, "inspect", str(env))
    assert code == 0 and "verification: ok" in out and envelope_id in out
    code, out, _ = run(capsys, "inspect", str(env), "--json")
    report = json.loads(out)
    assert report["verification"] == {"ok": True}
    assert report["manifest"]["files"][0]["name"] == bid.name

    code, out, _ = run(capsys, "unwrap", str(env), "--key", str(bidder.key_path))
    key_hex = out.strip()
    assert code == 0 and len(bytes.fromhex(key_hex)) == 16

    code, out, _ = run(
        capsys, "open", str(env), "--content-key", key_hex, "--out", str(tmp_path / "o")
    )
    assert code == 0 and out.startswith(f"ok {bid.name}")
    assert (tmp_path / "o" / bid.name).read_bytes() == bid.read_bytes()
    code, out, _ = run(capsys, "open", str(env), "--key", str(bidder.key_path))
    assert code == 0 and "nothing written" in out

    key_file = tmp_path / "content.key"
    code, _, _ = run(
        capsys, "unwrap", str(env), "--key", str(bidder.key_path), "--out", str(key_file)
    )
    assert code == 0 and key_file.read_text().strip() == key_hex
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_errors_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bidder: pki.Holder, bid: Path
) -> None:
    env = tmp_path / "bid.zip"
    _seal(capsys, bidder, bid, env)
    cases = [
        (("inspect", str(bid)), "not_zip"),
        (("open", str(env), "--content-key", "00" * 16), "wrong_content_key"),
        (("open", str(env), "--content-key", "zz"), "bad_content_key"),
        (("open", str(env)), "usage"),
        (("seal", str(tmp_path / "missing"), "--section", "S", "--key", str(bidder.key_path)),
         "no_such_file"),
        (("seal", str(bid), "--section", "S", "--key", str(bid)), "bad_keystore"),
    ]  # fmt: skip
    other = tmp_path / "other"
    other.mkdir()
    ca = pki.make_ca("rsa", other)
    stranger = pki.issue(ca, "rsa", "stranger", other)
    cases.append((("unwrap", str(env), "--key", str(stranger.key_path)), "unwrap_failed"))
    for argv, code in cases:
        status, _, err = run(capsys, *argv)
        assert status == 2, argv
        assert err.startswith(f"error [{code}]: ") and err.count("\n") == 1, err
        assert "Traceback" not in err


def test_inspect_reports_failed_verification(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bidder: pki.Holder, bid: Path
) -> None:
    env = tmp_path / "bid.zip"
    _seal(capsys, bidder, bid, env)
    flip_byte(env, "payload/0000.bin", 3)
    code, out, _ = run(capsys, "inspect", str(env), "--json")
    assert code == 1
    assert json.loads(out)["verification"]["code"] == "digest_mismatch"


def test_pkcs12_with_password_file_and_enc_cert(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bid: Path
) -> None:
    ca = pki.make_ca("ecdsa", tmp_path)
    signer = pki.issue(ca, "ecdsa", "signer", tmp_path)
    enc = pki.issue(ca, "ecdsa", "encryption", tmp_path, key_usage=("keyAgreement",))
    ks = signer.keystore()
    p12 = tmp_path / "keystore.p12"
    p12.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"bidder", ks.key.key, ks.certificate, [ca.cert], BestAvailableEncryption(b"Demo-2026")
        )
    )
    pw = tmp_path / "pw.txt"
    pw.write_text("Demo-2026\n")
    env = tmp_path / "bid.zip"
    code, out, err = run(
        capsys, "seal", str(bid), "--section", "S-02", "--key", str(p12), "--password-file",
        str(pw), "--enc-cert", str(enc.cert_path), "--cipher", "aes-256-gcm", "--out", str(env),
    )  # fmt: skip
    assert code == 0, err
    code, out, err = run(capsys, "open", str(env), "--key", str(p12), "--password", "Demo-2026")
    assert code == 2 and err.startswith("error [unwrap_failed]")
    code, out, err = run(capsys, "unwrap", str(env), "--enc-key", str(enc.key_path))
    assert code == 0 and len(bytes.fromhex(out.strip())) == 32
    code, out, err = run(capsys, "open", str(env), "--enc-key", str(enc.key_path))
    assert code == 0, err
    assert keys.certificate_public_key(enc.cert).family == "ecdsa"


def test_through_python_m(tmp_path: Path, bidder: pki.Holder, bid: Path) -> None:
    """Once as a real process: ``python -m ggzy_client.cli`` (with only our command module when
    the other command modules are not there yet)."""
    complete = all(importlib.util.find_spec(m) is not None for m in cli.COMMAND_MODULES)
    all_there = complete and all(
        importlib.util.find_spec(m) is not None
        for m in ("ggzy_client.commands.sign", "ggzy_client.commands.remote")
    )
    prefix = (
        [sys.executable, "-m", "ggzy_client.cli"]
        if all_there
        else [sys.executable, "-c", "import sys, ggzy_client.cli as c; "
              f"c.COMMAND_MODULES = {OWN!r}; sys.exit(c.main())"]
    )  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    out = tmp_path / "p.zip"
    proc = subprocess.run(
        [*prefix, "seal", str(bid), "--section", "S-03", "--key", str(bidder.key_path),
         "--out", str(out)],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run([*prefix, "inspect", str(bid)], capture_output=True, text=True, env=env)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error [not_zip]: ") and "Traceback" not in proc.stderr
