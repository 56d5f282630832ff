"""The authoring-machine fingerprint recorded (signed) in every envelope's manifest.

Supervision compares fingerprints across the bidders of one section (bids prepared on the same
machine are a collusion signal), so values are normalized (stripped, lowercase where case carries
no meaning) and manufacturer placeholders are dropped: use :func:`is_placeholder` on both sides.
Only what is readable is collected; collecting never fails.
"""

from __future__ import annotations

import contextlib
import platform
import re
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ggzy_client import __version__

_PLACEHOLDERS = {
    "", "none", "null", "n/a", "na", "unknown", "default string", "to be filled by o.e.m.",
    "to be filled by oem", "system serial number", "not specified", "not applicable",
    "0123456789", "123456789", "1234567890", "serial", "default", "oem", "o.e.m.",
    "chassis serial number", "base board serial number", "invalid",
    "03000200-0400-0500-0006-000700080009",
}  # fmt: skip
_SAME_CHAR = re.compile(r"^(.)\1*$")


def is_placeholder(value: object) -> bool:
    """True for values that identify nothing: empty, all zeros / all ``f`` (with any separators),
    a single repeated character, or a known manufacturer placeholder."""
    if not isinstance(value, str):
        return True
    v = value.strip().lower()
    if v in _PLACEHOLDERS:
        return True
    bare = re.sub(r"[\s:\-_.{}]", "", v)
    return not bare or _SAME_CHAR.match(bare) is not None


def _read(path: Path | str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace").strip()
    except (OSError, ValueError):
        return ""


def _keep(value: str, *, lower: bool = True) -> str | None:
    v = " ".join(value.split())
    v = v.lower() if lower else v
    return None if is_placeholder(v) else v


def machine_id() -> str | None:
    for path in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        if (v := _keep(_read(path))) is not None:
            return v
    return None


def macs() -> list[str]:
    found: set[str] = set()
    with contextlib.suppress(OSError):
        for iface in Path("/sys/class/net").iterdir():
            if iface.name == "lo":
                continue
            mac = _keep(_read(iface / "address"))
            if mac is not None and re.fullmatch(r"([0-9a-f]{2}:){5}[0-9a-f]{2}", mac):
                found.add(mac)
    return sorted(found)


def cpu_serial() -> str | None:
    for line in _read("/proc/cpuinfo").splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() == "serial" and (v := _keep(value)) is not None:
            return v
    for path in ("product_uuid", "product_serial"):
        if (v := _keep(_read(f"/sys/devices/virtual/dmi/id/{path}"))) is not None:
            return v
    return None


def disk_serials() -> list[str]:
    found: set[str] = set()
    with contextlib.suppress(OSError):
        for dev in Path("/sys/block").iterdir():
            if dev.name.startswith(("loop", "ram", "zram", "dm-")):
                continue
            for path in (dev / "device" / "serial", dev / "serial"):
                if (v := _keep(_read(path), lower=False)) is not None:
                    found.add(v)
    with contextlib.suppress(OSError):
        for link in Path("/dev/disk/by-id").iterdir():
            if re.search(r"-part[0-9]+$", link.name) or link.name.startswith("dm-"):
                continue
            if (v := _keep(link.name, lower=False)) is not None:
                found.add(v)
    return sorted(found)


def _safe(fn: Callable[[], Any], default: Any) -> Any:
    try:
        return fn()
    except Exception:  # collecting a fingerprint must never stop a seal
        return default


def collect() -> dict[str, Any]:
    """The fingerprint of this machine: only the readable, non-placeholder values."""
    values: dict[str, Any] = {
        "machine_id": _safe(machine_id, None),
        "macs": _safe(macs, []),
        "cpu_serial": _safe(cpu_serial, None),
        "disk_serials": _safe(disk_serials, []),
        "hostname": _safe(lambda: _keep(socket.gethostname()), None),
        "os": _safe(lambda: _keep(f"{platform.system()} {platform.release()}", lower=False), None),
        "tool_version": __version__,
    }
    return {k: v for k, v in values.items() if v not in (None, [])}
