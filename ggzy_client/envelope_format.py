"""The sealed-bid envelope's container rules: member names, the manifest schema, canonical JSON
and safe reading of the ZIP file. No keys here; :mod:`ggzy_client.envelope` builds on it.

See docs/envelope.md for the format byte for byte.
"""

from __future__ import annotations

import json
import re
import struct
import zipfile
from collections.abc import Iterator
from typing import IO, Any

from ggzy_client.keys import FAMILIES

FORMAT = "ggzy-envelope/1"
TOOL_NAME = "ggzy-client"
M_FORMAT, M_MANIFEST, M_SIG = "format", "manifest.json", "manifest.sig"
M_SIGNER, M_RECIPIENT, M_WRAPPED = "signer.pem", "recipient.pem", "key.wrapped"
FIXED_MEMBERS = (M_FORMAT, M_MANIFEST, M_SIG, M_SIGNER, M_RECIPIENT, M_WRAPPED)
PART_RE = re.compile(r"payload/[0-9]{4}\.bin")
MAX_MEMBERS = 10_000
MAX_FILES = MAX_MEMBERS - len(FIXED_MEMBERS)
MEMBER_LIMITS = {  # bytes; payload parts are unlimited (bounded by the manifest's sizes)
    M_FORMAT: 64,
    M_MANIFEST: 8 << 20,
    M_SIG: 8 << 10,
    M_SIGNER: 1 << 20,
    M_RECIPIENT: 256 << 10,
    M_WRAPPED: 8 << 10,
}
CIPHERS = ("sm4-gcm", "aes-256-gcm")
DIGESTS = ("sm3", "sha256")
MIN_CHUNK, MAX_CHUNK = 64, 16 << 20
TAG_SIZE = 16
_HEX64 = re.compile(r"[0-9a-f]{64}")
_ID = re.compile(r"[0-9a-f]{32}")
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TOP = {
    "format", "envelope_id", "section", "created_at", "tool", "cipher", "chunk_size",
    "digest_alg", "files", "key_wrap", "signer", "machine",
}  # fmt: skip
_FILE = {"index", "name", "size", "plaintext_digest", "ciphertext_digest", "part", "chunks"}


class EnvelopeError(ValueError):
    """A refusal about an envelope; ``code`` names it (docs/envelope.md has the table)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def canonical_json(obj: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8 (not ASCII-escaped)."""
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def part_name(index: int) -> str:
    return f"payload/{index:04d}.bin"


