"""The draw over HTTP (``/api/v1/experts/draws…``, ``…/invitations…``) and its pages: request,
status, sealing (R17: neither staff nor the tenderer see who was drawn before the session starts,
through the API or the pages), the expert's own invitations with confirm and decline, the reveal,
and the supervision's verification."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client

from ggzy.accounts.services import issue_token
from ggzy.core import clock
from ggzy.experts import draw_record
from ggzy.experts.draw_models import Draw, DrawnExpert
from tests.api.support import api_client, assert_error
from tests.conftest import make_user
from tests.experts.draw_world import DrawWorld, another_section, make_world

EXPERTS = "/api/v1/experts"


@pytest.fixture
def dw(users, region, frozen_clock) -> DrawWorld:  # type: ignore[no-untyped-def]
    world = make_world(users)
    for n in range(6):
        world.expert(owner=make_user(f"draw_expert{n}", "expert"), other_specialties=[])
    return world


def _token(user):  # type: ignore[no-untyped-def]
    return issue_token(actor=user, name="t")[1]


def _body(dw: DrawWorld, **extra: object) -> dict[str, object]:
    return {
        "section": dw.section.public_id,
        "session_at": dw.session_at.isoformat(),
        "quotas": [{"specialty": "A01", "count": 3, "backups": 2}],
        **extra,
    }


def _expert_user_of(row: DrawnExpert):  # type: ignore[no-untyped-def]
    from ggzy.experts.models import Expert

    return Expert.objects.get(pk=draw_record.identity(row)["expert"]).user


def _leaks(dw: DrawWorld, text: str) -> list[str]:
    """Any drawn expert's public id, name, phone or account named in ``text``."""
    out = []
    for e in dw.made:
        for value in (
            e.public_id,
            e.name + "（",
            e.phone if e.phone != "13900000001" else "",
            e.user.username if e.user else "",
        ):
            if value and value in text:
                out.append(value)
    return out


def test_request_status_and_sealing_through_the_api(dw, users) -> None:  # type: ignore[no-untyped-def]
    http = api_client()
    ops = _token(users["center_operations"])
    r = http.call("POST", f"{EXPERTS}/draws", _body(dw), token=ops)
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["status"] == "drawn" and body["sealed"] is True
    assert [q["seats"]["notified"] for q in body["quotas"]] == [3]
    assert [d["expert"] for d in body["drawn"]] == [None] * 5
    # staff (every center and supervision role) see counts and pseudonyms, never who
    for role in ("center_operations", "center_admin", "center_intake", "auditor", "regulator"):
        got = http.call("GET", f"{EXPERTS}/draws/{body['id']}", token=_token(users[role]))
        assert got.status_code == 200
        assert not _leaks(dw, got.content.decode()), role
        listed = http.call(
            "GET",
            f"{EXPERTS}/draws",
            query={"section": dw.section.public_id},
            token=_token(users[role]),
        )
        assert listed.json()["count"] == 1 and not _leaks(dw, listed.content.decode())
    # the tenderer, bidders and experts: the draw does not exist for them
    for role in ("tenderer", "bidder", "agent", "expert"):
        assert_error(
            http.call("GET", f"{EXPERTS}/draws/{body['id']}", token=_token(users[role])),
            404,
            "draw_not_found",
        )
        assert_error(http.call("GET", f"{EXPERTS}/draws", token=_token(users[role])), 403)
    # not "draws" taken for an expert id by /{expert_id}
    assert_error(http.call("GET", f"{EXPERTS}/draws/{'0' * 32}", token=ops), 404, "draw_not_found")


def test_an_unfillable_request_is_refused_with_its_binding_constraint(dw, users) -> None:  # type: ignore[no-untyped-def]
    http = api_client()
    r = http.call(
        "POST",
        f"{EXPERTS}/draws",
        _body(dw, quotas=[{"specialty": "A01", "count": 7, "backups": 0}]),
        token=_token(users["center_operations"]),
    )
    body = assert_error(r, 409, "draw_unfillable")
    assert body["detail"]["quotas"] == [
        {
            "quota": "A01",
            "stratum": "all",
            "needed": 7,
            "eligible": 6,
            "binding": "specialty",
            "in_pool": 6,
            "removed": {},
        }
    ]
    assert Draw.objects.get(public_id=body["detail"]["draw"]).status == "unfillable"


