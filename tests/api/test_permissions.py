"""Permission matrix: for every write endpoint, every role (and anonymous, and an entity's own
admin and operator) either succeeds with exactly its ledger events or is refused with nothing
changed. Plus who sees an entity's private fields."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from typing import Any
from urllib.parse import urlencode

import pytest

from ggzy.accounts.models import ApiToken, User
from ggzy.accounts.roles import Role
from ggzy.accounts.services import issue_token
from ggzy.api import api as ninja_api
from ggzy.core.identifiers import make_resident_id
from ggzy.experts.excel import XLSX_TYPE
from ggzy.ledger.models import Event
from ggzy.registry.models import Entity, EntityStatus
from ggzy.registry.services import add_member, set_entity_status
from ggzy.tendering.models import Project
from ggzy.trust.issuing import Issued
from tests.api import tender_world
from tests.api import trust_world as tw
from tests.api.support import (
    ApiClient,
    Raw,
    api_client,
    assert_error,
    catalog_body,
    db_state,
    entity_payload,
    event_types_since,
    last_seq,
    register,
)
from tests.award import matrix as award_matrix
from tests.complaints import matrix as complaints_matrix
from tests.conftest import PASSWORD, make_user
from tests.evaluation import matrix as eval_matrix
from tests.exchange import ingest_matrix
from tests.experts import draw_matrix, rating_matrix
from tests.experts import world as expert_world
from tests.supervision import matrix as supervision_matrix
from tests.tendering import invitation_matrix
from tests.trust import pki
from tests.venues import world as venue_world

ANONYMOUS = "anonymous"
ENTITY_ADMIN = "entity_admin"  # a bidder who registered the entity
ENTITY_OPERATOR = "entity_operator"  # a bidder the admin added as operator
ROLES = [r.value for r in Role]
ACTORS = [ANONYMOUS, *ROLES, ENTITY_ADMIN, ENTITY_OPERATOR]

EVERYONE = frozenset(ACTORS)
SIGNED_IN = EVERYONE - {ANONYMOUS}
MARKET = frozenset({"bidder", "tenderer", "agent", ENTITY_ADMIN, ENTITY_OPERATOR})
ENTITY_EDITORS = frozenset({ENTITY_ADMIN, "center_intake", "center_admin"})
# Who may see a suspended entity (and an entity's private fields) at all.
PRIVATE_READERS = frozenset(
    {
        ENTITY_ADMIN,
        ENTITY_OPERATOR,
        "center_intake",
        "center_operations",
        "center_archive",
        "center_finance",
        "center_admin",
        "regulator",
        "inspector",
        "auditor",
    }
)
PRIVATE_KEYS = {"legal_representative_id", "bank_name", "bank_account", "contacts", "members"}


@dataclass
class Cast:
    users: dict[str, User]  # actor -> user (no entry for anonymous)
    secrets: dict[str, str]  # actor -> bearer secret
    spare_tokens: dict[str, ApiToken]  # actor -> a second token of theirs
    entity: Entity
    candidate: User  # not yet a member of ``entity``
    crl_url: str  # where the test CA's CRL is served
    clock: Any  # the frozen clock's handle

    def token(self, actor: str) -> str | None:
        return self.secrets.get(actor)

    @cached_property
    def trust(self) -> tw.Trust:
        """Made on first use: the test CA, and the entity's certificate bound to its admin."""
        return tw.setup(holder=self.users[ENTITY_ADMIN], entity=self.entity, crl_url=self.crl_url)

    @cached_property
    def tender(self) -> tender_world.TenderWorld:
        """Made on first use: "tenderer" administers a tenderer entity; the entity (a bidder)
        seals with its certificate bound to its admin."""
        return tender_world.TenderWorld(
            tenderer=self.users["tenderer"],
            intake=self.users["center_intake"],
            operations=self.users["center_operations"],
            bidder=self.users[ENTITY_ADMIN],
            bidder_entity=self.entity,
            certificate=self.trust.certificate,
            clock=self.clock,
        )


@pytest.fixture
def cast(users, region, frozen_clock, trust_env) -> Cast:  # type: ignore[no-untyped-def]
    from ggzy.catalog.services import install_default_catalog

    install_default_catalog(actor="system:test")
    admin = make_user("acme_admin", Role.BIDDER)
    operator = make_user("acme_operator", Role.BIDDER)
    entity = register(admin, 1)
    add_member(actor=admin, entity=entity, username=operator.username, role="operator")
    people = {**users, ENTITY_ADMIN: admin, ENTITY_OPERATOR: operator}
    secrets = {actor: issue_token(actor=user, name="matrix")[1] for actor, user in people.items()}
    spares = {actor: issue_token(actor=user, name="spare")[0] for actor, user in people.items()}
    candidate = make_user("candidate", Role.BIDDER)
    return Cast(people, secrets, spares, entity, candidate, trust_env, frozen_clock)


@dataclass(frozen=True)
class WriteRule:
    allowed: frozenset[str]
    status: int  # on success
    events: tuple[str, ...]  # ledger events a success appends, in order
    # -> (url, body). Called before the snapshot: it may set up what the call needs (a fresh
    # challenge, the actor's own bound certificate, an envelope to open).
    request: Callable[[Cast, str], tuple[str, Any]]
    hidden: frozenset[str] = frozenset()  # refused actors to whom the object does not exist
    not_found: str = ""  # the code they get (404)
    forbidden: str = "forbidden"  # the code a refused, signed-in actor who sees it gets (403)
    # refusals the service records for supervision (each ``{"refused": true}``), by who gets them;
    # apart from those events nothing changes
    recorded: frozenset[str] = frozenset()
    refusal_events: tuple[str, ...] = ()


def _entity_url(suffix: str = "") -> Callable[[Cast, str], str]:
    return lambda c, actor: f"/api/v1/entities/{c.entity.uscc}{suffix}"


def _qualification_url(c: Cast, actor: str) -> str:
    return f"/api/v1/entities/{c.entity.uscc}/qualifications/{c.entity.qualifications.get().pk}"


def _own_spare_token_url(c: Cast, actor: str) -> str:
    owner = actor if actor != ANONYMOUS else ENTITY_ADMIN
    return f"/api/v1/auth/tokens/{c.spare_tokens[owner].pk}"


def _rename_body(c: Cast, actor: str) -> dict[str, Any]:
    c.entity.refresh_from_db()
    return {"name": "南京改名建设有限公司", "expected_version": c.entity.version}


def _status_body(c: Cast, actor: str) -> dict[str, Any]:
    c.entity.refresh_from_db()
    flip = "active" if c.entity.status == EntityStatus.SUSPENDED else "suspended"
    return {"status": flip, "reason": "依据监督检查结果"}


def _fixed(url: str | Callable[[Cast, str], str], body: Any = None) -> Any:
    def build(c: Cast, actor: str) -> tuple[str, Any]:
        return (url(c, actor) if callable(url) else url), (
            body(c, actor) if callable(body) else body
        )

    return build


