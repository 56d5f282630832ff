"""The supervision channel: every project with its full ledger trail (bids only once opened),
and following a key project — its new events show until marked seen."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from ggzy.accounts.roles import Role
from ggzy.bidding.models import Bid
from ggzy.core.errors import PermissionDenied
from ggzy.ledger.services import append_event
from ggzy.supervision import trail
from tests.conftest import make_user
from tests.evaluation import world as ew

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("region")]


def test_the_trail_holds_the_project_and_its_bids_only_once_opened(frozen_clock: Any) -> None:
    world = ew.make_world(frozen_clock, bidders=3)
    auditor = make_user("aud", Role.AUDITOR)
    project = world.section.project
    before = {e.event_type for e in trail.trail(auditor, project)}
    assert "tendering.project_published" in before or any(
        t.startswith("tendering.") for t in before
    )
    ew.open_section(world, ["100.00", "101.00", "102.00"])
    events = trail.trail(auditor, project)
    types = [e.event_type for e in events]
    assert "bidding.opening_closed" in types
    bid_ids = set(Bid.objects.filter(section=world.section).values_list("public_id", flat=True))
    assert {
        e.subject.removeprefix("bid:") for e in events if e.subject.startswith("bid:")
    } <= bid_ids
    assert any(e.subject.startswith("bid:") for e in events)  # opened: the bids belong to it
    assert [e.seq for e in events] == sorted(e.seq for e in events)
    with pytest.raises(PermissionDenied):
        trail.trail(make_user("ops", Role.CENTER_OPERATIONS), project)


def test_following_a_project(frozen_clock: Any) -> None:
    world = ew.make_world(frozen_clock, bidders=3)
    regulator = make_user("reg", Role.REGULATOR)
    project = world.section.project
    trail.track(actor=regulator, project=project)
    trail.track(actor=regulator, project=project)  # twice is once
    (followed,) = trail.followed(regulator)
    assert followed["new_count"] == 0
    append_event(actor="system:test", event_type="tendering.test_event",
                 subject=f"project:{project.public_id}", payload={})  # fmt: skip
    append_event(actor="system:test", event_type="elsewhere", subject="project:other", payload={})
    (followed,) = trail.followed(regulator)
    assert followed["new_count"] == 1 and followed["new"][0].event_type == "tendering.test_event"
    trail.mark_seen(actor=regulator, project=project)
    assert trail.followed(regulator)[0]["new_count"] == 0
    trail.untrack(actor=regulator, project=project)
    assert trail.followed(regulator) == []


def test_api_and_pages(frozen_clock: Any) -> None:
    world = ew.make_world(frozen_clock, bidders=3)
    project = world.section.project
    inspector = make_user("insp", Role.INSPECTOR)
    client = Client()
    client.force_login(inspector)
    r = client.get("/api/v1/supervision/projects?q=" + project.public_id)
    assert r.status_code == 200 and r.json()[0]["public_id"] == project.public_id
    r = client.get(f"/api/v1/supervision/projects/{project.public_id}/trail?limit=2")
    assert r.status_code == 200 and len(r.json()["events"]) == 2 and r.json()["next_after"]
    assert (
        client.get("/api/v1/supervision/projects/nope/trail").json()["code"] == "project_not_found"
    )
    # a cursor past the ledger's bigint is refused, not sent to the database
    r = client.get(f"/api/v1/supervision/projects/{project.public_id}/trail?after={10**20}")
    assert r.status_code == 422 and set(r.json()) == {"code", "message", "detail"}
    assert (
        client.get(f"/supervision/projects/{project.public_id}/?after={10**20}").status_code == 200
    )
    page = client.get(f"/supervision/projects/{project.public_id}/").content.decode()
    assert project.name in page and "跟踪此项目" in page
    r = client.post(f"/supervision/projects/{project.public_id}/", {"action": "track"})
    assert r.status_code == 302 and trail.is_tracking(inspector, project)
    assert project.name in client.get("/supervision/projects/").content.decode()
    bidder = make_user("b", Role.BIDDER)
    client.force_login(bidder)
    assert client.get(f"/supervision/projects/{project.public_id}/").status_code == 403
    assert client.get("/api/v1/supervision/tracking").status_code == 403


def test_dashboards(frozen_clock: Any) -> None:
    from ggzy.supervision import datasets
    from tests.supervision.test_datasets import history

    world = ew.make_world(frozen_clock, bidders=4)
    ew.open_section(world, ["100.00", "101.00", "102.00", "110.00"])
    regulator = make_user("reg", Role.REGULATOR)
    client = Client()
    client.force_login(regulator)
    page = client.get("/supervision/dashboard/").content.decode()
    assert "dashboard-data" in page and "echarts-6.1.0.min.js" in page and "CV" in page
    row = datasets.import_dataset(actor=regulator, name="看板", source_format="csv",
                                  data=history().encode())  # fmt: skip
    page = client.get(f"/supervision/datasets/{row.public_id}/dashboard/").content.decode()
    assert "co-bidding-graph" in page and "R0" in page  # the ring's members are in the graph
