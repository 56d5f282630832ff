"""Tampering with any ledger row is caught by verify, which names the first sequence that fails."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ggzy.ledger.chain import EventFields, hasher
from ggzy.ledger.models import Event
from ggzy.ledger.services import sign_tree_head
from ggzy.ledger.verify import verify_ledger
from tests.ledger.helpers import fill, raw

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger() -> None:
    fill(20)
    sign_tree_head()
    fill(5, start=20)
    sign_tree_head()


def test_an_untouched_ledger_verifies(ledger: None) -> None:
    report = verify_ledger()
    assert report.ok, report.as_dict()
    assert (report.size, report.heads_checked) == (25, 2)
    assert report.nodes_checked == sum(25 >> level for level in range(1, 5))


@pytest.mark.parametrize(
    ("sql", "seq", "kind"),
    [
        ("UPDATE ledger_event SET subject = 'thing:999' WHERE seq = 7", 7, "altered"),
        ("UPDATE ledger_event SET time_us = time_us + 1 WHERE seq = 3", 3, "altered"),
        ("UPDATE ledger_event SET actor = 'user:1' WHERE seq = 25", 25, "altered"),
        ("UPDATE ledger_event SET payload = '{\"i\":1000}' WHERE seq = 11", 11, "payload_altered"),
        ("DELETE FROM ledger_event WHERE seq = 9", 9, "deleted"),
        ("DELETE FROM ledger_event WHERE seq = 25", 25, "truncated"),
        ("UPDATE ledger_event SET seq = seq + 1000 WHERE seq = 4", 4, "deleted"),
    ],
)
def test_tampering_is_caught_at_the_first_bad_sequence(
    ledger: None, sql: str, seq: int, kind: str
) -> None:
    raw(sql)
    report = verify_ledger()
    assert not report.ok
    assert report.first_bad_seq == seq
    assert report.problems[0].kind == kind


def test_an_inserted_row_is_caught(ledger: None) -> None:
    e = Event.objects.get(seq=12)
    # Shift 12..25 up by one (from the top, to keep the primary key unique) and slip a forged row in.
    for s in range(25, 11, -1):
        raw("UPDATE ledger_event SET seq = %s WHERE seq = %s", (s + 1, s))
    raw(
        "INSERT INTO ledger_event (seq, time_us, actor, client_addr, event_type, subject, payload, "
        "payload_digest, prev_hash, hash) VALUES (12, %s, 'user:666', '', 'test.event', 'forged', '{}', %s, %s, %s)",
        (e.time_us, e.payload_digest, e.prev_hash, "ab" * 32),
    )
    report = verify_ledger()
    assert report.first_bad_seq == 12


def test_a_consistently_rewritten_history_is_caught_by_the_signed_heads(ledger: None) -> None:
    """An attacker with database access rewrites event 6 and re-chains everything after it."""
    h = hasher("sm3")
    rows = list(Event.objects.order_by("seq"))
    prev = bytes.fromhex(rows[4].hash)
    for e in rows[5:]:
        subject = "rewritten" if e.seq == 6 else e.subject
        f = EventFields(
            e.seq, e.time_us, e.actor, e.client_addr, e.event_type, subject, e.payload_digest
        )
        new = h(prev + f.canonical())
        raw(
            "UPDATE ledger_event SET subject = %s, prev_hash = %s, hash = %s WHERE seq = %s",
            (subject, prev.hex(), new.hex(), e.seq),
        )
        prev = new
    raw("UPDATE ledger_ledgerhead SET last_hash = %s", (prev.hex(),))
    report = verify_ledger()
    assert not report.ok
    # The chain alone is self-consistent now; the stored Merkle nodes and signed heads are not.
    assert {p.kind for p in report.problems} == {"rewritten"}
    assert report.first_bad_seq == 5  # the lowest stored node that changed covers events 5–6


def test_a_forged_tree_head_signature_is_caught(ledger: None) -> None:
    raw("UPDATE ledger_treehead SET root = %s WHERE size = 20", ("00" * 32,))
    report = verify_ledger()
    assert [p.kind for p in report.problems] == ["bad_signature"]


def test_cli_verify_exits_non_zero_naming_the_sequence(ledger: None, capsys) -> None:  # type: ignore[no-untyped-def]
    call_command("ledger", "verify")
    raw("UPDATE ledger_event SET event_type = 'x' WHERE seq = 17")
    with pytest.raises(CommandError, match="first bad sequence 17"):
        call_command("ledger", "verify")