WRITE_RULES: dict[str, WriteRule] = {
    "POST /api/v1/auth/login": WriteRule(
        EVERYONE,
        200,
        (),
        _fixed("/api/v1/auth/login", {"username": "u_bidder", "password": PASSWORD}),
    ),
    "POST /api/v1/auth/logout": WriteRule(EVERYONE, 200, (), _fixed("/api/v1/auth/logout")),
    "POST /api/v1/auth/signup": WriteRule(
        EVERYONE,
        201,
        ("accounts.user_created",),
        _fixed(
            "/api/v1/auth/signup",
            {
                "username": "newcomer",
                "password": "Another-Secret-77",
                "display_name": "新人",
                "role": "tenderer",
            },
        ),
    ),
    "POST /api/v1/auth/tokens": WriteRule(
        SIGNED_IN, 201, ("accounts.token_issued",), _fixed("/api/v1/auth/tokens", {"name": "ci"})
    ),
    "DELETE /api/v1/auth/tokens/{token_id}": WriteRule(
        SIGNED_IN, 200, ("accounts.token_revoked",), _fixed(_own_spare_token_url)
    ),
    "POST /api/v1/entities": WriteRule(
        MARKET,
        201,
        ("registry.entity_registered",),
        _fixed("/api/v1/entities", entity_payload(50)),
    ),
    "PATCH /api/v1/entities/{uscc}": WriteRule(
        ENTITY_EDITORS,
        200,
        ("registry.entity_changed",),
        _fixed(_entity_url(), _rename_body),
    ),
    "POST /api/v1/entities/{uscc}/qualifications": WriteRule(
        ENTITY_EDITORS,
        201,
        ("registry.entity_changed",),
        _fixed(
            _entity_url("/qualifications"),
            {"qualification_type": "市政公用工程", "issuer": "江苏省住建厅", "number": "S-1"},
        ),
    ),
    "DELETE /api/v1/entities/{uscc}/qualifications/{qualification_id}": WriteRule(
        ENTITY_EDITORS, 200, ("registry.entity_changed",), _fixed(_qualification_url)
    ),
    "POST /api/v1/entities/{uscc}/contacts": WriteRule(
        ENTITY_EDITORS,
        201,
        ("registry.entity_changed",),
        _fixed(_entity_url("/contacts"), {"name": "赵六", "phone": "025-66660000"}),
    ),
    "POST /api/v1/entities/{uscc}/members": WriteRule(
        frozenset({ENTITY_ADMIN, "center_admin"}),
        201,
        ("registry.member_added",),
        _fixed(_entity_url("/members"), {"username": "candidate", "role": "operator"}),
    ),
    "POST /api/v1/entities/{uscc}/status": WriteRule(
        frozenset({"center_admin", "regulator"}),
        200,
        ("registry.entity_changed",),
        _fixed(_entity_url("/status"), _status_body),
    ),
    "PUT /api/v1/calendar/days/{day}": WriteRule(
        frozenset({"center_admin"}),
        200,
        ("core.calendar_day_set",),
        _fixed("/api/v1/calendar/days/2027-01-01", {"is_working_day": False, "name": "元旦"}),
    ),
    "POST /api/v1/catalog/{category}/rulesets": WriteRule(
        frozenset({"center_admin"}),
        201,
        ("catalog.ruleset_published",),
        lambda c, actor: ("/api/v1/catalog/works/rulesets", catalog_body()),
    ),
    "PUT /api/v1/catalog/{category}/procedures": WriteRule(
        frozenset({"center_admin"}),
        200,
        ("catalog.procedures_set",),
        _fixed("/api/v1/catalog/works/procedures", {"procedures": ["open_tender"]}),
    ),
}

TRUST = "/api/v1/trust"
CENTER_ADMIN = frozenset({"center_admin"})
ENTITY_MEMBERS = frozenset({ENTITY_ADMIN, ENTITY_OPERATOR})
# Who may see an envelope (trust.view_envelopes, or membership of its entity).
ENVELOPE_VIEWERS = ENTITY_MEMBERS | {
    "center_intake",
    "center_operations",
    "center_archive",
    "center_finance",
    "center_admin",
    "regulator",
    "inspector",
    "auditor",
}


def _ca_url(suffix: str) -> Callable[[Cast, str], str]:
    return lambda c, actor: f"{TRUST}/cas/{c.trust.authority.code}{suffix}"


def _bind_request(c: Cast, actor: str) -> tuple[str, Any]:
    """A new certificate of the entity (each call binds one not bound yet), held by the actor."""
    account = c.users[actor].username if actor in c.users else "nobody"
    fresh = tw.fresh_entity_certificate(c.trust.entity)
    return f"{TRUST}/bindings", tw.bind_body(fresh, account, c.entity)


def _own_certificate(c: Cast, actor: str) -> Issued:
    """A person certificate bound to the actor (anonymous: the admin's entity certificate)."""
    if actor == ANONYMOUS:
        return c.trust.certificate
    resident_id = make_resident_id(f"11010519800101{ACTORS.index(actor):03d}")
    user = c.users[actor]
    user.resident_id = resident_id
    user.save(update_fields=["resident_id"])
    issued = tw.person_certificate(resident_id)
    pki.bind(user, issued)
    return issued


def _signature_request(c: Cast, actor: str) -> tuple[str, Any]:
    c.trust  # noqa: B018 (the CA onboarded)
    return f"{TRUST}/signatures", tw.signature_body(_own_certificate(c, actor))


def _answer_request(c: Cast, actor: str) -> tuple[str, Any]:
    req = tw.signing_request(c.trust)
    return f"{TRUST}/sign-requests/{req.public_id}/signature", tw.answer_body(c.trust, req)


def _open_request(c: Cast, actor: str) -> tuple[str, Any]:
    received = tw.receive(c.trust)
    return f"{TRUST}/envelopes/{received.row.public_id}/open", tw.open_body(received.content_key)


