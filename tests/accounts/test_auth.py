"""Sign-in with lockout, Argon2, API tokens and sign-up — through the HTTP API."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.hashers import identify_hasher

from ggzy.accounts.models import ApiToken, User
from ggzy.accounts.roles import Role
from ggzy.accounts.services import issue_token, user_for_token
from ggzy.ledger.models import Event
from tests.api.support import (
    ApiClient,
    api_client,
    assert_error,
    db_state,
    event_types_since,
    last_seq,
)
from tests.conftest import PASSWORD, T0, make_user

pytestmark = pytest.mark.usefixtures("frozen_clock")

LOGIN = "/api/v1/auth/login"


@pytest.fixture
def alice(db) -> User:  # type: ignore[no-untyped-def]
    return make_user("alice", Role.BIDDER)


@pytest.fixture
def http() -> ApiClient:
    return api_client()


def _login(http: ApiClient, password: str, username: str = "alice") -> object:
    return http.call("POST", LOGIN, body={"username": username, "password": password})


# --- password sign-in ---------------------------------------------------------------------------


def test_password_login_answers_me_and_starts_a_session(http: ApiClient, alice: User) -> None:
    seq = last_seq()
    # when alice signs in with her password
    response = _login(http, PASSWORD)
    # then she is told who she is, and the session works for the next call
    assert response.status_code == 200
    me = {
        "id": alice.pk,
        "username": "alice",
        "display_name": "alice",
        "roles": ["bidder"],
        "entities": [],
    }
    assert response.json() == me
    assert http.call("GET", "/api/v1/auth/me").json() == me
    # and a successful sign-in is not a ledger event
    assert event_types_since(seq) == []


def test_logout_ends_the_session(http: ApiClient, alice: User) -> None:
    _login(http, PASSWORD)
    assert http.call("POST", "/api/v1/auth/logout").json() == {"ok": True}
    assert_error(http.call("GET", "/api/v1/auth/me"), 401, "not_authenticated")


def test_passwords_are_hashed_with_argon2(alice: User) -> None:
    assert settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert alice.password.startswith("argon2")
    assert identify_hasher(alice.password).algorithm == "argon2"
    assert PASSWORD not in alice.password


def test_a_wrong_password_is_401_and_writes_no_event(http: ApiClient, alice: User) -> None:
    before, seq = db_state(), last_seq()
    response = _login(http, "not-her-password")
    assert_error(response, 401, "bad_credentials")
    assert event_types_since(seq) == []
    assert db_state() == before
    alice.refresh_from_db()
    assert (alice.failed_logins, alice.locked_until) == (1, None)


def test_an_unknown_user_gets_the_same_answer_as_a_wrong_password(
    http: ApiClient, alice: User
) -> None:
    before = db_state()
    unknown = _login(http, PASSWORD, username="mallory")
    wrong = _login(http, "not-her-password")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()
    assert db_state() == before


def test_five_failures_lock_the_account_for_15_minutes(
    http: ApiClient, alice: User, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    seq = last_seq()
    # given four wrong passwords, which lock nothing yet
    for _ in range(4):
        assert_error(_login(http, "wrong"), 401, "bad_credentials")
    assert event_types_since(seq) == []
    # when the fifth fails too
    assert_error(_login(http, "wrong"), 401, "bad_credentials")
    # then the account is locked, and the lockout is one ledger event
    assert event_types_since(seq) == ["accounts.login_locked"]
    locked = Event.objects.get(seq=seq + 1)
    until = T0 + timedelta(minutes=15)
    assert (locked.actor, locked.subject) == ("anonymous", f"user:{alice.pk}")
    assert json.loads(locked.payload) == {
        "refused": True,
        "reason": "too many failed sign-ins",
        "locked_until": until.isoformat(),
    }
    # and even the right password is refused with 423, writing nothing more
    before = db_state()
    body = assert_error(_login(http, PASSWORD), 423, "account_locked")
    assert body["detail"] == {"locked_until": until.isoformat()}
    assert db_state() == before
    # still locked after 14 minutes
    frozen_clock.advance(minutes=14)
    assert_error(_login(http, PASSWORD), 423, "account_locked")
    # and open again once 15 minutes have passed
    frozen_clock.advance(minutes=2)
    assert _login(http, PASSWORD).status_code == 200
    alice.refresh_from_db()
    assert (alice.failed_logins, alice.locked_until) == (0, None)


def test_a_locked_account_does_not_count_more_failures(
    http: ApiClient, alice: User, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    for _ in range(5):
        _login(http, "wrong")
    seq = last_seq()
    for _ in range(10):
        assert_error(_login(http, "wrong"), 423, "account_locked")
    assert event_types_since(seq) == []
    frozen_clock.advance(minutes=16)
    # after the lock, the count starts again from zero: one failure does not re-lock
    assert_error(_login(http, "wrong"), 401, "bad_credentials")
    assert _login(http, PASSWORD).status_code == 200


def test_a_deactivated_user_cannot_sign_in(http: ApiClient, alice: User) -> None:
    User.objects.filter(pk=alice.pk).update(is_active=False)
    assert_error(_login(http, PASSWORD), 401, "bad_credentials")


# --- API tokens ---------------------------------------------------------------------------------


def test_a_token_secret_is_shown_once_and_only_its_sha256_is_stored(
    http: ApiClient, alice: User
) -> None:
    _login(http, PASSWORD)
    seq = last_seq()
    # when alice issues a token for her CI
    response = http.call("POST", "/api/v1/auth/tokens", body={"name": "ci", "days": 30})
    # then the answer carries the secret once
    assert response.status_code == 201
    body = response.json()
    secret = body.pop("secret")
    assert secret.startswith("ggzy_") and len(secret) > 40
    token = ApiToken.objects.get()
    assert body == {
        "id": token.pk,
        "name": "ci",
        "prefix": secret[:12],
        "created_at": "2026-11-23T02:00:00Z",
        "expires_at": "2026-12-23T02:00:00Z",
        "last_used_at": None,
        "revoked_at": None,
    }
    # and the database holds only its SHA-256 (and the 12-character prefix for display)
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    stored = json.dumps(list(ApiToken.objects.values()), default=str)
    assert secret not in stored and secret[12:] not in stored
    # the listing never shows it again
    listing = http.call("GET", "/api/v1/auth/tokens").json()
    assert [set(t) for t in listing] == [set(body)]
    # and the ledger records the issue, without the secret
    assert event_types_since(seq) == ["accounts.token_issued"]
    event = Event.objects.get(seq=seq + 1)
    assert json.loads(event.payload) == {"name": "ci", "prefix": secret[:12]}
    assert secret[12:] not in event.payload


def test_a_token_authenticates_until_it_is_revoked(http: ApiClient, alice: User) -> None:
    token, secret = issue_token(actor=alice, name="t")
    # when alice uses the token
    me = http.call("GET", "/api/v1/auth/me", token=secret)
    # then she is recognised, and the use is noted
    assert me.status_code == 200 and me.json()["username"] == "alice"
    token.refresh_from_db()
    assert token.last_used_at == T0
    # when she revokes it with itself
    seq = last_seq()
    revoked = http.call("DELETE", f"/api/v1/auth/tokens/{token.pk}", token=secret)
    assert revoked.json() == {"ok": True}
    assert event_types_since(seq) == ["accounts.token_revoked"]
    # then it no longer works, anywhere
    assert_error(http.call("GET", "/api/v1/auth/me", token=secret), 401, "not_authenticated")
    assert_error(http.call("GET", "/api/v1/entities", token=secret), 401, "not_authenticated")
    assert user_for_token(secret) is None


def test_an_expired_token_is_refused(http: ApiClient, alice: User, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    _, secret = issue_token(actor=alice, name="short", days=1)
    frozen_clock.advance(hours=23, minutes=59)
    assert http.call("GET", "/api/v1/auth/me", token=secret).status_code == 200
    frozen_clock.advance(minutes=1)  # exactly at expiry
    before = db_state()
    assert_error(http.call("GET", "/api/v1/auth/me", token=secret), 401, "not_authenticated")
    assert_error(http.call("POST", "/api/v1/auth/tokens", body={"name": "x"}, token=secret), 401)
    assert db_state() == before


def test_a_deactivated_users_token_is_refused(http: ApiClient, alice: User) -> None:
    _, secret = issue_token(actor=alice, name="t")
    User.objects.filter(pk=alice.pk).update(is_active=False)
    assert_error(http.call("GET", "/api/v1/auth/me", token=secret), 401, "not_authenticated")


@pytest.mark.parametrize(
    "header",
    [
        "Bearer ",
        "Bearer ggzy_",
        "Bearer not-even-prefixed",
        "Bearer ggzy_" + "x" * 500,
        "Token abc",
    ],
)
def test_malformed_authorization_headers_are_refused(
    http: ApiClient, alice: User, header: str
) -> None:
    before = db_state()
    response = http.client.get("/api/v1/auth/me", HTTP_AUTHORIZATION=header)
    assert_error(response, 401, "not_authenticated")
    assert db_state() == before


def test_revoking_twice_is_one_event(http: ApiClient, alice: User) -> None:
    token, _ = issue_token(actor=alice, name="t")
    _, secret = issue_token(actor=alice, name="admin")
    seq = last_seq()
    for _ in range(2):
        assert (
            http.call("DELETE", f"/api/v1/auth/tokens/{token.pk}", token=secret).status_code == 200
        )
    assert event_types_since(seq) == ["accounts.token_revoked"]


# --- sign-up ------------------------------------------------------------------------------------


def _signup(http: ApiClient, **overrides: str) -> object:
    body = {
        "username": "newbie",
        "password": "Another-Secret-77",
        "display_name": "新人",
        "role": "bidder",
        **overrides,
    }
    return http.call("POST", "/api/v1/auth/signup", body=body)


@pytest.mark.parametrize("role", ["bidder", "tenderer", "agent"])
def test_signup_creates_a_user_with_only_the_market_role(http: ApiClient, db, role: str) -> None:  # type: ignore[no-untyped-def]
    seq = last_seq()
    response = _signup(http, role=role)
    assert response.status_code == 201
    user = User.objects.get(username="newbie")
    assert response.json() == {
        "id": user.pk,
        "username": "newbie",
        "display_name": "新人",
        "roles": [role],
        "entities": [],
    }
    assert user.role_set == {role}
    assert user.password.startswith("argon2") and user.check_password("Another-Secret-77")
    assert event_types_since(seq) == ["accounts.user_created"]
    assert json.loads(Event.objects.get(seq=seq + 1).payload) == {
        "username": "newbie",
        "roles": [role],
    }


@pytest.mark.parametrize("role", sorted(set(Role.values) - {"bidder", "tenderer", "agent"}))
def test_signup_cannot_claim_a_staff_or_supervisor_role(http: ApiClient, db, role: str) -> None:  # type: ignore[no-untyped-def]
    before = db_state()
    body = assert_error(_signup(http, role=role), 422, "validation_error")
    assert [e["loc"] for e in body["detail"]] == [["body", "payload", "role"]]
    assert db_state() == before


def test_signup_refuses_a_taken_username_and_a_weak_password(http: ApiClient, alice: User) -> None:
    before = db_state()
    assert assert_error(_signup(http, username="alice"), 409, "username_taken")["detail"] == {
        "username": "alice"
    }
    weak = assert_error(_signup(http, password="12345678"), 422, "weak_password")
    assert isinstance(weak["detail"], list) and weak["detail"]
    assert_error(_signup(http, username="bad name!"), 422, "validation_error")
    assert db_state() == before


def test_a_signed_up_user_can_sign_in(http: ApiClient, db) -> None:  # type: ignore[no-untyped-def]
    _signup(http)
    response = _login(api_client(), "Another-Secret-77", username="newbie")
    assert response.status_code == 200 and response.json()["roles"] == ["bidder"]


def test_a_signup_racing_another_for_the_same_name_is_409(
    http: ApiClient, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the existence check ran before a concurrent sign-up committed "alice"
    from ggzy.accounts import services

    real_check, calls = services._refuse_taken, []

    def check_that_loses_the_race(username: str, resident_id: str) -> None:
        calls.append(username)
        if len(calls) > 1:
            real_check(username, resident_id)

    monkeypatch.setattr(services, "_refuse_taken", check_that_loses_the_race)
    before = db_state()
    # when the insert then meets the unique constraint
    response = _signup(http, username="alice")
    # then it is the same 409 as a plain duplicate, not a 500, and nothing was written
    assert_error(response, 409, "username_taken")
    assert calls == ["alice", "alice"]
    assert db_state() == before
