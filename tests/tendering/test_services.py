"""Tendering services: the project state machine, who may act, the pinned ruleset, R6
clarifications, R7/R9 objections, R60/R42 downloads, and the ledger trail behind the timeline."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest

from ggzy.accounts.roles import Role
from ggzy.catalog import selectors as catalog
from ggzy.catalog.services import publish_ruleset
from ggzy.core import clock
from ggzy.core.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed
from ggzy.ledger.models import Event
from ggzy.tendering import selectors, services
from ggzy.tendering.models import Clarification, Objection, Project
from ggzy.tendering.states import Phase, ProjectStatus
from tests.api.support import register
from tests.bidding import world as w
from tests.conftest import make_user


def events(project: Project) -> list[str]:
    return list(
        Event.objects.filter(subject=f"project:{project.public_id}")
        .order_by("seq")
        .values_list("event_type", flat=True)
    )


def draft(world: Any, **overrides: Any) -> Project:
    return services.register_project(
        actor=world.tenderer, tenderer=world.tenderer_entity, terms=w.project_terms(**overrides)
    )


def refused(exc_type: type[DomainError], code: str | None, fn: Any, **kwargs: Any) -> DomainError:
    with pytest.raises(exc_type) as exc:
        fn(**kwargs)
    if code is not None:
        assert exc.value.code == code, (exc.value.code, exc.value.message)
    return exc.value


# --- the state machine --------------------------------------------------------------------------


def test_register_submit_accept_assigns_codes(world):
    project = draft(world)
    assert project.status == ProjectStatus.DRAFT and project.trading_code is None
    services.submit_project(actor=world.tenderer, project=project)
    services.accept_project(actor=world.intake, project=project)
    project.refresh_from_db()
    assert project.status == ProjectStatus.ACCEPTED and project.trading_code
    assert project.accepted_by == world.intake
    assert [s.code for s in project.sections.all()] == [f"{project.trading_code}-001"]
    assert events(project) == [
        "tendering.project_registered",
        "tendering.project_submitted",
        "tendering.project_accepted",
    ]


def test_edit_only_in_draft_or_returned(world):
    project = draft(world)
    services.edit_project(actor=world.tenderer, project=project, terms=w.project_terms(name="改"))
    services.submit_project(actor=world.tenderer, project=project)
    before = events(project)
    refused(Conflict, "bad_project_state", services.edit_project, actor=world.tenderer,
            project=project, terms=w.project_terms())  # fmt: skip
    assert events(project) == before
    services.return_project(actor=world.intake, project=project, reason="预算依据不足")
    project = services.edit_project(actor=world.tenderer, project=project,
                                    terms=w.project_terms(name="再改"))  # fmt: skip
    assert project.name == "再改" and project.status == ProjectStatus.RETURNED
    services.submit_project(actor=world.tenderer, project=project)
    project.refresh_from_db()
    assert project.status == ProjectStatus.SUBMITTED


def test_return_needs_a_reason(world):
    project = draft(world)
    services.submit_project(actor=world.tenderer, project=project)
    refused(ValidationFailed, "required", services.return_project, actor=world.intake,
            project=project, reason="   ")  # fmt: skip
    project.refresh_from_db()
    assert project.status == ProjectStatus.SUBMITTED and project.return_reason == ""


def test_only_intake_accepts(world):
    project = draft(world)
    services.submit_project(actor=world.tenderer, project=project)
    for actor in (world.tenderer, world.operations, world.bidders[0].user):
        refused(PermissionDenied, None, services.accept_project, actor=actor, project=project)
    project.refresh_from_db()
    assert project.status == ProjectStatus.SUBMITTED and project.trading_code is None


def test_accept_only_submitted(world):
    project = draft(world)
    refused(Conflict, "bad_project_state", services.accept_project, actor=world.intake,
            project=project)  # fmt: skip


def test_agent_acts_for_the_tenderer(world):
    agent_user = make_user("agent_admin", Role.AGENT)
    agency = register(agent_user, 800, name="江苏某招标代理有限公司", is_bidder=False,
                      is_agent=True)  # fmt: skip
    project = services.register_project(
        actor=agent_user, tenderer=world.tenderer_entity, agent=agency, terms=w.project_terms()
    )
    assert project.agent == agency and project.agency_confirmed_at is None
    # nobody tenders in another's name: the tenderer confirms the agent before submission
    refused(Conflict, "agency_unconfirmed", services.submit_project, actor=agent_user,
            project=project)  # fmt: skip
    refused(PermissionDenied, None, services.confirm_agency, actor=agent_user, project=project)
    services.confirm_agency(actor=world.tenderer, project=project)
    refused(Conflict, "agency_not_pending", services.confirm_agency, actor=world.tenderer,
            project=project)  # fmt: skip
    services.submit_project(actor=agent_user, project=project)  # the agent's member edits
    assert list(selectors.my_projects(agent_user)) == [project]


def test_a_tenderer_naming_its_agent_needs_no_confirmation(world):
    agent_user = make_user("agent_admin2", Role.AGENT)
    agency = register(agent_user, 801, name="江苏另一招标代理有限公司", is_bidder=False,
                      is_agent=True)  # fmt: skip
    project = services.register_project(
        actor=world.tenderer, tenderer=world.tenderer_entity, agent=agency, terms=w.project_terms()
    )
    assert project.agency_confirmed_at is not None
    services.submit_project(actor=agent_user, project=project)


def test_non_member_refused(world):
    outsider = make_user("outsider", Role.TENDERER)
    refused(PermissionDenied, None, services.register_project, actor=outsider,
            tenderer=world.tenderer_entity, terms=w.project_terms())  # fmt: skip
    project = draft(world)
    refused(PermissionDenied, None, services.submit_project, actor=outsider, project=project)
    assert Project.objects.count() == 1
    with pytest.raises(NotFound):
        selectors.get_project(outsider, project.public_id)


def test_bidder_entity_is_not_a_tenderer(world):
    builder = register(world.tenderer, 950, name="南京某建设有限公司")  # a bidder only
    refused(ValidationFailed, "not_a_tenderer", services.register_project, actor=world.tenderer,
            tenderer=builder, terms=w.project_terms())  # fmt: skip


def test_category_without_tender_rules_refused(world):
    refused(ValidationFailed, "category_not_tendered", draft, world=world, category="land")
    assert Project.objects.count() == 0


def test_ruleset_is_pinned_at_registration(world, users):
    project = draft(world)
    works = catalog.get_category("works")
    first = catalog.current_ruleset(works)
    publish_ruleset(actor=users["center_admin"], category=works,
                    rules_={**first.rules, "bid_validity_days": 120}, note="改")  # fmt: skip
    project.refresh_from_db()
    assert project.ruleset == first
    assert draft(world).ruleset.version == first.version + 1


# --- publication and the timeline ---------------------------------------------------------------


def test_timeline_hides_everything_before_publication(world):
    project = draft(world)
    services.submit_project(actor=world.tenderer, project=project)
    services.accept_project(actor=world.intake, project=project)
    project.refresh_from_db()
    assert selectors.public_timeline(project) == []
    assert selectors.phase(project.sections.get()) == Phase.ACCEPTED


def test_every_step_is_a_ledger_event(published):
    project = published.project
    assert events(project) == [
        "tendering.project_registered",
        "tendering.project_submitted",
        "tendering.project_accepted",
        "tendering.document_uploaded",
        "fairness.reviewed",  # the fair-competition review runs at publication
        "tendering.project_published",
    ]
    assert [e["type"] for e in selectors.public_timeline(project)] == events(project)
    assert selectors.phase(published.section) == Phase.BIDDING


def test_publish_refuses_a_short_bid_period(world):
    project = draft(world)
    services.submit_project(actor=world.tenderer, project=project)
    services.accept_project(actor=world.intake, project=project)
    services.upload_document(actor=world.tenderer, project=project, kind="tender",
                             name="a.txt", stream=io.BytesIO(b"doc"))  # fmt: skip
    before = events(project)
    now = clock.now()
    refused(ValidationFailed, "bid_period_too_short", services.publish_project,
            actor=world.tenderer, project=project, announcement="公告", documents_from=now,
            documents_until=now + timedelta(days=6),
            bid_deadline=now + timedelta(days=20, seconds=-1))  # fmt: skip
    project.refresh_from_db()
    assert project.status == ProjectStatus.ACCEPTED and events(project) == before


def test_publish_needs_tender_documents(world):
    project = draft(world)
    services.submit_project(actor=world.tenderer, project=project)
    services.accept_project(actor=world.intake, project=project)
    now = clock.now()
    refused(ValidationFailed, "no_tender_documents", services.publish_project,
            actor=world.tenderer, project=project, announcement="公告",
            documents_until=now + timedelta(days=6), bid_deadline=now + timedelta(days=21))  # fmt: skip


# --- clarifications (R6) ------------------------------------------------------------------------


def clarify(world: Any) -> Clarification:
    assert world.project is not None
    return services.issue_clarification(actor=world.tenderer, project=world.project,
                                        title="澄清", body="修改第三章")  # fmt: skip


def test_clarification_14_days_before_moves_deadline_to_15(published, frozen_clock):
    deadline = published.section.bid_deadline
    frozen_clock.set(deadline - timedelta(days=14))
    c = clarify(published)
    section = published.section
    assert section.bid_deadline == clock.now() + timedelta(days=15)
    assert section.original_deadline == deadline
    assert c.deadline_before == deadline and c.deadline_after == section.bid_deadline


def test_clarification_16_days_before_does_not_move_it(published, frozen_clock):
    deadline = published.section.bid_deadline
    frozen_clock.set(deadline - timedelta(days=16))
    clarify(published)
    assert published.section.bid_deadline == deadline


def test_clarification_not_affecting_bids_does_not_move_it(published, frozen_clock):
    deadline = published.section.bid_deadline
    frozen_clock.set(deadline - timedelta(days=3))
    services.issue_clarification(actor=published.tenderer, project=published.project,
                                 title="更正联系人", body="电话", affects_bids=False)  # fmt: skip
    assert published.section.bid_deadline == deadline


def test_no_clarification_after_the_deadline(published, frozen_clock):
    frozen_clock.set(published.section.bid_deadline)
    refused(Conflict, "deadline_passed", clarify, world=published)


# --- objections (R7/R9) -------------------------------------------------------------------------


def object_(world: Any, n: int = 0) -> Objection:
    bidder = world.bidders[n]
    return services.raise_objection(actor=bidder.user, project=world.project,
                                    entity=bidder.entity, text="资格条件具有排他性")  # fmt: skip


def test_objection_10_days_before_is_accepted_and_suspends(published, frozen_clock):
    frozen_clock.set(published.section.bid_deadline - timedelta(days=10))
    objection = object_(published)
    assert objection.reply_due == clock.now() + timedelta(days=3)
    assert selectors.phase(published.section) == Phase.SUSPENDED
    services.answer_objection(actor=published.tenderer, objection=objection, reply="维持原文件")
    assert selectors.phase(published.section) == Phase.BIDDING
    assert events(published.project)[-2:] == [
        "tendering.objection_raised",
        "tendering.objection_answered",
    ]


def test_objection_later_is_refused_and_recorded(published, frozen_clock):
    frozen_clock.set(published.section.bid_deadline - timedelta(days=10, seconds=-1))
    refused(Conflict, "objection_too_late", object_, world=published)
    assert Objection.objects.count() == 0
    assert events(published.project)[-1] == "tendering.objection_refused"
    assert selectors.phase(published.section) == Phase.BIDDING


def test_objection_for_an_entity_one_does_not_act_for(published):
    refused(PermissionDenied, None, services.raise_objection, actor=published.bidders[0].user,
            project=published.project, entity=published.bidders[1].entity, text="x")  # fmt: skip


def test_only_the_tenderer_answers(published):
    objection = object_(published)
    refused(PermissionDenied, None, services.answer_objection, actor=published.bidders[0].user,
            objection=objection, reply="x")  # fmt: skip
    objection.refresh_from_db()
    assert objection.status == "open"


# --- downloads (R60, R42) -----------------------------------------------------------------------


def test_anonymous_download_and_sealed_identities(published, frozen_clock):
    from django.contrib.auth.models import AnonymousUser

    document = selectors.get_document(AnonymousUser(), published.project.documents.get().public_id)
    path = services.record_download(actor=AnonymousUser(), document=document)
    assert path.read_bytes().startswith("第一章".encode())
    services.record_download(actor=published.bidders[0].user, document=document)
    refused(PermissionDenied, "sealed_until_deadline", selectors.downloads,
            actor=published.operations, project=published.project)  # fmt: skip
    refused(PermissionDenied, "forbidden", selectors.downloads,
            actor=published.bidders[0].user, project=published.project)  # fmt: skip
    frozen_clock.set(published.section.bid_deadline)
    rows = selectors.downloads(published.operations, published.project)
    assert [r["user"] for r in rows] == [None, "bidder1"]


def test_unpublished_document_cannot_be_downloaded(world):
    project = draft(world)
    document = services.upload_document(actor=world.tenderer, project=project, kind="tender",
                                        name="a.txt", stream=io.BytesIO(b"x"))  # fmt: skip
    refused(NotFound, "document_not_found", services.record_download, actor=world.tenderer,
            document=document)  # fmt: skip


def test_state_controlled_is_declared_at_registration_and_strictly_boolean(world):
    # 条例55: the award rule follows it (tests/award/test_withdrawal.py)
    assert draft(world).state_controlled is False
    assert draft(world, state_controlled=True).state_controlled is True
    count = Project.objects.count()
    refused(ValidationFailed, "bad_flag", draft, world=world, state_controlled="yes")
    refused(ValidationFailed, "bad_flag", draft, world=world, state_controlled=1)
    assert Project.objects.count() == count
