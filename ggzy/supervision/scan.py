"""The supervision scan: the detectors run on the platform's own data as events happen, and the
nightly pass over everything.

Event-driven: :func:`catch_up` reads the ledger in sequence order from where it stopped
(:class:`ScanState`) and, for each event a detector watches, runs that detector on the section
the event names — an opening closed (the prices are known) runs the bid-price screens and the
条例40 hard links on that section. Nightly: :func:`scan_all` runs every section detector on every
opened section again (a regulator's new thresholds apply to the past too) and the detectors that
need the whole market at once (red flags' fences, the co-bidding network).

Raising is idempotent (:func:`ggzy.supervision.services.raise_alert` keys each alert), so running
a pass twice raises nothing new. A detector failing on one section is logged and counted, and the
scan goes on: supervision must not stop on one bad row."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from ggzy.accounts.gate import require
from ggzy.bidding.models import Bid, Opening
from ggzy.bidding.states import BidStatus, OpeningStatus
from ggzy.core import clock
from ggzy.ledger.models import Event
from ggzy.supervision import detectors
from ggzy.supervision.models import ScanState
from ggzy.tendering.models import Section

log = logging.getLogger(__name__)
BATCH = 500
STATE_KEY = "ledger"


@dataclass
class Outcome:
    events: int = 0
    sections: int = 0
    raised: int = 0
    refreshed: int = 0
    failed: list[str] = field(default_factory=list)

    def count(self, results: list[tuple[Any, bool, bool]]) -> None:
        for _alert, new, changed in results:
            if new:
                self.raised += 1
            elif changed:
                self.refreshed += 1


def _payload(event: Event) -> dict[str, Any]:
    try:
        value = json.loads(event.payload)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _opened_section(event: Event) -> Section | None:
    code = _payload(event).get("section")
    if not isinstance(code, str):
        return None
    return Section.objects.select_related("project").filter(code=code).first()


def _evaluated_section(event: Event) -> Section | None:
    from ggzy.evaluation.models import EvaluationSession

    session_id = event.subject.partition(":")[2]
    session = EvaluationSession.objects.select_related("section__project").filter(
        public_id=session_id).first()  # fmt: skip
    return session.section if session else None


# event type → how to find the section it concerns
WATCHED: dict[str, Callable[[Event], Section | None]] = {
    "bidding.opening_closed": _opened_section,
    "evaluation.committee_formed": _evaluated_section,
    "evaluation.report_signed": _evaluated_section,
}


def section_bids(section: Section) -> list[Bid]:
    """The opened bids of a section with their prices (and bidders), as the opening record has
    them."""
    return list(
        Bid.objects.filter(section=section, status=BidStatus.OPENED)
        .select_related("entity")
        .order_by("received_at", "pk")
    )


def scan_section(section: Section, out: Outcome) -> None:
    """Every section-level detector on one section, in its own transaction (a failure rolls
    back that section's alerts only)."""
    try:
        with transaction.atomic():
            out.count(detectors.run_section(section, section_bids(section)))
        out.sections += 1
    except Exception:  # a detector's bug must not stop the scan of the other sections
        log.exception("supervision: a detector failed on section %s", section.public_id)
        out.failed.append(section.public_id)


def _actor_may_scan(actor: Any) -> None:
    if actor is not None:  # the CLI and the worker scan as the system
        require(actor, "supervision.manage")


def catch_up(*, actor: Any = None, limit: int = 20 * BATCH) -> Outcome:
    """Run the detectors for every watched event not yet read (up to ``limit`` events).

    The events are read and their sections scanned outside any lock (a section's scan is its own
    short transaction: on SQLite a long one would hold the writers up); the position is then
    moved forward under the state row's lock. Two scans at once may scan a section twice, which
    raises nothing twice."""
    _actor_may_scan(actor)
    out = Outcome()
    while out.events < limit:
        state, _ = ScanState.objects.get_or_create(key=STATE_KEY)
        head = Event.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
        events = list(
            Event.objects.filter(seq__gt=state.position, event_type__in=WATCHED)
            .order_by("seq")
            .only("seq", "event_type", "subject", "payload")[:BATCH]
        )
        for event in events:
            section = WATCHED[event.event_type](event)
            if section is not None:
                scan_section(section, out)
        out.events += len(events)
        reached = events[-1].seq if len(events) == BATCH else max(state.position, head)
        with transaction.atomic():
            locked = ScanState.objects.select_for_update().get(pk=state.pk)
            locked.position = max(locked.position, reached)
            locked.scanned_at = clock.now()
            locked.save(update_fields=["position", "scanned_at"])
        if len(events) < BATCH:
            break
    return out


def scan_all(*, actor: Any = None) -> Outcome:
    """The nightly pass: every opened section again, then the market-wide detectors."""
    _actor_may_scan(actor)
    out = catch_up()
    sections = Section.objects.filter(
        pk__in=Opening.objects.filter(status=OpeningStatus.CLOSED).values("section_id")
    ).select_related("project")
    for section in sections.order_by("pk").iterator(chunk_size=200):
        scan_section(section, out)
    try:
        out.count(detectors.run_market())
    except Exception:
        log.exception("supervision: a market-wide detector failed")
        out.failed.append("market")
    return out