TRUST_RULES: dict[str, WriteRule] = {
    f"POST {TRUST}/cas": WriteRule(
        CENTER_ADMIN, 201, ("trust.ca_onboarded",), lambda c, a: (f"{TRUST}/cas", tw.onboard_body())
    ),
    f"POST {TRUST}/cas/{{code}}/certificates": WriteRule(
        CENTER_ADMIN,
        201,
        ("trust.ca_certificates_added",),
        _fixed(_ca_url("/certificates"), lambda c, a: tw.add_certificates_body()),
    ),
    f"POST {TRUST}/cas/{{code}}/status": WriteRule(
        CENTER_ADMIN,
        200,
        ("trust.ca_status_changed",),
        _fixed(_ca_url("/status"), {"status": "suspended", "reason": "例行检查"}),
    ),
    f"POST {TRUST}/cas/{{code}}/crls": WriteRule(
        CENTER_ADMIN,
        201,
        ("trust.crl_imported",),
        _fixed(_ca_url("/crls"), lambda c, a: tw.crl_body()),
    ),
    f"POST {TRUST}/cas/{{code}}/crls/fetch": WriteRule(
        CENTER_ADMIN, 201, ("trust.crl_imported",), _fixed(_ca_url("/crls/fetch"))
    ),
    f"POST {TRUST}/certificates/verify": WriteRule(
        EVERYONE,
        200,
        (),
        _fixed(f"{TRUST}/certificates/verify", lambda c, a: tw.verify_body(c.trust)),
    ),
    # a challenge is not a ledger event
    f"POST {TRUST}/challenges": WriteRule(
        EVERYONE, 201, (), _fixed(f"{TRUST}/challenges", {"purpose": "bind"})
    ),
    # an entity certificate binds only for who acts for the entity: its members, no platform role
    f"POST {TRUST}/bindings": WriteRule(
        ENTITY_MEMBERS, 201, ("trust.certificate_bound",), _bind_request
    ),
    # only the holder unbinds; to anyone else the binding does not exist
    f"DELETE {TRUST}/bindings/{{binding_id}}": WriteRule(
        frozenset({ENTITY_ADMIN}),
        200,
        ("trust.certificate_unbound",),
        _fixed(lambda c, a: f"{TRUST}/bindings/{c.trust.binding.pk}"),
        hidden=SIGNED_IN - {ENTITY_ADMIN},
        not_found="binding_not_found",
    ),
    # the certificate decides who you become (the admin), whoever calls
    f"POST {TRUST}/login": WriteRule(
        EVERYONE,
        200,
        ("accounts.certificate_login", "accounts.token_issued"),
        _fixed(f"{TRUST}/login", lambda c, a: tw.login_body(c.trust.certificate)),
    ),
    # everyone signed in signs with their own bound certificate
    f"POST {TRUST}/signatures": WriteRule(
        SIGNED_IN, 201, ("trust.document_signed",), _signature_request
    ),
    # checking a signature is a public service that records nothing
    f"POST {TRUST}/signatures/verify": WriteRule(
        EVERYONE,
        200,
        (),
        _fixed(f"{TRUST}/signatures/verify", lambda c, a: tw.signature_body(c.trust.certificate)),
    ),
    f"POST {TRUST}/sign-requests": WriteRule(
        SIGNED_IN,
        201,
        ("trust.signing_requested",),
        _fixed(f"{TRUST}/sign-requests", lambda c, a: tw.sign_request_body()),
    ),
    # the device answering a QR code is not signed in: the bound certificate signs
    f"POST {TRUST}/sign-requests/{{request_id}}/signature": WriteRule(
        EVERYONE, 201, ("trust.document_signed",), _answer_request
    ),
    # an envelope signed with the entity's certificate is submitted by who acts for the entity
    f"POST {TRUST}/envelopes": WriteRule(
        ENTITY_MEMBERS,
        201,
        ("trust.envelope_received",),
        _fixed(f"{TRUST}/envelopes", lambda c, a: Raw(tw.seal(c.trust)[0])),
    ),
    # the organizing staff or the bidder hand over the key; others who may see it are refused,
    # to the rest it does not exist
    f"POST {TRUST}/envelopes/{{envelope_id}}/open": WriteRule(
        ENTITY_MEMBERS | {"center_operations"},
        200,
        ("trust.envelope_opened",),
        _open_request,
        hidden=SIGNED_IN - ENVELOPE_VIEWERS,
        not_found="envelope_not_found",
    ),
}
WRITE_RULES |= TRUST_RULES

# --- tendering, fairness, deposits, bids, the opening --------------------------------------------

TENDERING = "/api/v1/tendering"
FAIRNESS = "/api/v1/fairness"
BIDDING = "/api/v1/bidding"
TENDERER = frozenset({"tenderer"})  # the tenderer entity's admin
INTAKE = frozenset({"center_intake"})
OPERATIONS = frozenset({"center_operations"})
FINANCE = frozenset({"center_finance"})
# who sees an unpublished project (tendering.view_private): center and supervision staff, and
# the tenderer's members; to everyone else it does not exist
PROJECT_STAFF = frozenset(
    {
        "center_intake",
        "center_operations",
        "center_archive",
        "center_finance",
        "center_admin",
        "regulator",
        "inspector",
        "auditor",
    }
)
PROJECT_STRANGERS = SIGNED_IN - PROJECT_STAFF - TENDERER


def _project_call(state: str, suffix: str = "", body: Any = None, base: str = TENDERING) -> Any:
    """A FRESH project in ``state`` (draft / submitted / accepted / published) per call."""

    def build(c: Cast, actor: str) -> tuple[str, Any]:
        project = getattr(c.tender, state)()
        return f"{base}/projects/{project.public_id}{suffix}", (
            body(c, actor) if callable(body) else body
        )

    return build


def _publish_body(c: Cast, actor: str) -> dict[str, Any]:
    now = c.clock.moment
    return {
        "announcement": "招标公告正文",
        "documents_until": (now + timedelta(days=6)).isoformat(),
        "bid_deadline": (now + timedelta(days=21)).isoformat(),
    }


def _upload_request(c: Cast, actor: str) -> tuple[str, Any]:
    project = c.tender.draft()
    query = urlencode({"kind": "tender", "name": "招标文件.txt"})
    url = f"{TENDERING}/projects/{project.public_id}/documents?{query}"
    return url, Raw("第一章 招标公告\n".encode(), "text/plain")


def _objection_reply_request(c: Cast, actor: str) -> tuple[str, Any]:
    objection = c.tender.objection()
    return f"{TENDERING}/objections/{objection.public_id}/reply", {"reply": "资格条件依法设定"}


def _finding_request(c: Cast, actor: str) -> tuple[str, Any]:
    finding = c.tender.finding()
    return f"{FAIRNESS}/findings/{finding.public_id}/reason", {"reason": "行业主管部门要求"}


def _section_call(suffix: str, body: Any = None) -> Any:
    def build(c: Cast, actor: str) -> tuple[str, Any]:
        section = c.tender.open_section()
        return f"{BIDDING}/sections/{section.public_id}{suffix}", (
            body(c, actor) if callable(body) else body
        )

    return build


def _notice_request(c: Cast, actor: str) -> tuple[str, Any]:
    return f"{BIDDING}/bank-notices", c.tender.notice(c.tender.deposit())


def _import_request(c: Cast, actor: str) -> tuple[str, Any]:
    notice = c.tender.notice(c.tender.deposit())
    csv = ",".join(notice) + "\n" + ",".join(str(v) for v in notice.values()) + "\n"
    return f"{BIDDING}/bank-notices/import", Raw(csv.encode(), "text/csv")


def _guarantee_request(c: Cast, actor: str) -> tuple[str, Any]:
    deposit = c.tender.deposit(method="guarantee")
    return f"{BIDDING}/deposits/{deposit.pk}/guarantee", c.tender.guarantee(deposit)


def _refunded_request(c: Cast, actor: str) -> tuple[str, Any]:
    deposit = c.tender.refund_due()
    return f"{BIDDING}/deposits/{deposit.pk}/refunded", {"reference": "REFUND-0001"}


def _submit_request(c: Cast, actor: str) -> tuple[str, Any]:
    section = c.tender.open_section()
    return f"{BIDDING}/sections/{section.public_id}/bids", Raw(c.tender.sealed(section).data)


