"""Who may act on a venue of a session beyond their platform roles: its own witness.

A venue's witness log is written by the witness assigned to that venue and nobody else — not
the witness of another venue of the same session, not other center staff (``venues.record`` is
held by no role). On the main venue, the witness's state events drive the shared session state.
"""

from __future__ import annotations

from typing import Any

WITNESS_PERMISSIONS = {"venues.record"}


def witness_rule(actor: Any, permission: str, session_venue: Any) -> bool:
    return permission in WITNESS_PERMISSIONS and session_venue.witness_id == getattr(
        actor, "pk", None
    )
