"""The market-entity registry: register once, change with versions, qualifications, members,
suspension. Services are called directly; the HTTP answers are checked where the shape matters."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest

from ggzy.accounts.roles import Role
from ggzy.core.errors import Conflict, PermissionDenied, ValidationFailed
from ggzy.core.identifiers import IdentifierError
from ggzy.ledger.models import Event
from ggzy.registry import services
from ggzy.registry.models import Entity, EntityStatus, EntityVersion, MemberRole
from tests.api.support import (
    api_client,
    assert_error,
    db_state,
    entity_payload,
    event_types_since,
    last_seq,
    register,
)
from tests.conftest import T0, make_user, uscc

pytestmark = pytest.mark.usefixtures("region", "frozen_clock")


def _payload(event: Event) -> dict[str, object]:
    return json.loads(event.payload)


# --- register -> profile -----------------------------------------------------------------------


def test_registering_makes_the_registrant_admin_version_1_and_one_event(bidder) -> None:  # type: ignore[no-untyped-def]
    seq = last_seq()
    # when a bidder registers its organisation
    entity = register(bidder, 1)
    # then the entity exists with the normalised data, version 1, the bidder as admin
    assert (entity.uscc, entity.name, entity.version, entity.status) == (
        uscc(1),
        "南京第1建设有限公司",
        1,
        EntityStatus.ACTIVE,
    )
    assert entity.registered_capital == Decimal("5000000.00")
    assert list(entity.memberships.values_list("user__username", "role")) == [
        ("acme_admin", MemberRole.ADMIN)
    ]
    assert [(q.qualification_type, q.number) for q in entity.qualifications.all()] == [
        ("建筑工程施工总承包", "D232000001")
    ]
    # and exactly one ledger event records it, without private data
    assert event_types_since(seq) == ["registry.entity_registered"]
    event = Event.objects.get(seq=seq + 1)
    assert (event.actor, event.subject) == (f"user:{bidder.pk}", f"entity:{uscc(1)}")
    assert _payload(event) == {
        "name": "南京第1建设有限公司",
        "region": "320100",
        "roles": ["bidder"],
    }


def test_profile_after_registration_shows_public_fields_to_anyone(entity: Entity) -> None:
    # when anyone reads the profile
    response = api_client().call("GET", f"/api/v1/entities/{entity.uscc}")
    # then the public registration is there
    assert response.status_code == 200
    assert response.json() == {
        "uscc": uscc(1),
        "name": "南京第1建设有限公司",
        "entity_type": "enterprise",
        "entity_type_display": "企业法人",
        "market_roles": ["bidder"],
        "legal_representative": "王建国",
        "registered_capital": "5000000.00",
        "address": "南京市玄武区中山路1号",
        "region": "320100",
        "region_name": "南京市",
        "licence_valid_from": None,
        "licence_valid_until": None,
        "licence_valid": True,
        "status": "active",
        "version": 1,
        "registered_at": "2026-11-23T02:00:00Z",
        "qualifications": [
            {
                "id": entity.qualifications.get().pk,
                "qualification_type": "建筑工程施工总承包",
                "grade": "一级",
                "issuer": "江苏省住房和城乡建设厅",
                "number": "D232000001",
                "valid_from": None,
                "valid_until": None,
                "valid": True,
            }
        ],
    }


def test_register_through_the_api_answers_201_with_the_private_view(bidder) -> None:  # type: ignore[no-untyped-def]
    from ggzy.accounts.services import issue_token

    _, secret = issue_token(actor=bidder, name="t")
    seq = last_seq()
    # when the bidder posts its registration (USCC typed in lower case with spaces)
    payload = entity_payload(7, uscc=" " + uscc(7).lower() + " ")
    response = api_client().call("POST", "/api/v1/entities", body=payload, token=secret)
    # then it is created under the normalised USCC, with what only members see
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["uscc"], body["bank_account"], body["members"]) == (
        uscc(7),
        "6217 0000 0000 0000",
        [{"username": "acme_admin", "display_name": "acme_admin", "role": "admin"}],
    )
    assert event_types_since(seq) == ["registry.entity_registered"]


# --- refusals that write nothing ----------------------------------------------------------------


def test_a_duplicate_uscc_is_refused_with_409_and_nothing_written(entity: Entity) -> None:
    # given the entity is registered; another bidder tries the same USCC (in lower case)
    other = make_user("copycat", Role.BIDDER)
    before = db_state()
    # when they register it again
    with pytest.raises(Conflict) as info:
        register(other, 1, uscc=uscc(1).lower(), name="另一家公司")
    # then it is a conflict that names the USCC, and nothing was written
    assert (info.value.status, info.value.code, info.value.detail) == (
        409,
        "uscc_taken",
        {"uscc": uscc(1)},
    )
    assert db_state() == before


def test_a_duplicate_uscc_through_the_api_is_409_in_the_error_shape(entity: Entity) -> None:
    from ggzy.accounts.services import issue_token

    other = make_user("copycat", Role.BIDDER)
    _, secret = issue_token(actor=other, name="t")
    before = db_state()
    response = api_client().call("POST", "/api/v1/entities", body=entity_payload(1), token=secret)
    body = assert_error(response, 409, "uscc_taken")
    assert body["detail"] == {"uscc": uscc(1)}
    assert db_state() == before


@pytest.mark.parametrize(
    ("bad_uscc", "check"),
    [
        ("91110000600037341M", "checksum"),
        ("9111000060003734", "length"),
        ("9111000060003734IL", "alphabet"),
        ("B1110000600037341L", "registration_authority"),
        ("911A0000600037341L", "region"),
    ],
)
def test_a_bad_uscc_names_the_failing_check(bidder, bad_uscc: str, check: str) -> None:  # type: ignore[no-untyped-def]
    from ggzy.accounts.services import issue_token

    _, secret = issue_token(actor=bidder, name="t")
    before = db_state()
    # when the bidder registers with a mistyped USCC
    response = api_client().call(
        "POST", "/api/v1/entities", body=entity_payload(1, uscc=bad_uscc), token=secret
    )
    # then the answer says which GB 32100 check failed, and nothing was written
    body = assert_error(response, 422, "invalid_identifier")
    assert body["detail"] == {"identifier": "uscc", "check": check}
    assert db_state() == before


@pytest.mark.parametrize(
    ("bad_id", "check"),
    [
        ("110105194912310021", "checksum"),
        ("1101051949123100", "length"),
        ("11010519491231002A", "alphabet"),
        ("110105194913310028", "birth_date"),
    ],
)
def test_a_bad_legal_representative_id_names_the_failing_check(
    bidder, bad_id: str, check: str
) -> None:  # type: ignore[no-untyped-def]
    before = db_state()
    with pytest.raises(IdentifierError) as info:
        register(bidder, 1, legal_representative_id=bad_id)
    assert (info.value.status, info.value.code) == (422, "invalid_identifier")
    assert info.value.detail == {"identifier": "resident_id", "check": check}
    assert db_state() == before


@pytest.mark.parametrize("good_id", ["11010519491231002x", "360426199101010071"])
def test_a_valid_legal_representative_id_is_stored_normalised(bidder, good_id: str) -> None:  # type: ignore[no-untyped-def]
    entity = register(bidder, 1, legal_representative_id=good_id)
    assert entity.legal_representative_id == good_id.upper()


def test_registration_needs_a_market_role_and_a_registered_region(bidder) -> None:  # type: ignore[no-untyped-def]
    before = db_state()
    with pytest.raises(ValidationFailed) as no_role:
        register(bidder, 1, is_bidder=False)
    with pytest.raises(ValidationFailed) as no_region:
        register(bidder, 1, region="440300")
    assert (no_role.value.code, no_region.value.code) == ("no_market_role", "unknown_region")
    assert db_state() == before


def test_only_market_roles_may_register(db) -> None:  # type: ignore[no-untyped-def]
    staff = make_user("intake", Role.CENTER_INTAKE)
    before = db_state()
    with pytest.raises(PermissionDenied):
        register(staff, 1)
    assert db_state() == before


# --- versioning ---------------------------------------------------------------------------------


def test_each_change_is_a_new_version_recording_who_when_and_what(
    entity: Entity, bidder, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    seq = last_seq()
    frozen_clock.advance(hours=1)
    # when the admin renames the entity and moves it up a capital bracket
    changed = services.update_entity(
        actor=bidder,
        entity=entity,
        changes={"name": "南京新名建设有限公司", "registered_capital": Decimal("8000000")},
        expected_version=1,
    )
    # then the entity is version 2 and the version row says who, when and what
    assert (changed.version, changed.name) == (2, "南京新名建设有限公司")
    v2 = EntityVersion.objects.get(entity=entity, version=2)
    assert (v2.changed_by, v2.changed_at) == (f"user:{bidder.pk}", T0 + timedelta(hours=1))
    assert v2.changes == {
        "name": ["南京第1建设有限公司", "南京新名建设有限公司"],
        "registered_capital": ["5000000.00", "8000000.00"],
    }
    # and one ledger event names the version and the fields, not the values
    assert event_types_since(seq) == ["registry.entity_changed"]
    assert _payload(Event.objects.get(seq=seq + 1)) == {
        "version": 2,
        "fields": ["name", "registered_capital"],
    }


def test_private_values_are_masked_in_the_history(entity: Entity, bidder) -> None:  # type: ignore[no-untyped-def]
    # when the admin changes the bank account, bank and legal representative's ID
    services.update_entity(
        actor=bidder,
        entity=entity,
        changes={
            "bank_account": "6222 1111 2222 3333",
            "bank_name": "工商银行南京分行",
            "legal_representative_id": "360426199101010071",
        },
    )
    services.add_contact(
        actor=bidder, entity=entity, data=services.ContactData(name="钱七", phone="13800000000")
    )
    # then the public history shows that they changed, never the values
    history = api_client().call("GET", f"/api/v1/entities/{entity.uscc}/versions").json()
    assert [(v["version"], v["changes"]) for v in history] == [
        (3, {"contact_added": [None, "***"]}),
        (
            2,
            {
                "bank_account": ["***", "***"],
                "bank_name": ["***", "***"],
                "legal_representative_id": ["***", "***"],
            },
        ),
        (1, history[-1]["changes"]),
    ]
    first = history[-1]["changes"]
    assert not {"bank_account", "bank_name", "legal_representative_id"} & set(first)
    assert first["name"] == [None, "南京第1建设有限公司"]
    text = json.dumps(history, ensure_ascii=False)
    for secret in ("6217", "6222", "工商银行", "中国银行", "360426", "110105", "钱七", "李四"):
        assert secret not in text


def test_a_change_that_changes_nothing_is_not_a_version(entity: Entity, bidder) -> None:  # type: ignore[no-untyped-def]
    before = db_state()
    same = services.update_entity(
        actor=bidder, entity=entity, changes={"name": " 南京第1建设有限公司 "}
    )
    assert same.version == 1
    assert db_state() == before


def test_a_stale_expected_version_is_409_and_changes_nothing(entity: Entity, bidder) -> None:  # type: ignore[no-untyped-def]
    # given someone else already made version 2
    services.update_entity(actor=bidder, entity=entity, changes={"address": "南京市鼓楼区1号"})
    before = db_state()
    # when a change based on version 1 arrives
    with pytest.raises(Conflict) as info:
        services.update_entity(
            actor=bidder, entity=entity, changes={"name": "过期的修改"}, expected_version=1
        )
    # then it is refused, naming the current version, and nothing changed
    assert (info.value.status, info.value.code, info.value.detail) == (
        409,
        "stale_version",
        {"current_version": 2},
    )
    assert db_state() == before


def test_a_stale_expected_version_through_the_api(entity: Entity, bidder) -> None:  # type: ignore[no-untyped-def]
    from ggzy.accounts.services import issue_token

    _, secret = issue_token(actor=bidder, name="t")
    services.update_entity(actor=bidder, entity=entity, changes={"address": "南京市鼓楼区1号"})
    before = db_state()
    response = api_client().call(
        "PATCH",
        f"/api/v1/entities/{entity.uscc}",
        body={"name": "过期的修改", "expected_version": 1},
        token=secret,
    )
    assert assert_error(response, 409, "stale_version")["detail"] == {"current_version": 2}
    assert db_state() == before


@pytest.mark.parametrize(
    "field",
    ["name", "is_bidder", "bank_name", "bank_account", "legal_representative_id", "region"],
)
def test_null_is_refused_for_a_field_that_cannot_be_empty(
    entity: Entity, bidder, field: str
) -> None:  # type: ignore[no-untyped-def]
    # (a PATCH of {"bank_name": null} used to reach the database and answer 500)
    from ggzy.accounts.services import issue_token

    _, secret = issue_token(actor=bidder, name="t")
    before = db_state()
    response = api_client().call(
        "PATCH", f"/api/v1/entities/{entity.uscc}", body={field: None}, token=secret
    )
    assert assert_error(response, 422, "null_not_allowed")["detail"] == {"field": field}
    assert db_state() == before


def test_null_clears_an_optional_field(entity: Entity, bidder) -> None:  # type: ignore[no-untyped-def]
    changed = services.update_entity(
        actor=bidder, entity=entity, changes={"registered_capital": None}
    )
    assert (changed.registered_capital, changed.version) == (None, 2)


def test_licence_end_before_the_stored_start_is_refused(bidder) -> None:  # type: ignore[no-untyped-def]
    entity = register(bidder, 1, licence_valid_from=date(2020, 1, 1))
    before = db_state()
    with pytest.raises(ValidationFailed) as info:
        services.update_entity(
            actor=bidder, entity=entity, changes={"licence_valid_until": date(2019, 12, 31)}
        )
    assert (info.value.code, info.value.detail) == (
        "bad_validity",
        {"field": "licence_valid_until"},
    )
    assert db_state() == before