def _replace_request(c: Cast, actor: str) -> tuple[str, Any]:
    bid, _ = c.tender.bid()
    section = c.tender.section(Project.objects.get(public_id=_bid_project(bid)))
    return f"{BIDDING}/bids/{bid.public_id}/replace", Raw(c.tender.sealed(section).data)


def _bid_project(bid: Any) -> str:
    from ggzy.bidding.bids import identity
    from ggzy.tendering.models import Section

    return Section.objects.get(public_id=identity(bid)["section"]).project.public_id


def _withdraw_request(c: Cast, actor: str) -> tuple[str, Any]:
    bid, _ = c.tender.bid()
    return f"{BIDDING}/bids/{bid.public_id}/withdraw", None


def _verify_receipt_request(c: Cast, actor: str) -> tuple[str, Any]:
    from ggzy.bidding.bids import receipt

    bid, _ = c.tender.bid()
    r = receipt(bid)
    return f"{BIDDING}/receipts/verify", {"body": r["body"], "signature": r["signature"]}


def _start_opening_request(c: Cast, actor: str) -> tuple[str, Any]:
    section, _, _ = c.tender.due_for_opening()
    return f"{BIDDING}/sections/{section.public_id}/opening", None


def _close_opening_request(c: Cast, actor: str) -> tuple[str, Any]:
    session, _, _ = c.tender.decrypting()
    c.clock.set(session.window_ends_at)  # the decryption window is over
    return f"{BIDDING}/sections/{session.section.public_id}/opening/close", None


def _key_request(c: Cast, actor: str) -> tuple[str, Any]:
    _, bid, key = c.tender.decrypting()
    return f"{BIDDING}/bids/{bid.public_id}/key", {"content_key": key.hex()}


def _opening_objection_request(c: Cast, actor: str) -> tuple[str, Any]:
    session, _, _ = c.tender.decrypting()
    url = f"{BIDDING}/sections/{session.section.public_id}/opening/objections"
    return url, {"entity": c.entity.uscc, "text": "开标时间有误"}


def _opening_answer_request(c: Cast, actor: str) -> tuple[str, Any]:
    row = c.tender.opening_objection()
    return f"{BIDDING}/opening-objections/{row.pk}/answer", {"answer": "开标时间符合招标文件"}


# a bid's, a deposit's existence is known to its entity's members only
NOT_MEMBERS = SIGNED_IN - ENTITY_MEMBERS

TENDER_RULES: dict[str, WriteRule] = {
    # a tenderer's admin registers for it; the agent role may register, but not for this entity
    f"POST {TENDERING}/projects": WriteRule(
        TENDERER,
        201,
        ("tendering.project_registered",),
        lambda c, a: (
            f"{TENDERING}/projects",
            tender_world.project_body(c.tender.tenderer_entity.uscc),
        ),
    ),
    f"PUT {TENDERING}/projects/{{public_id}}": WriteRule(
        TENDERER,
        200,
        ("tendering.project_edited",),
        _project_call("draft", body=lambda c, a: tender_world.project_body(name="改名后的工程")),
        hidden=PROJECT_STRANGERS,
        not_found="project_not_found",
    ),
    # only the tenderer's own members confirm the agent who registered the project
    f"POST {TENDERING}/projects/{{public_id}}/agency/confirm": WriteRule(
        TENDERER,
        200,
        ("tendering.agency_confirmed",),
        _project_call("agency_pending", "/agency/confirm"),
        hidden=PROJECT_STRANGERS,
        not_found="project_not_found",
    ),
    f"POST {TENDERING}/projects/{{public_id}}/submit": WriteRule(
        TENDERER,
        200,
        ("tendering.project_submitted",),
        _project_call("draft", "/submit"),
        hidden=PROJECT_STRANGERS,
        not_found="project_not_found",
    ),
    f"POST {TENDERING}/projects/{{public_id}}/accept": WriteRule(
        INTAKE,
        200,
        ("tendering.project_accepted",),
        _project_call("submitted", "/accept"),
        hidden=PROJECT_STRANGERS,
        not_found="project_not_found",
    ),
    f"POST {TENDERING}/projects/{{public_id}}/return": WriteRule(
        INTAKE,
        200,
        ("tendering.project_returned",),
        _project_call("submitted", "/return", {"reason": "投资项目代码有误"}),
        hidden=PROJECT_STRANGERS,
        not_found="project_not_found",
    ),
    # publishing runs the fair-competition review first (no review covers the documents yet)
    f"POST {TENDERING}/projects/{{public_id}}/publish": WriteRule(
        TENDERER,
        200,
        ("fairness.reviewed", "tendering.project_published"),
        _project_call("accepted", "/publish", _publish_body),
        hidden=PROJECT_STRANGERS,
        not_found="project_not_found",
    ),
    f"POST {TENDERING}/projects/{{public_id}}/documents": WriteRule(
        TENDERER,
        201,
        ("tendering.document_uploaded",),
        _upload_request,
        hidden=PROJECT_STRANGERS,
        not_found="project_not_found",
    ),
    f"DELETE {TENDERING}/documents/{{public_id}}": WriteRule(
        TENDERER,
        200,
        ("tendering.document_removed",),
        lambda c, a: (f"{TENDERING}/documents/{c.tender.document().public_id}", None),
        hidden=PROJECT_STRANGERS,
        not_found="document_not_found",
    ),
    # a published project is public: everyone sees it, only its tenderer clarifies
    f"POST {TENDERING}/projects/{{public_id}}/clarifications": WriteRule(
        TENDERER,
        201,
        ("tendering.clarification_issued",),
        _project_call(
            "published", "/clarifications", {"title": "澄清一", "body": "工期调整为300日历天"}
        ),
    ),
    # a bidder objects for an entity it acts for
    f"POST {TENDERING}/projects/{{public_id}}/objections": WriteRule(
        ENTITY_MEMBERS,
        201,
        ("tendering.objection_raised",),
        _project_call(
            "published", "/objections", lambda c, a: {"entity": c.entity.uscc, "text": "资格过高"}
        ),
    ),
    # the objecting entity's members and the staff see the objection; the tenderer answers
    f"POST {TENDERING}/objections/{{public_id}}/reply": WriteRule(
        TENDERER,
        200,
        ("tendering.objection_answered",),
        _objection_reply_request,
        hidden=PROJECT_STRANGERS - ENTITY_MEMBERS,
        not_found="objection_not_found",
    ),
    # center intake reviews; the project's tenderer may check its own documents first
    f"POST {FAIRNESS}/projects/{{public_id}}/review": WriteRule(
        INTAKE | TENDERER,
        201,
        ("fairness.reviewed",),
        _project_call("draft", "/review", base=FAIRNESS),
        hidden=PROJECT_STRANGERS,
        not_found="project_not_found",
    ),
    f"POST {FAIRNESS}/findings/{{finding_id}}/reason": WriteRule(
        INTAKE,
        200,
        ("fairness.reason_recorded",),
        _finding_request,
        hidden=PROJECT_STRANGERS,
        not_found="finding_not_found",
    ),
    f"POST {BIDDING}/sections/{{section_id}}/deposits": WriteRule(
        ENTITY_MEMBERS,
        201,
        ("bidding.deposit_opened",),
        _section_call("/deposits", lambda c, a: {"entity": c.entity.uscc, "method": "transfer"}),
    ),
    f"POST {BIDDING}/bank-notices": WriteRule(
        frozenset({"center_finance", "center_admin"}),
        200,
        ("bidding.deposit_paid",),
        _notice_request,
    ),
    f"POST {BIDDING}/bank-notices/import": WriteRule(
        frozenset({"center_finance", "center_admin"}),
        200,
        ("bidding.deposit_paid",),
        _import_request,
    ),
    # before the deadline a deposit exists only for its entity's members (R42)
    f"POST {BIDDING}/deposits/{{deposit_id}}/guarantee": WriteRule(
        ENTITY_MEMBERS,
        200,
        ("trust.document_signed", "bidding.guarantee_accepted"),  # the issuer's signature kept
        _guarantee_request,
        hidden=NOT_MEMBERS,
        not_found="deposit_not_found",
    ),
    f"POST {BIDDING}/deposits/{{deposit_id}}/refunded": WriteRule(
        FINANCE,
        200,
        ("bidding.deposit_refunded",),
        _refunded_request,
        hidden=NOT_MEMBERS - FINANCE,
        not_found="deposit_not_found",
    ),
    # a bidder's envelope for another entity is refused, and the attempt recorded
    f"POST {BIDDING}/sections/{{section_id}}/bids": WriteRule(
        ENTITY_MEMBERS,
        201,
        ("bidding.bid_received",),
        _submit_request,
        recorded=frozenset({"bidder"}),
        refusal_events=("bidding.bid_refused",),
    ),
    f"POST {BIDDING}/bids/{{bid_id}}/replace": WriteRule(
        ENTITY_MEMBERS,
        201,
        ("bidding.bid_received",),
        _replace_request,
        hidden=NOT_MEMBERS,
        not_found="bid_not_found",
    ),
    f"POST {BIDDING}/bids/{{bid_id}}/withdraw": WriteRule(
        ENTITY_MEMBERS,
        200,
        ("bidding.bid_withdrawn",),
        _withdraw_request,
        hidden=NOT_MEMBERS,
        not_found="bid_not_found",
    ),
    # checking a receipt is public and records nothing
    f"POST {BIDDING}/receipts/verify": WriteRule(EVERYONE, 200, (), _verify_receipt_request),
    f"POST {BIDDING}/sections/{{section_id}}/opening": WriteRule(
        OPERATIONS, 201, ("bidding.opening_started",), _start_opening_request
    ),
    # at the window's end the three sealed bids are treated as revoked (R39), then the record
    f"POST {BIDDING}/sections/{{section_id}}/opening/close": WriteRule(
        OPERATIONS,
        200,
        ("bidding.decryption_failed",) * 3 + ("bidding.opening_closed",),
        _close_opening_request,
    ),
    # only the bid's own entity hands over its key; anyone else's attempt is recorded
    f"POST {BIDDING}/bids/{{bid_id}}/key": WriteRule(
        ENTITY_MEMBERS,
        200,
        ("bidding.bid_decrypted",),
        _key_request,
        forbidden="not_bid_owner",
        recorded=NOT_MEMBERS,
        refusal_events=("bidding.key_refused",),
    ),
    f"POST {BIDDING}/sections/{{section_id}}/opening/objections": WriteRule(
        ENTITY_MEMBERS, 201, ("bidding.opening_objection",), _opening_objection_request
    ),
    f"POST {BIDDING}/opening-objections/{{objection_id}}/answer": WriteRule(
        OPERATIONS, 200, ("bidding.opening_objection_answered",), _opening_answer_request
    ),
}
WRITE_RULES |= TENDER_RULES

