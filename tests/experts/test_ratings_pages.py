"""Ratings through the pages and the CLI: the tenderer's and the center's rating forms for a
signed session, the expert's own history on /experts/me/, staff's view of it, and
``ggzy experts rate`` / ``history``."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from ggzy.experts.models import Rating
from ggzy.ledger.models import Event
from tests.api.support import event_types_since, last_seq
from tests.experts import test_ratings_world as rw


def _client(user):  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def world(db, region, frozen_clock):  # type: ignore[no-untyped-def]
    return rw.make_rating_world(frozen_clock)


def test_the_tenderer_rates_through_the_page_and_the_expert_sees_it(world):  # type: ignore[no-untyped-def]
    session, expert = world.sessions[0], world.experts[1]
    tenderer = _client(world.tenderer)
    # the list of sessions to rate, then the session's page with a form per expert
    listing = tenderer.get("/experts/ratings/").content.decode()
    assert f"/evaluation/{session.public_id}/rate/" in listing
    page = tenderer.get(f"/evaluation/{session.public_id}/rate/")
    assert page.status_code == 200
    text = page.content.decode()
    assert all(e.name in text for e in world.experts) and "招标人" in text
    assert text.count("提交评价") == 5
    # a form with a bad score is shown again with its error, nothing stored
    prefix = f"{expert.public_id}-tenderer"
    url = f"/evaluation/{session.public_id}/rate/{expert.public_id}/tenderer/"
    bad = tenderer.post(url, {f"{prefix}-score": "9"})
    assert bad.status_code == 400 and not Rating.objects.exists()
    # when the tenderer rates the expert 2 with a comment
    r = tenderer.post(url, {f"{prefix}-score": "2", f"{prefix}-comment": "准备不充分"})
    assert r.status_code == 302
    row = Rating.objects.get()
    assert (row.expert_id, row.session_id, row.rater_kind, row.score, row.comment) == (
        expert.pk, session.pk, "tenderer", 2, "准备不充分")  # fmt: skip
    after = tenderer.get(f"/evaluation/{session.public_id}/rate/").content.decode()
    assert after.count("提交评价") == 4 and "准备不充分" in after
    # then the expert sees the session and the rating on their own page, not who rated
    mine = _client(world.expert_user(1)).get("/experts/me/").content.decode()
    assert session.public_id in mine and "准备不充分" in mine and "招标人" in mine
    assert world.tenderer.username not in mine
    # and staff see it on the expert's record
    staff = _client(world.ev.pool_keeper).get(f"/staff/experts/{expert.public_id}/")
    assert "准备不充分" in staff.content.decode()


def test_the_center_rates_misconduct_and_the_record_shows_the_automatic_suspension(world):  # type: ignore[no-untyped-def]
    session, expert = world.sessions[0], world.experts[0]
    ops = _client(world.ops)
    prefix = f"{expert.public_id}-center"
    r = ops.post(f"/evaluation/{session.public_id}/rate/{expert.public_id}/center/",
                 {f"{prefix}-score": "3", f"{prefix}-misconduct": "on"})  # fmt: skip
    assert r.status_code == 302
    record = _client(world.ev.pool_keeper).get(f"/staff/experts/{expert.public_id}/")
    text = record.content.decode()
    assert "按评价规则自动" in text and "自动暂停：评价记录违规行为" in text


def test_strangers_get_not_found_and_are_recorded_when_they_post(world):  # type: ignore[no-untyped-def]
    session, expert = world.sessions[0], world.experts[0]
    other = _client(world.other_tenderer)
    assert other.get(f"/evaluation/{session.public_id}/rate/").status_code == 404
    assert (
        f"/evaluation/{session.public_id}/" not in other.get("/experts/ratings/").content.decode()
    )
    seq = last_seq()
    prefix = f"{expert.public_id}-tenderer"
    r = other.post(f"/evaluation/{session.public_id}/rate/{expert.public_id}/tenderer/",
                   {f"{prefix}-score": "1"})  # fmt: skip
    assert r.status_code == 404
    assert event_types_since(seq) == ["experts.rating_refused"] and not Rating.objects.exists()
    # a committee member sees the session but rates no side of it
    member = _client(world.expert_user(1))
    assert member.get(f"/evaluation/{session.public_id}/rate/").status_code == 403
    r = member.post(f"/evaluation/{session.public_id}/rate/{expert.public_id}/center/",
                    {f"{expert.public_id}-center-score": "1"})  # fmt: skip
    assert r.status_code == 403 and not Rating.objects.exists()


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("experts", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_the_cli_rates_and_shows_the_history(world):  # type: ignore[no-untyped-def]
    session, expert = world.sessions[0], world.experts[2]
    out = _run("rate", session.public_id, expert.public_id, "--kind", "center", "--score", "1",
               "--comment", "缺席", "--misconduct", "--as", world.ops.username)  # fmt: skip
    row = Rating.objects.get()
    expert.refresh_from_db()
    assert out.strip() == (f"rating {row.pk}: {expert.public_id} center 1; expert suspended until "
                           f"{expert.suspended_until.isoformat()}")  # type: ignore[union-attr]  # fmt: skip
    history = json.loads(_run("history", expert.public_id))
    assert [r["id"] for r in history["ratings"]] == [row.pk]
    assert [s["ratings"] for s in history["suspensions"]] == [[row.pk]]
    assert [s["session"] for s in history["sessions"]] == [session.public_id]
    # a refusal is one line with its code, and nothing is stored
    seq = last_seq()
    with pytest.raises(CommandError, match=r"^\[rating_exists\]"):
        _run("rate", session.public_id, expert.public_id, "--kind", "center", "--score", "3",
             "--as", world.ops.username)  # fmt: skip
    with pytest.raises(CommandError, match=r"^\[session_not_found\]"):
        _run("rate", session.public_id, expert.public_id, "--kind", "tenderer", "--score", "3",
             "--as", world.other_tenderer.username)  # fmt: skip
    assert Rating.objects.count() == 1
    assert list(Event.objects.filter(seq__gt=seq).values_list("event_type", flat=True)) == [
        "experts.rating_refused"]  # fmt: skip
