"""The sealed bid envelope: round trips for every family × cipher and every refusal, by code."""

from __future__ import annotations

import json
import shutil
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ggzy_client import envelope as E
from ggzy_client import fingerprint, keys
from ggzy_client.envelope_format import canonical_json
from tests.client import pki

MARKER = b"MARKER-ZHAOBIAO-7f3a9c"
FAMILIES = ("sm2", "ecdsa", "rsa")


@pytest.fixture(scope="session")
def holders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pki.Holder]:
    """Two certificate holders per family (bidder01, bidder02), CA-issued."""
    d = tmp_path_factory.mktemp("pki")
    out: dict[str, pki.Holder] = {}
    for family in FAMILIES:
        ca = pki.make_ca(family, d)
        out[family] = pki.issue(ca, family, f"bidder01-{family}", d)
        out[family + "-2"] = pki.issue(ca, family, f"bidder02-{family}", d)
    return out


@pytest.fixture
def bid(tmp_path: Path) -> list[Path]:
    d = tmp_path / "bid"
    d.mkdir()
    (d / "技术标.txt").write_bytes(b"technical " + MARKER + b" " * 3000)
    (d / "empty.pdf").write_bytes(b"")
    return [d / "技术标.txt", d / "empty.pdf"]


def _seal(tmp_path: Path, holder: pki.Holder, files: list[Path], **kw: Any) -> E.SealResult:
    out = tmp_path / kw.pop("name", "bid.envelope.zip")
    return E.seal(files=files, section="S-001", keystore=holder.keystore(), out=out, **kw)


def _code(exc: pytest.ExceptionInfo[E.EnvelopeError]) -> str:
    return exc.value.code


# --- rewriting envelopes ------------------------------------------------------------------------


def rewrite(
    src: Path,
    dst: Path,
    *,
    replace: dict[str, bytes] | None = None,
    drop: tuple[str, ...] = (),
    extra: tuple[tuple[str, bytes], ...] = (),
) -> Path:
    replace = replace or {}
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            if info.filename not in drop:
                zout.writestr(info.filename, replace.get(info.filename, zin.read(info.filename)))
        for name, data in extra:
            zout.writestr(name, data)
    return dst


def resign(
    src: Path, dst: Path, signer: keys.PrivateKey, mutate: Callable[[dict[str, Any]], None]
) -> Path:
    with zipfile.ZipFile(src) as z:
        manifest = json.loads(z.read("manifest.json"))
    mutate(manifest)
    body = canonical_json(manifest)
    return rewrite(src, dst, replace={"manifest.json": body, "manifest.sig": signer.sign(body)})


def flip_byte(path: Path, member: str, at: int = 0) -> None:
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(member)
    with open(path, "r+b") as fh:
        fh.seek(info.header_offset + 26)
        name_len, extra_len = struct.unpack("<HH", fh.read(4))
        pos = info.header_offset + 30 + name_len + extra_len + at
        fh.seek(pos)
        b = fh.read(1)
        fh.seek(pos)
        fh.write(bytes([b[0] ^ 0x01]))


# --- round trips --------------------------------------------------------------------------------


