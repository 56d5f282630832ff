"""Portal pages through the Django test client: who sees what, and sign-in, sign-up, ledger."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client

from ggzy.accounts.models import ApiToken, User
from ggzy.ledger.models import Event
from ggzy.ledger.proofs import inclusion_proof
from tests.conftest import PASSWORD
from tests.web.support import signed_in, text

pytestmark = pytest.mark.django_db


# --- every page renders for the right person ----------------------------------------------


@pytest.mark.parametrize("path", ["/", "/entities/", "/ledger/", "/login/", "/signup/"])
def test_public_pages_render_for_a_visitor(entity, path: str) -> None:  # type: ignore[no-untyped-def]
    response = Client().get(path)

    assert response.status_code == 200
    assert 'lang="zh-Hans"' in text(response)


def test_entity_profile_and_ledger_event_render_for_a_visitor(entity) -> None:  # type: ignore[no-untyped-def]
    client = Client()

    assert client.get(f"/entities/{entity.uscc}/").status_code == 200
    assert client.get("/ledger/events/1/").status_code == 200


@pytest.mark.parametrize("path", ["/me/", "/entities/register/"])
def test_personal_pages_render_for_a_signed_in_bidder(users, entity, path: str) -> None:  # type: ignore[no-untyped-def]
    assert signed_in(users["bidder"]).get(path).status_code == 200


def test_edit_page_renders_for_the_entity_admin(users, entity) -> None:  # type: ignore[no-untyped-def]
    response = signed_in(users["bidder"]).get(f"/entities/{entity.uscc}/edit/")

    assert response.status_code == 200
    assert 'name="expected_version" value="1"' in text(response)


@pytest.mark.parametrize("path", ["/me/", "/entities/register/", "/entities/{uscc}/edit/"])
def test_sign_in_required_pages_redirect_a_visitor_to_login(entity, path: str) -> None:  # type: ignore[no-untyped-def]
    target = path.format(uscc=entity.uscc)

    response = Client().get(target)

    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={target}"


def test_home_shows_counts_tree_head_and_latest_events(entity) -> None:  # type: ignore[no-untyped-def]
    page = text(Client().get("/"))
    size = Event.objects.count()

    assert f'<span class="stat-value">{size}</span>' in page
    assert "registry.entity_registered" in page
    assert f"entity:{entity.uscc}" in page
    assert "根哈希" in page


def test_unknown_page_is_the_portal_404(db) -> None:  # type: ignore[no-untyped-def]
    response = Client().get("/no-such-page/")

    assert response.status_code == 404
    assert "页面不存在" in text(response)


# --- sign-in, sign-out, sign-up ------------------------------------------------------------


def test_login_signs_in_and_goes_to_next(users) -> None:  # type: ignore[no-untyped-def]
    client = Client()

    response = client.post(
        "/login/", {"username": "u_bidder", "password": PASSWORD, "next": "/entities/register/"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/entities/register/"
    assert client.get("/me/").status_code == 200


def test_login_refuses_an_offsite_next(users) -> None:  # type: ignore[no-untyped-def]
    response = Client().post(
        "/login/", {"username": "u_bidder", "password": PASSWORD, "next": "https://evil.example/"}
    )

    assert response["Location"] == "/me/"


def test_wrong_password_shows_the_error_and_signs_nobody_in(users) -> None:  # type: ignore[no-untyped-def]
    client = Client()

    response = client.post("/login/", {"username": "u_bidder", "password": "nope"})

    assert response.status_code == 200
    assert "用户名或密码错误" in text(response)
    assert client.get("/me/").status_code == 302


def test_locked_account_shows_the_lock_message(users, settings) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    for _ in range(settings.GGZY_LOGIN_MAX_FAILURES):
        client.post("/login/", {"username": "u_bidder", "password": "nope"})

    response = client.post("/login/", {"username": "u_bidder", "password": PASSWORD})

    assert "账户已锁定" in text(response)
    assert client.get("/me/").status_code == 302


def test_logout_is_post_only(users) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(users["bidder"])

    assert client.get("/logout/").status_code == 405
    assert client.get("/me/").status_code == 200
    assert client.post("/logout/")["Location"] == "/"
    assert client.get("/me/").status_code == 302


def signup_form(**overrides: str) -> dict[str, str]:
    data = {
        "username": "newbidder",
        "display_name": "新投标人",
        "role": "bidder",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        "email": "",
        "phone": "",
    }
    data.update(overrides)
    return data


def test_signup_creates_a_market_user_who_can_then_sign_in(db) -> None:  # type: ignore[no-untyped-def]
    events = Event.objects.count()

    response = Client().post("/signup/", signup_form())

    assert response.status_code == 302
    assert response["Location"] == "/login/?username=newbidder"
    user = User.objects.get(username="newbidder")
    assert user.role_set == {"bidder"}
    assert Event.objects.count() == events + 1
    assert (
        Client().post("/login/", {"username": "newbidder", "password": PASSWORD}).status_code == 302
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"role": "center_admin"}, "选择一个有效的选项"),
        ({"password": "12345678", "password_confirm": "12345678"}, "密码"),
        ({"password_confirm": "something-else"}, "两次输入的密码不一致"),
        ({"username": "u_bidder"}, "用户名已被使用"),
    ],
)
def test_refused_signup_shows_why_and_creates_nobody(users, overrides, message) -> None:  # type: ignore[no-untyped-def]
    people, events = User.objects.count(), Event.objects.count()

    response = Client().post("/signup/", signup_form(**overrides))

    assert response.status_code == 200
    assert message in text(response)
    assert (User.objects.count(), Event.objects.count()) == (people, events)


# --- personal page and API tokens ----------------------------------------------------------


def test_me_lists_roles_and_entities(users, entity) -> None:  # type: ignore[no-untyped-def]
    page = text(signed_in(users["bidder"]).get("/me/"))

    assert "投标人/供应商/竞买人" in page
    assert entity.name in page


def test_issuing_a_token_shows_its_secret_once(users) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(users["bidder"])

    page = text(client.post("/me/tokens/", {"name": "投标客户端", "days": "30"}))

    secret = re.search(r'id="new-token-secret">(ggzy_[^<]+)<', page)
    assert secret is not None
    token = ApiToken.objects.get(user=users["bidder"])
    assert token.name == "投标客户端" and secret.group(1).startswith(token.prefix)
    assert secret.group(1) not in text(client.get("/me/"))


def test_a_blank_token_name_is_refused(users) -> None:  # type: ignore[no-untyped-def]
    response = signed_in(users["bidder"]).post("/me/tokens/", {"name": "", "days": ""})

    assert "这个字段是必填项" in text(response)
    assert not ApiToken.objects.exists()


def test_revoking_a_token(users) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(users["bidder"])
    client.post("/me/tokens/", {"name": "ci", "days": ""})
    token = ApiToken.objects.get()

    response = client.post(f"/me/tokens/{token.pk}/revoke/")

    assert response["Location"] == "/me/"
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_nobody_revokes_another_users_token(users) -> None:  # type: ignore[no-untyped-def]
    signed_in(users["bidder"]).post("/me/tokens/", {"name": "mine", "days": ""})
    token = ApiToken.objects.get()
    events = Event.objects.count()

    signed_in(users["tenderer"]).post(f"/me/tokens/{token.pk}/revoke/")

    token.refresh_from_db()
    assert token.revoked_at is None
    assert Event.objects.count() == events


# --- ledger --------------------------------------------------------------------------------


def test_ledger_page_shows_the_signed_head_and_events(entity) -> None:  # type: ignore[no-untyped-def]
    page = text(Client().get("/ledger/"))

    assert "/api/v1/ledger/key" in page
    assert 'href="/ledger/events/1/"' in page


def test_ledger_lookup_goes_to_the_event(entity) -> None:  # type: ignore[no-untyped-def]
    response = Client().get("/ledger/", {"seq": "2"})

    assert response["Location"] == "/ledger/events/2/"


def test_ledger_pages_by_cursor(users) -> None:  # type: ignore[no-untyped-def]
    page = text(Client().get("/ledger/", {"after": "3"}))

    assert 'href="/ledger/events/4/"' in page
    assert 'href="/ledger/events/3/"' not in page
    assert "?after=0" in page


def test_event_page_shows_the_inclusion_proof(entity) -> None:  # type: ignore[no-untyped-def]
    page = text(Client().get("/ledger/events/1/"))

    assert 'href="/api/v1/ledger/events/1/proof"' in page
    assert "python -m ggzy.ledger.offline proof.json --key ledger.pem" in page
    path = inclusion_proof(1)["audit_path"]
    assert path and all(f'<li><code class="hash">{h}</code></li>' in page for h in path)


def test_event_payload_is_shown_to_supervisors_only(users, entity) -> None:  # type: ignore[no-untyped-def]
    seq = Event.objects.get(event_type="registry.entity_registered").seq

    assert "事件内容不公开" in text(Client().get(f"/ledger/events/{seq}/"))
    assert entity.name in text(signed_in(users["regulator"]).get(f"/ledger/events/{seq}/"))


def test_missing_event_is_a_404_with_the_reason(db) -> None:  # type: ignore[no-untyped-def]
    response = Client().get("/ledger/events/999/")

    assert response.status_code == 404
    assert "999" in text(response)


# --- English -------------------------------------------------------------------------------


def english() -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_pages_render_in_english_when_the_language_cookie_says_en(entity) -> None:  # type: ignore[no-untyped-def]
    home = text(english().get("/"))
    directory = text(english().get("/entities/"))

    assert 'lang="en"' in home
    assert "Market entities" in home and "Transaction ledger" in home
    assert "市场主体" not in home
    assert "Unified social credit code" in directory


def test_language_switch_sets_the_cookie(db) -> None:  # type: ignore[no-untyped-def]
    client = Client()

    response = client.post("/i18n/setlang/", {"language": "en", "next": "/ledger/"})

    assert response["Location"] == "/ledger/"
    assert 'lang="en"' in text(client.get("/ledger/"))


def test_chinese_first_whatever_the_browser_asks(client, db) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response["Content-Language"] == "zh-hans"
    client.cookies["django_language"] = "en"
    assert client.get("/")["Content-Language"] == "en"
