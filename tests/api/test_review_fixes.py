"""Regressions from the review: login CSRF, non-ASCII digits, duplicate qualifications,
members drawn from market participants only, tokens minted only by signed-in people."""

from __future__ import annotations

import pytest
from django.test import Client

from ggzy.accounts.services import issue_token
from ggzy.core.errors import NotFound, ValidationFailed
from ggzy.registry import services
from tests.api.support import assert_error, db_state, entity_data
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db


def test_a_text_plain_login_is_refused(users) -> None:  # type: ignore[no-untyped-def]
    # What a cross-site <form enctype="text/plain"> can send: it must not sign anyone in.
    r = Client().post(
        "/api/v1/auth/login",
        f'{{"username": "u_bidder", "password": "{PASSWORD}", "x": "="}}',
        content_type="text/plain",
    )
    assert_error(r, 415, "unsupported_media_type")
    assert "sessionid" not in r.cookies


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("resident_id", "²10105194912310021"),
        ("uscc", "91١١0000600037341L"),
        ("trading_code", "٣٢٠١٠٠2026GC000001"),
    ],
)
def test_non_ascii_digits_are_invalid_not_a_crash(kind: str, value: str) -> None:
    r = Client().get("/api/v1/identifiers/check", {"kind": kind, "value": value})
    assert r.status_code == 200 and r.json()["valid"] is False


def test_the_same_qualification_twice_is_a_validation_error(users, region) -> None:  # type: ignore[no-untyped-def]
    data = entity_data(5)
    data.qualifications = [data.qualifications[0], data.qualifications[0]]
    before = db_state()
    with pytest.raises(ValidationFailed) as info:
        services.register_entity(actor=users["bidder"], data=data)
    assert info.value.code == "duplicate_qualification"
    assert db_state() == before


def test_only_market_participants_can_be_made_members(users, region) -> None:  # type: ignore[no-untyped-def]
    entity = services.register_entity(actor=users["bidder"], data=entity_data(6))
    for staff in ("expert", "center_admin", "regulator"):
        with pytest.raises(NotFound):
            services.add_member(
                actor=users["bidder"], entity=entity, username=f"u_{staff}", role="operator"
            )
    make_user("clerk", "bidder")
    assert services.add_member(
        actor=users["bidder"], entity=entity, username="clerk", role="operator"
    )


def test_a_token_cannot_mint_tokens(users) -> None:  # type: ignore[no-untyped-def]
    _, secret = issue_token(actor=users["bidder"], name="ci")
    r = Client().post(
        "/api/v1/auth/tokens",
        {"name": "more"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert_error(r, 401, "not_authenticated")


@pytest.mark.django_db
def test_a_refused_bearer_token_is_401_even_with_csrf_enforced() -> None:
    # A browser-grade client (CSRF enforced) sending a bad token must hear "not authenticated",
    # not the session's CSRF failure.
    from tests.api.support import api_client

    client = api_client(enforce_csrf_checks=True)
    r = client.call("POST", "/api/v1/auth/tokens", {"name": "x"}, token="ggzy_never-issued")
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"