def test_bad_requests_are_refused_by_code(dw, users) -> None:  # type: ignore[no-untyped-def]
    http, ops = api_client(), _token(users["center_operations"])
    cases = [
        (_body(dw, quotas=[{"specialty": "Z9", "count": 1}]), 422, "unknown_specialty"),
        (_body(dw, quotas=[{"specialty": "A01", "count": 0}]), 422, "validation_error"),
        (_body(dw, quotas=[]), 422, "validation_error"),
        (
            _body(dw, session_at=(clock.now() - timedelta(days=1)).isoformat()),
            422,
            "session_in_past",
        ),
        (_body(dw, section="0" * 32), 404, "section_not_found"),
        (_body(dw, tops_up="0" * 32), 404, "draw_not_found"),
        (_body(dw, include_regions=["999999"]), 422, "unknown_region"),
        # the end of the calendar (no China time for it): refused, not a 500
        (_body(dw, session_at="9999-12-31T23:00:00+00:00"), 422, "bad_session_at"),
    ]
    for body, status, code in cases:
        assert_error(http.call("POST", f"{EXPERTS}/draws", body, token=ops), status, code)
    assert not Draw.objects.exists()


def test_the_expert_sees_only_their_own_invitation_and_answers_it(dw, users) -> None:  # type: ignore[no-untyped-def]
    http = api_client()
    draw = dw.draw([("A01", 2, 1)])
    rows = list(draw.drawn.select_related("draw", "quota").order_by("position"))
    main, other_main, backup = rows
    me, other = _expert_user_of(main), _expert_user_of(other_main)
    mine = http.call("GET", f"{EXPERTS}/invitations", token=_token(me)).json()
    assert [i["id"] for i in mine] == [main.public_id] and mine[0]["status"] == "notified"
    # a backup not called yet has no invitation to see
    assert (
        http.call("GET", f"{EXPERTS}/invitations", token=_token(_expert_user_of(backup))).json()
        == []
    )
    # another expert cannot answer it: it does not exist for them
    assert_error(
        http.call("POST", f"{EXPERTS}/invitations/{main.public_id}/confirm", token=_token(other)),
        404,
        "invitation_not_found",
    )
    r = http.call(
        "POST",
        f"{EXPERTS}/invitations/{main.public_id}/decline",
        {"reason": "出差"},
        token=_token(me),
    )
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "declined"
    called = http.call(
        "GET", f"{EXPERTS}/invitations", token=_token(_expert_user_of(backup))
    ).json()
    assert [i["id"] for i in called] == [backup.public_id]
    r = http.call(
        "POST",
        f"{EXPERTS}/invitations/{backup.public_id}/confirm",
        token=_token(_expert_user_of(backup)),
    )
    assert r.json()["status"] == "confirmed"
    assert_error(
        http.call(
            "POST",
            f"{EXPERTS}/invitations/{backup.public_id}/decline",
            {"reason": "改主意"},
            token=_token(_expert_user_of(backup)),
        ),
        409,
        "invitation_closed",
    )