@pytest.mark.parametrize("cipher", E.CIPHERS)
@pytest.mark.parametrize("family", FAMILIES)
def test_round_trip(
    tmp_path: Path, holders: dict[str, pki.Holder], bid: list[Path], family: str, cipher: str
) -> None:
    holder = holders[family]
    chunk = 1024
    exact, plus1 = tmp_path / "bid" / "exact.bin", tmp_path / "bid" / "plus1.bin"
    exact.write_bytes(MARKER * (chunk // len(MARKER)) + b"x" * (chunk % len(MARKER)))
    plus1.write_bytes(exact.read_bytes() + b"!")
    files = [*bid, exact, plus1]
    result = _seal(tmp_path, holder, files, cipher=cipher, chunk_size=chunk)

    assert MARKER not in result.path.read_bytes()
    env = E.verify_envelope(result.path)
    assert env.envelope_id == result.envelope_id
    assert env.manifest_digest == result.manifest_digest
    assert [f["chunks"] for f in env.files] == [3, 1, 1, 2]
    key = E.unwrap_content_key(result.path, holder.keystore())
    assert len(key) == {"sm4-gcm": 16, "aes-256-gcm": 32}[cipher]
    opened = E.open_envelope(result.path, key, tmp_path / "out")
    assert [o.name for o in opened] == [f.name for f in files]
    for o, f in zip(opened, files, strict=True):
        assert o.path is not None
        assert o.path.read_bytes() == f.read_bytes()
        assert o.size == f.stat().st_size
        assert o.plaintext_digest == keys.digest(env.manifest["digest_alg"], f.read_bytes()).hex()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(f.name for f in files)


def test_manifest(tmp_path: Path, holders: dict[str, pki.Holder], bid: list[Path]) -> None:
    holder = holders["ecdsa"]
    result = _seal(tmp_path, holder, bid, cipher="aes-256-gcm")
    env = E.read_envelope(result.path)
    m = env.manifest
    assert env.manifest_bytes == canonical_json(m)
    assert m["format"] == "ggzy-envelope/1" and m["section"] == "S-001"
    assert (m["cipher"], m["digest_alg"], m["chunk_size"]) == ("aes-256-gcm", "sha256", 1 << 20)
    assert m["tool"] == {
        "name": "ggzy-client",
        "version": E.__dict__["seal"].__module__ and "0.1.0",
    }
    assert m["created_at"].endswith("Z")
    fp = keys.certificate_public_key(holder.cert).fingerprint()
    assert m["signer"] == {"fingerprint": fp}
    assert m["key_wrap"]["recipient_fingerprint"] == fp and m["key_wrap"]["family"] == "ecdsa"
    assert m["files"][0]["name"] == "技术标.txt" and m["files"][1]["size"] == 0
    assert m["files"][1]["part"] == "payload/0001.bin"
    assert m["machine"]["tool_version"] == "0.1.0"
    assert env.signer_cert == holder.cert and len(env.signer_certs) == 2  # leaf + CA
    assert env.recipient_cert == holder.cert
    with zipfile.ZipFile(result.path) as z:
        assert z.read("format") == b"ggzy-envelope/1"
        assert all(i.compress_type == zipfile.ZIP_STORED for i in z.infolist())
    assert "content_key" not in result.__dataclass_fields__


def test_digest_override_and_verify_only(
    tmp_path: Path, holders: dict[str, pki.Holder], bid: list[Path]
) -> None:
    holder = holders["rsa"]
    result = _seal(tmp_path, holder, bid, cipher="sm4-gcm", digest_alg="sha256")
    assert result.manifest["digest_alg"] == "sha256"
    opened = E.open_envelope(result.path, E.unwrap_content_key(result.path, holder.keystore()))
    assert [o.path for o in opened] == [None, None]
    assert opened[1].plaintext_digest == keys.digest("sha256", b"").hex()


def test_default_chunk_boundaries(tmp_path: Path, holders: dict[str, pki.Holder]) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(b"\x5a" * ((1 << 20) + 1))
    holder = holders["ecdsa"]
    result = _seal(tmp_path, holder, [big], cipher="aes-256-gcm")
    assert result.manifest["files"][0]["chunks"] == 2
    key = E.unwrap_content_key(result.path, holder.keystore())
    out = E.open_envelope(result.path, key, tmp_path / "o")
    assert out[0].path is not None and out[0].path.read_bytes() == big.read_bytes()


def test_separate_encryption_certificate(
    tmp_path: Path, holders: dict[str, pki.Holder], bid: list[Path]
) -> None:
    signer, enc = holders["sm2"], holders["sm2-2"]
    result = _seal(tmp_path, signer, bid, recipient=enc.cert)
    env = E.verify_envelope(result.path)
    assert env.recipient_cert == enc.cert and env.signer_cert == signer.cert
    with pytest.raises(E.EnvelopeError) as exc:
        E.unwrap_content_key(result.path, signer.keystore())
    assert _code(exc) == "unwrap_failed"
    key = E.unwrap_content_key(result.path, enc.keystore())
    assert E.open_envelope(result.path, key)[0].size == bid[0].stat().st_size


# --- refusals at seal time ----------------------------------------------------------------------


def test_seal_refusals(tmp_path: Path, holders: dict[str, pki.Holder], bid: list[Path]) -> None:
    holder = holders["ecdsa"]
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(bid[0], other / bid[0].name)
    cases = [
        ({"files": [bid[0], other / bid[0].name]}, "bad_file_name"),
        ({"files": [bid[1], tmp_path / "EMPTY.PDF"]}, "bad_file_name"),
        ({"files": [tmp_path / "nope"]}, "no_such_file"),
        ({"files": []}, "no_files"),
        ({"cipher": "des"}, "bad_cipher"),
        ({"digest_alg": "md5"}, "bad_digest"),
        ({"chunk_size": 10}, "bad_chunk_size"),
        ({"section": " "}, "bad_section"),
    ]
    (tmp_path / "EMPTY.PDF").write_bytes(b"")
    for kwargs, code in cases:
        args: dict[str, Any] = {"files": bid, **kwargs}
        with pytest.raises(E.EnvelopeError) as exc:
            E.seal(section=args.pop("section", "S"), keystore=holder.keystore(),
                   out=tmp_path / "x.zip", **args)  # fmt: skip
        assert _code(exc) == code, kwargs
    assert not (tmp_path / "x.zip").exists()
    assert not list(tmp_path.glob(".*.tmp"))


def test_seal_key_usage(tmp_path: Path, holders: dict[str, pki.Holder], bid: list[Path]) -> None:
    ca = pki.make_ca("rsa", tmp_path)
    sign_only = pki.issue(ca, "rsa", "sign-only", tmp_path, key_usage=("digitalSignature",))
    with pytest.raises(E.EnvelopeError) as exc:
        _seal(tmp_path, sign_only, bid)
    assert _code(exc) == "recipient_not_for_encryption"
    enc_only = pki.issue(ca, "rsa", "enc-only", tmp_path, key_usage=("keyEncipherment",))
    with pytest.raises(E.EnvelopeError) as exc:
        _seal(tmp_path, enc_only, bid)
    assert _code(exc) == "signer_not_for_signing"
    result = _seal(tmp_path, sign_only, bid, recipient=enc_only.cert)
    assert E.verify_envelope(result.path).recipient_cert == enc_only.cert
    bare = keys.Keystore(sign_only.keystore().key, None)
    with pytest.raises(E.EnvelopeError) as exc:
        E.seal(files=bid, section="S", keystore=bare, out=tmp_path / "y.zip")
    assert _code(exc) == "no_certificate"


# --- refusals when reading / verifying ----------------------------------------------------------


@pytest.fixture
def sealed(tmp_path: Path, holders: dict[str, pki.Holder], bid: list[Path]) -> E.SealResult:
    return _seal(tmp_path, holders["sm2"], bid, chunk_size=1024)


def _verify_code(path: Path) -> str:
    with pytest.raises(E.EnvelopeError) as exc:
        E.verify_envelope(path)
    return _code(exc)


def test_not_zip_and_truncated(tmp_path: Path, sealed: E.SealResult) -> None:
    (tmp_path / "plain.pdf").write_bytes(b"%PDF-1.7 " + MARKER)
    assert _verify_code(tmp_path / "plain.pdf") == "not_zip"
    (tmp_path / "empty").write_bytes(b"")
    assert _verify_code(tmp_path / "empty") == "not_zip"
    data = sealed.path.read_bytes()
    for cut in (len(data) - 30, len(data) // 2, 10):
        (tmp_path / "cut.zip").write_bytes(data[:cut])
        assert _verify_code(tmp_path / "cut.zip") == "truncated", cut


def test_bad_crc(tmp_path: Path, sealed: E.SealResult) -> None:
    flip_byte(sealed.path, "format", 3)
    assert _verify_code(sealed.path) == "truncated"


def test_manifest_swapped(tmp_path: Path, holders: dict[str, pki.Holder], bid: list[Path]) -> None:
    holder = holders["ecdsa"]
    a = _seal(tmp_path, holder, bid, name="a.zip")
    b = _seal(tmp_path, holder, bid, name="b.zip")
    with zipfile.ZipFile(b.path) as z:
        swap = {n: z.read(n) for n in ("manifest.json", "manifest.sig")}
    forged = rewrite(a.path, tmp_path / "forged.zip", replace=swap)
    assert _verify_code(forged) == "manifest_mismatch"
    key = E.unwrap_content_key(a.path, holder.keystore())
    with pytest.raises(E.EnvelopeError) as exc:
        E.open_envelope(forged, key)
    assert _code(exc) == "manifest_mismatch"
    # the whole key material moved along: the envelope id in every chunk's AAD still refuses
    with zipfile.ZipFile(b.path) as z:
        swap.update({n: z.read(n) for n in ("key.wrapped", "recipient.pem")})
    forged2 = rewrite(a.path, tmp_path / "forged2.zip", replace=swap)
    assert _verify_code(forged2) == "digest_mismatch"


def test_payload_altered(
    tmp_path: Path, holders: dict[str, pki.Holder], sealed: E.SealResult
) -> None:
    key = E.unwrap_content_key(sealed.path, holders["sm2"].keystore())
    flip_byte(sealed.path, "payload/0000.bin", 2000)
    assert _verify_code(sealed.path) == "digest_mismatch"
    with pytest.raises(E.EnvelopeError) as exc:
        E.open_envelope(sealed.path, key, tmp_path / "out")
    assert _code(exc) == "payload_altered"
    assert list((tmp_path / "out").iterdir()) == []


def test_failure_leaves_no_plaintext(
    tmp_path: Path, holders: dict[str, pki.Holder], bid: list[Path]
) -> None:
    holder = holders["ecdsa"]
    result = _seal(tmp_path, holder, [bid[1], bid[0]], chunk_size=1024)  # 2nd file fails
    key = E.unwrap_content_key(result.path, holder.keystore())
    flip_byte(result.path, "payload/0001.bin", 5)
    with pytest.raises(E.EnvelopeError) as exc:
        E.open_envelope(result.path, key, tmp_path / "out")
    assert _code(exc) == "payload_altered"
    assert list((tmp_path / "out").iterdir()) == []


def test_chunks_reordered(tmp_path: Path, holders: dict[str, pki.Holder]) -> None:
    """Swapping two whole chunks (digests fixed up and re-signed by the bidder) still fails."""
    holder = holders["ecdsa"]
    four = tmp_path / "four.bin"
    four.write_bytes(bytes(range(256)) * 16 + b"tail")  # 4 full chunks of 1024 + 4 bytes
    result = _seal(tmp_path, holder, [four], chunk_size=1024)
    key = E.unwrap_content_key(result.path, holder.keystore())
    with zipfile.ZipFile(result.path) as z:
        part = z.read("payload/0000.bin")
    n = 1024 + 16
    swapped = part[:n] + part[2 * n : 3 * n] + part[n : 2 * n] + part[3 * n :]
    moved = rewrite(result.path, tmp_path / "moved.zip", replace={"payload/0000.bin": swapped})

    def fix(m: dict[str, Any]) -> None:
        m["files"][0]["ciphertext_digest"] = keys.digest(m["digest_alg"], swapped).hex()

    forged = resign(moved, tmp_path / "forged.zip", holder.keystore().key, fix)
    E.verify_envelope(forged)  # consistent and signed: only the AAD/nonce binding catches it
    with pytest.raises(E.EnvelopeError) as exc:
        E.open_envelope(forged, key)
    assert _code(exc) == "payload_altered"
    dropped = part[: 4 * n] + part[5 * n :]  # the final chunk dropped: truncation
    assert len(dropped) == 4 * n

    def fix2(m: dict[str, Any]) -> None:
        m["files"][0].update(
            size=4096, chunks=4, ciphertext_digest=keys.digest(m["digest_alg"], dropped).hex()
        )

    cut = rewrite(result.path, tmp_path / "cut.zip", replace={"payload/0000.bin": dropped})
    forged = resign(cut, tmp_path / "forged2.zip", holder.keystore().key, fix2)
    E.verify_envelope(forged)
    with pytest.raises(E.EnvelopeError) as exc:
        E.open_envelope(forged, key)
    assert _code(exc) == "payload_altered"  # chunk 3 was sealed as non-final


def test_wrong_content_key(
    tmp_path: Path, holders: dict[str, pki.Holder], sealed: E.SealResult
) -> None:
    with pytest.raises(E.EnvelopeError) as exc:
        E.open_envelope(sealed.path, bytes(16), tmp_path / "out")
    assert _code(exc) == "wrong_content_key"
    assert list((tmp_path / "out").iterdir()) == []
    with pytest.raises(E.EnvelopeError) as exc:
        E.open_envelope(sealed.path, bytes(32))
    assert _code(exc) == "bad_content_key"


def test_unwrap_with_another_key(
    tmp_path: Path, holders: dict[str, pki.Holder], sealed: E.SealResult
) -> None:
    for other in ("sm2-2", "rsa"):
        with pytest.raises(E.EnvelopeError) as exc:
            E.unwrap_content_key(sealed.path, holders[other].keystore())
        assert _code(exc) == "unwrap_failed"
    # right recipient, damaged wrapped key
    with zipfile.ZipFile(sealed.path) as z:
        wrapped = bytearray(z.read("key.wrapped"))
    wrapped[-5] ^= 1
    bad = rewrite(sealed.path, tmp_path / "w.zip", replace={"key.wrapped": bytes(wrapped)})
    with pytest.raises(E.EnvelopeError) as exc:
        E.unwrap_content_key(bad, holders["sm2"].keystore())
    assert _code(exc) == "unwrap_failed"
    assert _verify_code(bad) == "manifest_mismatch"


def test_signature_by_another_key(
    tmp_path: Path, holders: dict[str, pki.Holder], sealed: E.SealResult
) -> None:
    forged = resign(
        sealed.path, tmp_path / "f.zip", holders["sm2-2"].keystore().key, lambda m: None
    )
    assert _verify_code(forged) == "signature_invalid"
    forged = resign(sealed.path, tmp_path / "g.zip", holders["sm2"].keystore().key,
                    lambda m: m.update(section="S-999"))  # fmt: skip
    assert E.verify_envelope(forged).manifest["section"] == "S-999"  # the bidder's own re-sign
    with zipfile.ZipFile(sealed.path) as z:
        body = z.read("manifest.json")
    altered = rewrite(sealed.path, tmp_path / "h.zip",
                      replace={"manifest.json": body.replace(b"S-001", b"S-002")})  # fmt: skip
    assert _verify_code(altered) == "signature_invalid"


def test_plaintext_mismatch(
    tmp_path: Path, holders: dict[str, pki.Holder], sealed: E.SealResult
) -> None:
    key = holders["sm2"].keystore().key

    def lie(m: dict[str, Any]) -> None:
        m["files"][0]["plaintext_digest"] = "0" * 64

    forged = resign(sealed.path, tmp_path / "p.zip", key, lie)
    E.verify_envelope(forged)
    content_key = E.unwrap_content_key(forged, holders["sm2"].keystore())
    with pytest.raises(E.EnvelopeError) as exc:
        E.open_envelope(forged, content_key, tmp_path / "out")
    assert _code(exc) == "plaintext_mismatch"
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda m: m["files"][0].update(name="../../etc/passwd"), "manifest_invalid"),
        (lambda m: m["files"][0].update(name="a/b.txt"), "manifest_invalid"),
        (lambda m: m["files"][0].update(name="a\x00b"), "manifest_invalid"),
        (lambda m: m["files"][1].update(name=m["files"][0]["name"]), "manifest_invalid"),
        (lambda m: m["files"][0].update(name="x" * 256), "manifest_invalid"),
        (lambda m: m["files"][0].update(chunks=99), "manifest_invalid"),
        (lambda m: m.update(extra=1), "manifest_invalid"),
        (lambda m: m.pop("machine"), "manifest_invalid"),
        (lambda m: m.update(cipher="rc4"), "manifest_invalid"),
        (lambda m: m["files"][0].update(size=5), "manifest_invalid"),  # chunks no longer match
        (lambda m: m["files"][1].update(size=1), "digest_mismatch"),  # part size differs
        (lambda m: m["files"].pop(), "manifest_mismatch"),  # a part nobody lists
    ],
)
def test_manifest_schema(
    tmp_path: Path,
    holders: dict[str, pki.Holder],
    sealed: E.SealResult,
    mutate: Callable[[dict[str, Any]], None],
    code: str,
) -> None:
    forged = resign(sealed.path, tmp_path / "m.zip", holders["sm2"].keystore().key, mutate)
    assert _verify_code(forged) == code


