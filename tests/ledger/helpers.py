from __future__ import annotations

from django.db import connection, transaction

from ggzy.ledger import triggers
from ggzy.ledger.services import append_event


def fill(n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        with transaction.atomic():
            append_event(
                actor="system:test", event_type="test.event", subject=f"thing:{i}", payload={"i": i}
            )


def raw(sql: str, params: tuple[object, ...] = ()) -> None:
    """Run SQL on the ledger tables with the triggers unlocked (a tamper drill)."""
    with triggers.unlocked(connection), connection.cursor() as cur:
        cur.execute(sql, params)
