"""Deferred mode: the pending event commits with the change and is chained right after commit."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import transaction

from ggzy.ledger.models import Event, PendingEvent
from ggzy.ledger.services import append_event, chain_pending
from ggzy.ledger.verify import verify_ledger

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _deferred(settings):  # type: ignore[no-untyped-def]
    settings.GGZY_LEDGER_MODE = "deferred"


def test_an_event_is_chained_as_soon_as_its_transaction_commits() -> None:
    with transaction.atomic():
        entry = append_event(actor="system:test", event_type="t.a", subject="s:1", payload={"n": 1})
        assert PendingEvent.objects.filter(pk=entry).exists()
        assert Event.objects.count() == 0  # not before the commit
    event = Event.objects.get()
    assert (event.seq, event.entry, event.subject, event.payload) == (1, entry, "s:1", '{"n":1}')
    assert PendingEvent.objects.count() == 0
    assert verify_ledger().ok


def test_a_rolled_back_change_leaves_nothing_pending() -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        append_event(actor="system:test", event_type="t.a", subject="s:1")
        raise RuntimeError("the service failed")
    assert PendingEvent.objects.count() == 0 and Event.objects.count() == 0


def test_many_events_in_one_transaction_keep_their_order() -> None:
    with transaction.atomic():
        for i in range(30):
            append_event(actor="system:test", event_type="t.a", subject=f"s:{i}")
    assert list(Event.objects.order_by("seq").values_list("subject", flat=True)) == [
        f"s:{i}" for i in range(30)
    ]
    assert verify_ledger().ok


def test_events_left_pending_by_a_crash_are_chained_by_the_operator(capsys) -> None:  # type: ignore[no-untyped-def]
    PendingEvent.objects.create(
        time_us=1, actor="system:test", event_type="t.a", subject="s", payload="{}"
    )
    call_command("ledger", "chain")
    assert "chained 1 pending events" in capsys.readouterr().out
    assert Event.objects.count() == 1 and chain_pending() == 0


def test_with_a_chainer_process_writers_only_write_pending_rows(settings) -> None:  # type: ignore[no-untyped-def]
    from ggzy.ledger.append import event_for_entry, run_chainer

    settings.GGZY_LEDGER_CHAINER = "process"
    with transaction.atomic():
        entries = [
            append_event(actor="system:test", event_type="t.a", subject=f"s:{i}") for i in range(5)
        ]
    assert Event.objects.count() == 0 and PendingEvent.objects.count() == 5
    assert run_chainer(stop_after=0.05) == 5
    assert [event_for_entry(e).seq for e in entries] == [1, 2, 3, 4, 5]  # type: ignore[union-attr]
    assert verify_ledger().ok