def test_manifest_not_canonical_or_not_json(
    tmp_path: Path, holders: dict[str, pki.Holder], sealed: E.SealResult
) -> None:
    key = holders["sm2"].keystore().key
    with zipfile.ZipFile(sealed.path) as z:
        m = json.loads(z.read("manifest.json"))
    for body in (json.dumps(m, indent=1).encode(), b"{not json", b"[]", b"\xff\xfe"):
        bad = rewrite(sealed.path, tmp_path / "c.zip",
                      replace={"manifest.json": body, "manifest.sig": key.sign(body)})  # fmt: skip
        assert _verify_code(bad) == "manifest_invalid", body[:10]


@pytest.mark.parametrize(
    "change",
    [
        {"extra": (("notes.txt", b"hi"),)},
        {"extra": (("../evil.sh", b"rm -rf /"),)},
        {"extra": (("payload/../../x.bin", b""),)},
        {"extra": (("/abs", b""),)},
        {"drop": ("manifest.sig",)},
        {"drop": ("recipient.pem",)},
        {"replace": {"format": b"ggzy-envelope/2"}},
    ],
)
def test_bad_members(tmp_path: Path, sealed: E.SealResult, change: dict[str, Any]) -> None:
    assert _verify_code(rewrite(sealed.path, tmp_path / "b.zip", **change)) == "bad_format"