def test_reveal_and_verify(dw, users) -> None:  # type: ignore[no-untyped-def]
    http = api_client()
    draw = dw.draw([("A01", 2, 1)])
    ops = _token(users["center_operations"])
    assert_error(
        http.call("POST", f"{EXPERTS}/draws/{draw.public_id}/reveal", token=ops),
        409,
        "session_not_started",
    )
    # supervision verifies while it is sealed: checks and pseudonyms, no one named
    for role in ("auditor", "regulator", "inspector"):
        r = http.call("GET", f"{EXPERTS}/draws/{draw.public_id}/verify", token=_token(users[role]))
        assert r.status_code == 200 and r.json()["ok"] is True, r.content
        assert r.json()["secret"] == "sealed" and not _leaks(dw, r.content.decode())
    assert_error(http.call("GET", f"{EXPERTS}/draws/{draw.public_id}/verify", token=ops), 403)
    with clock.frozen(draw.session_at + timedelta(minutes=1)):
        r = http.call("POST", f"{EXPERTS}/draws/{draw.public_id}/reveal", token=ops)
        assert r.status_code == 200, r.content
        names = {d["expert"]["public_id"] for d in r.json()["drawn"]}
        assert len(names) == 3 and r.json()["secret"]
        audit = http.call(
            "GET", f"{EXPERTS}/draws/{draw.public_id}/verify", token=_token(users["auditor"])
        ).json()
        assert audit["ok"] and audit["secret"] == "revealed" and audit["seed"]
        assert {d["expert"] for q in audit["quotas"] for d in q["drawn"]} == names
        regulator = http.call(
            "GET", f"{EXPERTS}/draws/{draw.public_id}/verify", token=_token(users["regulator"])
        ).json()
        assert all("expert" not in d for q in regulator["quotas"] for d in q["drawn"])


# --- pages -------------------------------------------------------------------------------------


def _client(user):  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def test_the_pages_request_a_draw_and_keep_it_sealed(dw, users) -> None:  # type: ignore[no-untyped-def]
    ops = _client(users["center_operations"])
    page = ops.get("/staff/draws/")
    assert page.status_code == 200 and "申请抽取" in page.content.decode()
    session = dw.session_at.astimezone(clock.CHINA).strftime("%Y-%m-%dT%H:%M")
    r = ops.post(
        "/staff/draws/new/",
        {
            "section": dw.section.public_id,
            "session_at": session,
            "quotas": "A01 3 1",
            "avoid_days": "90",
        },
    )
    assert r.status_code == 302, r.content.decode()[:3000]
    draw = Draw.objects.get()
    assert r["Location"] == f"/staff/draws/{draw.public_id}/"
    for role in ("center_operations", "center_admin", "regulator"):
        html = _client(users[role]).get(f"/staff/draws/{draw.public_id}/").content.decode()
        assert draw.commitment in html and "保密" in html
        assert not _leaks(dw, html), role
    assert _client(users["tenderer"]).get(f"/staff/draws/{draw.public_id}/").status_code == 403
    # a bad quota line: the form says so
    bad = ops.post(
        "/staff/draws/new/",
        {"section": dw.section.public_id, "session_at": session, "quotas": "A01 many"},
    )
    assert bad.status_code == 400 and "格式有误" in bad.content.decode()
    # an unfillable one: the draw page names the binding constraint
    r = ops.post(
        "/staff/draws/new/",
        {"section": another_section(dw).public_id, "session_at": session, "quotas": "B01 2"},
    )
    assert r.status_code == 302
    html = ops.get(r["Location"]).content.decode()
    assert "无法抽满" in html and "specialty" in html
    # after the session starts the organizing desk reveals; then staff see who
    with clock.frozen(draw.session_at):
        assert ops.post(f"/staff/draws/{draw.public_id}/reveal/").status_code == 302
        html = ops.get(f"/staff/draws/{draw.public_id}/").content.decode()
    drawn = {draw_record.identity(r)["expert"] for r in draw.drawn.select_related("draw")}
    assert all(e.name in html for e in dw.made if e.pk in drawn)


def test_the_expert_workspace_confirms_and_declines(dw, users) -> None:  # type: ignore[no-untyped-def]
    draw = dw.draw([("A01", 2, 1)])
    first, second, backup = list(draw.drawn.select_related("draw").order_by("position"))
    me = _client(_expert_user_of(first))
    html = me.get("/experts/me/invitations/").content.decode()
    assert first.public_id in html and second.public_id not in html
    assert me.post(f"/experts/me/invitations/{first.public_id}/confirm/").status_code == 302
    first.refresh_from_db()
    assert first.status == "confirmed"
    them = _client(_expert_user_of(second))
    assert (
        them.post(
            f"/experts/me/invitations/{second.public_id}/decline/",
            {f"{second.public_id}-reason": ""},
        ).status_code
        == 400
    )
    assert (
        them.post(
            f"/experts/me/invitations/{second.public_id}/decline/",
            {f"{second.public_id}-reason": "出差"},
        ).status_code
        == 302
    )
    backup.refresh_from_db()
    assert backup.status == "notified"
    # someone else's invitation does not exist
    assert me.post(f"/experts/me/invitations/{backup.public_id}/confirm/").status_code == 404