# --- the expert pool -----------------------------------------------------------------------------

EXPERTS = "/api/v1/experts"
EXPERT = frozenset({"expert"})  # the record's own account
POOL_KEEPER = CENTER_ADMIN
# who may see an expert's record: center and supervision staff, and the expert themself; to
# everyone else it does not exist
EXPERT_STRANGERS = SIGNED_IN - PROJECT_STAFF - EXPERT


def _expert_call(state: str, suffix: str = "", body: Any = None) -> Any:
    """A FRESH expert in ``state`` (pending / active / suspended), the ``expert`` user's."""

    def build(c: Cast, actor: str) -> tuple[str, Any]:
        expert = getattr(expert_world.for_cast(c), state)()
        return f"{EXPERTS}/{expert.public_id}{suffix}", (body(c, actor) if callable(body) else body)

    return build


def _period_request(c: Cast, actor: str) -> tuple[str, Any]:
    period = expert_world.for_cast(c).period()
    return f"{EXPERTS}/{period.expert.public_id}/unavailability/{period.pk}", None


def _conflict_request(c: Cast, actor: str) -> tuple[str, Any]:
    conflict = expert_world.for_cast(c).conflict()
    return f"{EXPERTS}/{conflict.expert.public_id}/conflicts/{conflict.pk}", None


def _days_body(c: Cast, actor: str) -> dict[str, Any]:
    today = c.clock.moment.date()
    return {"start": str(today + timedelta(days=1)), "end": str(today + timedelta(days=2))}


