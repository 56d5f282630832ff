"""The projector: reads the ledger in sequence order and keeps the public records in step.

Each ledger event of a disclosed kind names the records it may have changed (:data:`KEYS`);
each is built again from the domain tables as they are now (:mod:`ggzy.disclosure.build`) and
written when it differs — with the next feed position (``seq``). A record public only later (a
publicity scheduled ahead) waits in :class:`PendingRelease` and is built again when due.

One projector at a time: the state row is locked (``SELECT … FOR UPDATE``; SQLite's writer lock),
so feed positions are handed out and committed in order — a reader that has seen position n has
seen every position below it. The ledger itself is read in chain order, and an event is only in
the chain once its domain transaction has committed, so nothing disclosed is skipped.

:func:`catch_up` is cheap when there is nothing new (one indexed read); the portal and the feeds
call it before they read, and ``ggzy disclosure project [--follow]`` runs it as a worker.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Exists, Subquery

from ggzy.core import clock
from ggzy.disclosure.build import Built, build
from ggzy.disclosure.models import PendingRelease, ProjectorState, PublicRecord
from ggzy.ledger.models import Event

log = logging.getLogger(__name__)
BATCH = 500


def _project(event: Event) -> str:
    return event.subject.partition(":")[2]


def _payload(event: Event) -> dict[str, Any]:
    try:
        value = json.loads(event.payload)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _project_keys(project_id: str) -> list[str]:
    """The announcement and every section-level record of a project (an opening or a failure
    of any of its sections, and the result records, whose status follows)."""
    from ggzy.tendering.models import Section

    keys = [f"announcement:{project_id}"]
    for section_id in Section.objects.filter(project__public_id=project_id).values_list(
        "public_id", flat=True
    ):
        keys += [f"opening:{section_id}", f"failure:{section_id}", f"candidates:{section_id}"]
    return keys


def _on_project(event: Event) -> list[str]:
    return _project_keys(_project(event))


def _on_clarification(event: Event) -> list[str]:
    number = _payload(event).get("number")
    keys = _project_keys(_project(event))
    if number is not None:
        keys.append(f"clarification:{_project(event)}:{number}")
    return keys


def _on_objection_answered(event: Event) -> list[str]:
    objection = _payload(event).get("objection")
    keys = [f"announcement:{_project(event)}"]
    return keys + ([f"objection_reply:{objection}"] if objection else [])


def _on_award(kind: str) -> Callable[[Event], list[str]]:
    def keys(event: Event) -> list[str]:
        from ggzy.tendering.models import Section

        section_id = _project(event)
        project_id = (
            Section.objects.filter(public_id=section_id)
            .values_list("project__public_id", flat=True)
            .first()
        )
        out = [f"{kind}:{section_id}", f"candidates:{section_id}", f"award:{section_id}"]
        return out + ([f"announcement:{project_id}"] if project_id else [])

    return keys


def _on_entity(event: Event) -> list[str]:
    return [f"entity:{_project(event)}"]


def _on_external(event: Event) -> list[str]:
    record = _payload(event).get("record")
    return [f"external:{_project(event)}:{record}"] if record else []


KEYS: dict[str, Callable[[Event], list[str]]] = {
    "tendering.project_published": _on_project,
    "tendering.clarification_issued": _on_clarification,
    "tendering.objection_raised": _on_project,
    "tendering.objection_answered": _on_objection_answered,
    "bidding.opening_started": _on_project,
    "bidding.opening_closed": _on_project,
    "bidding.opening_failed": _on_project,
    "award.candidates_published": _on_award("candidates"),
    "award.candidate_withdrawn": _on_award("candidates"),
    "award.notice_issued": _on_award("award"),
    "award.contract_published": _on_award("contract"),
    "registry.entity_registered": _on_entity,
    "registry.entity_changed": _on_entity,
    "exchange.external_record_accepted": _on_external,
}


@dataclass
class Outcome:
    events: int = 0  # ledger events read
    written: int = 0  # records written (new or changed)
    pending: int = 0  # records held back until they are due
    position: int = 0  # the last feed position handed out, after this catch-up


def _state() -> ProjectorState:
    ProjectorState.objects.get_or_create(pk=1)
    return ProjectorState.objects.select_for_update().get(pk=1)


def _fields(built: Built) -> dict[str, Any]:
    project, section = built.project, built.section
    return {
        "kind": str(built.kind),
        "source": built.source,
        "project_code": (project.trading_code or project.public_id)
        if project
        else built.project_code,
        "section_code": (section.code or section.public_id) if section else built.section_code,
        "title": built.title[:300],
        "body": built.body,
        "search_text": built.search_text,
        "category": built.category,
        "region": built.region,
        "procedure": built.procedure,
        "status": built.status,
        "published_at": built.published_at,
        "url": built.url,
        "data": json.loads(json.dumps(built.data, default=str)),
    }


def _differs(row: PublicRecord, fields: dict[str, Any]) -> bool:
    return any(getattr(row, name) != value for name, value in fields.items())


def _write(state: ProjectorState, key: str, ledger_seq: int | None, out: Outcome,
           indexed: list[PublicRecord]) -> None:  # fmt: skip
    built = build(key)
    if built is None:
        return  # nothing of it is public (yet); a record once public is never withdrawn
    now = clock.now()
    if built.visible_from is not None and built.visible_from > now:
        PendingRelease.objects.update_or_create(key=key, defaults={"due": built.visible_from})
        out.pending += 1
        return
    PendingRelease.objects.filter(key=key).delete()
    fields = _fields(built)
    row = PublicRecord.objects.filter(key=key).first()
    if row is not None and not _differs(row, fields):
        return
    state.record_seq += 1
    values = fields | {"seq": state.record_seq, "changed_at": now, "ledger_seq": ledger_seq}
    if row is None:
        row = PublicRecord.objects.create(key=key, **values)
    else:
        for name, value in values.items():
            setattr(row, name, value)
        row.save()
    indexed.append(row)
    out.written += 1


def _index(rows: Iterable[PublicRecord]) -> None:
    """Keep the full-text index in step (in the same transaction)."""
    from ggzy.disclosure import search

    search.index_records(list(rows))


def catch_up(*, limit: int = 50 * BATCH) -> Outcome:
    """Project every ledger event not yet read (up to ``limit``) and release what is due."""
    out = Outcome()
    now = clock.now()
    # one query: the ledger's head, how far the projector has read, whether a release is due
    row = (
        ProjectorState.objects.filter(pk=1)
        .annotate(
            latest=Subquery(Event.objects.order_by("-seq").values("seq")[:1]),
            due=Exists(PendingRelease.objects.filter(due__lte=now)),
        )
        .values_list("ledger_seq", "record_seq", "latest", "due")
        .first()
    )
    if row is None:  # never run: read the whole ledger
        latest = Event.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    else:
        seen, position, head, due = row
        latest = head or 0
        if seen >= latest and not due:
            out.position = position
            return out
    while out.events < limit:
        with transaction.atomic():
            state = _state()
            indexed: list[PublicRecord] = []
            for key in PendingRelease.objects.filter(due__lte=clock.now()).values_list(
                "key", flat=True
            ):
                _write(state, key, None, out, indexed)
            events = list(
                Event.objects.filter(seq__gt=state.ledger_seq, event_type__in=KEYS)
                .order_by("seq")
                .only("seq", "event_type", "subject", "payload")[:BATCH]
            )
            last = state.ledger_seq
            for event in events:
                keys = dict.fromkeys(KEYS[event.event_type](event))  # ordered, no repeats
                for key in keys:
                    _write(state, key, event.seq, out, indexed)
                last = event.seq
            out.events += len(events)
            if len(events) < BATCH:
                last = max(last, latest)  # nothing disclosed up to the ledger's end as read
            state.ledger_seq = last
            state.save(update_fields=["ledger_seq", "record_seq"])
            _index(indexed)
            out.position = state.record_seq
        if len(events) < BATCH:
            break
    if out.written:
        log.info("disclosure: %d events read, %d records written", out.events, out.written)
    return out


def rebuild_all() -> Outcome:
    """Read the whole ledger again from the start (records that did not change keep their
    position; changed ones get new ones)."""
    with transaction.atomic():
        state = _state()
        state.ledger_seq = 0
        state.save(update_fields=["ledger_seq"])
    return catch_up(limit=10**12)
