"""Fair-competition review (placeholder until the module lands)."""

from __future__ import annotations

from typing import Any


def require_publishable(project: Any) -> None:
    return None
