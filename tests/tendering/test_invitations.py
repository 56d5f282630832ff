"""Invited tender (邀请招标, 法17): invitations through the service and the API, their refusals
(each changing nothing), publication needing three invitees, bids from invitees only, and the
secrecy of who was invited (R42)."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from ggzy.accounts.roles import Role
from ggzy.accounts.services import issue_token
from ggzy.bidding import bids
from ggzy.bidding.models import Bid
from ggzy.core import clock
from ggzy.core.errors import Conflict, DomainError, PermissionDenied
from ggzy.ledger.models import Event
from ggzy.registry.services import set_entity_status
from ggzy.tendering import invitations
from ggzy.tendering import services as tendering
from ggzy.tendering.models import Invitation, Project
from tests.api.support import api_client, assert_error, event_types_since, last_seq, register
from tests.bidding import world as w
from tests.conftest import make_user

BASE = "/api/v1/tendering"


@pytest.fixture
def world(db, region, frozen_clock):  # type: ignore[no-untyped-def]
    """Four bidders: three to invite, one left out."""
    return w.make_world(n_bidders=4)


def accepted(world: w.World, **overrides: Any) -> Project:
    """An invited tender accepted by the center, its tender documents uploaded."""
    project = tendering.register_project(
        actor=world.tenderer,
        tenderer=world.tenderer_entity,
        terms=w.project_terms(procedure="invited_tender", **overrides),
    )
    tendering.submit_project(actor=world.tenderer, project=project)
    tendering.accept_project(actor=world.intake, project=project)
    tendering.upload_document(
        actor=world.tenderer, project=project, kind="tender", name="招标文件.txt",
        stream=io.BytesIO("第一章 投标邀请书\n".encode()),
    )  # fmt: skip
    return Project.objects.get(pk=project.pk)


def publish(world: w.World, project: Project, days: int = 21) -> Project:
    now = clock.now()
    tendering.publish_project(
        actor=world.tenderer, project=project, announcement="投标邀请书",
        documents_from=now, documents_until=now + timedelta(days=6),
        bid_deadline=now + timedelta(days=days),
    )  # fmt: skip
    project = Project.objects.get(pk=project.pk)
    world.project = project
    return project


def usccs(world: w.World, *numbers: int) -> list[str]:
    return [world.bidders[n].entity.uscc for n in numbers]


def invited_and_published(world: w.World) -> Project:
    project = accepted(world)
    invitations.invite_bidders(actor=world.tenderer, project=project, usccs=usccs(world, 0, 1, 2))
    return publish(world, project)


def refused(code: str, call: Any) -> DomainError:
    """``call`` is refused with ``code`` and writes nothing: no invitation, no ledger event."""
    rows, seq = list(Invitation.objects.values_list("pk", flat=True)), last_seq()
    with pytest.raises(DomainError) as caught:
        call()
    assert caught.value.code == code
    assert list(Invitation.objects.values_list("pk", flat=True)) == rows
    assert event_types_since(seq) == []
    return caught.value


# --- the service ---------------------------------------------------------------------------------


def test_three_bidders_are_invited_each_with_a_ledger_event(world):  # type: ignore[no-untyped-def]
    # given an accepted invited tender
    project, seq = accepted(world), last_seq()
    # when the tenderer invites three bidders
    made = invitations.invite_bidders(
        actor=world.tenderer, project=project, usccs=usccs(world, 2, 0, 1)
    )
    # then three invitations, in the order named, one event each on its own subject
    assert [i.entity for i in made] == [world.bidders[n].entity for n in (2, 0, 1)]
    assert all(i.invited_by == world.tenderer and i.invited_at == clock.now() for i in made)
    events = list(Event.objects.filter(seq__gt=seq).order_by("seq"))
    assert [e.event_type for e in events] == ["tendering.bidder_invited"] * 3
    assert [e.subject for e in events] == [f"invitation:{i.public_id}" for i in made]
    payloads = [json.loads(e.payload) for e in events]
    assert [p["entity"] for p in payloads] == usccs(world, 2, 0, 1)
    assert {p["project"] for p in payloads} == {project.public_id}
    assert {p["by"] for p in payloads} == {world.tenderer.username}
    # who acted and from where is not in clear in the public part (R42)
    assert all(e.actor.startswith("sealed:") and e.client_addr == "" for e in events)
    assert len({p["salt"] for p in payloads}) == 3


def test_more_may_be_invited_later_one_at_a_time(world):  # type: ignore[no-untyped-def]
    project = invited_and_published(world)
    made = invitations.invite_bidders(actor=world.tenderer, project=project, usccs=usccs(world, 3))
    assert [i.entity for i in made] == [world.bidders[3].entity]
    assert project.invitations.count() == 4


@pytest.mark.parametrize(
    ("numbers", "code", "extra"),
    [
        ((0, 1), "too_few_invitees", {"minimum": 3, "invited": 0, "named": 2}),
        ((), "too_few_invitees", {"minimum": 3}),
        ((0, 1, 0), "duplicate_invitee", None),
    ],
)
def test_fewer_than_three_or_duplicates_are_refused(world, numbers, code, extra):  # type: ignore[no-untyped-def]
    project = accepted(world)
    error = refused(code, lambda: invitations.invite_bidders(
        actor=world.tenderer, project=project, usccs=usccs(world, *numbers)))  # fmt: skip
    assert error.status == 422
    if extra is not None:
        assert error.detail == extra
    else:
        assert error.detail == {"uscc": world.bidders[0].entity.uscc}


def test_an_invitee_named_again_is_a_duplicate(world):  # type: ignore[no-untyped-def]
    project = invited_and_published(world)
    error = refused("duplicate_invitee", lambda: invitations.invite_bidders(
        actor=world.tenderer, project=project, usccs=usccs(world, 3, 1)))  # fmt: skip
    assert error.detail == {"uscc": world.bidders[1].entity.uscc}


def test_unknown_not_a_bidder_suspended_and_the_tenderer_itself_are_refused(world):  # type: ignore[no-untyped-def]
    project = accepted(world)
    agency_user = make_user("agency_admin", Role.AGENT)
    agency = register(
        agency_user, 950, name="江苏某招标代理有限公司", is_bidder=False, is_agent=True
    )
    set_entity_status(actor=make_user("reg", Role.REGULATOR), entity=world.bidders[3].entity,
                      status="suspended", reason="行政处罚")  # fmt: skip
    two = usccs(world, 0, 1)
    cases = [
        ("91350100M000100Y43", "unknown_invitee", 422),  # valid, not registered
        ("not-a-uscc", "unknown_invitee", 422),
        (agency.uscc, "invitee_not_a_bidder", 422),
        (world.bidders[3].entity.uscc, "invitee_suspended", 409),
    ]
    for uscc, code, status in cases:
        error = refused(code, lambda u=uscc: invitations.invite_bidders(
            actor=world.tenderer, project=project, usccs=[*two, u]))  # fmt: skip
        assert (error.status, error.detail) == (status, {"uscc": uscc})


def test_the_tenderer_or_its_agent_cannot_be_invited(world):  # type: ignore[no-untyped-def]
    # given a tenderer that is also registered as a bidder, and an agent that is too
    world.tenderer_entity.is_bidder = True
    world.tenderer_entity.save(update_fields=["is_bidder"])
    agent_user = make_user("agent_admin", Role.AGENT)
    agent = register(agent_user, 951, name="江苏某代理咨询有限公司", is_agent=True)
    project = tendering.register_project(
        actor=world.tenderer, tenderer=world.tenderer_entity, agent=agent,
        terms=w.project_terms(procedure="invited_tender"),
    )  # fmt: skip
    for entity in (world.tenderer_entity, agent):
        error = refused("invitee_is_tenderer", lambda e=entity: invitations.invite_bidders(
            actor=world.tenderer, project=project, usccs=[*usccs(world, 0, 1), e.uscc]))  # fmt: skip
        assert error.detail == {"uscc": entity.uscc}


def test_an_open_tender_takes_no_invitations(world):  # type: ignore[no-untyped-def]
    project = tendering.register_project(
        actor=world.tenderer, tenderer=world.tenderer_entity, terms=w.project_terms()
    )
    error = refused("not_invited_tender", lambda: invitations.invite_bidders(
        actor=world.tenderer, project=project, usccs=usccs(world, 0, 1, 2)))  # fmt: skip
    assert (error.status, error.detail) == (409, {"procedure": "open_tender"})


def test_no_invitation_after_the_deadline(world, frozen_clock):  # type: ignore[no-untyped-def]
    project = invited_and_published(world)
    frozen_clock.set(world.section.bid_deadline)
    refused("deadline_passed", lambda: invitations.invite_bidders(
        actor=world.tenderer, project=project, usccs=usccs(world, 3)))  # fmt: skip


def test_only_the_tenderer_or_its_confirmed_agent_invites(world):  # type: ignore[no-untyped-def]
    # given an invited tender an agent registered, not yet confirmed by the tenderer
    agent_user = make_user("agent_admin", Role.AGENT)
    agent = register(agent_user, 952, name="江苏某招标代理有限公司", is_bidder=False, is_agent=True)
    project = tendering.register_project(
        actor=agent_user, tenderer=world.tenderer_entity, agent=agent,
        terms=w.project_terms(procedure="invited_tender"),
    )  # fmt: skip
    invite = usccs(world, 0, 1, 2)
    # then the agent may not invite yet, a bidder or the center never
    refused("agency_unconfirmed", lambda: invitations.invite_bidders(
        actor=agent_user, project=project, usccs=invite))  # fmt: skip
    for outsider in (world.bidders[0].user, world.intake):
        with pytest.raises(PermissionDenied):
            invitations.invite_bidders(actor=outsider, project=project, usccs=invite)
    assert not Invitation.objects.exists()
    # when the tenderer confirms the agent / then the agent invites
    tendering.confirm_agency(actor=world.tenderer, project=project)
    project.refresh_from_db()
    made = invitations.invite_bidders(actor=agent_user, project=project, usccs=invite)
    assert [i.invited_by for i in made] == [agent_user] * 3


def test_publishing_needs_three_invitees(world):  # type: ignore[no-untyped-def]
    # given an accepted invited tender without invitations
    project = accepted(world)
    seq = last_seq()
    # when the tenderer publishes / then it is refused and the project stays accepted
    with pytest.raises(Conflict) as caught:
        publish(world, project)
    assert caught.value.code == "too_few_invitations"
    assert caught.value.detail == {"minimum": 3, "invited": 0}
    assert Project.objects.get(pk=project.pk).status == "accepted"
    assert "tendering.project_published" not in event_types_since(seq)
    # when three are invited / then it publishes
    invitations.invite_bidders(actor=world.tenderer, project=project, usccs=usccs(world, 0, 1, 2))
    assert publish(world, project).status == "published"


# --- bids ----------------------------------------------------------------------------------------


def _submit(world: w.World, n: int, tmp_path: Path) -> Bid:
    bidder = world.bidders[n]
    path = w.sealed(bidder, world.section, tmp_path / f"b{n}")
    return bids.submit_bid(actor=bidder.user, section_id=world.section.public_id, upload=path)


def test_an_invitee_bids_and_anyone_else_is_refused_not_invited(world, tmp_path):  # type: ignore[no-untyped-def]
    # given an invited tender published with bidders 0, 1, 2 invited
    invited_and_published(world)
    # when an invitee bids / then the bid is received
    assert _submit(world, 0, tmp_path).status == "received"
    # when bidder 3 (not invited) bids / then not_invited, recorded, and no bid stored
    count, seq = Bid.objects.count(), last_seq()
    with pytest.raises(PermissionDenied) as caught:
        _submit(world, 3, tmp_path)
    assert caught.value.code == "not_invited"
    assert Bid.objects.count() == count
    assert event_types_since(seq) == ["bidding.bid_refused"]
    refusal = Event.objects.get(seq__gt=seq)
    assert json.loads(refusal.payload)["reason"] == "not_invited"
    # before the deadline the refusal names neither the section nor who tried (R42)
    assert refusal.subject == "bidding:submission" and refusal.actor.startswith("sealed:")


def test_a_bidder_invited_after_publication_may_bid(world, tmp_path):  # type: ignore[no-untyped-def]
    project = invited_and_published(world)
    invitations.invite_bidders(actor=world.tenderer, project=project, usccs=usccs(world, 3))
    assert _submit(world, 3, tmp_path).status == "received"


# --- the API and the secrecy ----------------------------------------------------------------------


def _token(user: Any) -> str:
    return issue_token(actor=user, name="t")[1]


def test_api_invites_and_lists_by_who_asks(world):  # type: ignore[no-untyped-def]
    api = api_client()
    project = accepted(world)
    url = f"{BASE}/projects/{project.public_id}/invitations"
    tenderer = _token(world.tenderer)
    # when the tenderer invites over HTTP
    r = api.call("POST", url, {"entities": usccs(world, 0, 1, 2)}, token=tenderer)
    # then 201 with the invitations made
    assert r.status_code == 201, r.content
    made = r.json()
    assert [i["entity"]["uscc"] for i in made] == usccs(world, 0, 1, 2)
    assert set(made[0]) == {"public_id", "entity", "invited_at"}
    publish(world, project)
    # the tenderer and center staff see all three
    for user in (world.tenderer, world.intake):
        listed = api.call("GET", url, token=_token(user)).json()
        assert [i["entity"]["uscc"] for i in listed] == usccs(world, 0, 1, 2)
    # an invitee sees its own invitation only; a bidder not invited sees none
    mine = api.call("GET", url, token=_token(world.bidders[1].user)).json()
    assert [i["entity"]["uscc"] for i in mine] == usccs(world, 1)
    assert api.call("GET", url, token=_token(world.bidders[3].user)).json() == []
    # anonymous: sign in first
    assert_error(api.call("GET", url), 401, "not_authenticated")


def test_api_refusals_are_in_the_error_shape_and_change_nothing(world):  # type: ignore[no-untyped-def]
    api = api_client()
    project = accepted(world)
    url = f"{BASE}/projects/{project.public_id}/invitations"
    tenderer, bidder, intake = (_token(u) for u in (world.tenderer, world.bidders[0].user,
                                                    world.intake))  # fmt: skip
    seq = last_seq()
    body = assert_error(api.call("POST", url, {"entities": usccs(world, 0, 1)}, token=tenderer),
                        422, "too_few_invitees")  # fmt: skip
    assert body["detail"] == {"minimum": 3, "invited": 0, "named": 2}
    assert_error(api.call("POST", url, {"entities": [*usccs(world, 0, 1), "91350100M000100Y43"]},
                          token=tenderer), 422, "unknown_invitee")  # fmt: skip
    assert_error(api.call("POST", url, {"entities": "9135"}, token=tenderer), 422,
                 "validation_error")  # fmt: skip
    assert_error(api.call("POST", url, {"entities": usccs(world, 0, 1, 2)},
                          token=bidder), 404, "project_not_found")  # fmt: skip
    assert_error(api.call("POST", url, {"entities": usccs(world, 0, 1, 2)},
                          token=intake), 403, "forbidden")  # fmt: skip
    assert_error(api.call("POST", f"{BASE}/projects/{'0' * 32}/invitations",
                          {"entities": usccs(world, 0, 1, 2)}, token=tenderer),
                 404, "project_not_found")  # fmt: skip
    assert_error(api.call("POST", url, {"entities": usccs(world, 0, 1, 2)}), 401,
                 "not_authenticated")  # fmt: skip
    assert event_types_since(seq) == []
    assert not Invitation.objects.exists()
    body = assert_error(api.call("POST", f"{BASE}/projects/{project.public_id}/publish",
                                 {"announcement": "投标邀请书",
                                  "documents_until": (clock.now() + timedelta(days=6)).isoformat(),
                                  "bid_deadline": (clock.now() + timedelta(days=21)).isoformat()},
                                 token=tenderer), 409, "too_few_invitations")  # fmt: skip
    assert body["detail"] == {"minimum": 3, "invited": 0}


def test_the_public_project_shows_an_invited_tender_but_not_the_invitees(world):  # type: ignore[no-untyped-def]
    api = api_client()
    project = invited_and_published(world)
    invited = usccs(world, 0, 1, 2)
    public = api.call("GET", f"{BASE}/projects/{project.public_id}")
    assert public.json()["procedure"] == "invited_tender"
    listed = api.call("GET", f"{BASE}/projects", query={"q": project.name}).json()["items"]
    timeline = api.call("GET", f"{BASE}/projects/{project.public_id}/timeline")
    feed = api.call("GET", "/api/v1/ledger/events", query={"limit": "500"})
    for response in (public, timeline, feed):
        assert response.status_code == 200
    for text in (public.content.decode(), timeline.content.decode(), json.dumps(listed)):
        assert not any(u in text for u in invited)
    # the public feed shows that invitations exist, not for which project, whom nor by whom
    items = [e for e in feed.json()["items"] if e["type"] == "tendering.bidder_invited"]
    assert len(items) == 3 and all(e["payload"] is None for e in items)
    shown = json.dumps(items)
    assert project.public_id not in shown and world.tenderer.username not in shown
    assert not any(u in shown for u in invited)
    assert [e["type"] for e in timeline.json()].count("tendering.bidder_invited") == 0


# --- the pages -----------------------------------------------------------------------------------


def _browser(user: Any) -> Client:
    browser = Client()
    if user is not None:
        browser.force_login(user)
    return browser


def test_the_tenderer_invites_on_the_workspace_page(world):  # type: ignore[no-untyped-def]
    project = accepted(world)
    page = f"/workspace/projects/{project.public_id}/"
    me = _browser(world.tenderer)
    assert "尚未发出投标邀请" in me.get(page).content.decode()
    # when two are named / then the page says why, and nothing was written
    seq = last_seq()
    refused_page = me.post(f"{page}invitations/", {"entities": " ".join(usccs(world, 0, 1))})
    assert refused_page.status_code == 400
    assert "招标投标法第17条" in refused_page.content.decode()
    assert event_types_since(seq) == [] and not Invitation.objects.exists()
    # when three are named, one per line / then they are invited and listed
    done = me.post(f"{page}invitations/", {"entities": "\n".join(usccs(world, 0, 1, 2))})
    assert done.status_code == 302
    assert event_types_since(seq) == ["tendering.bidder_invited"] * 3
    html = me.get(page).content.decode()
    assert all(world.bidders[n].entity.name in html for n in (0, 1, 2))
    # a bidder cannot reach the page nor the form
    assert (
        _browser(world.bidders[0].user)
        .post(f"{page}invitations/", {"entities": world.bidders[3].entity.uscc})
        .status_code
        == 404
    )
    assert project.invitations.count() == 3


def test_the_public_page_says_invited_tender_and_tells_each_invitee_only(world):  # type: ignore[no-untyped-def]
    project = invited_and_published(world)
    url = f"/projects/{project.public_id}/"
    names = [world.bidders[n].entity.name for n in (0, 1, 2)]
    usccs_ = usccs(world, 0, 1, 2)
    for viewer in (None, world.bidders[3].user, world.tenderer, world.intake):
        html = _browser(viewer).get(url).content.decode()
        assert "本项目为邀请招标" in html
        assert "您已受邀投标" not in html
        assert not any(n in html or u in html for n, u in zip(names, usccs_, strict=True))
    html = _browser(world.bidders[1].user).get(url).content.decode()
    assert f"您已受邀投标（{names[1]}）" in html
    assert names[0] not in html and names[2] not in html


# --- the CLI -------------------------------------------------------------------------------------


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("project", *args, stdout=out)
    return out.getvalue()


def test_the_cli_invites_as_the_user_and_refuses_in_one_line(world):  # type: ignore[no-untyped-def]
    project = accepted(world)
    seq = last_seq()
    with pytest.raises(CommandError, match=r"^\[too_few_invitees\]"):
        _run("invite", project.public_id, *usccs(world, 0), "--as", "tenderer_admin")
    with pytest.raises(CommandError, match=r"^\[forbidden\]"):
        _run("invite", project.public_id, *usccs(world, 0, 1, 2), "--as", "intake_staff")
    assert event_types_since(seq) == [] and not Invitation.objects.exists()
    out = _run("invite", project.public_id, *usccs(world, 0, 1, 2), "--as", "tenderer_admin")
    assert out.splitlines() == [f"{u}: invited ({world.bidders[n].entity.name})"
                                for n, u in enumerate(usccs(world, 0, 1, 2))]  # fmt: skip
    listed = _run("invitations", project.public_id).splitlines()
    assert [line.split()[0] for line in listed] == usccs(world, 0, 1, 2)


def test_deposits_and_objections_are_for_invitees_only(world):  # type: ignore[no-untyped-def]
    # given an invited tender published with bidders 0, 1, 2 invited
    from ggzy.bidding import deposits
    from ggzy.bidding.models import Deposit
    from ggzy.tendering.models import Objection

    project = invited_and_published(world)
    section = project.sections.get()
    outsider = world.bidders[3]
    for call, model in (
        (lambda: deposits.open_deposit(actor=outsider.user, section=section,
                                       entity=outsider.entity, method="transfer"), Deposit),
        (lambda: tendering.raise_objection(actor=outsider.user, project=project,
                                           entity=outsider.entity, text="资格条件排斥潜在投标人"),
         Objection),
    ):  # fmt: skip
        seq = last_seq()
        with pytest.raises(PermissionDenied) as caught:
            call()
        assert caught.value.code == "not_invited" and not model.objects.exists()
        assert event_types_since(seq) == ["tendering.not_invited_refused"]
        refusal = Event.objects.get(seq__gt=seq)
        # who tried is sealed, like a refused bid before the deadline (R42)
        assert refusal.actor.startswith("sealed:") and outsider.entity.uscc not in refusal.payload
    # an invitee does both
    invitee = world.bidders[0]
    deposits.open_deposit(actor=invitee.user, section=section, entity=invitee.entity,
                          method="transfer")  # fmt: skip
    tendering.raise_objection(actor=invitee.user, project=project, entity=invitee.entity,
                              text="工期要求不合理")  # fmt: skip
    assert Deposit.objects.count() == 1 and Objection.objects.count() == 1


def test_the_bidders_workspace_lists_its_invitations_and_no_one_elses(world):  # type: ignore[no-untyped-def]
    project = invited_and_published(world)
    client = Client()
    client.force_login(world.bidders[0].user)
    page = client.get("/workspace/bids/").content.decode()
    assert 'id="my-invitations"' in page and project.name in page
    assert world.bidders[0].entity.name in page and world.bidders[1].entity.name not in page
    client.force_login(world.bidders[3].user)  # not invited: no list at all
    assert 'id="my-invitations"' not in client.get("/workspace/bids/").content.decode()
