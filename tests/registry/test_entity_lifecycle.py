"""The registry after registration: qualifications, members, suspension, the public directory.
Services are called directly; the HTTP answers are checked where the shape matters."""

from __future__ import annotations

import json
from datetime import date

import pytest

from ggzy.accounts.roles import Role
from ggzy.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from ggzy.ledger.models import Event
from ggzy.registry import selectors, services
from ggzy.registry.models import Entity, EntityVersion, Membership
from tests.api.support import (
    api_client,
    assert_error,
    db_state,
    event_types_since,
    last_seq,
    register,
)
from tests.conftest import T0, make_user, uscc

pytestmark = pytest.mark.usefixtures("region", "frozen_clock")


def _payload(event: Event) -> dict[str, object]:
    return json.loads(event.payload)


# --- qualifications -----------------------------------------------------------------------------


def test_qualifications_are_added_and_removed_as_versions(entity: Entity, bidder) -> None:  # type: ignore[no-untyped-def]
    seq = last_seq()
    added = services.add_qualification(
        actor=bidder,
        entity=entity,
        data=services.QualificationData(
            qualification_type="市政公用工程施工总承包",
            issuer="江苏省住房和城乡建设厅",
            number="S232000001",
            grade="二级",
            valid_until=date(2030, 12, 31),
        ),
    )
    services.remove_qualification(actor=bidder, entity=entity, qualification_id=added.pk)
    entity.refresh_from_db()
    assert entity.version == 3
    assert [
        v.changes
        for v in EntityVersion.objects.filter(entity=entity, version__gt=1).order_by("version")
    ] == [
        {"qualification_added": [None, "市政公用工程施工总承包 S232000001"]},
        {"qualification_removed": ["市政公用工程施工总承包 S232000001", None]},
    ]
    assert list(entity.qualifications.values_list("number", flat=True)) == ["D232000001"]
    assert event_types_since(seq) == ["registry.entity_changed", "registry.entity_changed"]


def test_the_same_certificate_twice_is_409_and_changes_nothing(entity: Entity, bidder) -> None:  # type: ignore[no-untyped-def]
    before = db_state()
    with pytest.raises(Conflict) as info:
        services.add_qualification(
            actor=bidder,
            entity=entity,
            data=services.QualificationData(
                qualification_type="建筑工程施工总承包", issuer="住建部", number="D232000001"
            ),
        )
    assert info.value.code == "qualification_exists"
    assert db_state() == before


def test_a_qualification_validity_that_ends_before_it_starts_is_refused(
    entity: Entity, bidder
) -> None:  # type: ignore[no-untyped-def]
    before = db_state()
    with pytest.raises(ValidationFailed) as info:
        services.add_qualification(
            actor=bidder,
            entity=entity,
            data=services.QualificationData(
                qualification_type="安全生产许可证",
                issuer="江苏省住建厅",
                number="AQ-1",
                valid_from=date(2027, 1, 1),
                valid_until=date(2026, 1, 1),
            ),
        )
    assert info.value.code == "bad_validity"
    assert db_state() == before


def test_another_entitys_qualification_cannot_be_removed(entity: Entity, bidder) -> None:  # type: ignore[no-untyped-def]
    other_admin = make_user("other_admin", Role.BIDDER)
    other = register(other_admin, 2)
    before = db_state()
    with pytest.raises(NotFound) as info:
        services.remove_qualification(
            actor=bidder, entity=entity, qualification_id=other.qualifications.get().pk
        )
    assert info.value.code == "qualification_not_found"
    assert db_state() == before


# --- members ------------------------------------------------------------------------------------


def test_the_admin_adds_an_operator_once(entity: Entity, bidder) -> None:  # type: ignore[no-untyped-def]
    clerk = make_user("clerk", Role.BIDDER)
    seq = last_seq()
    # when the admin adds the clerk as operator
    membership = services.add_member(actor=bidder, entity=entity, username="clerk", role="operator")
    # then the clerk acts for the entity, recorded in the ledger
    assert (membership.user, membership.role, membership.since) == (clerk, "operator", T0)
    assert event_types_since(seq) == ["registry.member_added"]
    assert _payload(Event.objects.get(seq=seq + 1)) == {
        "user": f"user:{clerk.pk}",
        "role": "operator",
    }
    assert selectors.can_view_private(clerk, entity)
    assert not selectors.can_edit(clerk, entity)
    # and adding them again is a conflict that writes nothing
    before = db_state()
    with pytest.raises(Conflict) as info:
        services.add_member(actor=bidder, entity=entity, username="clerk", role="admin")
    assert info.value.code == "already_member"
    assert db_state() == before