EXPERT_RULES: dict[str, WriteRule] = {
    f"POST {EXPERTS}/specialties": WriteRule(
        POOL_KEEPER,
        201,
        ("experts.specialty_created",),
        lambda c, a: (
            expert_world.for_cast(c) and f"{EXPERTS}/specialties",
            {"code": "A09", "name": "水利工程"},
        ),
    ),
    f"PATCH {EXPERTS}/specialties/{{specialty_code}}": WriteRule(
        POOL_KEEPER,
        200,
        ("experts.specialty_changed",),
        lambda c, a: (
            expert_world.for_cast(c) and f"{EXPERTS}/specialties/A01.01",
            {"name": "土建工程"},
        ),
    ),
    # an expert applies for themself; nobody applies for them
    f"POST {EXPERTS}/applications": WriteRule(
        EXPERT,
        201,
        ("experts.application_submitted",),
        lambda c, a: (
            f"{EXPERTS}/applications",
            expert_world.body(expert_world.for_cast(c).data()),
        ),
    ),
    f"POST {EXPERTS}": WriteRule(
        POOL_KEEPER,
        201,
        ("experts.expert_registered",),
        lambda c, a: (EXPERTS, expert_world.body(expert_world.for_cast(c).data())),
    ),
    f"POST {EXPERTS}/import": WriteRule(
        POOL_KEEPER,
        200,
        ("experts.expert_registered",),
        lambda c, a: (
            f"{EXPERTS}/import",
            Raw(expert_world.xlsx_file(expert_world.for_cast(c)), XLSX_TYPE),
        ),
    ),
    f"PATCH {EXPERTS}/{{expert_id}}": WriteRule(
        POOL_KEEPER,
        200,
        ("experts.expert_changed",),
        _expert_call("active", body={"years_in_field": 15}),
        hidden=EXPERT_STRANGERS,
        not_found="expert_not_found",
    ),
    f"POST {EXPERTS}/{{expert_id}}/approve": WriteRule(
        POOL_KEEPER,
        200,
        ("experts.application_approved",),
        _expert_call("pending", "/approve"),
        hidden=EXPERT_STRANGERS,
        not_found="expert_not_found",
    ),
    f"POST {EXPERTS}/{{expert_id}}/reject": WriteRule(
        POOL_KEEPER,
        200,
        ("experts.application_rejected",),
        _expert_call("pending", "/reject", {"reason": "职称证书不清晰"}),
        hidden=EXPERT_STRANGERS,
        not_found="expert_not_found",
    ),
    f"POST {EXPERTS}/{{expert_id}}/suspend": WriteRule(
        POOL_KEEPER,
        200,
        ("experts.expert_suspended",),
        _expert_call("active", "/suspend", {"reason": "评标中违规"}),
        hidden=EXPERT_STRANGERS,
        not_found="expert_not_found",
    ),
    f"POST {EXPERTS}/{{expert_id}}/reinstate": WriteRule(
        POOL_KEEPER,
        200,
        ("experts.expert_reinstated",),
        _expert_call("suspended", "/reinstate", {"reason": "整改完成"}),
        hidden=EXPERT_STRANGERS,
        not_found="expert_not_found",
    ),
    f"POST {EXPERTS}/{{expert_id}}/retire": WriteRule(
        POOL_KEEPER,
        200,
        ("experts.expert_retired",),
        _expert_call("active", "/retire", {"reason": "本人申请退出"}),
        hidden=EXPERT_STRANGERS,
        not_found="expert_not_found",
    ),
    f"POST {EXPERTS}/{{expert_id}}/account": WriteRule(
        POOL_KEEPER,
        200,
        ("experts.account_linked",),
        _expert_call(
            "unlinked",
            "/account",
            lambda c, a: {"username": expert_world.for_cast(c).spare_account().username},
        ),
        hidden=EXPERT_STRANGERS | EXPERT,  # an expert without an account is no one's own record
        not_found="expert_not_found",
    ),
    # the expert keeps their own calendar and conflicts; the pool keeper may too
    f"POST {EXPERTS}/{{expert_id}}/unavailability": WriteRule(
        EXPERT | POOL_KEEPER,
        201,
        ("experts.unavailability_added",),
        _expert_call("active", "/unavailability", _days_body),
        hidden=EXPERT_STRANGERS,
        not_found="expert_not_found",
    ),
    f"DELETE {EXPERTS}/{{expert_id}}/unavailability/{{period_id}}": WriteRule(
        EXPERT | POOL_KEEPER,
        200,
        ("experts.unavailability_removed",),
        _period_request,
        hidden=EXPERT_STRANGERS,
        not_found="expert_not_found",
    ),
    f"POST {EXPERTS}/{{expert_id}}/conflicts": WriteRule(
        EXPERT | POOL_KEEPER,
        201,
        ("experts.conflict_declared",),
        _expert_call(
            "active", "/conflicts", lambda c, a: {"entity": c.entity.uscc, "reason": "配偶任职"}
        ),
        hidden=EXPERT_STRANGERS,
        not_found="expert_not_found",
    ),
    f"DELETE {EXPERTS}/{{expert_id}}/conflicts/{{conflict_id}}": WriteRule(
        EXPERT | POOL_KEEPER,
        200,
        ("experts.conflict_withdrawn",),
        _conflict_request,
        hidden=EXPERT_STRANGERS,
        not_found="expert_not_found",
    ),
}
WRITE_RULES |= EXPERT_RULES
# ratings of a signed session's experts: tests/experts/rating_matrix.py
WRITE_RULES |= rating_matrix.permission_rules(
    WriteRule, signed_in=SIGNED_IN, staff=PROJECT_STAFF, operations=OPERATIONS, tenderer=TENDERER,
    expert=EXPERT,
)  # fmt: skip
# the expert draw: tests/experts/draw_matrix.py
WRITE_RULES |= draw_matrix.permission_rules(
    WriteRule, signed_in=SIGNED_IN, staff=PROJECT_STAFF, operations=OPERATIONS, expert=EXPERT
)
# evaluation: tests/evaluation/matrix.py
WRITE_RULES |= eval_matrix.permission_rules(
    WriteRule, signed_in=SIGNED_IN, staff=PROJECT_STAFF, operations=OPERATIONS, expert=EXPERT
)
# award: tests/award/matrix.py (the award app's own rows)
WRITE_RULES |= award_matrix.permission_rules(
    WriteRule, signed_in=SIGNED_IN, staff=PROJECT_STAFF, tenderer=TENDERER,
    bidder_members=ENTITY_MEMBERS,
)  # fmt: skip
# invited tender: tests/tendering/invitation_matrix.py
WRITE_RULES |= invitation_matrix.permission_rules(
    WriteRule, signed_in=SIGNED_IN, staff=PROJECT_STAFF, tenderer=TENDERER
)
# --- venues and remote evaluation ---------------------------------------------------------------

VENUES = "/api/v1/venues"
# venues, bookings and sessions are the center's and supervision's; to others they do not exist
VENUE_STRANGERS = SIGNED_IN - PROJECT_STAFF


def _vw(c: Cast) -> Any:
    return venue_world.for_cast(c)


def _booking_call(suffix: str, body: Any = None) -> Any:
    def build(c: Cast, actor: str) -> tuple[str, Any]:
        return f"{VENUES}/bookings/{_vw(c).held().public_id}{suffix}", body

    return build


def _venue_booking_body(c: Cast, actor: str) -> tuple[str, Any]:
    w = _vw(c)
    start, end = w.evaluation_times(w.main_section)
    return f"{VENUES}/bookings", {"venue": w.venues["NJ/E1"].pk, "section": w.main_section.public_id,
                                  "purpose": "evaluation", "start": start.isoformat(),
                                  "end": end.isoformat()}  # fmt: skip


def _secondary_call(suffix: str, venue: str, body: Any = None) -> Any:
    def build(c: Cast, actor: str) -> tuple[str, Any]:
        sv = _vw(c).secondary(venue, 0)
        url = f"{VENUES}/sessions/{sv.session.public_id}/venues/{sv.booking.public_id}{suffix}"
        return url, (body(c) if callable(body) else body)

    return build


def _assign_request(c: Cast, actor: str) -> tuple[str, Any]:
    main = _vw(c).main()
    url = f"{VENUES}/bookings/{main.booking.public_id}/experts"
    return url, {"expert": _vw(c).expert(0).public_id}


def _unassign_request(c: Cast, actor: str) -> tuple[str, Any]:
    booking, expert = _vw(c).assigned()
    return f"{VENUES}/bookings/{booking.public_id}/experts/{expert.public_id}", None


def _session_request(c: Cast, actor: str) -> tuple[str, Any]:
    body = {"booking": _vw(c).free_evaluation().public_id, "witness": "u_center_operations"}
    return f"{VENUES}/sessions", body


