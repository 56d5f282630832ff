"""Text extraction (placeholder until the fairness module lands)."""

from __future__ import annotations

from pathlib import Path


def extract_text(path: Path, suffix: str) -> str:
    if suffix == ".txt":
        return path.read_bytes().decode("utf-8", "replace")
    return ""
