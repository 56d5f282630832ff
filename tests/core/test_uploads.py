"""Spool files a killed worker leaves behind are swept; live ones are not."""

from __future__ import annotations

import os
import time

from ggzy.core import uploads


def test_stale_spool_files_are_swept_and_fresh_ones_kept(tmp_path):  # type: ignore[no-untyped-def]
    now = time.time()
    stale = [tmp_path / "upload-a1.part", tmp_path / "bid-b2.part"]
    fresh = tmp_path / "upload-live.part"  # an upload still being written
    other = [tmp_path / "envelope-1.zip", tmp_path / "notes.part"]  # not spool files
    for path in [*stale, fresh, *other]:
        path.write_bytes(b"x")
    old = now - uploads.STALE_SECONDS - 5
    for path in [*stale, *other]:
        os.utime(path, (old, old))
    assert uploads.sweep_stale_spools(tmp_path, now=now) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [fresh.name, *(p.name for p in other)]
    )
    assert uploads.sweep_stale_spools(tmp_path / "missing", now=now) == 0
