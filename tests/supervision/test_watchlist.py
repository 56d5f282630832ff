"""The watchlist: regulators keep it; a listed person signing in, a listed bidder at the opening
and a listed expert on a committee each raise an alert; bad entries are refused."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from ggzy.accounts.roles import Role
from ggzy.core.errors import PermissionDenied, ValidationFailed
from ggzy.supervision import scan, watchlist
from ggzy.supervision.models import Alert, AlertKind, WatchEntry
from tests.conftest import PASSWORD, make_user
from tests.evaluation import world as ew

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("region")]


def test_a_listed_person_signing_in_raises_one_alert_a_day(frozen_clock: Any) -> None:
    regulator = make_user("reg", Role.REGULATOR)
    bidder = make_user("bidder_x", Role.BIDDER)
    bidder.phone = "138 0013 8000"
    bidder.save()
    watchlist.add(actor=regulator, kind="phone", value="+86 13800138000", reason="围标线索")
    client = Client()
    for _ in range(2):
        assert client.login(username="bidder_x", password=PASSWORD)
        client.logout()
    alert = Alert.objects.get(kind=AlertKind.WATCHLIST)
    assert alert.code == "WATCH-LOGIN" and "围标线索" in alert.title
    assert alert.evidence["hits"][0]["field"] == "phone"


def test_a_listed_bidder_is_seen_at_the_opening(frozen_clock: Any) -> None:
    world = ew.make_world(frozen_clock, bidders=3)
    regulator = make_user("reg", Role.REGULATOR)
    listed = world.bidding.bidders[1].entity
    watchlist.add(actor=regulator, kind="entity_name", value=listed.name.replace("有限公司", "有限责任公司"),
                  reason="曾被投诉串标")  # fmt: skip
    ew.open_section(world, ["100.00", "110.00", "120.00"])
    scan.catch_up()
    alert = Alert.objects.get(code="WATCH-BID")
    assert listed.name in alert.title and alert.section == world.section


def test_who_may_keep_the_list_and_what_it_refuses(db: Any) -> None:
    regulator, auditor = make_user("reg", Role.REGULATOR), make_user("aud", Role.AUDITOR)
    with pytest.raises(PermissionDenied):
        watchlist.add(actor=auditor, kind="phone", value="13800138000", reason="x")
    for kind, value in (("bogus", "x"), ("ip", "not an ip"), ("phone", " ")):
        with pytest.raises(ValidationFailed):
            watchlist.add(actor=regulator, kind=kind, value=value, reason="x")
    assert WatchEntry.objects.count() == 0
    row = watchlist.add(actor=regulator, kind="ip", value="10.1.2.0/24", reason="代理机构出口")
    watchlist.remove(actor=regulator, public_id=row.public_id)
    assert watchlist.entries(auditor) == []


def test_api_page_and_cli(db: Any) -> None:
    regulator = make_user("reg", Role.REGULATOR)
    client = Client()
    client.force_login(regulator)
    r = client.post("/supervision/watchlist/", {"kind": "entity", "value": "91320100MA1MXXXX0X",
                                                "reason": "测试"})  # fmt: skip
    assert r.status_code == 302
    assert "91320100MA1MXXXX0X" in client.get("/supervision/watchlist/").content.decode()
    r = client.get("/api/v1/supervision/watchlist")
    assert r.status_code == 200 and r.json()[0]["reason"] == "测试"
    out = StringIO()
    call_command("supervision", "watch", "add", "email", "a@b.cn", "--reason", "x", "--as", "reg",
                 stdout=out)  # fmt: skip
    call_command("supervision", "watch", "list", "--as", "reg", stdout=out)
    assert "a@b.cn" in out.getvalue()
