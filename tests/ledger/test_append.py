"""Appending events: one per write, chained, in the caller's transaction, never edited."""

from __future__ import annotations

import hashlib

import orjson
import pytest
from django.db import DatabaseError, connection, transaction

from ggzy.ledger.chain import GENESIS, EventFields, hasher
from ggzy.ledger.context import acting_from
from ggzy.ledger.models import AppendOnlyViolation, Event, LedgerHead
from ggzy.ledger.services import append_event
from tests.ledger.helpers import fill

pytestmark = pytest.mark.django_db


def test_events_are_numbered_and_chained_from_genesis(frozen_clock) -> None:  # type: ignore[no-untyped-def]
    with acting_from("203.0.113.9"):
        fill(3)
    events = list(Event.objects.order_by("seq"))
    h = hasher("sm3")
    prev = GENESIS
    for n, e in enumerate(events, start=1):
        assert e.seq == n
        assert e.prev_hash == prev.hex()
        assert e.client_addr == "203.0.113.9"
        assert e.recorded_at == frozen_clock.moment
        assert e.payload_digest == h(e.payload.encode()).hex()
        fields = EventFields(
            e.seq, e.time_us, e.actor, e.client_addr, e.event_type, e.subject, e.payload_digest
        )
        prev = h(prev + fields.canonical())
        assert e.hash == prev.hex()
    head = LedgerHead.objects.get()
    assert (head.size, head.last_hash, head.alg) == (3, events[-1].hash, "sm3")


def test_sm3_is_the_real_sm3() -> None:
    # GB/T 32905 test vector: SM3("abc")
    assert (
        hasher("sm3")(b"abc").hex()
        == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    )
    assert hasher("sha256")(b"abc") == hashlib.sha256(b"abc").digest()


def test_payload_is_canonical_json_and_refuses_floats() -> None:
    from decimal import Decimal

    with transaction.atomic():
        seq = append_event(
            actor=None, event_type="t", subject="s", payload={"b": Decimal("1.50"), "a": [1, "x"]}
        )
    e = Event.objects.get(seq=seq)
    assert e.payload == '{"a":[1,"x"],"b":"1.50"}'
    assert e.actor == "anonymous"
    assert orjson.loads(e.payload) == {"a": [1, "x"], "b": "1.50"}
    with pytest.raises(TypeError):
        append_event(actor=None, event_type="t", subject="s", payload={"x": 0.1})
    assert Event.objects.count() == 1


def test_a_rolled_back_write_leaves_no_event_and_no_gap() -> None:
    fill(1)
    with pytest.raises(RuntimeError), transaction.atomic():
        append_event(actor="system:test", event_type="t", subject="s")
        raise RuntimeError("the service failed after appending")
    fill(1, start=1)
    assert list(Event.objects.values_list("seq", flat=True)) == [1, 2]


def test_orm_refuses_to_change_events() -> None:
    fill(2)
    e = Event.objects.get(seq=1)
    e.subject = "changed"
    with pytest.raises(AppendOnlyViolation):
        e.save()
    with pytest.raises(AppendOnlyViolation):
        e.delete()
    with pytest.raises(AppendOnlyViolation):
        Event.objects.filter(seq=1).update(subject="x")
    with pytest.raises(AppendOnlyViolation):
        Event.objects.all().delete()
    assert Event.objects.get(seq=1).subject == "thing:0"


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE ledger_event SET subject = 'x' WHERE seq = 1",
        "DELETE FROM ledger_event WHERE seq = 2",
        "UPDATE ledger_treehead SET root = 'x'",
        "DELETE FROM ledger_merklenode",
    ],
)
def test_database_triggers_refuse_changes(sql: str) -> None:
    from ggzy.ledger.services import sign_tree_head

    fill(4)
    sign_tree_head()
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cur,
    ):
        cur.execute(sql)
    assert Event.objects.get(seq=1).subject == "thing:0"
    assert Event.objects.count() == 4


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE triggers are PostgreSQL's")
def test_postgres_refuses_truncate() -> None:
    fill(1)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cur,
    ):
        cur.execute("TRUNCATE ledger_event CASCADE")
    assert Event.objects.count() == 1


def test_sqlite_shell_cannot_unlock(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Outside this process the unlock function does not exist, so the trigger fails closed."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    import sqlite3

    from ggzy.ledger.triggers import sqlite_statements

    db = sqlite3.connect(tmp_path / "x.db")
    db.execute("CREATE TABLE ledger_event (seq INTEGER PRIMARY KEY, subject TEXT)")
    db.execute("CREATE TABLE ledger_merklenode (id INTEGER)")
    db.execute("CREATE TABLE ledger_treehead (id INTEGER)")
    for sql in sqlite_statements():
        db.execute(sql)
    db.execute("INSERT INTO ledger_event VALUES (1, 'a')")
    with pytest.raises(sqlite3.OperationalError):
        db.execute("UPDATE ledger_event SET subject = 'b'")
    assert db.execute("SELECT subject FROM ledger_event").fetchone() == ("a",)