def chunk_count(size: int, chunk_size: int) -> int:
    """Chunks for ``size`` plaintext bytes: at least one (an empty file has one empty chunk)."""
    return max(1, -(-size // chunk_size))


def stored_size(size: int, chunk_size: int) -> int:
    return size + TAG_SIZE * chunk_count(size, chunk_size)


def name_problem(name: object) -> str | None:
    """Why ``name`` cannot be a file name in an envelope, or None when it can."""
    if not isinstance(name, str) or not name:
        return "empty file name"
    if "/" in name or "\\" in name:
        return f"file name {name!r} contains a path separator"
    if ".." in name or name.startswith("."):
        return f"file name {name!r} contains '..' or starts with '.'"
    if _CONTROL.search(name):
        return f"file name {name!r} contains a NUL or control character"
    if len(name.encode()) > 255:
        return "file name longer than 255 bytes (UTF-8)"
    return None


def names_problem(names: list[str]) -> str | None:
    """The first bad or duplicate (compared case-insensitively) name, or None."""
    seen: set[str] = set()
    for name in names:
        if problem := name_problem(name):
            return problem
        if name.casefold() in seen:
            return f"duplicate file name {name!r}"
        seen.add(name.casefold())
    return None


# --- the manifest -------------------------------------------------------------------------------


def parse_manifest(data: bytes) -> dict[str, Any]:
    """The manifest dict, refusing invalid JSON, a wrong schema or non-canonical bytes."""
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise EnvelopeError("manifest_invalid", "manifest.json is not valid UTF-8 JSON") from exc
    if not isinstance(manifest, dict):
        raise EnvelopeError("manifest_invalid", "manifest.json is not a JSON object")
    if problem := _schema_problem(manifest):
        raise EnvelopeError("manifest_invalid", f"manifest.json: {problem}")
    if canonical_json(manifest) != data:
        raise EnvelopeError("manifest_invalid", "manifest.json is not in canonical form")
    return manifest


def _is_int(v: Any, lo: int, hi: int) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi


def _keys_problem(obj: Any, keys: set[str], what: str) -> str | None:
    if not isinstance(obj, dict) or set(obj) != keys:
        return f"{what} must be an object with exactly {sorted(keys)}"
    return None


def _schema_problem(m: dict[str, Any]) -> str | None:
    checks = [
        (_keys_problem(m, _TOP, "the manifest"), None),
        (m.get("format") != FORMAT, f"format is not {FORMAT!r}"),
        (not _match(_ID, m.get("envelope_id")), "envelope_id is not 32 lowercase hex digits"),
        (section_problem(m.get("section")), None),
        (not _match(_TIME, m.get("created_at")), "created_at is not ISO-8601 UTC"),
        (_keys_problem(m.get("tool"), {"name", "version"}, "tool"), None),
        (m.get("cipher") not in CIPHERS, f"cipher must be one of {CIPHERS}"),
        (not _is_int(m.get("chunk_size"), MIN_CHUNK, MAX_CHUNK), "bad chunk_size"),
        (m.get("digest_alg") not in DIGESTS, f"digest_alg must be one of {DIGESTS}"),
        (_keys_problem(m.get("key_wrap"), _WRAP, "key_wrap"), None),
        (_keys_problem(m.get("signer"), {"fingerprint"}, "signer"), None),
        (not isinstance(m.get("machine"), dict), "machine must be an object"),
    ]
    for failed, message in checks:
        if failed:
            return failed if isinstance(failed, str) else message
    return _parts_problem(m)


_WRAP = {"family", "recipient_fingerprint", "wrapped_key_digest"}


def section_problem(section: object) -> str | None:
    if not isinstance(section, str) or not section.strip() or len(section) > 128:
        return "section must be a non-empty string of at most 128 characters"
    if _CONTROL.search(section):
        return "section contains a control character"
    return None


def _match(pattern: re.Pattern[str], value: Any) -> bool:
    return isinstance(value, str) and pattern.fullmatch(value) is not None


def _parts_problem(m: dict[str, Any]) -> str | None:
    tool, wrap = m["tool"], m["key_wrap"]
    if tool["name"] != TOOL_NAME or not isinstance(tool["version"], str):
        return "tool must be ggzy-client with a version string"
    if wrap["family"] not in FAMILIES:
        return f"key_wrap.family must be one of {FAMILIES}"
    hexes = [wrap["recipient_fingerprint"], wrap["wrapped_key_digest"], m["signer"]["fingerprint"]]
    if not all(_match(_HEX64, h) for h in hexes):
        return "fingerprints and digests must be 64 lowercase hex digits"
    files = m["files"]
    if not isinstance(files, list) or not 1 <= len(files) <= MAX_FILES:
        return f"files must be a list of 1 to {MAX_FILES} entries"
    for i, f in enumerate(files):
        if problem := _file_problem(i, f, m["chunk_size"]):
            return problem
    return names_problem([f["name"] for f in files])


def _file_problem(i: int, f: Any, chunk_size: int) -> str | None:
    if problem := _keys_problem(f, _FILE, f"files[{i}]"):
        return problem
    if f["index"] != i or f["part"] != part_name(i):
        return f"files[{i}] has the wrong index or part"
    if not _is_int(f["size"], 0, 1 << 50) or not isinstance(f["name"], str):
        return f"files[{i}] has a bad size or name"
    if not (_match(_HEX64, f["plaintext_digest"]) and _match(_HEX64, f["ciphertext_digest"])):
        return f"files[{i}] digests must be 64 lowercase hex digits"
    if not _is_int(f["chunks"], 1, 1 << 50) or f["chunks"] != chunk_count(f["size"], chunk_size):
        return f"files[{i}].chunks does not match its size"
    return None


# --- reading the ZIP ----------------------------------------------------------------------------


def open_zip(fp: IO[bytes]) -> zipfile.ZipFile:
    """The ZIP in ``fp``, its member list checked: ``not_zip``, ``truncated`` or ``bad_format``."""
    head = fp.read(4)
    fp.seek(0)
    if head != b"PK\x03\x04":
        raise EnvelopeError("not_zip", "not an envelope: the file is not a ZIP archive")
    try:
        zf = zipfile.ZipFile(fp)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, struct.error) as exc:
        raise EnvelopeError("truncated", "the envelope is truncated or corrupt") from exc
    _check_members(zf)
    return zf


def _check_members(zf: zipfile.ZipFile) -> None:
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise EnvelopeError("bad_format", f"more than {MAX_MEMBERS} members")
    names = [i.filename for i in infos]
    if len(set(names)) != len(names):
        raise EnvelopeError("bad_format", "duplicate ZIP member names")
    for info in infos:
        if info.filename not in FIXED_MEMBERS and not PART_RE.fullmatch(info.filename):
            raise EnvelopeError("bad_format", f"unexpected member {info.filename!r}")
        stored = info.compress_type == zipfile.ZIP_STORED and info.compress_size == info.file_size
        if not stored or info.flag_bits & 0x1:
            raise EnvelopeError("bad_format", f"member {info.filename!r} is compressed/encrypted")
        limit = MEMBER_LIMITS.get(info.filename)
        if limit is not None and info.file_size > limit:
            raise EnvelopeError("bad_format", f"member {info.filename!r} is too large")
    missing = [n for n in FIXED_MEMBERS if n not in names]
    if missing:
        raise EnvelopeError("bad_format", f"missing member(s): {', '.join(missing)}")
    _check_layout(zf, infos)


def _check_layout(zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> None:
    """Members one after another, none overlapping and all before the central directory: an
    archive whose entries share bytes would make the platform hash the same data many times."""
    ordered = sorted(infos, key=lambda i: i.header_offset)
    end_of_members = getattr(zf, "start_dir", None)
    for info, following in zip(ordered, [*ordered[1:], None], strict=True):
        end = info.header_offset + 30 + len(info.filename.encode()) + info.compress_size
        limit = following.header_offset if following is not None else end_of_members
        if limit is not None and end > limit:
            raise EnvelopeError("bad_format", f"member {info.filename!r} overlaps another")


def read_member(zf: zipfile.ZipFile, name: str) -> bytes:
    """A small member, CRC-checked (``truncated`` when the ZIP is damaged)."""
    try:
        return zf.read(name)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, struct.error) as exc:
        raise EnvelopeError("truncated", f"member {name!r} is damaged or truncated") from exc


def iter_part(fp: IO[bytes], info: zipfile.ZipInfo, piece: int) -> Iterator[bytes]:
    """The raw stored bytes of a payload part in pieces of ``piece`` bytes (the last may be
    shorter). Reads straight from the file: the cryptographic digests and tags stand in for the
    CRC, and a piece that ends early is ``truncated``."""
    fp.seek(info.header_offset)
    head = fp.read(30)
    if len(head) != 30 or head[:4] != b"PK\x03\x04":
        raise EnvelopeError("truncated", f"member {info.filename!r} has no local header")
    name_len, extra_len = struct.unpack("<HH", head[26:30])
    if fp.read(name_len) != info.filename.encode():
        raise EnvelopeError("truncated", f"member {info.filename!r}: local header mismatch")
    fp.seek(extra_len, 1)
    left = info.compress_size
    while left > 0:
        data = fp.read(min(piece, left))
        if not data:
            raise EnvelopeError("truncated", f"member {info.filename!r} is truncated")
        left -= len(data)
        yield data
