"""Raw-body uploads (sealed envelopes, tender documents, bank files): streamed to a private
temporary file with a size cap, so a large body is never held in memory and a refused or broken
upload leaves nothing behind."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

from django.http import HttpRequest

from ggzy.core.errors import DomainError, UnsupportedMediaType

STALE_SECONDS = 3600  # a spool file not written to for this long belongs to a dead process
SWEEP_EVERY = 600  # seconds between sweeps of one directory, per process
_swept: dict[str, float] = {}


def sweep_stale_spools(directory: Path, *, now: float | None = None) -> int:
    """Remove ``upload-*.part`` / ``bid-*.part`` files under ``directory`` that nobody has
    written to for :data:`STALE_SECONDS`: what a worker killed mid-upload (``kill -9``, a crash)
    leaves behind, since its own cleanup never ran. A live upload writes every chunk, so its
    modification time stays fresh. Returns how many were removed."""
    now = time.time() if now is None else now
    removed = 0
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return 0
    for entry in entries:
        name = entry.name
        if not name.endswith(".part") or not name.startswith(("upload-", "bid-")):
            continue
        try:
            if now - entry.stat().st_mtime > STALE_SECONDS:
                os.unlink(entry.path)
                removed += 1
        except FileNotFoundError:  # another worker swept it
            continue
    return removed


def _maybe_sweep(directory: Path) -> None:
    key, now = str(directory), time.monotonic()
    if now - _swept.get(key, -SWEEP_EVERY) >= SWEEP_EVERY:
        _swept[key] = now
        sweep_stale_spools(directory)


class PayloadTooLarge(DomainError):
    status = 413
    code = "payload_too_large"


def check_type(request: HttpRequest, accepted: Iterable[str], message: str) -> None:
    accepted = tuple(accepted)
    if request.content_type not in accepted:
        raise UnsupportedMediaType(
            message, detail={"content_type": request.content_type, "accepted": list(accepted)}
        )


def spool_body(
    request: HttpRequest, *, accepted: Iterable[str], limit: int, directory: Path, what: str
) -> Path:
    """The request body in a temporary file under ``directory`` (the caller unlinks it).
    ``what`` names the upload in messages, e.g. "加密投标文件 (envelope)"."""
    check_type(request, accepted, f"{what}的内容类型不被接受 (content type not accepted)")
    declared = request.headers.get("Content-Length") or "0"
    too_large = PayloadTooLarge(f"{what}过大 (too large)", detail={"max_bytes": limit})
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    _maybe_sweep(directory)
    size = 0
    with tempfile.NamedTemporaryFile(
        dir=directory, prefix="upload-", suffix=".part", delete=False
    ) as handle:
        try:
            while chunk := request.read(1 << 20):
                size += len(chunk)
                if size > limit:
                    raise too_large
                handle.write(chunk)
        except BaseException:  # too large, a client gone away, a full disk: keep nothing
            Path(handle.name).unlink(missing_ok=True)
            raise
    return Path(handle.name)


def read_body(request: HttpRequest, *, accepted: Iterable[str], limit: int, what: str) -> bytes:
    """A small body (a CSV file) read whole, after the type and size checks."""
    check_type(request, accepted, f"{what}的内容类型不被接受 (content type not accepted)")
    declared = request.headers.get("Content-Length") or "0"
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"{what}过大 (too large)", detail={"max_bytes": limit})
    body = request.body
    if len(body) > limit:
        raise PayloadTooLarge(f"{what}过大 (too large)", detail={"max_bytes": limit})
    return body
