"""The trading catalog: the default categories, versioned rulesets that can be stricter than the
law but never laxer, procedures per category — through the services, the API, the CLI, the back
office and the public page."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from ggzy.accounts.roles import Role
from ggzy.accounts.services import issue_token
from ggzy.catalog import rules, selectors, services
from ggzy.catalog.models import Category, Ruleset
from ggzy.core.errors import ValidationFailed
from ggzy.ledger.models import Event
from tests.api.support import api_client, assert_error, db_state
from tests.conftest import make_user


@pytest.fixture
def catalog(db, frozen_clock):  # type: ignore[no-untyped-def]
    services.install_default_catalog(actor="system:test")


def works_rules() -> dict[str, object]:
    return dict(selectors.current_ruleset(selectors.get_category("works")).rules)


def test_default_catalog_has_the_seed_categories_with_the_laws_values(catalog):
    codes = set(Category.objects.values_list("code", flat=True))
    assert codes == {
        "works", "procurement", "land", "mining", "state-property", "emissions", "carbon",
        "energy-use", "medical",
    }  # fmt: skip
    works = works_rules()
    assert (works["bid_period_days"], works["deposit_max_ratio"], works["min_bids_to_open"]) == (
        20,
        "0.0200",
        3,
    )
    procurement = selectors.current_ruleset(selectors.get_category("procurement")).rules
    assert procurement["document_sale_working_days"] == 5 and procurement["deposit_non_cash_only"]
    land = selectors.get_category("land")
    assert {p.code for p in land.procedures.all()} == {"open_tender", "listing", "auction"}
    assert services.install_default_catalog(actor="system:test") == 0  # idempotent
    assert Event.objects.filter(event_type="catalog.installed").count() == 1


def test_a_new_version_keeps_the_old_one(catalog):
    values = {**works_rules(), "bid_validity_days": 120, "deposit_max_yuan": "500000"}
    new = services.publish_ruleset(
        actor="system:test", category=selectors.get_category("works"), rules_=values, note="调整"
    )
    assert new.version == 2 and new.rules["deposit_max_yuan"] == "500000.00"
    old = selectors.get_ruleset(selectors.get_category("works"), 1)
    assert old.rules["bid_validity_days"] == 90  # a project created under v1 still reads v1
    assert Event.objects.filter(event_type="catalog.ruleset_published").count() == 10


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"bid_period_days": 15}, "statutory_rule"),  # laxer than the law (R1)
        ({"bid_period_days": 30}, "statutory_rule"),  # the law's value is the ruleset's
        ({"deposit_max_ratio": "0.05"}, "statutory_rule"),  # R10
        ({"min_bids_to_open": 2}, "statutory_rule"),  # R15
        ({"deposit_max_yuan": "900000"}, "rule_out_of_range"),
        ({"decryption_window_minutes": 1}, "rule_out_of_range"),
        ({"bid_validity_days": "ninety"}, "bad_rule_value"),
        ({"deposit_cash_allowed": "yes"}, "bad_rule_value"),
        ({"deposit_max_yuan": "NaN"}, "bad_rule_value"),
        ({"listing_period_days": 10}, "bad_rules"),  # not a works rule
    ],
)
def test_refused_rulesets_change_nothing(catalog, change, code):
    before = db_state(), Ruleset.objects.count()
    with pytest.raises(ValidationFailed) as info:
        services.publish_ruleset(
            actor="system:test", category=selectors.get_category("works"),
            rules_={**works_rules(), **change},
        )  # fmt: skip
    assert info.value.code == code
    assert (db_state(), Ruleset.objects.count()) == before


def test_every_spec_default_passes_its_own_check():
    for spec in rules.SPECS.values():
        assert spec.clean(spec.default) is not None


# --- API, CLI, pages ----------------------------------------------------------------------------


def test_catalog_is_public_and_only_the_center_admin_publishes(catalog):
    http = api_client()
    listed = http.call("GET", "/api/v1/catalog").json()
    assert [c["code"] for c in listed][:2] == ["works", "procurement"]
    works = http.call("GET", "/api/v1/catalog/works").json()
    assert works["current"]["version"] == 1 and works["versions"] == [1]
    r1 = next(r for r in works["current"]["rules"] if r["key"] == "bid_period_days")
    assert (r1["rule"], r1["statutory"], r1["value"]) == ("R1", True, 20)
    assert_error(http.call("GET", "/api/v1/catalog/nope"), 404, "category_not_found")
    assert_error(http.call("GET", "/api/v1/catalog/works/rulesets/9"), 404, "ruleset_not_found")
    body = {"rules": works_rules() | {"bid_validity_days": 60}, "note": "缩短"}
    bidder = issue_token(actor=make_user("b", Role.BIDDER), name="t")[1]
    assert_error(
        http.call("POST", "/api/v1/catalog/works/rulesets", body, token=bidder), 403, "forbidden"
    )
    admin = issue_token(actor=make_user("a", Role.CENTER_ADMIN), name="t")[1]
    r = http.call("POST", "/api/v1/catalog/works/rulesets", body, token=admin)
    assert r.status_code == 201 and r.json()["version"] == 2
    r = http.call(
        "PUT", "/api/v1/catalog/works/procedures", {"procedures": ["open_tender"]}, token=admin
    )
    assert [p["code"] for p in r.json()["procedures"]] == ["open_tender"]
    bad = {"procedures": ["sealed_lottery"]}
    assert_error(
        http.call("PUT", "/api/v1/catalog/works/procedures", bad, token=admin),
        422,
        "bad_procedures",
    )


def test_cli_show_and_publish(catalog, tmp_path, capsys):
    call_command("catalog", "show", "works")
    shown = json.loads(capsys.readouterr().out)
    assert shown["version"] == 1
    path = tmp_path / "r.json"
    path.write_text(json.dumps({**shown, "rules": {**shown["rules"], "bid_validity_days": 100}}))
    call_command("catalog", "publish", "works", str(path), "--note", "CLI")
    assert "v2 published" in capsys.readouterr().out
    path.write_text(json.dumps({**shown["rules"], "bid_period_days": 10}))
    with pytest.raises(CommandError, match="statutory_rule"):
        call_command("catalog", "publish", "works", str(path))
    call_command("catalog", "list")
    assert "works" in capsys.readouterr().out


def test_public_page_and_back_office_publish(catalog, client):
    page = client.get("/catalog/").content.decode()
    assert "工程建设项目招标投标" in page and "招标投标法第24条" in page and "法定" in page
    admin = make_user("boss", Role.CENTER_ADMIN)
    admin.is_staff = True
    admin.save(update_fields=["is_staff"])
    client.force_login(admin)
    url = "/admin/catalog/category/works/publish/"
    form = client.get(url)
    assert form.status_code == 200 and "bid_period_days" in form.content.decode()
    data = {k: v for k, v in works_rules().items() if not rules.SPECS[k].statutory}
    data = {k: ("on" if v is True else v) for k, v in data.items() if v is not False}
    r = client.post(url, {**data, "bid_validity_days": 45, "note": "后台"})
    assert r.status_code == 302, r.content.decode()[:2000]
    assert (
        selectors.current_ruleset(selectors.get_category("works")).rules["bid_validity_days"] == 45
    )
    intake = make_user("intake", Role.CENTER_INTAKE)
    intake.is_staff = True
    intake.save(update_fields=["is_staff"])
    client.force_login(intake)
    assert client.get(url).status_code == 403


def test_back_office_refusal_shows_the_reason_and_stores_nothing(catalog, client):
    admin = make_user("boss", Role.CENTER_ADMIN)
    admin.is_staff = True
    admin.save(update_fields=["is_staff"])
    client.force_login(admin)
    data = {k: v for k, v in works_rules().items() if not rules.SPECS[k].statutory}
    data = {k: ("on" if v is True else v) for k, v in data.items() if v is not False}
    before = Ruleset.objects.count()
    r = client.post(
        "/admin/catalog/category/works/publish/", {**data, "decryption_window_minutes": 1}
    )
    assert r.status_code == 200 and "rule_out_of_range" in r.content.decode()
    assert Ruleset.objects.count() == before