def test_duplicate_and_compressed_members(tmp_path: Path, sealed: E.SealResult) -> None:
    dup = tmp_path / "dup.zip"
    shutil.copy(sealed.path, dup)
    with pytest.warns(UserWarning), zipfile.ZipFile(dup, "a") as z:
        z.writestr("format", b"ggzy-envelope/1")
    assert _verify_code(dup) == "bad_format"
    deflated = tmp_path / "deflated.zip"
    with zipfile.ZipFile(sealed.path) as zin, zipfile.ZipFile(deflated, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info.filename), zipfile.ZIP_DEFLATED)
    assert _verify_code(deflated) == "bad_format"


def test_too_many_members(tmp_path: Path, sealed: E.SealResult) -> None:
    many = tuple((f"payload/{i:04d}.bin", b"") for i in range(2, 10_000))  # 10,006 members
    big = rewrite(sealed.path, tmp_path / "many.zip", extra=many)
    assert _verify_code(big) == "bad_format"


def test_bad_certificates(tmp_path: Path, sealed: E.SealResult) -> None:
    for member, body in (("signer.pem", b"junk"), ("recipient.pem", b"")):
        bad = rewrite(sealed.path, tmp_path / "c.zip", replace={member: body})
        assert _verify_code(bad) == "bad_certificate"


