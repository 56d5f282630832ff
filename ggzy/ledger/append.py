"""Appending to the ledger: the hot path every service's write goes through.

Two modes (``GGZY_LEDGER_MODE``):

*inline* (the SQLite default): the head row is locked, the event is chained and the head moves,
all in the caller's transaction; the chain order is the commit order. SQLite's ``BEGIN
IMMEDIATE`` serialises writers anyway. The locked section is plain SQL (no model instances) so the
lock is held as briefly as possible.

*deferred* (the PostgreSQL default): the event is written as a pending row in the caller's
transaction and chained after the commit, many events per chaining transaction — holding the
head lock across every writer's commit would serialise all writers' disk flushes. Who chains is
``GGZY_LEDGER_CHAINER``:

- ``writers`` (default): each writer chains right after its commit (:func:`chain_pending`), and
  its event is in the chain before its request returns;
- ``process``: writers only write the pending row; one ``ggzy ledger chainer`` process chains in
  large batches, milliseconds later. Highest throughput; the chainer must run.

Either way a pending row and its event are swapped in one transaction: chained exactly once,
never forked, never skipped.
"""

from __future__ import annotations

import time
from datetime import timedelta
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from ggzy.core import clock
from ggzy.ledger.chain import EventFields, Hasher, canonical_json, chain_hash, hasher
from ggzy.ledger.context import actor_ref, client_addr
from ggzy.ledger.models import EPOCH, Event, LedgerHead, PendingEvent