def _secondary_request(c: Cast, actor: str) -> tuple[str, Any]:
    w = _vw(c)
    session, booking = w.session(), w.secondary_booking("SZ/E1")
    return f"{VENUES}/sessions/{session.public_id}/venues", {
        "booking": booking.public_id, "witness": w.witnesses[0].username}  # fmt: skip


def _witness_event_request(c: Cast, actor: str) -> tuple[str, Any]:
    main = _vw(c).main()  # its witness is the center_operations user
    url = f"{VENUES}/sessions/{main.session.public_id}/venues/{main.booking.public_id}/events"
    return url, {"kind": "incident", "note": "主场网络中断约2分钟"}


VENUE_RULES: dict[str, WriteRule] = {
    f"POST {VENUES}/sites": WriteRule(
        CENTER_ADMIN, 201, ("venues.site_created",),
        lambda c, a: (f"{VENUES}/sites", {"code": "WX", "name": "无锡市公共资源交易中心",
                                          "region": "320100", "address": "无锡市某路1号"}),
    ),
    f"PATCH {VENUES}/sites/{{site_code}}": WriteRule(
        CENTER_ADMIN, 200, ("venues.site_changed",),
        lambda c, a: (_vw(c).sites and f"{VENUES}/sites/NJ", {"address": "南京市新址"}),
        hidden=VENUE_STRANGERS, not_found="site_not_found",
    ),
    f"POST {VENUES}/rooms": WriteRule(
        CENTER_ADMIN, 201, ("venues.venue_created",),
        lambda c, a: (_vw(c).sites and f"{VENUES}/rooms", {"site": "NJ", "code": "E9",
                      "name": "第九评标室", "kind": "evaluation_room", "capacity": 9}),
        hidden=VENUE_STRANGERS, not_found="site_not_found",
    ),
    f"PATCH {VENUES}/rooms/{{venue_id}}": WriteRule(
        CENTER_ADMIN, 200, ("venues.venue_changed",),
        lambda c, a: (f"{VENUES}/rooms/{_vw(c).venues['NJ/E1'].pk}", {"capacity": 12}),
        hidden=VENUE_STRANGERS, not_found="venue_not_found",
    ),
    f"POST {VENUES}/bookings": WriteRule(
        OPERATIONS, 201, ("venues.booking_held",), _venue_booking_body,
        hidden=VENUE_STRANGERS, not_found="venue_not_found",
    ),
    f"POST {VENUES}/bookings/{{booking_id}}/confirm": WriteRule(
        OPERATIONS, 200, ("venues.booking_confirmed",), _booking_call("/confirm"),
        hidden=VENUE_STRANGERS, not_found="booking_not_found",
    ),
    f"POST {VENUES}/bookings/{{booking_id}}/release": WriteRule(
        OPERATIONS, 200, ("venues.booking_released",), _booking_call("/release", {"reason": "改期"}),
        hidden=VENUE_STRANGERS, not_found="booking_not_found",
    ),
    f"POST {VENUES}/bookings/{{booking_id}}/cancel": WriteRule(
        OPERATIONS, 200, ("venues.booking_cancelled",),
        _booking_call("/cancel", {"reason": "设备检修"}),
        hidden=VENUE_STRANGERS, not_found="booking_not_found",
    ),
    f"POST {VENUES}/bookings/{{booking_id}}/experts": WriteRule(
        OPERATIONS, 201, ("venues.expert_assigned",), _assign_request,
        hidden=VENUE_STRANGERS, not_found="booking_not_found",
    ),
    f"DELETE {VENUES}/bookings/{{booking_id}}/experts/{{expert_id}}": WriteRule(
        OPERATIONS, 200, ("venues.expert_unassigned",), _unassign_request,
        hidden=VENUE_STRANGERS, not_found="booking_not_found",
    ),
    f"POST {VENUES}/sessions": WriteRule(
        OPERATIONS, 201, ("venues.session_created",), _session_request,
        hidden=VENUE_STRANGERS, not_found="booking_not_found",
    ),
    f"POST {VENUES}/sessions/{{remote_session_id}}/venues": WriteRule(
        OPERATIONS, 201, ("venues.secondary_venue_added",), _secondary_request,
        hidden=VENUE_STRANGERS, not_found="session_not_found",
    ),
    f"DELETE {VENUES}/sessions/{{remote_session_id}}/venues/{{booking_id}}": WriteRule(
        OPERATIONS, 200, ("venues.secondary_venue_removed",), _secondary_call("", "SH/E1"),
        hidden=VENUE_STRANGERS, not_found="session_not_found",
    ),
    f"PUT {VENUES}/sessions/{{remote_session_id}}/venues/{{booking_id}}/witness": WriteRule(
        OPERATIONS, 200, ("venues.witness_assigned",),
        _secondary_call("/witness", "SZ/E1", lambda c: {"witness": _vw(c).witnesses[2].username}),
        hidden=VENUE_STRANGERS, not_found="session_not_found",
    ),
    # only the venue's own witness writes its log (here: the organizing desk's user, the main
    # venue's witness); other center staff are refused
    f"POST {VENUES}/sessions/{{remote_session_id}}/venues/{{booking_id}}/events": WriteRule(
        OPERATIONS, 201, ("venues.witness_event",), _witness_event_request,
        hidden=VENUE_STRANGERS, not_found="session_not_found",
    ),
}  # fmt: skip
WRITE_RULES |= VENUE_RULES
# external trading systems: tests/exchange/ingest_matrix.py
WRITE_RULES |= ingest_matrix.permission_rules(WriteRule, center_admin=CENTER_ADMIN)
# supervision: tests/supervision/matrix.py
WRITE_RULES |= supervision_matrix.permission_rules(WriteRule)
# complaints: tests/complaints/matrix.py
WRITE_RULES |= complaints_matrix.permission_rules(
    WriteRule, members=ENTITY_MEMBERS, signed_in=SIGNED_IN
)
ENTITY_SCOPED = [key for key in WRITE_RULES if key.split(" ")[1].startswith("/api/v1/entities/")]


def _write_operations() -> set[str]:
    paths = ninja_api.get_openapi_schema()["paths"]
    return {
        f"{method.upper()} {path}"
        for path, item in paths.items()
        for method in item
        if method in ("post", "put", "patch", "delete")
    }


def test_every_write_endpoint_has_a_row_in_the_matrix() -> None:
    # an external system's API-key endpoint has its own matrix (tests/exchange/ingest_matrix.py)
    assert set(WRITE_RULES) == _write_operations() - set(ingest_matrix.OWN_MATRIX)


def _call(http: ApiClient, cast: Cast, key: str, actor: str, request: tuple[str, Any]) -> Any:
    url, body = request
    return http.call(key.split(" ")[0], url, body=body, token=cast.token(actor))


def _assert_refused(
    response: Any, actor: str, *, not_found: str = "", forbidden: str = "forbidden"
) -> None:
    if actor == ANONYMOUS:
        assert_error(response, 401, "not_authenticated")
    elif not_found:
        assert_error(response, 404, not_found)
    else:
        assert_error(response, 403, forbidden)