def test_the_verification_page(dw, users) -> None:  # type: ignore[no-untyped-def]
    draw = dw.draw([("A01", 2, 1)])
    page = _client(users["auditor"]).get(f"/audit/draws/{draw.public_id}/verify/")
    html = page.content.decode()
    assert page.status_code == 200 and "复核一致" in html and not _leaks(dw, html)
    assert (
        _client(users["center_operations"])
        .get(f"/audit/draws/{draw.public_id}/verify/")
        .status_code
        == 403
    )


def test_the_cli_draws_shows_and_verifies(dw, users, capsys) -> None:  # type: ignore[no-untyped-def]
    from django.core.management import call_command
    from django.core.management.base import CommandError

    call_command(
        "experts",
        "draw",
        "request",
        "--section",
        dw.section.code,
        "--session",
        dw.session_at.isoformat(),
        "--quota",
        "A01:2:1",
        "--as",
        "u_center_operations",
    )
    draw = Draw.objects.get()
    assert f"{draw.public_id}: drawn" in capsys.readouterr().out
    call_command("experts", "draw", "show", draw.public_id)
    shown = json.loads(capsys.readouterr().out)
    assert shown["sealed"] and not _leaks(dw, json.dumps(shown, ensure_ascii=False))
    call_command("experts", "verify-draw", draw.public_id)
    assert f"draw {draw.public_id}: verified" in capsys.readouterr().out
    a, b = list(draw.drawn.order_by("position"))[:2]
    a.sealed_identity, b.sealed_identity = b.sealed_identity, a.sealed_identity
    DrawnExpert.objects.bulk_update([a, b], ["sealed_identity"])
    with pytest.raises(CommandError, match="draw_not_verified"):
        call_command("experts", "verify-draw", draw.public_id)
    with pytest.raises(CommandError, match="draw_exists"):  # the section has its draw
        call_command("experts", "draw", "request", "--section", dw.section.code, "--session",
                     dw.session_at.isoformat(), "--quota", "A01:1", "--as", "u_center_operations")  # fmt: skip
    with pytest.raises(CommandError, match="draw_unfillable"):
        call_command(
            "experts",
            "draw",
            "request",
            "--section",
            another_section(dw).public_id,
            "--session",
            dw.session_at.isoformat(),
            "--quota",
            "B01:1",
            "--as",
            "u_center_operations",
        )
    with pytest.raises(CommandError, match="bad_quota"):
        call_command(
            "experts",
            "draw",
            "request",
            "--section",
            dw.section.code,
            "--session",
            dw.session_at.isoformat(),
            "--quota",
            "A01",
            "--as",
            "u_center_operations",
        )


def test_a_second_draw_and_a_needless_top_up_are_refused_through_the_api(dw, users) -> None:  # type: ignore[no-untyped-def]
    http, ops = api_client(), _token(users["center_operations"])
    first = http.call("POST", f"{EXPERTS}/draws", _body(dw), token=ops)
    assert first.status_code == 201, first.content
    for extra, code in (
        ({}, "draw_exists"),
        ({"tops_up": first.json()["id"]}, "nothing_to_top_up"),
    ):
        assert_error(
            http.call("POST", f"{EXPERTS}/draws", _body(dw, **extra), token=ops), 409, code
        )
    assert Draw.objects.count() == 1


def test_an_unfillable_draw_does_not_name_them_on_the_auditors_page(dw, users) -> None:  # type: ignore[no-untyped-def]
    from ggzy.experts.draw_services import DrawUnfillable

    with pytest.raises(DrawUnfillable) as caught:
        dw.draw([("A01", 9, 0)])
    auditor = _client(make_user("draw_auditor", "auditor"))
    page = auditor.get(f"/audit/draws/{caught.value.detail['draw']}/verify/")
    assert page.status_code == 200
    assert _leaks(dw, page.content.decode()) == []