def test_adding_an_unknown_user_is_404_and_an_operator_may_not_add_members(
    entity: Entity, bidder
) -> None:  # type: ignore[no-untyped-def]
    clerk = make_user("clerk", Role.BIDDER)
    services.add_member(actor=bidder, entity=entity, username="clerk", role="operator")
    make_user("friend", Role.BIDDER)
    before = db_state()
    with pytest.raises(NotFound) as unknown:
        services.add_member(actor=bidder, entity=entity, username="nobody", role="operator")
    with pytest.raises(PermissionDenied):
        services.add_member(actor=clerk, entity=entity, username="friend", role="operator")
    assert unknown.value.code == "user_not_found"
    assert db_state() == before
    assert Membership.objects.filter(entity=entity).count() == 2


# --- suspension ---------------------------------------------------------------------------------


def test_suspension_hides_the_entity_from_the_public_until_reinstated(
    entity: Entity, bidder
) -> None:  # type: ignore[no-untyped-def]
    from ggzy.accounts.services import issue_token

    regulator = make_user("regulator", Role.REGULATOR)
    outsider = make_user("outsider", Role.BIDDER)
    _, outsider_secret = issue_token(actor=outsider, name="t")
    _, member_secret = issue_token(actor=bidder, name="t")
    http = api_client()
    profile = f"/api/v1/entities/{entity.uscc}"
    seq = last_seq()
    # when the regulator suspends the entity
    suspended = services.set_entity_status(
        actor=regulator, entity=entity, status="suspended", reason="串通投标，暂停6个月"
    )
    # then it is one version and one event carrying the reason
    assert (suspended.status, suspended.version) == ("suspended", 2)
    assert event_types_since(seq) == ["registry.entity_changed"]
    assert _payload(Event.objects.get(seq=seq + 1)) == {
        "version": 2,
        "fields": ["status"],
        "reason": "串通投标，暂停6个月",
    }
    # and the public directory and profile no longer show it; nor does another bidder
    assert http.call("GET", "/api/v1/entities").json()["count"] == 0
    assert_error(http.call("GET", profile), 404, "entity_not_found")
    assert_error(http.call("GET", f"{profile}/versions"), 404, "entity_not_found")
    assert_error(http.call("GET", profile, token=outsider_secret), 404, "entity_not_found")
    # while its own members still see it, as suspended
    assert http.call("GET", profile, token=member_secret).json()["status"] == "suspended"
    # when it is reinstated, it is public again
    services.set_entity_status(actor=regulator, entity=entity, status="active", reason="期满恢复")
    assert http.call("GET", "/api/v1/entities").json()["count"] == 1
    assert http.call("GET", profile).json()["version"] == 3


def test_suspending_twice_is_not_a_second_version(entity: Entity) -> None:
    regulator = make_user("regulator", Role.REGULATOR)
    services.set_entity_status(actor=regulator, entity=entity, status="suspended", reason="处罚")
    before = db_state()
    again = services.set_entity_status(
        actor=regulator, entity=entity, status="suspended", reason="处罚"
    )
    assert again.version == 2
    assert db_state() == before


def test_a_member_may_not_suspend_its_own_entity(entity: Entity, bidder) -> None:  # type: ignore[no-untyped-def]
    before = db_state()
    with pytest.raises(PermissionDenied):
        services.set_entity_status(
            actor=bidder, entity=entity, status="suspended", reason="自行暂停"
        )
    assert db_state() == before


# --- directory ----------------------------------------------------------------------------------


def test_the_directory_filters_by_name_uscc_region_and_role(bidder) -> None:  # type: ignore[no-untyped-def]
    register(bidder, 1)
    tenderer = make_user("city", Role.TENDERER)
    register(
        tenderer,
        2,
        name="南京市政府采购中心",
        entity_type="government",
        is_bidder=False,
        is_tenderer=True,
    )
    http = api_client()

    def names(**query: str) -> list[str]:
        return [
            e["name"] for e in http.call("GET", "/api/v1/entities", query=query).json()["items"]
        ]

    assert sorted(names()) == sorted(["南京市政府采购中心", "南京第1建设有限公司"])
    assert names(role="tenderer") == ["南京市政府采购中心"]
    assert names(q="建设") == ["南京第1建设有限公司"]
    assert names(q=uscc(2).lower()) == ["南京市政府采购中心"]
    assert sorted(names(region="320000")) == sorted(names(region="320100")) == sorted(names())
    assert names(region="440300") == []


def test_status_moves_only_through_the_transition_table() -> None:
    from ggzy.registry.states import can_move

    assert can_move("active", "suspended") and can_move("suspended", "active")
    assert not can_move("active", "active") and not can_move("suspended", "retired")
