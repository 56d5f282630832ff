"""Entity pages: directory search (full page and htmx fragment), registration, profile, editing.

A refused action shows the service's reason on the form and changes nothing: no new row, no new
ledger event.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import pytest
from django.test import Client

from ggzy.core.identifiers import IdentifierError, validate_uscc
from ggzy.ledger.models import Event
from ggzy.registry.models import Entity, EntityVersion, Membership, Qualification
from tests.conftest import make_user, uscc
from tests.web.conftest import entity_form, make_entity
from tests.web.support import signed_in, text

pytestmark = pytest.mark.django_db


def unchanged(*counters: Callable[[], int]) -> Callable[[], bool]:
    """Snapshot counts now; the returned check says whether they are still the same."""
    before = [c() for c in counters]
    return lambda: [c() for c in counters] == before


def field_error(page: str, field: str) -> str:
    """The error text rendered next to ``field`` (empty when there is none)."""
    start = page.find(f'id="id_{field}_error">')
    if start < 0:
        return ""
    start = page.index(">", start) + 1
    return html.unescape(page[start : page.index("</p>", start)])


# --- directory -----------------------------------------------------------------------------


@pytest.fixture
def directory(users, region):  # type: ignore[no-untyped-def]
    from ggzy.registry.models import Region

    Region.objects.create(code="320200", name="无锡市", parent_id="320000")
    make_entity(users["bidder"], 1, "南京金陵建设工程有限公司")
    make_entity(users["bidder"], 2, "南京钟山招标代理有限公司", is_bidder=False, is_agent=True)
    make_entity(users["bidder"], 3, "无锡太湖建设集团有限公司", region="320200")


def names(page: str) -> set[str]:
    candidates = {
        "南京金陵建设工程有限公司",
        "南京钟山招标代理有限公司",
        "无锡太湖建设集团有限公司",
    }
    return {n for n in candidates if n in page}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, {"南京金陵建设工程有限公司", "南京钟山招标代理有限公司", "无锡太湖建设集团有限公司"}),
        ({"q": "建设"}, {"南京金陵建设工程有限公司", "无锡太湖建设集团有限公司"}),
        ({"q": uscc(2)[:17].lower()}, {"南京钟山招标代理有限公司"}),
        ({"region": "320200"}, {"无锡太湖建设集团有限公司"}),
        ({"region": "320000", "role": "agent"}, {"南京钟山招标代理有限公司"}),
        ({"role": "bidder", "q": "南京"}, {"南京金陵建设工程有限公司"}),
    ],
)
def test_directory_filters(directory, query, expected) -> None:  # type: ignore[no-untyped-def]
    assert names(text(Client().get("/entities/", query))) == expected


def test_directory_answers_htmx_with_the_results_fragment_only(directory) -> None:  # type: ignore[no-untyped-def]
    response = Client().get("/entities/", {"q": "无锡"}, HTTP_HX_REQUEST="true")

    page = text(response)
    assert page.startswith('<section id="entity-results"')
    assert "<html" not in page
    assert names(page) == {"无锡太湖建设集团有限公司"}
    assert "HX-Request" in response["Vary"]


def test_directory_paginates(users, region) -> None:  # type: ignore[no-untyped-def]
    for n in range(1, 23):
        make_entity(users["bidder"], n, f"测试单位{n:02d}")

    first = text(Client().get("/entities/"))
    second = text(Client().get("/entities/", {"page": "2"}))

    assert "测试单位01" in first and "测试单位21" not in first
    assert "测试单位21" in second and "测试单位01" not in second
    assert "page=2" in first


# --- registration --------------------------------------------------------------------------


def test_registering_an_entity(users, region) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(users["bidder"])
    events = Event.objects.count()

    response = client.post("/entities/register/", entity_form(uscc(7)))

    assert response.status_code == 302
    assert response["Location"] == f"/entities/{uscc(7)}/"
    entity = Entity.objects.get(uscc=uscc(7))
    assert entity.name == "南京测试建设工程有限公司" and entity.is_bidder and not entity.is_agent
    assert [q.number for q in entity.qualifications.all()] == ["D232000001"]
    assert [c.name for c in entity.contacts.all()] == ["李四"]
    assert Membership.objects.get(entity=entity).user == users["bidder"]
    assert Event.objects.count() == events + 1


def test_optional_contact_and_qualification_rows_may_be_left_blank(users, region) -> None:  # type: ignore[no-untyped-def]
    blank = {k: "" for k in entity_form("x") if k.startswith(("contact-", "qual-"))}

    response = signed_in(users["bidder"]).post("/entities/register/", entity_form(uscc(8), **blank))

    assert response.status_code == 302
    entity = Entity.objects.get(uscc=uscc(8))
    assert not entity.contacts.exists() and not entity.qualifications.exists()


@pytest.mark.parametrize(
    ("bad", "check"),
    [
        (uscc(9)[:17] + ("0" if uscc(9)[17] != "0" else "1"), "checksum"),
        (uscc(9)[:16], "length"),
        ("91320100MA1OOOOOOO", "alphabet"),
    ],
)
def test_a_bad_uscc_shows_the_failing_check_next_to_the_field(users, region, bad, check) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(IdentifierError) as expected:
        validate_uscc(bad)
    assert expected.value.check == check
    nothing_changed = unchanged(Entity.objects.count, Event.objects.count)

    response = signed_in(users["bidder"]).post("/entities/register/", entity_form(bad))

    assert response.status_code == 200
    assert field_error(text(response), "uscc") == expected.value.message
    assert f'value="{bad}"' in text(response)  # what was typed is kept for correction
    assert nothing_changed()


def test_a_bad_uscc_is_reported_together_with_the_other_missing_fields(users, region) -> None:  # type: ignore[no-untyped-def]
    response = signed_in(users["bidder"]).post(
        "/entities/register/", {"uscc": "91320100MA1234567X"}
    )

    page = text(response)
    assert field_error(page, "uscc").startswith("统一社会信用代码校验位错误")
    assert field_error(page, "name") == "这个字段是必填项。"
    assert not Entity.objects.exists()


def test_the_registration_form_has_each_field_once(users, region) -> None:  # type: ignore[no-untyped-def]
    page = text(signed_in(users["bidder"]).get("/entities/register/"))

    for name in entity_form("x"):
        assert page.count(f'name="{name}"') == 1, name


def test_a_duplicate_uscc_is_refused(users, entity) -> None:  # type: ignore[no-untyped-def]
    nothing_changed = unchanged(
        Entity.objects.count, Event.objects.count, Qualification.objects.count
    )

    response = signed_in(users["tenderer"]).post("/entities/register/", entity_form(entity.uscc))

    assert field_error(text(response), "uscc") == "该统一社会信用代码已注册"
    assert nothing_changed()


def test_an_entity_needs_a_market_role(users, region) -> None:  # type: ignore[no-untyped-def]
    form = entity_form(uscc(10))
    del form["is_bidder"]
    nothing_changed = unchanged(Entity.objects.count, Event.objects.count)

    response = signed_in(users["bidder"]).post("/entities/register/", form)

    assert "请至少选择一种市场角色" in text(response)
    assert nothing_changed()


def test_a_bad_resident_id_is_shown_on_its_field(users, region) -> None:  # type: ignore[no-untyped-def]
    form = entity_form(uscc(11), legal_representative_id="320102198001011234")
    nothing_changed = unchanged(Entity.objects.count, Event.objects.count)

    response = signed_in(users["bidder"]).post("/entities/register/", form)

    assert "身份证号码校验位错误" in field_error(text(response), "legal_representative_id")
    assert nothing_changed()


def test_roles_without_entity_register_permission_are_refused(users, region) -> None:  # type: ignore[no-untyped-def]
    nothing_changed = unchanged(Entity.objects.count, Event.objects.count)

    response = signed_in(users["expert"]).post("/entities/register/", entity_form(uscc(12)))

    assert response.status_code == 403
    assert "无权执行此操作" in text(response)
    assert nothing_changed()


# --- profile -------------------------------------------------------------------------------


def test_visitors_see_the_public_profile_only(entity) -> None:  # type: ignore[no-untyped-def]
    page = text(Client().get(f"/entities/{entity.uscc}/"))

    for shown in (
        entity.name,
        entity.uscc,
        "王五",
        "10000000.00",
        "南京市鼓楼区中山路100号",
        "南京市",
        "市政公用工程施工总承包",
        "投标人/供应商",
        "企业法人",
    ):
        assert shown in page
    assert "已过期" in page  # the qualification ran out on 2026-01-01; the licence is open-ended
    assert "4301015209100012345" not in page and "赵六" not in page
    assert "/edit/" not in page


def test_members_see_private_fields_and_the_edit_link(users, entity) -> None:  # type: ignore[no-untyped-def]
    page = text(signed_in(users["bidder"]).get(f"/entities/{entity.uscc}/"))

    assert "4301015209100012345" in page and "赵六" in page and "u_bidder" in page
    assert f'href="/entities/{entity.uscc}/edit/"' in page


def test_supervisors_see_private_fields_but_may_not_edit(users, entity) -> None:  # type: ignore[no-untyped-def]
    page = text(signed_in(users["regulator"]).get(f"/entities/{entity.uscc}/"))

    assert "4301015209100012345" in page
    assert "/edit/" not in page


def test_profile_lists_the_change_history(users, entity) -> None:  # type: ignore[no-untyped-def]
    signed_in(users["bidder"]).post(
        f"/entities/{entity.uscc}/edit/",
        {**edit_form(entity), "address": "南京市建邺区新地址8号"},
    )

    page = text(Client().get(f"/entities/{entity.uscc}/"))

    assert "v2" in page and "首次登记" in page
    assert "南京市鼓楼区中山路100号 → 南京市建邺区新地址8号" in page
    assert f"user:{users['bidder'].pk}" in page


def test_an_unknown_or_malformed_uscc_is_a_404(db) -> None:  # type: ignore[no-untyped-def]
    assert Client().get(f"/entities/{uscc(99)}/").status_code == 404
    assert Client().get("/entities/not-a-code/").status_code == 404


# --- editing -------------------------------------------------------------------------------


def edit_form(entity: Entity, **overrides: str) -> dict[str, str]:
    data = {
        "expected_version": str(entity.version),
        "name": entity.name,
        "entity_type": entity.entity_type,
        "is_bidder": "on",
        "legal_representative": entity.legal_representative,
        "legal_representative_id": "",
        "registered_capital": str(entity.registered_capital),
        "address": entity.address,
        "region": entity.region_id,
        "bank_name": entity.bank_name,
        "bank_account": entity.bank_account,
        "licence_valid_from": "2015-06-01",
        "licence_valid_until": "",
    }
    data.update(overrides)
    return data


def test_the_admin_edits_the_registration(users, entity) -> None:  # type: ignore[no-untyped-def]
    events = Event.objects.count()

    response = signed_in(users["bidder"]).post(
        f"/entities/{entity.uscc}/edit/", edit_form(entity, address="南京市建邺区新地址8号")
    )

    assert response["Location"] == f"/entities/{entity.uscc}/"
    entity.refresh_from_db()
    assert (entity.address, entity.version) == ("南京市建邺区新地址8号", 2)
    assert Event.objects.count() == events + 1


def test_a_non_member_may_not_edit(users, entity) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(users["tenderer"])
    nothing_changed = unchanged(Event.objects.count, EntityVersion.objects.count)

    page = client.get(f"/entities/{entity.uscc}/edit/")
    refused = client.post(f"/entities/{entity.uscc}/edit/", edit_form(entity, address="篡改"))

    assert page.status_code == 403 and refused.status_code == 403
    assert "无权执行此操作" in text(refused)
    entity.refresh_from_db()
    assert entity.address == "南京市鼓楼区中山路100号"
    assert nothing_changed()


def test_a_stale_version_is_refused(users, entity) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(users["bidder"])
    client.post(
        f"/entities/{entity.uscc}/edit/", edit_form(entity, name="南京金陵建设集团有限公司")
    )
    nothing_changed = unchanged(Event.objects.count, EntityVersion.objects.count)

    response = client.post(
        f"/entities/{entity.uscc}/edit/", edit_form(entity, expected_version="1", address="旧页面")
    )

    assert "登记信息已被他人修改" in text(response)
    entity.refresh_from_db()
    assert entity.address != "旧页面"
    assert nothing_changed()


def test_removing_every_market_role_is_refused(users, entity) -> None:  # type: ignore[no-untyped-def]
    form = edit_form(entity)
    del form["is_bidder"]
    nothing_changed = unchanged(Event.objects.count, EntityVersion.objects.count)

    response = signed_in(users["bidder"]).post(f"/entities/{entity.uscc}/edit/", form)

    assert "请至少保留一种市场角色" in text(response)
    assert nothing_changed()


def qualification_form(**overrides: str) -> dict[str, str]:
    data = {
        "qual-qualification_type": "建筑装修装饰工程专业承包",
        "qual-grade": "一级",
        "qual-issuer": "住房和城乡建设部",
        "qual-number": "D132000123",
        "qual-valid_from": "2024-01-01",
        "qual-valid_until": "2028-12-31",
    }
    data.update(overrides)
    return data


def test_adding_and_removing_a_qualification(users, entity) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(users["bidder"])

    added = client.post(f"/entities/{entity.uscc}/qualifications/", qualification_form())
    row = Qualification.objects.get(number="D132000123")
    removed = client.post(f"/entities/{entity.uscc}/qualifications/{row.pk}/remove/")

    assert added["Location"] == removed["Location"] == f"/entities/{entity.uscc}/edit/"
    assert not Qualification.objects.filter(number="D132000123").exists()


def test_a_duplicate_qualification_is_refused(users, entity) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(users["bidder"])
    form = qualification_form(
        **{"qual-qualification_type": "市政公用工程施工总承包", "qual-number": "D332000009"}
    )
    nothing_changed = unchanged(Qualification.objects.count, Event.objects.count)

    response = client.post(f"/entities/{entity.uscc}/qualifications/", form)

    assert field_error(text(response), "qual-number") == "该资质证书已登记"
    assert nothing_changed()


def test_the_admin_adds_a_member(users, entity) -> None:  # type: ignore[no-untyped-def]
    clerk = make_user("clerk", "bidder")

    response = signed_in(users["bidder"]).post(
        f"/entities/{entity.uscc}/members/", {"member-username": "clerk", "member-role": "operator"}
    )

    assert response.status_code == 302
    assert Membership.objects.get(user=clerk, entity=entity).role == "operator"


def test_adding_an_unknown_user_is_refused(users, entity) -> None:  # type: ignore[no-untyped-def]
    nothing_changed = unchanged(Membership.objects.count, Event.objects.count)

    response = signed_in(users["bidder"]).post(
        f"/entities/{entity.uscc}/members/", {"member-username": "ghost", "member-role": "operator"}
    )

    assert field_error(text(response), "member-username") == "用户不存在"
    assert nothing_changed()


def test_center_intake_edits_but_does_not_manage_members(users, entity) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(users["center_intake"])
    nothing_changed = unchanged(Membership.objects.count, Event.objects.count)

    page = text(client.get(f"/entities/{entity.uscc}/edit/"))
    refused = client.post(
        f"/entities/{entity.uscc}/members/",
        {"member-username": "u_tenderer", "member-role": "admin"},
    )

    assert "添加资质" in page and "添加成员" not in page
    assert refused.status_code == 403
    assert nothing_changed()
