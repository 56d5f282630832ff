"""Permission matrix: for every write endpoint, every role (and anonymous, and an entity's own
admin and operator) either succeeds with exactly one ledger event or is refused with nothing
changed. Plus who sees an entity's private fields."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from ggzy.accounts.models import ApiToken, User
from ggzy.accounts.roles import Role
from ggzy.accounts.services import issue_token
from ggzy.api import api as ninja_api
from ggzy.registry.models import Entity, EntityStatus
from ggzy.registry.services import add_member, set_entity_status
from tests.api.support import (
    ApiClient,
    api_client,
    assert_error,
    db_state,
    entity_payload,
    event_types_since,
    last_seq,
    register,
)
from tests.conftest import PASSWORD, make_user

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

    def token(self, actor: str) -> str | None:
        return self.secrets.get(actor)


@pytest.fixture
def cast(users, region, frozen_clock) -> Cast:  # type: ignore[no-untyped-def]
    admin = make_user("acme_admin", Role.BIDDER)
    operator = make_user("acme_operator", Role.BIDDER)
    entity = register(admin, 1)
    add_member(actor=admin, entity=entity, username=operator.username, role="operator")
    people = {**users, ENTITY_ADMIN: admin, ENTITY_OPERATOR: operator}
    secrets = {actor: issue_token(actor=user, name="matrix")[1] for actor, user in people.items()}
    spares = {actor: issue_token(actor=user, name="spare")[0] for actor, user in people.items()}
    return Cast(people, secrets, spares, entity, make_user("candidate", Role.BIDDER))


@dataclass(frozen=True)
class WriteRule:
    allowed: frozenset[str]
    status: int  # on success
    events: tuple[str, ...]  # ledger events a success appends, in order
    request: Callable[[Cast, str], tuple[str, dict[str, Any] | None]]  # -> (url, body)


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
}
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
    assert set(WRITE_RULES) == _write_operations()


def _call(http: ApiClient, cast: Cast, key: str, actor: str) -> Any:
    method = key.split(" ")[0]
    url, body = WRITE_RULES[key].request(cast, actor)
    return http.call(method, url, body=body, token=cast.token(actor))


def _assert_refused(response: Any, actor: str, *, hidden: bool = False) -> None:
    if actor == ANONYMOUS:
        assert_error(response, 401, "not_authenticated")
    elif hidden:
        assert_error(response, 404, "entity_not_found")
    else:
        assert_error(response, 403, "forbidden")


MATRIX = [
    pytest.param(key, actor, id=f"{key} - {actor}") for key in WRITE_RULES for actor in ACTORS
]


@pytest.mark.parametrize(("key", "actor"), MATRIX)
def test_write_permission_matrix(cast: Cast, key: str, actor: str) -> None:
    # given the cast, an active entity and a snapshot of everything
    rule = WRITE_RULES[key]
    http = api_client()
    before, seq = db_state(), last_seq()
    # when the actor calls the endpoint
    response = _call(http, cast, key, actor)
    # then it succeeds with exactly its ledger events, or is refused and nothing changed
    if actor in rule.allowed:
        assert response.status_code == rule.status, response.content[:500]
        assert event_types_since(seq) == list(rule.events)
        if rule.events:
            assert db_state() != before
    else:
        _assert_refused(response, actor)
        assert db_state() == before


SUSPENDED_MATRIX = [
    pytest.param(key, actor, id=f"{key} - {actor}") for key in ENTITY_SCOPED for actor in ACTORS
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
    before, seq = db_state(), last_seq()
    # when the actor calls an entity endpoint
    response = _call(api_client(), cast, key, actor)
    # then those who cannot see suspended entities get 404, as if it did not exist
    if actor in rule.allowed:
        assert response.status_code == rule.status, response.content[:500]
        assert event_types_since(seq) == list(rule.events)
    else:
        _assert_refused(response, actor, hidden=actor not in PRIVATE_READERS)
        assert db_state() == before


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
