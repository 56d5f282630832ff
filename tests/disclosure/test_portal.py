"""The portal's pages, the public records API and the change feed: filters, the timeline, the
feeds, bad input in the error shape, a constant number of queries per page, replaying the feed
into an empty store, and no secret on any page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from ggzy.award import services
from ggzy.disclosure import projector
from ggzy.disclosure.models import ProjectorState, PublicRecord
from ggzy.evaluation.models import CommitteeMember
from tests.api.support import assert_error
from tests.award import world as w
from tests.award.world import days

API = "/api/v1/disclosure"


@pytest.fixture
def world(db, region, frozen_clock):  # type: ignore[no-untyped-def]
    world = w.signed_world(frozen_clock)
    services.publish_candidates(actor=world.tenderer, section=world.section,
                                ends_at=w.SIGNED + days(3))  # fmt: skip
    projector.catch_up()
    world.at(w.SIGNED + days(1))  # the feed serves changes a moment old
    return world


def get(path: str, **query: str):  # type: ignore[no-untyped-def]
    return Client().get(path, query)


def table(path: str, **query: str) -> str:
    html = get(path, **query).content.decode()
    return html[html.index('id="records"') :]


def secrets_of(world: w.AwardWorld) -> list[str]:
    out = [m.name for m in CommitteeMember.objects.all()]
    for bidder in world.bidders:
        out += [v for v in (bidder.entity.legal_representative_id, bidder.entity.bank_account) if v]
    return out


def test_the_portal_lists_filters_and_links_the_timeline(world) -> None:  # type: ignore[no-untyped-def]
    project = world.section.project
    page = get("/disclosure/")
    assert page.status_code == 200
    html = page.content.decode()
    assert project.name in html and "中标候选人公示" in html
    code = project.trading_code
    assert f"/disclosure/projects/{code}/" in html
    only = table("/disclosure/", kind="opening")
    assert "开标记录" in only and "中标候选人公示" not in only
    assert "没有符合条件" in table("/disclosure/", region="110000")
    assert get("/disclosure/", region="abc").status_code == 400
    assert get("/disclosure/", page="0").status_code == 400
    assert get("/disclosure/", utm_source="x").status_code == 200  # not the page's: ignored
    timeline = get(f"/disclosure/projects/{code}/")
    assert timeline.status_code == 200
    text = timeline.content.decode()
    order = [text.index(t) for t in ("招标公告", "开标记录", "中标候选人公示")]
    assert order == sorted(order)  # in the order disclosed
    for price in w.PRICES:
        assert price in text  # the opening record's prices
    assert get("/disclosure/projects/NO-SUCH/").status_code == 404


def test_rss_and_atom(world) -> None:  # type: ignore[no-untyped-def]
    rss = get("/disclosure/feed.rss", kind="candidates")
    assert rss.status_code == 200 and rss["Content-Type"].startswith("application/rss+xml")
    body = rss.content.decode()
    assert "<rss" in body and "中标候选人公示" in body and "开标记录" not in body
    atom = get("/disclosure/feed.atom", category="works")
    assert atom.status_code == 200 and atom["Content-Type"].startswith("application/atom+xml")
    assert "<feed" in atom.content.decode()
    assert get("/disclosure/feed.rss", kind="nonsense").status_code == 400


def test_no_secret_on_any_page(world) -> None:  # type: ignore[no-untyped-def]
    code = world.section.project.trading_code
    pages = [
        "/disclosure/", f"/disclosure/projects/{code}/", "/disclosure/feed.rss",
        "/disclosure/feed.atom", f"{API}/records", f"{API}/changes?limit=1000",
        f"{API}/projects/{code}",
    ]  # fmt: skip
    hidden = secrets_of(world)
    assert hidden  # the committee's names at least
    for path in pages:
        body = Client().get(path).content.decode()
        for secret in hidden:
            assert secret not in body, (path, secret)


def test_the_records_api_and_its_refusals(world) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    out = client.get(f"{API}/records", {"kind": "announcement"}).json()
    assert out["page"] == 1 and not out["has_next"]
    assert [r["kind"] for r in out["records"]] == ["announcement"]
    key = out["records"][0]["key"]
    assert client.get(f"{API}/record", {"key": key}).json()["key"] == key
    assert_error(client.get(f"{API}/record", {"key": "announcement:nothing"}), 404,
                 "record_not_found")  # fmt: skip
    for query, code in [
        ({"colour": "red"}, "unknown_filter"),
        ({"kind": "secret"}, "bad_filter"),
        ({"region": "32010"}, "bad_filter"),
        ({"category": "'; DROP TABLE x; --"}, "bad_filter"),
        ({"date_from": "2026-13-01"}, "bad_date"),
        ({"date_from": "2026-12-10", "date_to": "2026-12-01"}, "bad_date"),
        ({"page": "-1"}, "bad_page"),
        ({"page": "x" * 50}, "bad_page"),
    ]:
        assert_error(client.get(f"{API}/records", query), 422, code)
    for query, code in [
        ({"after": "abc"}, "bad_cursor"),
        ({"after": "-1"}, "bad_cursor"),
        ({"after": "9" * 40}, "bad_cursor"),
        ({"limit": "0"}, "bad_limit"),
        ({"limit": "1001"}, "bad_limit"),
        ({"since": "1"}, "unknown_filter"),
    ]:
        assert_error(client.get(f"{API}/changes", query), 422, code)
    assert client.get(f"{API}/changes", {"limit": "1000"}).status_code == 200


def replay(client: Client, limit: int) -> tuple[dict[str, dict], int]:  # type: ignore[type-arg]
    store: dict[str, dict] = {}  # type: ignore[type-arg]
    cursor = "0"
    for pages in range(1, 1000):
        page = client.get(f"{API}/changes", {"after": cursor, "limit": str(limit)}).json()
        for row in page["records"]:
            store[row["key"]] = row
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return store, pages
    raise AssertionError("the feed never ended")


def test_replaying_the_feed_gives_every_record_exactly_once_even_as_they_change(world) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    store, pages = replay(client, limit=2)
    expected = {r.key: r.seq for r in PublicRecord.objects.all()}
    assert {k: v["seq"] for k, v in store.items()} == expected and pages > 1
    # the award changes the announcement, the candidates … : a reader resuming sees them again
    world.at(w.SIGNED + days(4))
    services.issue_award(actor=world.tenderer, section=world.section)
    projector.catch_up()
    world.at(w.SIGNED + days(4) + timedelta(seconds=5))
    cursor = str(max(expected.values()))
    page = client.get(f"{API}/changes", {"after": cursor, "limit": "1000"}).json()
    changed = {r["key"] for r in page["records"]}
    assert f"award:{world.section.public_id}" in changed
    assert f"announcement:{world.section.project.public_id}" in changed
    store2, _ = replay(client, limit=3)
    assert {k: v["seq"] for k, v in store2.items()} == {
        r.key: r.seq for r in PublicRecord.objects.all()
    }


def test_a_change_not_settled_yet_is_not_served(world, settings) -> None:  # type: ignore[no-untyped-def]
    settings.GGZY_FEED_DELAY_SECONDS = 60
    world.at(w.SIGNED + days(4))
    services.issue_award(actor=world.tenderer, section=world.section)
    projector.catch_up()
    newest = PublicRecord.objects.order_by("-seq").first()
    assert newest is not None
    page = Client().get(f"{API}/changes", {"limit": "1000"}).json()
    assert newest.key not in {r["key"] for r in page["records"]} and page["has_more"]
    world.at(w.SIGNED + days(4) + timedelta(seconds=61))
    page = Client().get(f"{API}/changes", {"limit": "1000"}).json()
    assert newest.key in {r["key"] for r in page["records"]}


def test_each_page_is_a_constant_number_of_queries(world) -> None:  # type: ignore[no-untyped-def]
    projector.catch_up()

    def count(path: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert Client().get(path).status_code == 200
        return len(ctx.captured_queries)

    code = world.section.project.trading_code
    paths = ["/disclosure/", f"/disclosure/projects/{code}/", "/disclosure/feed.rss",
             f"{API}/records", f"{API}/changes?limit=1000"]  # fmt: skip
    before = {p: count(p) for p in paths}
    # ten times the records
    rows = list(PublicRecord.objects.all())
    top = max(r.seq for r in rows)
    for n in range(10 * len(rows)):
        base = rows[n % len(rows)]
        PublicRecord.objects.create(
            key=f"{base.key}:copy{n}", seq=top + n + 1, kind=base.kind,
            project_code=base.project_code, title=base.title, body=base.body,
            published_at=base.published_at, changed_at=base.changed_at - timedelta(days=1),
            url=base.url, data=base.data, category=base.category, region=base.region,
        )  # fmt: skip
    ProjectorState.objects.update(record_seq=top + 10 * len(rows))  # as the projector would
    assert {p: count(p) for p in paths} == before


def test_a_rendered_page_is_kept_until_the_feed_position_moves(world) -> None:  # type: ignore[no-untyped-def]
    projector.catch_up()
    code = world.section.project.trading_code
    visitor = Client()
    for path in ("/disclosure/", f"/disclosure/projects/{code}/"):
        with CaptureQueriesContext(connection) as cold:
            first = visitor.get(path)
        with CaptureQueriesContext(connection) as hot:
            again = visitor.get(path)
        # the same page, from one query (the projector's position) instead of the lists'; each
        # response has its own CSRF token (the language form), rendered around the kept parts
        token = re.compile(rb'(name="csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]+')
        assert token.search(first.content) and token.search(again.content)
        assert token.sub(b"", first.content) == token.sub(b"", again.content)
        assert len(hot.captured_queries) == 1 < len(cold.captured_queries)
        # a link's other parameters (a campaign tag) read the same kept page
        with CaptureQueriesContext(connection) as tagged:
            assert visitor.get(path, {"utm_source": "weixin"}).status_code == 200
        assert len(tagged.captured_queries) == 1
    # a new public record moves the position: the next request shows it
    world.at(w.SIGNED + days(4))
    services.issue_award(actor=world.tenderer, section=world.section)
    page = visitor.get(f"/disclosure/projects/{code}/").content.decode()
    assert 'id="award-' in page
