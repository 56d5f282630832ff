"""Many processes appending at once never fork or skip the chain (PostgreSQL)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from ggzy.ledger.models import Event, PendingEvent
from ggzy.ledger.verify import verify_ledger

WRITER = """
import os, sys, django
django.setup()
from django.db import transaction
from ggzy.ledger.services import append_event
for i in range(int(sys.argv[2])):
    with transaction.atomic():
        append_event(actor="system:writer" + sys.argv[1], event_type="test.concurrent",
                     subject=f"w{sys.argv[1]}:{i}", payload={"i": i})
"""


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="multi-process writers need a server database"
)
@pytest.mark.parametrize("mode", ["deferred", "inline"])
def test_eight_writer_processes_make_one_unbroken_chain(tmp_path: Path, mode: str) -> None:
    settings_dict = connection.settings_dict
    url = (
        f"postgres://{settings_dict['USER']}@{settings_dict['HOST'] or '127.0.0.1'}:"
        f"{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}"
    )
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "ggzy.settings",
        "GGZY_LEDGER_MODE": mode,
    }
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    per_writer = 100
    writers = [
        subprocess.Popen([sys.executable, str(script), str(w), str(per_writer)], env=env)
        for w in range(8)
    ]
    assert [p.wait(timeout=300) for p in writers] == [0] * 8

    seqs = list(Event.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, 8 * per_writer + 1))  # no gap, no duplicate
    report = verify_ledger()
    assert report.ok, report.as_dict()
    assert not PendingEvent.objects.exists()
    # Every writer's own events are in its own order (commit order = chain order).
    for w in range(8):
        mine = (
            Event.objects.filter(actor=f"system:writer{w}")
            .order_by("seq")
            .values_list("subject", flat=True)
        )
        assert list(mine) == [f"w{w}:{i}" for i in range(per_writer)]
