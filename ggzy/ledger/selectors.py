"""Ledger reads for pages and the API: the change feed and event views, with payload access."""

from __future__ import annotations

from typing import Any

import orjson

from ggzy.accounts.gate import allowed
from ggzy.ledger.models import Event
from ggzy.ledger.proofs import event_json, get_event


def events_after(
    *, after: int = 0, limit: int = 50, event_type: str = "", subject: str = ""
) -> list[Event]:
    """Cursor feed: events with ``seq > after`` in sequence order. Never misses a committed row,
    because sequence numbers are assigned under the head lock in commit order."""
    qs = Event.objects.filter(seq__gt=after)
    if event_type:
        qs = qs.filter(event_type=event_type)
    if subject:
        qs = qs.filter(subject=subject)
    return list(qs.order_by("seq")[:limit])


def latest_events(*, limit: int = 20) -> list[Event]:
    return list(Event.objects.order_by("-seq")[:limit])


def event_view(actor: Any, event: Event) -> dict[str, Any]:
    """Public fields for everyone; the payload itself only for staff and supervisors."""
    data = event_json(event)
    data["recorded_at"] = event.recorded_at
    if allowed(actor, "ledger.view_payload"):
        data["payload"] = orjson.loads(event.payload)
    return data


def event_for(actor: Any, seq: int) -> dict[str, Any]:
    return event_view(actor, get_event(seq))
