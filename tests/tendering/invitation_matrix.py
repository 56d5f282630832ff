"""The invited tender's rows of the two API matrices (tests/api/test_permissions.py and
tests/api/test_errors.py), kept here so the shared files carry a line or two each.

Each request is made on a FRESH invited tender of the matrix's tender world (accepted, its
documents uploaded), inviting the world's bidder entity and the two other bidders it keeps."""

from __future__ import annotations

from typing import Any

from ggzy.tendering import services as tendering
from ggzy.tendering.models import Project
from tests.api import tender_world

TENDERING = "/api/v1/tendering"
INVITATIONS = f"{TENDERING}/projects/{{public_id}}/invitations"
EVENTS = ("tendering.bidder_invited",) * 3


def invited_tender(tender: tender_world.TenderWorld) -> Project:
    """An accepted invited tender (邀请招标) with its tender documents: ready for invitations."""
    terms = tendering.ProjectTerms(**tender_world.project_body(procedure="invited_tender"))
    project = tendering.register_project(
        actor=tender.tenderer, tenderer=tender.tenderer_entity, terms=terms
    )
    tendering.submit_project(actor=tender.tenderer, project=project)
    project = tendering.accept_project(actor=tender.intake, project=project)
    tender.upload(project, "tender", "招标文件.txt", "第一章 投标邀请书\n")
    return project


def invitees(tender: tender_world.TenderWorld) -> dict[str, Any]:
    """The body: three distinct, active, registered bidders."""
    return {"entities": [tender.bidder.entity.uscc, *(b.entity.uscc for b in tender.others)]}


def permission_rules(
    rule: Any, *, signed_in: frozenset[str], staff: frozenset[str], tenderer: frozenset[str]
) -> dict[str, Any]:
    """``rule`` is the matrix's ``WriteRule``. The tenderer's members invite; staff see the
    project but may not invite (403); to everyone else an accepted project does not exist."""

    def request(c: Any, actor: str) -> tuple[str, Any]:
        project = invited_tender(c.tender)
        return f"{TENDERING}/projects/{project.public_id}/invitations", invitees(c.tender)

    return {
        f"POST {INVITATIONS}": rule(
            tenderer,
            201,
            EVENTS,
            request,
            hidden=signed_in - staff - tenderer,
            not_found="project_not_found",
        ),
    }


PREPARED: dict[str, Any] = {
    f"POST {INVITATIONS}": lambda w: (
        {"public_id": invited_tender(w.tender).public_id},
        invitees(w.tender),
    ),
    f"GET {INVITATIONS}": lambda w: ({"public_id": invited_tender(w.tender).public_id}, None),
}