_MICRO = timedelta(microseconds=1)
PG_CHAIN_LOCK = 0x6767_7A79_6C65_6467  # "ggzyledg": the advisory lock of the chainer
CHAIN_BATCH = 5000
_COLS = "seq, entry, time_us, actor, client_addr, event_type, subject, payload, payload_digest, prev_hash, hash"
_INSERT_EVENT = (
    f"INSERT INTO ledger_event ({_COLS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
_MOVE_HEAD = "UPDATE ledger_ledgerhead SET size = %s, last_hash = %s, alg = %s WHERE id = 1"
_PG_INSERT_AND_MOVE = f"WITH e AS ({_INSERT_EVENT}) {_MOVE_HEAD}"
_INSERT_PENDING = (
    "INSERT INTO ledger_pendingevent (time_us, actor, client_addr, event_type, subject, payload) "
    "VALUES (%s, %s, %s, %s, %s, %s) RETURNING id"
)


def time_us() -> int:
    return (clock.now() - EPOCH) // _MICRO


def plain(value: Any) -> Any:
    """Make a payload JSON-safe and canonical: Decimals, dates and UUIDs become strings."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [plain(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        raise TypeError("ledger payloads carry no floats; use Decimal or str")
    return str(value)


def ledger_mode() -> str:
    mode = str(settings.GGZY_LEDGER_MODE)
    if mode not in ("inline", "deferred"):
        raise ValueError(f"GGZY_LEDGER_MODE must be inline or deferred, not {mode!r}")
    return mode


@lru_cache(maxsize=4)
def _hasher(alg: str) -> Hasher:
    return hasher(alg)


def _locked_head(cur: Any) -> tuple[int, str, str]:
    """(size, last hash, algorithm) of the head, locked until the transaction ends."""
    lock = " FOR UPDATE" if connection.vendor == "postgresql" else ""  # SQLite: BEGIN IMMEDIATE
    cur.execute(f"SELECT size, last_hash, alg FROM ledger_ledgerhead WHERE id = 1{lock}")
    row = cur.fetchone()
    if row is None:  # a database emptied by hand: recreate the head row, then lock it
        try:
            with transaction.atomic():
                LedgerHead.objects.create(pk=1)
        except IntegrityError:
            pass
        cur.execute(f"SELECT size, last_hash, alg FROM ledger_ledgerhead WHERE id = 1{lock}")
        row = cur.fetchone()
    size, last_hash, alg = row
    return int(size), str(last_hash), str(alg or settings.GGZY_LEDGER_HASH)


def append_event(
    *,
    actor: Any,
    event_type: str,
    subject: str,
    payload: dict[str, Any] | None = None,
    addr: str | None = None,
) -> int:
    """Record one event in the caller's transaction; it commits or rolls back with the change.

    Returns the event's sequence number (inline) or its pending entry id (deferred), which
    becomes ``Event.entry`` once chained.
    """
    row = (
        time_us(),
        actor_ref(actor)[:64],
        (addr if addr is not None else client_addr())[:64],
        event_type[:80],
        subject[:200],
        canonical_json(plain(payload or {})).decode(),
    )
    # savepoint=False: no SAVEPOINT round trips inside the caller's transaction; an error here
    # must abort the caller's change anyway.
    with transaction.atomic(savepoint=False), connection.cursor() as cur:
        if ledger_mode() == "deferred":
            cur.execute(_INSERT_PENDING, row)
            entry_id = int(cur.fetchone()[0])
            if settings.GGZY_LEDGER_CHAINER == "writers":
                transaction.on_commit(lambda: chain_pending(entry_id), robust=True)
            return entry_id
        size, last_hash, alg = _locked_head(cur)
        (event,) = _chain(_hasher(alg), size, last_hash, [(None, *row)])
        if connection.vendor == "postgresql":
            cur.execute(_PG_INSERT_AND_MOVE, (*event, event[0], event[-1], alg))
        else:
            cur.execute(_INSERT_EVENT, event)
            cur.execute(_MOVE_HEAD, (event[0], event[-1], alg))
        return int(event[0])


def _chain(
    h: Hasher, size: int, last_hash: str, rows: list[tuple[Any, ...]]
) -> list[tuple[Any, ...]]:
    """Chain ``(entry, time_us, actor, addr, type, subject, payload)`` rows after the head;
    returns event rows in ``_COLS`` order."""
    prev_hex, prev = last_hash, bytes.fromhex(last_hash)
    out = []
    for entry, t_us, actor, addr, etype, subject, payload in rows:
        size += 1
        fields = EventFields(size, t_us, actor, addr, etype, subject, h(payload.encode()).hex())
        digest = chain_hash(h, prev, fields)
        out.append(
            (
                size,
                entry,
                t_us,
                actor,
                addr,
                etype,
                subject,
                payload,
                fields.payload_digest,
                prev_hex,
                digest.hex(),
            )
        )
        prev, prev_hex = digest, digest.hex()
    return out


def chain_batch() -> int | None:
    """Chain up to ``CHAIN_BATCH`` committed pending events in one transaction.

    Returns how many, or ``None`` when another chainer holds the lock (PostgreSQL).
    """
    with transaction.atomic(), connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SELECT pg_try_advisory_xact_lock(%s)", [PG_CHAIN_LOCK])
            if not cur.fetchone()[0]:
                return None
        cur.execute(
            "DELETE FROM ledger_pendingevent WHERE id IN (SELECT id FROM ledger_pendingevent "
            "ORDER BY id LIMIT %s) RETURNING id, time_us, actor, client_addr, event_type, subject, payload",
            [CHAIN_BATCH],
        )
        rows = sorted(cur.fetchall())
        if not rows:
            return 0
        size, last_hash, alg = _locked_head(cur)
        events = _chain(_hasher(alg), size, last_hash, rows)
        if connection.vendor == "postgresql":
            with cur.cursor.copy(f"COPY ledger_event ({_COLS}) FROM STDIN") as copy:
                for event in events:
                    copy.write_row(event)
        else:
            cur.executemany(_INSERT_EVENT, events)
        cur.execute(_MOVE_HEAD, (events[-1][0], events[-1][-1], alg))
        return len(rows)


def chain_pending(entry_id: int | None = None) -> int:
    """Chain the pending events committed so far; returns how many this call chained.

    A writer calls it after its commit with its own entry id, and its event is in the chain when
    the call returns. Whoever holds the chain lock chains everything committed before it looked.
    A writer that finds the lock taken waits for that holder to finish (a shared lock: all
    waiters wake together) and looks once more: the holder usually took its event along; if not,
    it tries the lock again, and if someone else got there first, that chainer took the lock after
    this writer's commit and so sees its event. Writers never queue behind each other's turns.
    """
    total, waited = 0, False
    while True:
        chained = chain_batch()
        if chained is not None:
            total += chained
            if chained < CHAIN_BATCH:
                return total
            continue  # a backlog: keep going
        if waited or entry_id is None or not _is_pending(entry_id):
            return total
        with connection.cursor() as cur:
            cur.execute(
                "SELECT pg_advisory_lock_shared(%s), pg_advisory_unlock_shared(%s)",
                [PG_CHAIN_LOCK, PG_CHAIN_LOCK],
            )
        waited = True
        if not _is_pending(entry_id):
            return total


def _is_pending(entry_id: int) -> bool:
    return PendingEvent.objects.filter(pk=entry_id).exists()


def run_chainer(*, idle_sleep: float = 0.0005, stop_after: float | None = None) -> int:
    """The ``process`` chainer: chain forever (or for ``stop_after`` seconds); returns the count."""
    deadline = None if stop_after is None else time.monotonic() + stop_after
    total = 0
    while deadline is None or time.monotonic() < deadline:
        chained = chain_batch()
        total += chained or 0
        if not chained:
            time.sleep(idle_sleep)
    return total + chain_pending()


def event_for_entry(entry_id: int) -> Event | None:
    """The chained event of a deferred writer's entry, once chained."""
    event: Event | None = Event.objects.filter(entry=entry_id).first()
    return event