# --- machine fingerprint ------------------------------------------------------------------------


def test_fingerprint() -> None:
    fp = fingerprint.collect()
    assert fp["tool_version"] == "0.1.0"
    assert all(isinstance(v, str | list) for v in fp.values())
    assert all(not fingerprint.is_placeholder(m) for m in fp.get("macs", []))
    for placeholder in (
        "", "  ", "None", "To be filled by O.E.M.", "Default string", "0123456789",
        "00:00:00:00:00:00", "ffffffff-ffff-ffff-ffff-ffffffffffff", "0000000000000000",
        "00000000-0000-0000-0000-000000000000", "System Serial Number", None,
    ):  # fmt: skip
        assert fingerprint.is_placeholder(placeholder), placeholder
    for real in ("3d1219c7c4c5404aaa1f6d2a48adfda4", "16:f8:4b:3b:7a:6b", "WD-WCC4N1234567"):
        assert not fingerprint.is_placeholder(real)


def test_fingerprint_never_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom() -> None:
        raise RuntimeError("no /sys here")

    monkeypatch.setattr(fingerprint, "macs", boom)
    monkeypatch.setattr(fingerprint, "machine_id", boom)
    fp = fingerprint.collect()
    assert "macs" not in fp and "machine_id" not in fp and fp["tool_version"]


def test_overlapping_members_are_refused() -> None:
    """Entries that share bytes (a "quoted overlap" archive) would make the verifier hash the
    same data again and again: the layout check refuses them."""
    import types
    import zipfile

    from ggzy_client.envelope_format import EnvelopeError, _check_layout

    def member(name: str, offset: int, size: int) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name)
        info.header_offset, info.compress_size = offset, size
        return info

    a = member("payload/0000.bin", 0, 1000)
    b = member("payload/0001.bin", 30 + 16 + 1000, 500)
    _check_layout(types.SimpleNamespace(start_dir=2000), [a, b])  # type: ignore[arg-type]
    overlapping = member("payload/0001.bin", 100, 500)
    with pytest.raises(EnvelopeError) as info:
        _check_layout(types.SimpleNamespace(start_dir=2000), [a, overlapping])  # type: ignore[arg-type]
    assert info.value.code == "bad_format"
    with pytest.raises(EnvelopeError):
        _check_layout(types.SimpleNamespace(start_dir=1200), [a, b])  # type: ignore[arg-type]
