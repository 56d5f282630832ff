"""Two callers at once (PostgreSQL, two connections): one session per section, one open viewing
span per member, one vote per member and finding — no IntegrityError reaches anyone."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections, transaction

from ggzy.core.errors import DomainError
from ggzy.evaluation import services, services_review, services_scoring
from ggzy.evaluation.models import EvaluationSession, FindingVote, ViewingSpan
from tests.evaluation import world as w

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs two server connections"),
]
PRICES = ["9000000.00", "9500000.00", "9300000.00"]


def _race(calls: list[Callable[[], Any]]) -> list[Any]:
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            with transaction.atomic():
                results[n] = calls[n]()
        except Exception as exc:  # the result under test
            results[n] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


@pytest.fixture
def world(region, frozen_clock):  # type: ignore[no-untyped-def]
    world = w.make_world(frozen_clock)
    w.open_section(world, PRICES)
    return world


def test_one_session_per_section(world) -> None:  # type: ignore[no-untyped-def]
    results = _race([
        lambda: services.create_session(actor=world.staff, section=world.section),
        lambda: services.create_session(actor=world.staff, section=world.section),
    ])  # fmt: skip
    made = [r for r in results if isinstance(r, EvaluationSession)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(made) == 1 and len(refused) == 1, results
    assert refused[0].code == "session_exists"


def test_one_open_span_and_one_vote(world) -> None:  # type: ignore[no-untyped-def]
    session = w.seated(world)
    services_review.start_review(actor=world.staff, session=session)
    user = world.members[0].user
    finding = session.findings.first()
    assert finding is not None
    results = _race([
        lambda: services_scoring.record_viewing(actor=user, session=session, bid="A",
                                                action="start"),
        lambda: services_scoring.record_viewing(actor=user, session=session, bid="B",
                                                action="start"),
    ])  # fmt: skip
    assert all(isinstance(r, ViewingSpan) for r in results), results
    assert ViewingSpan.objects.filter(ended_at__isnull=True).count() == 1
    results = _race([
        lambda: services_review.cast_votes(actor=user, session=session,
                                           votes=[(finding.pk, True, "")]),
        lambda: services_review.cast_votes(actor=user, session=session,
                                           votes=[(finding.pk, True, "")]),
    ])  # fmt: skip
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(refused) == 1 and refused[0].code == "already_voted", results
    assert FindingVote.objects.count() == 1