REFUSED = "refused"  # every actor the rule refuses, one after another, in one test
MATRIX = [
    pytest.param(key, actor, id=f"{key} - {actor}")
    for key, rule in WRITE_RULES.items()
    for actor in [*(a for a in ACTORS if a in rule.allowed), REFUSED]
]


def _refused_actors(rule: WriteRule) -> list[str]:
    return [a for a in ACTORS if a not in rule.allowed]


def _each_refused(rule: WriteRule, check: Callable[[str], None]) -> None:
    """Run ``check`` for every refused actor. A refusal changes nothing (that is what is checked),
    so one world serves them all; every failure is reported, not just the first."""
    failures = []
    for actor in _refused_actors(rule):
        try:
            check(actor)
        except AssertionError as exc:
            failures.append(f"{actor}: {exc}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(("key", "actor"), MATRIX)
def test_write_permission_matrix(cast: Cast, key: str, actor: str) -> None:
    # given the cast, an active entity and a snapshot of everything
    rule = WRITE_RULES[key]
    http = api_client()

    def refused(actor: str) -> None:
        request = rule.request(cast, actor)  # what the call needs is set up before the snapshot
        before, seq = db_state(), last_seq()
        # when a refused actor calls the endpoint / then it is refused and nothing changed
        response = _call(http, cast, key, actor, request)
        _assert_refused(
            response,
            actor,
            not_found=rule.not_found if actor in rule.hidden else "",
            forbidden=rule.forbidden,
        )
        recorded = list(rule.refusal_events) if actor in rule.recorded else []
        assert event_types_since(seq) == recorded
        assert all(
            json.loads(e.payload).get("refused") is True for e in Event.objects.filter(seq__gt=seq)
        )
        assert db_state(upto_seq=seq) == before

    if actor == REFUSED:
        _each_refused(rule, refused)
        return
    request = rule.request(cast, actor)
    before, seq = db_state(), last_seq()
    # when an allowed actor calls the endpoint / then it succeeds with exactly its ledger events
    response = _call(http, cast, key, actor, request)
    assert response.status_code == rule.status, response.content[:500]
    assert event_types_since(seq) == list(rule.events)
    if rule.events:
        assert db_state() != before


SUSPENDED_MATRIX = [
    pytest.param(key, actor, id=f"{key} - {actor}")
    for key in ENTITY_SCOPED
    for actor in [*(a for a in ACTORS if a in WRITE_RULES[key].allowed), REFUSED]
]


@pytest.mark.parametrize(("key", "actor"), SUSPENDED_MATRIX)
def test_suspended_entity_is_not_found_for_who_may_not_see_it(
    cast: Cast, key: str, actor: str
) -> None:
    # given the entity was suspended by the regulator
    set_entity_status(
        actor=cast.users["regulator"], entity=cast.entity, status="suspended", reason="行政处罚"
    )
    rule = WRITE_RULES[key]

    def refused(actor: str) -> None:
        request = rule.request(cast, actor)
        before = db_state()
        # when a refused actor calls an entity endpoint / then those who cannot see suspended
        # entities get 404, as if it did not exist
        response = _call(api_client(), cast, key, actor, request)
        hidden = actor not in PRIVATE_READERS
        _assert_refused(response, actor, not_found="entity_not_found" if hidden else "")
        assert db_state() == before

    if actor == REFUSED:
        _each_refused(rule, refused)
        return
    request = rule.request(cast, actor)
    seq = last_seq()
    response = _call(api_client(), cast, key, actor, request)
    assert response.status_code == rule.status, response.content[:500]
    assert event_types_since(seq) == list(rule.events)


def test_revoking_another_users_token_is_not_found(cast: Cast) -> None:
    # given a bidder and the admin's spare token
    before = db_state()
    url = f"/api/v1/auth/tokens/{cast.spare_tokens[ENTITY_ADMIN].pk}"
    # when the bidder tries to revoke it
    response = api_client().call("DELETE", url, token=cast.token("bidder"))
    # then the token does not exist for them, and it stays valid
    assert_error(response, 404, "token_not_found")
    assert db_state() == before


@pytest.mark.parametrize("actor", ACTORS)
def test_private_fields_are_shown_only_to_members_staff_and_supervisors(
    cast: Cast, actor: str
) -> None:
    # when the actor reads the entity's profile
    response = api_client().call(
        "GET", f"/api/v1/entities/{cast.entity.uscc}", token=cast.token(actor)
    )
    body = response.json()
    # then the public part is there for everyone, the private part only for those entitled
    assert response.status_code == 200
    assert body["uscc"] == cast.entity.uscc and body["name"] == "南京第1建设有限公司"
    if actor in PRIVATE_READERS:
        assert set(body) >= PRIVATE_KEYS
        assert body["legal_representative_id"] == "11010519491231002X"
        assert body["bank_name"] == "中国银行南京分行"
        assert body["bank_account"] == "6217 0000 0000 0000"
        assert [(c["name"], c["phone"]) for c in body["contacts"]] == [("李四", "025-88880000")]
        assert sorted((m["username"], m["role"]) for m in body["members"]) == [
            ("acme_admin", "admin"),
            ("acme_operator", "operator"),
        ]
    else:
        assert not set(body) & PRIVATE_KEYS, body


def test_a_browser_session_with_its_csrf_token_acts_like_a_bearer(cast: Cast) -> None:
    # given the entity admin signed in through the browser (session + CSRF cookie)
    browser = api_client(enforce_csrf_checks=True)
    browser.client.force_login(cast.users[ENTITY_ADMIN])
    browser.client.cookies["csrftoken"] = "k" * 32
    seq = last_seq()
    # when the browser changes the entity, sending the CSRF token back
    response = browser.client.patch(
        f"/api/v1/entities/{cast.entity.uscc}",
        '{"address": "南京市鼓楼区北京西路2号"}',
        content_type="application/json",
        HTTP_X_CSRFTOKEN="k" * 32,
    )
    # then it is accepted like a bearer call
    assert response.status_code == 200, response.content
    assert response.json()["address"] == "南京市鼓楼区北京西路2号"
    assert event_types_since(seq) == ["registry.entity_changed"]


def test_another_bidder_cannot_change_the_entity_but_its_admin_can(cast: Cast) -> None:
    http = api_client()
    url = f"/api/v1/entities/{cast.entity.uscc}"
    before = db_state()
    # when another bidder (not a member) patches the entity
    refused = http.call("PATCH", url, body={"name": "抢注公司"}, token=cast.token("bidder"))
    # then 403 and nothing changed
    assert_error(refused, 403, "forbidden")
    assert db_state() == before
    # when its admin does the same
    accepted = http.call(
        "PATCH", url, body={"name": "南京新名建设有限公司"}, token=cast.token(ENTITY_ADMIN)
    )
    # then the change is made, as version 2
    assert accepted.status_code == 200
    assert (accepted.json()["name"], accepted.json()["version"]) == ("南京新名建设有限公司", 2)
