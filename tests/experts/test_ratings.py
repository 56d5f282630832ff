"""Rating the experts of a signed evaluation session (ggzy.experts.ratings) and the suspensions
the rating policy decides: who rates as which side, once, only after signing, only a committee
member; each refusal with its own code and nothing changed (the refused rater recorded for
supervision); misconduct and repeated low ratings suspend the expert, who is then not drawn."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest

from ggzy.core import clock
from ggzy.core.errors import DomainError
from ggzy.experts import ratings, services
from ggzy.experts.models import Expert, ExpertStatusChange, Rating
from ggzy.experts.selectors import draw_candidates
from ggzy.ledger.models import Event
from tests.api.support import db_state, event_types_since, last_seq
from tests.conftest import make_user
from tests.evaluation import world as w
from tests.experts import test_ratings_world as rw


@pytest.fixture
def world(db, region, frozen_clock):  # type: ignore[no-untyped-def]
    return rw.make_rating_world(frozen_clock)


def _rate(world: rw.RatingWorld, actor: Any, kind: str, score: int, *, expert: int = 0,
          session: int = -1, **kw: Any) -> Rating:  # fmt: skip
    return ratings.record_rating(
        actor=actor, session_ref=world.sessions[session].public_id,
        expert_ref=world.experts[expert].public_id, rater_kind=kind, score=score, **kw,
    )  # fmt: skip


def _payload(event: Event) -> dict[str, Any]:
    return json.loads(event.payload)  # type: ignore[no-any-return]


def _refused(fn, code: str, recorded: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    """``fn`` refused with ``code``: no row of any guarded table changed, and the only ledger
    events are the refusals ``recorded`` for supervision."""
    seq = last_seq()
    before = db_state()
    with pytest.raises(DomainError) as info:
        fn()
    assert info.value.code == code, info.value.as_dict()
    assert db_state(upto_seq=seq) == before
    assert event_types_since(seq) == list(recorded)
    return info.value


# --- who rates, once, after signing ---------------------------------------------------------------


def test_the_center_and_the_tenderer_each_rate_an_expert_once(world):  # type: ignore[no-untyped-def]
    # given a signed session and one of its experts
    session, expert = world.sessions[0], world.experts[1]
    seq = last_seq()
    # when the organizing desk and the section's tenderer rate the expert
    center = _rate(world, world.ops, "center", 4, expert=1, comment="准时，认真")
    tenderer = _rate(world, world.tenderer, "tenderer", 5, expert=1)
    # then each side's rating is stored against the session, by whom only as a reference
    rows = list(Rating.objects.filter(expert=expert).order_by("pk").values_list(
        "session_id", "session_ref", "rater_kind", "score", "comment", "misconduct", "rated_by",
        "rated_at", "suspension_id"))  # fmt: skip
    assert rows == [
        (session.pk, session.public_id, "center", 4, "准时，认真", False, f"user:{world.ops.pk}",
         clock.now(), None),
        (session.pk, session.public_id, "tenderer", 5, "", False, f"user:{world.tenderer.pk}",
         clock.now(), None),
    ]  # fmt: skip
    events = list(Event.objects.filter(seq__gt=seq).order_by("seq"))
    assert [(e.event_type, e.subject, e.actor) for e in events] == [
        ("experts.expert_rated", f"expert:{expert.public_id}", f"user:{world.ops.pk}"),
        ("experts.expert_rated", f"expert:{expert.public_id}", f"user:{world.tenderer.pk}"),
    ]
    assert [_payload(e) for e in events] == [
        {"rating": center.pk, "session": session.public_id, "rater": "center", "score": 4,
         "misconduct": False},
        {"rating": tenderer.pk, "session": session.public_id, "rater": "tenderer", "score": 5,
         "misconduct": False},
    ]  # fmt: skip
    # and the expert stays drawable: good ratings change nothing else
    expert.refresh_from_db()
    assert (expert.status, expert.suspended_until) == ("active", None)
    # when either side rates the same expert of the same session again: refused
    _refused(lambda: _rate(world, world.ops, "center", 1, expert=1), "rating_exists")
    _refused(lambda: _rate(world, world.tenderer, "tenderer", 1, expert=1), "rating_exists")


def test_a_confirmed_agent_rates_as_the_tenderer(world):  # type: ignore[no-untyped-def]
    # given the project's agent, appointed and confirmed by the tenderer
    from ggzy.registry.models import Membership
    from ggzy.tendering.models import Project

    agent_user = make_user("agent_admin", "agent")
    agent = w.register(agent_user, 950, name="南京某招标代理有限公司", is_bidder=False,
                       is_agent=True)  # fmt: skip
    project = world.sessions[0].section.project
    # the world's project was registered by its tenderer: name the agent on it afterwards
    Project.objects.filter(pk=project.pk).update(agent=agent)
    assert Membership.objects.filter(user=agent_user, entity=agent).exists()
    # while the appointment is unconfirmed the agent is no rater of the session
    _refused(lambda: _rate(world, agent_user, "tenderer", 4), "session_not_found",
             ("experts.rating_refused",))  # fmt: skip
    # once confirmed, the agent's member rates as the tenderer
    Project.objects.filter(pk=project.pk).update(agency_confirmed_at=clock.now())
    row = _rate(world, agent_user, "tenderer", 4)
    assert (row.rater_kind, row.rated_by) == ("tenderer", f"user:{agent_user.pk}")


def test_a_session_is_rated_only_once_its_report_is_signed(db, region, frozen_clock):  # type: ignore[no-untyped-def]
    # given a session whose report is built but not signed
    world = rw.make_rating_world(frozen_clock, sign_last=False)
    assert world.sessions[0].status == "report"
    # then no side may rate yet
    error = _refused(lambda: _rate(world, world.ops, "center", 4), "session_not_signed")
    assert error.detail == {"status": "report"}
    _refused(lambda: _rate(world, world.tenderer, "tenderer", 4), "session_not_signed")
    # once every member signed, it may
    w.sign_all(world.ev, world.sessions[0])
    assert _rate(world, world.ops, "center", 4).score == 4


def test_only_an_expert_of_the_committee_is_rated(world):  # type: ignore[no-untyped-def]
    # given an expert in the pool who did not sit on the session
    outsider = w.make_experts(world.ev, 1)[-1].expert
    session = world.sessions[0].public_id
    for ref in (outsider.public_id, "0" * 32, "x" * 200):
        _refused(lambda ref=ref: ratings.record_rating(
            actor=world.ops, session_ref=session, expert_ref=ref, rater_kind="center",
            score=3), "not_on_committee")  # fmt: skip


@pytest.mark.parametrize(
    ("who", "kind", "code"),
    [
        ("bidder", "tenderer", "session_not_found"),  # a bidder of the section
        ("other_tenderer", "tenderer", "session_not_found"),  # another project's tenderer
        ("center_admin", "center", "not_a_rater"),  # sees the session, rates no side of it
        ("regulator", "center", "not_a_rater"),
        ("committee_expert", "center", "not_a_rater"),  # a fellow member of the committee
        ("ops", "tenderer", "rater_kind_not_yours"),
        ("tenderer", "center", "rater_kind_not_yours"),
    ],
)
def test_anyone_else_is_refused_and_the_attempt_recorded(world, who, kind, code):  # type: ignore[no-untyped-def]
    actors = {
        "bidder": lambda: world.ev.bidding.bidders[0].user,
        "other_tenderer": lambda: world.other_tenderer,
        "center_admin": lambda: world.ev.pool_keeper,
        "regulator": lambda: make_user("regulator_x", "regulator"),
        "committee_expert": lambda: world.expert_user(1),
        "ops": lambda: world.ops,
        "tenderer": lambda: world.tenderer,
    }
    actor = actors[who]()
    seq = last_seq()
    _refused(lambda: _rate(world, actor, kind, 1), code, ("experts.rating_refused",))
    refusal = Event.objects.get(seq__gt=seq)
    assert (refusal.subject, refusal.actor) == (
        f"evaluation:{world.sessions[0].public_id}", f"user:{actor.pk}")  # fmt: skip
    assert _payload(refusal) == {"refused": True, "reason": code, "rater_kind": kind,
                                 "expert": world.experts[0].public_id}  # fmt: skip


def test_an_expert_is_never_rated_by_their_own_account(world):  # type: ignore[no-untyped-def]
    # given an expert of the committee whose account is later given the organizing desk's role
    from ggzy.accounts.services import grant_role

    me = world.expert_user(2)
    grant_role(actor=make_user("accounts_admin", "center_admin"), user=me,
               role="center_operations")  # fmt: skip
    me = type(me).objects.get(pk=me.pk)
    _refused(lambda: _rate(world, me, "center", 5, expert=2), "own_record",
             ("experts.rating_refused",))  # fmt: skip


def test_anonymous_and_bad_input_are_refused_without_a_trace(world):  # type: ignore[no-untyped-def]
    from django.contrib.auth.models import AnonymousUser

    _refused(lambda: _rate(world, AnonymousUser(), "center", 3), "not_authenticated")
    for score in (0, 6, True, "5", 2.5):
        _refused(lambda score=score: _rate(world, world.ops, "center", score), "bad_score")
    _refused(lambda: _rate(world, world.ops, "supervisor", 3), "bad_rater_kind")
    _refused(lambda: _rate(world, world.ops, "center", 3, comment="长" * 1001), "too_long")
    _refused(lambda: ratings.record_rating(actor=world.ops, session_ref="nope",
                                           expert_ref=world.experts[0].public_id,
                                           rater_kind="center", score=3), "session_not_found")  # fmt: skip


# --- the rating policy: suspension ------------------------------------------------------------------


def _drawable(expert: Expert, day: date) -> bool:
    code = expert.primary_specialty.code
    return expert.pk in set(draw_candidates(specialties=[code], day=day))


def test_misconduct_suspends_the_expert_at_once_and_the_draw_skips_them(world):  # type: ignore[no-untyped-def]
    # given an expert of a signed session, drawable today
    expert, today = world.experts[3], clock.today()
    assert _drawable(expert, today)
    seq = last_seq()
    # when the center records misconduct
    row = _rate(world, world.ops, "center", 3, expert=3, comment="评标中接打私人电话",
                misconduct=True)  # fmt: skip
    # then the expert is suspended for 365 days from today (the last day included)
    until = today + timedelta(days=364)
    expert.refresh_from_db()
    assert (expert.status, expert.suspended_until) == ("suspended", until)
    assert set(expert.specialty_rows.values_list("status", "suspended_until")) == {
        ("suspended", until)}  # fmt: skip
    change = ExpertStatusChange.objects.filter(expert=expert).order_by("-pk").first()
    assert change is not None
    assert (change.from_status, change.to_status, change.until, change.actor) == (
        "active", "suspended", until, "system:rating-policy")  # fmt: skip
    assert change.reason == f"自动暂停：评价记录违规行为，暂停365天（评价 #{row.pk}）"
    row.refresh_from_db()
    assert row.suspension_id == change.pk
    # and the ledger has the rating, then the suspension by the system naming its cause
    events = list(Event.objects.filter(seq__gt=seq).order_by("seq"))
    assert [(e.event_type, e.actor) for e in events] == [
        ("experts.expert_rated", f"user:{world.ops.pk}"),
        ("experts.expert_suspended", "system:rating-policy"),
    ]
    assert _payload(events[1]) == {
        "from": "active", "to": "suspended", "reason": change.reason, "until": until.isoformat(),
        "policy": "rating", "causes": ["misconduct"], "ratings": [row.pk],
        "sessions": [world.sessions[0].public_id],
        "thresholds": {"low_score": 2, "low_sessions": 3, "window_days": 365,
                       "suspend_days": 180, "misconduct_suspend_days": 365},
    }  # fmt: skip
    # and the draw skips the expert until the suspension ends, then finds them again
    assert not _drawable(expert, today)
    assert not _drawable(expert, until)
    assert _drawable(expert, until + timedelta(days=1))
    # the tenderer's good rating afterwards changes nothing
    _rate(world, world.tenderer, "tenderer", 5, expert=3)
    expert.refresh_from_db()
    assert expert.suspended_until == until


def test_low_ratings_from_three_sessions_suspend_for_180_days(db, region, frozen_clock):  # type: ignore[no-untyped-def]
    # given three signed sessions of the same committee
    world = rw.make_rating_world(frozen_clock, sessions=3)
    expert = world.experts[4]
    # when both sides rate the expert low on the first two sessions
    first = [_rate(world, world.ops, "center", 2, expert=4, session=0),
             _rate(world, world.tenderer, "tenderer", 1, expert=4, session=0),
             _rate(world, world.ops, "center", 2, expert=4, session=1)]  # fmt: skip
    # then two sessions are not yet three: the expert is still drawable
    expert.refresh_from_db()
    assert expert.status == "active"
    assert not ExpertStatusChange.objects.filter(expert=expert, to_status="suspended").exists()
    # when the third session's rating is low too
    seq = last_seq()
    third = _rate(world, world.tenderer, "tenderer", 2, expert=4, session=2, comment="敷衍")
    # then the expert is suspended for 180 days, naming the four low ratings counted
    today = clock.today()
    until = today + timedelta(days=179)
    expert.refresh_from_db()
    assert (expert.status, expert.suspended_until) == ("suspended", until)
    counted = sorted([r.pk for r in first] + [third.pk])
    event = Event.objects.get(seq__gt=seq, event_type="experts.expert_suspended")
    payload = _payload(event)
    assert (payload["causes"], payload["ratings"], payload["until"]) == (
        ["low_ratings"], counted, until.isoformat())  # fmt: skip
    assert payload["sessions"] == sorted(s.public_id for s in world.sessions)
    refs = "、".join(f"#{n}" for n in counted)
    assert payload["reason"] == f"自动暂停：365天内3次评标评分不高于2分，暂停180天（评价 {refs}）"
    linked = Rating.objects.filter(suspension__isnull=False).values_list("pk", flat=True)
    assert sorted(linked) == counted
    assert not _drawable(expert, today) and _drawable(expert, until + timedelta(days=1))
    # and the other experts, rated well, are untouched
    assert Expert.objects.filter(status="suspended").count() == 1


def test_a_running_longer_suspension_is_never_shortened(world):  # type: ignore[no-untyped-def]
    # given an expert of the session suspended by staff for longer than misconduct would
    expert, keeper = world.experts[0], world.ev.pool_keeper
    long_until = clock.today() + timedelta(days=500)
    services.suspend_expert(actor=keeper, expert=expert, reason="另案调查", until=long_until)
    seq = last_seq()
    # when misconduct is recorded
    row = _rate(world, world.ops, "center", 1, misconduct=True)
    # then the suspension stays as it was, and the rating caused nothing
    expert.refresh_from_db()
    assert (expert.status, expert.suspended_until, expert.status_reason) == (
        "suspended", long_until, "另案调查")  # fmt: skip
    assert event_types_since(seq) == ["experts.expert_rated"]
    row.refresh_from_db()
    assert row.suspension_id is None


def test_an_indefinite_suspension_is_kept(world):  # type: ignore[no-untyped-def]
    expert = world.experts[0]
    services.suspend_expert(actor=world.ev.pool_keeper, expert=expert, reason="无限期暂停")
    _rate(world, world.ops, "center", 1, misconduct=True)
    expert.refresh_from_db()
    assert (expert.status, expert.suspended_until) == ("suspended", None)


def test_a_shorter_suspension_is_extended(world):  # type: ignore[no-untyped-def]
    # given an expert suspended by staff for ten days
    expert = world.experts[0]
    short = clock.today() + timedelta(days=10)
    services.suspend_expert(actor=world.ev.pool_keeper, expert=expert, reason="迟到", until=short)
    seq = last_seq()
    # when misconduct is recorded, the suspension runs to the misconduct's end
    row = _rate(world, world.ops, "center", 2, misconduct=True)
    until = clock.today() + timedelta(days=364)
    expert.refresh_from_db()
    assert (expert.status, expert.suspended_until) == ("suspended", until)
    event = Event.objects.get(seq__gt=seq, event_type="experts.suspension_extended")
    payload = _payload(event)
    assert (payload["from"], payload["to"], payload["previous_until"], payload["until"]) == (
        "suspended", "suspended", short.isoformat(), until.isoformat())  # fmt: skip
    assert payload["ratings"] == [row.pk]
    assert event.actor == "system:rating-policy"
    assert list(expert.status_history.order_by("pk").values_list("to_status", "until"))[-2:] == [
        ("suspended", short), ("suspended", until)]  # fmt: skip


def test_a_retired_expert_is_rated_but_not_suspended(world):  # type: ignore[no-untyped-def]
    expert = world.experts[0]
    services.retire_expert(actor=world.ev.pool_keeper, expert=expert, reason="本人申请退出")
    seq = last_seq()
    row = _rate(world, world.ops, "center", 1, misconduct=True)
    expert.refresh_from_db()
    assert (expert.status, row.suspension_id) == ("retired", None)
    assert event_types_since(seq) == ["experts.expert_rated"]


def test_the_thresholds_come_from_settings(world, settings):  # type: ignore[no-untyped-def]
    # given a stricter configuration: one session rated 3 or lower suspends for 30 days
    settings.GGZY_EXPERT_LOW_RATING = 3
    settings.GGZY_EXPERT_LOW_RATINGS_TO_SUSPEND = 1
    settings.GGZY_EXPERT_SUSPEND_DAYS = 30
    expert = world.experts[1]
    _rate(world, world.ops, "center", 3, expert=1)
    expert.refresh_from_db()
    assert (expert.status, expert.suspended_until) == (
        "suspended", clock.today() + timedelta(days=29))  # fmt: skip


# --- the migration that linked ratings to sessions ------------------------------------------------


def test_the_migration_links_old_ratings_naming_a_session_and_keeps_the_others(world):  # type: ignore[no-untyped-def]
    import importlib

    from django.apps import apps

    migration = importlib.import_module("ggzy.experts.migrations.0003_rating_session")
    # given ratings stored before sessions were linked: one naming a session's public id, one a
    # free-text reference of the time
    session, expert = world.sessions[0], world.experts[0]
    old = {"expert": expert, "session": None, "rater_kind": "center", "score": 4,
           "rated_by": "user:1", "rated_at": clock.now()}  # fmt: skip
    named = Rating.objects.create(session_ref=session.public_id, **old)
    legacy = Rating.objects.create(session_ref="ZB-2025-017", **old)
    # when the migration's data step runs
    migration.link_sessions(apps, None)
    # then the first is linked to its session, the second kept as it was
    named.refresh_from_db()
    legacy.refresh_from_db()
    assert (named.session_id, named.session_ref) == (session.pk, session.public_id)
    assert (legacy.session_id, legacy.session_ref) == (None, "ZB-2025-017")


def test_the_tenderers_representative_on_the_committee_does_not_rate_its_fellow_experts(world):  # type: ignore[no-untyped-def]
    # given the tenderer's own account sat on the committee as its representative (招标人代表)
    from ggzy.evaluation.models import CommitteeMember
    from ggzy.evaluation.states import MemberKind

    session, tenderer = world.sessions[0], world.tenderer
    CommitteeMember.objects.create(session=session, kind=MemberKind.TENDERER_REP, user=tenderer,
                                   ref=f"rep-{tenderer.pk}", name="招标人代表",
                                   joined_at=clock.now())  # fmt: skip
    assert ratings.rater_kinds(tenderer, session) == set()
    # when it rates an expert as the tenderer / then refused, recorded, nothing rated
    _refused(lambda: _rate(world, tenderer, "tenderer", 1), "not_a_rater",
             ("experts.rating_refused",))  # fmt: skip
    assert not Rating.objects.exists()
