"""Third-party e-trading systems (不得排斥市场主体建设运营的电子交易系统), through the HTTP stack:

- the ingestion endpoint's own matrix of bad input (tests/exchange/ingest_matrix.py names it in
  ``OWN_MATRIX``: the API-wide harnesses drive users' tokens, not systems' keys): every refusal
  in the one error shape with its own 4xx, nothing written but the recorded refusal of a bad key;
- the life: the center accredits a system (its key shown once), the system sends records, they
  reach the ledger and the portal under their source's name, a new version replaces the public
  record, no system writes into another's project, re-keying and disabling shut the old key out;
- the public registry page of the connected systems, and the ``ggzy exchange systems`` CLI.
"""

from __future__ import annotations

import hashlib
import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from ggzy.accounts.services import issue_token
from ggzy.disclosure import projector
from ggzy.disclosure.models import PublicRecord
from ggzy.exchange import ingest
from ggzy.exchange.models import ExternalSystem, IngestedRecord
from ggzy.ledger.models import Event
from tests.api.support import (
    api_client,
    assert_error,
    db_state,
    event_types_since,
    last_seq,
    register,
)
from tests.conftest import T0, make_user

INGEST = "/api/v1/exchange/ingest/records"
SYSTEMS = "/api/v1/exchange/systems"
RECORDS = "/api/v1/disclosure/records"
SYSTEM_NAME = "某市建设工程电子交易系统"


def record(**overrides: Any) -> dict[str, Any]:
    """A complete, valid record of the external system's project JS-2026-001."""
    body: dict[str, Any] = {
        "record_id": "R-0001",
        "kind": "announcement",
        "project_code": "JS-2026-001",
        "section_code": "S1",
        "title": "城东道路改造工程施工招标公告",
        "body": "招标范围：城东道路改造工程施工。投标截止时间：2026年12月20日9时。",
        "category": "works",
        "region": "320100",
        "procedure": "open",
        "status": "announced",
        "published_at": "2026-11-23T10:00:00+08:00",
        "url": "https://etrade.example.cn/projects/JS-2026-001",
        "data": {"budget": "12500000.00", "sections": 1},
    }
    body.update(overrides)
    return body


def send(body: Any = None, *, key: str | None, idem: str | None = "idem-0001",
         raw: str | bytes | None = None, content_type: str = "application/json",
         method: str = "post") -> Any:  # fmt: skip
    headers = {}
    if key is not None:
        headers["HTTP_X_API_KEY"] = key
    if idem is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = idem
    data = raw if raw is not None else json.dumps(body, ensure_ascii=False)
    return Client().generic(method.upper(), INGEST, data, content_type=content_type, **headers)


@pytest.fixture
def world(db, users, region, frozen_clock):  # type: ignore[no-untyped-def]
    """The center's administrator, an operator entity and one accredited system (``key``)."""
    admin = users["center_admin"]
    operator = register(users["agent"], 11, name="某市公共资源电子交易服务有限公司")
    system, key = ingest.accredit(actor=admin, code="city-etrade", name=SYSTEM_NAME,
                                  operator=operator, homepage="https://etrade.example.cn")  # fmt: skip
    return {"admin": admin, "operator": operator, "system": system, "key": key,
            "clock": frozen_clock, "users": users}  # fmt: skip


def refused(call: Any, status: int, code: str, *, recorded: bool = False) -> dict[str, Any]:
    """``call()`` is answered ``status``/``code`` in the error shape and changes nothing — but
    for the one ``exchange.ingest_refused`` event when ``recorded``."""
    before, seq = db_state(), last_seq()
    body = assert_error(call(), status, code)
    assert db_state(upto_seq=seq) == before
    if recorded:
        assert event_types_since(seq) == ["exchange.ingest_refused"]
        payload = json.loads(Event.objects.get(seq__gt=seq).payload)
        assert payload["refused"] is True
    else:
        assert event_types_since(seq) == []
    return body


# --- (a) the endpoint's matrix of bad input -----------------------------------------------------


def test_a_valid_record_is_accepted(world) -> None:  # type: ignore[no-untyped-def]
    seq = last_seq()
    r = send(record(), key=world["key"])
    assert r.status_code == 201, r.content
    out = r.json()
    assert out["key"] == "external:city-etrade:R-0001" and out["replayed"] is False
    assert event_types_since(seq) == ["exchange.external_record_accepted"]
    row = IngestedRecord.objects.get()
    assert out["ledger_seq"] == row.ledger_seq == Event.objects.get(seq__gt=seq).seq
    assert out["sha256"] == row.content_sha256
    system = ExternalSystem.objects.get()
    assert system.records == 1 and system.last_received_at == T0


@pytest.mark.django_db(transaction=True)
def test_the_ledger_seq_under_the_deferred_ledger(settings, users, region) -> None:  # type: ignore[no-untyped-def]
    settings.GGZY_LEDGER_MODE = "deferred"
    operator = register(users["agent"], 12)
    _, key = ingest.accredit(actor=users["center_admin"], code="deferred-sys", name="某系统",
                             operator=operator)  # fmt: skip
    r = send(record(), key=key)
    assert r.status_code == 201, r.content
    event = Event.objects.get(event_type="exchange.external_record_accepted")
    assert r.json()["ledger_seq"] == event.seq == IngestedRecord.objects.get().ledger_seq
    again = send(record(), key=key)
    assert again.status_code == 200 and again.json()["ledger_seq"] == event.seq


@pytest.mark.parametrize(
    ("raw", "content_type", "status", "code"),
    [
        ('{"record_id": "R-0001",', "application/json", 400, "malformed_body"),
        ("[" * 100_000 + "]" * 100_000, "application/json", 400, "malformed_body"),
        (b'{"title": "\xff\xfe"}', "application/json", 400, "malformed_body"),
        ("record_id=R-0001", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        ("{}" + " " * (1024 * 1024), "application/json", 413, "payload_too_large"),
        ("", "application/json", 422, "schema_invalid"),
        ("null", "application/json", 422, "schema_invalid"),
    ],
    ids=[
        "truncated-json",
        "deep-nesting",
        "not-utf8",
        "form-encoded",
        "oversized",
        "empty",
        "null",
    ],
)
def test_unparseable_bodies(world, raw, content_type, status, code) -> None:  # type: ignore[no-untyped-def]
    refused(lambda: send(key=world["key"], raw=raw, content_type=content_type), status, code)


def test_a_nul_character_is_refused(world) -> None:  # type: ignore[no-untyped-def]
    for body in (record(title="招标\x00公告"), record(data={"k\x00": 1})):
        refused(lambda b=body: send(b, key=world["key"]), 422, "nul_character")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([record()], None),  # not an object
        ("a string", None),
        (record(title=123), "title"),
        (record(data=[1, 2]), "data"),
        (record(published_at=True), "published_at"),
        (record(secret="x"), "secret"),  # unknown field
        ({k: v for k, v in record().items() if k != "title"}, "title"),  # missing
        (record(kind="tender"), "kind"),
        (record(status="sold"), "status"),
        (record(published_at="2026-11-23T10:00:00"), "published_at"),  # naive
        (record(published_at="2026-13-01T10:00:00+08:00"), "published_at"),
        (record(published_at="2026-11-23T12:00:01+08:00"), "published_at"),  # ahead of T0 + 1 h
        (record(published_at="9999-12-31T23:59:59+08:00"), "published_at"),
        (record(published_at="9999-12-31T23:59:59-08:00"), "published_at"),  # beyond year 9999
        (record(published_at="0001-01-01T00:00:00+08:00"), "published_at"),  # before year 1
        (record(published_at=10**20), "published_at"),
        (record(region="3201"), "region"),
        (record(region="南京"), "region"),
        (record(title="长" * 301), "title"),
        (record(title="   "), "title"),
        (record(record_id="R 1/../x"), "record_id"),
        (record(record_id="R:1"), "record_id"),
        (record(project_code="a" * 60), "project_code"),  # with "city-etrade." over 64
        (record(category="Works; DROP"), "category"),
        (record(category="w" * 33), "category"),
        (record(url="javascript:alert(1)"), "url"),
        (record(data={"blob": "x" * 64_001}), "data"),  # over 64 KB
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_schema_failures_are_listed(world, body, field) -> None:  # type: ignore[no-untyped-def]
    out = refused(lambda: send(body, key=world["key"]), 422, "schema_invalid")
    locs = [e["loc"] for e in out["detail"]["errors"]]
    if field is not None:
        assert any(loc and loc[0] == field for loc in locs), locs


@pytest.mark.parametrize(
    "raw",
    [
        '{"data": {"x": NaN}}',
        '{"data": {"x": Infinity}}',
        '{"data": {"x": 123456789012345678901234567890}}',
        '{"title": "\\ud800"}',
        '{"data": ' + '{"a": ' * 40 + "1" + "}" * 40 + "}",
    ],
    ids=["nan", "infinity", "huge-int", "lone-surrogate", "too-deep"],
)
def test_json_the_ledger_cannot_hold_is_a_schema_failure(world, raw) -> None:  # type: ignore[no-untyped-def]
    body = json.dumps(record())[:-1] + ", " + raw[1:]  # the valid record, one field replaced
    refused(lambda: send(key=world["key"], raw=body), 422, "schema_invalid")


def test_sql_and_full_text_syntax_is_just_text(world) -> None:  # type: ignore[no-untyped-def]
    text = "'; DROP TABLE ggzy; -- \" OR 1=1 * NEAR(a b) ^c: (x AND) %_ \\ `"
    r = send(record(title=f"公告 {text}", body=text, data={"q": text}), key=world["key"])
    assert r.status_code == 201, r.content
    projector.catch_up()
    row = PublicRecord.objects.get(key="external:city-etrade:R-0001")
    assert row.title == f"公告 {text}" and row.body == text


def test_the_longest_codes_fit_the_public_record(world) -> None:  # type: ignore[no-untyped-def]
    code = "s" * 32
    _, key = ingest.accredit(actor=world["admin"], code=code, name="长代码系统",
                             operator=world["operator"])  # fmt: skip
    body = record(record_id="r" * 64, project_code="p" * 31, section_code="x" * 64)
    assert send(body, key=key).status_code == 201
    projector.catch_up()
    row = PublicRecord.objects.get(source=code)
    assert row.key == f"external:{code}:{'r' * 64}" and row.project_code == f"{code}.{'p' * 31}"
    too_long = record(record_id="r2", project_code="p" * 32)
    out = refused(lambda: send(too_long, key=key, idem="2"), 422, "schema_invalid")
    assert out["detail"]["errors"][0]["loc"] == ["project_code"]


@pytest.mark.parametrize(
    "key",
    [None, "", "garbage", "ggzyx_" + "x" * 43, "ggzyx_" + "x" * 300, "Bearer ggzy_abc"],
    ids=["none", "empty", "garbage", "well-formed-unknown", "overlong", "a-user-token"],
)
def test_an_unknown_key_is_401_and_recorded(world, key) -> None:  # type: ignore[no-untyped-def]
    out = refused(lambda: send(record(), key=key), 401, "unknown_api_key", recorded=True)
    assert world["key"] not in json.dumps(out)
    refusal = Event.objects.order_by("-seq").first()
    assert refusal.event_type == "exchange.ingest_refused"
    assert refusal.subject == "external:unknown"
    assert world["key"][6:] not in refusal.payload


def test_a_bad_key_is_refused_before_the_body_is_read(world) -> None:  # type: ignore[no-untyped-def]
    refused(lambda: send(key="garbage", raw="{not json"), 401, "unknown_api_key", recorded=True)
    refused(lambda: send(record(), key="garbage", idem=None), 401, "unknown_api_key",
            recorded=True)  # fmt: skip


def test_a_rotated_or_disabled_key_is_refused(world) -> None:  # type: ignore[no-untyped-def]
    admin, old = world["admin"], world["key"]
    new = ingest.rotate_key(actor=admin, system=world["system"])
    refused(lambda: send(record(), key=old), 401, "unknown_api_key", recorded=True)
    ingest.set_active(actor=admin, system=world["system"], active=False, reason="接口维护")
    refused(lambda: send(record(), key=new), 401, "unknown_api_key", recorded=True)
    refusal = Event.objects.order_by("-seq").first()
    assert refusal.subject == "external:city-etrade"  # the disabled system is named
    assert json.loads(refusal.payload)["reason"] == "system_disabled"


@pytest.mark.parametrize(
    "idem",
    [None, "", "   ", "k" * 129, "键-1", "a\tb"],
    ids=["missing", "empty", "blank", "too-long", "not-ascii", "control-character"],
)
def test_a_missing_or_bad_idempotency_key(world, idem) -> None:  # type: ignore[no-untyped-def]
    refused(lambda: send(record(), key=world["key"], idem=idem), 422, "idempotency_key_required")


def test_idempotency(world) -> None:  # type: ignore[no-untyped-def]
    key = world["key"]
    first = send(record(), key=key)
    assert first.status_code == 201
    # the same request again: the same answer, nothing new written
    before, seq = db_state(), last_seq()
    again = send(record(), key=key)
    assert again.status_code == 200
    assert {**again.json(), "replayed": False} == first.json() and again.json()["replayed"]
    assert db_state() == before and last_seq() == seq
    # the same content spelled otherwise (time zone, key order) is the same content
    same = record(published_at="2026-11-23T02:00:00Z")
    assert send(dict(reversed(list(same.items()))), key=key).status_code == 200
    # the same key with other content: refused, the first acceptance stands
    out = refused(lambda: send(record(title="另一个标题"), key=key), 409, "idempotency_conflict")
    assert out["detail"]["record_id"] == "R-0001"
    # a key is the system's own: another system may use the same one
    _, other_key = ingest.accredit(actor=world["admin"], code="other", name="另一交易系统",
                                   operator=world["operator"])  # fmt: skip
    assert send(record(), key=other_key).status_code == 201


def test_a_racing_request_with_the_same_key(world, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Two requests with one key at once: both pass the first look, the unique constraint
    decides; the loser answers as a replay (same content) or a conflict, and writes nothing."""
    first = send(record(), key=world["key"])
    assert first.status_code == 201
    real, looks = ingest._earlier, []

    def first_look_misses(system: Any, key: str) -> Any:
        looks.append(key)
        return None if len(looks) % 2 else real(system, key)  # the first of each request's two

    monkeypatch.setattr(ingest, "_earlier", first_look_misses)
    before, seq = db_state(), last_seq()
    again = send(record(), key=world["key"])
    assert again.status_code == 200 and again.json()["replayed"] is True
    assert db_state() == before and last_seq() == seq
    refused(lambda: send(record(title="别的内容"), key=world["key"]), 409, "idempotency_conflict")
    assert len(looks) == 4  # each request went the constraint's way


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_wrong_method_is_405(world, method) -> None:  # type: ignore[no-untyped-def]
    refused(lambda: send(record(), key=world["key"], method=method), 405, "method_not_allowed")


# --- (b) the life -------------------------------------------------------------------------------


def token(user: Any) -> str:
    return issue_token(actor=user, name="test")[1]


def test_the_life_of_an_external_system(world) -> None:  # type: ignore[no-untyped-def]
    http, admin_token = api_client(), token(world["admin"])
    # the center accredits: the key is in the answer once, only its SHA-256 is kept
    seq = last_seq()
    r = http.call("POST", SYSTEMS, {"code": "county-etrade", "name": "某县电子招标投标交易平台",
                                    "operator": world["operator"].uscc,
                                    "homepage": "https://county.example.cn"}, token=admin_token)  # fmt: skip
    assert r.status_code == 201, r.content
    key = r.json()["api_key"]
    assert key.startswith("ggzyx_") and len(key) > 40
    assert event_types_since(seq) == ["exchange.system_accredited"]
    system = ExternalSystem.objects.get(code="county-etrade")
    assert system.key_digest == hashlib.sha256(key.encode()).hexdigest()
    stored = json.dumps(list(ExternalSystem.objects.values()), default=str)
    stored += "".join(Event.objects.values_list("payload", flat=True))
    assert key not in stored and key[12:] not in stored
    listed = Client().get(SYSTEMS).json()
    assert {s["code"] for s in listed} == {"city-etrade", "county-etrade"}
    assert key not in json.dumps(listed)

    # the system sends a record: in the ledger, then on the portal under its name
    seq = last_seq()
    r = send(record(), key=key, idem="county-1")
    assert r.status_code == 201, r.content
    event = Event.objects.get(seq__gt=seq)
    assert event.event_type == "exchange.external_record_accepted"
    assert event.actor == "external:county-etrade"
    projector.catch_up()
    project = "county-etrade.JS-2026-001"
    out = Client().get(RECORDS, {"source": "county-etrade"}).json()
    assert [(x["source"], x["project_code"], x["title"]) for x in out["records"]] == [
        ("county-etrade", project, record()["title"])
    ]
    portal = Client().get("/disclosure/").content.decode()
    assert record()["title"] in portal and "某县电子招标投标交易平台" in portal
    assert f"/disclosure/projects/{project}/" in portal
    page = Client().get(f"/disclosure/projects/{project}/")
    assert page.status_code == 200
    assert "来源：某县电子招标投标交易平台" in page.content.decode()

    # a new version (a new idempotency key, the same record id) replaces the public record
    r = send(record(title="城东道路改造工程施工招标公告（变更）", status="opened"), key=key,
             idem="county-2")  # fmt: skip
    assert r.status_code == 201
    projector.catch_up()
    rows = PublicRecord.objects.filter(source="county-etrade")
    assert [(x.title, x.status) for x in rows] == [
        ("城东道路改造工程施工招标公告（变更）", "opened")
    ]
    assert "（变更）" in Client().get(f"/disclosure/projects/{project}/").content.decode()

    # another system, with the same codes, writes into its own project only
    assert (
        send(record(title="另一系统的公告"), key=world["key"], idem="county-1").status_code == 201
    )
    projector.catch_up()
    mine = Client().get(f"/api/v1/disclosure/projects/{project}").json()
    assert "另一系统的公告" not in json.dumps(mine, ensure_ascii=False)
    theirs = PublicRecord.objects.get(project_code="city-etrade.JS-2026-001")
    assert theirs.title == "另一系统的公告" and theirs.source == "city-etrade"

    # a new key: the old one is refused from now on
    r = http.call("POST", f"{SYSTEMS}/county-etrade/rotate-key", token=admin_token)
    assert r.status_code == 200
    new_key = r.json()["api_key"]
    assert new_key != key
    refused(lambda: send(record(), key=key, idem="county-3"), 401, "unknown_api_key",
            recorded=True)  # fmt: skip
    assert send(record(record_id="R-0002"), key=new_key, idem="county-3").status_code == 201

    # disabled: refused; enabled: accepted again
    r = http.call("POST", f"{SYSTEMS}/county-etrade/disable", {"reason": "接口维护"},
                  token=admin_token)  # fmt: skip
    assert r.status_code == 200 and r.json()["active"] is False
    refused(lambda: send(record(record_id="R-0003"), key=new_key, idem="county-4"), 401,
            "unknown_api_key", recorded=True)  # fmt: skip
    r = http.call("POST", f"{SYSTEMS}/county-etrade/enable", {"reason": "维护结束"},
                  token=admin_token)  # fmt: skip
    assert r.status_code == 200 and r.json()["active"] is True
    assert send(record(record_id="R-0003"), key=new_key, idem="county-4").status_code == 201
    system.refresh_from_db()
    assert system.records == 4


@pytest.mark.parametrize("role", ["center_operations", "center_intake", "regulator", "bidder"])
def test_only_the_center_admin_manages_systems(world, role) -> None:  # type: ignore[no-untyped-def]
    http, secret = api_client(), token(world["users"][role])
    calls = [
        (SYSTEMS, {"code": "x-sys", "name": "某系统", "operator": world["operator"].uscc}),
        (f"{SYSTEMS}/city-etrade/rotate-key", None),
        (f"{SYSTEMS}/city-etrade/disable", {"reason": "接口维护"}),
        (f"{SYSTEMS}/city-etrade/enable", {"reason": "接口维护"}),
    ]
    for path, body in calls:
        refused(lambda p=path, b=body: http.call("POST", p, b, token=secret), 403,
                "forbidden")  # fmt: skip
        refused(lambda p=path, b=body: http.call("POST", p, b), 401, "not_authenticated")
    assert send(record(), key=world["key"]).status_code == 201  # the key still works


def test_accreditation_refusals(world) -> None:  # type: ignore[no-untyped-def]
    http, secret = api_client(), token(world["admin"])
    uscc = world["operator"].uscc
    for body, status, code in [
        ({"code": "city-etrade", "name": "重复", "operator": uscc}, 409, "system_exists"),
        ({"code": "City-Etrade", "name": "重复", "operator": uscc}, 409, "system_exists"),
        ({"code": "a.b", "name": "某系统", "operator": uscc}, 422, "bad_code"),
        ({"code": "交易", "name": "某系统", "operator": uscc}, 422, "bad_code"),
        ({"code": "x" * 33, "name": "某系统", "operator": uscc}, 422, "bad_code"),
        ({"code": "x-sys", "name": " ", "operator": uscc}, 422, "required"),
        ({"code": "x-sys", "name": "某系统", "operator": uscc, "homepage": "javascript:x"}, 422,
         "bad_url"),
        ({"code": "x-sys", "name": "某系统", "operator": "9" * 18}, 404, "entity_not_found"),
    ]:  # fmt: skip
        refused(lambda b=body: http.call("POST", SYSTEMS, b, token=secret), status, code)


# --- the registry page --------------------------------------------------------------------------


def test_the_registry_page_lists_the_connected_systems(world) -> None:  # type: ignore[no-untyped-def]
    admin = world["admin"]
    send(record(), key=world["key"])
    other, _ = ingest.accredit(actor=admin, code="old-sys", name="已停用的交易系统",
                               operator=world["operator"])  # fmt: skip
    ingest.set_active(actor=admin, system=other, active=False, reason="停止运营")
    page = Client().get("/disclosure/systems/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "已接入的电子交易系统" in html
    for text in ("city-etrade", SYSTEM_NAME, "某市公共资源电子交易服务有限公司",
                 f"/entities/{world['operator'].uscc}/", "https://etrade.example.cn",
                 "2026-11-23", "old-sys", "已停用的交易系统", "已停用", "启用"):  # fmt: skip
        assert text in html, text
    assert world["key"] not in html
    portal = Client().get("/disclosure/").content.decode()
    assert "/disclosure/systems/" in portal


def test_the_registry_page_when_none_is_connected(db) -> None:  # type: ignore[no-untyped-def]
    page = Client().get("/disclosure/systems/")
    assert page.status_code == 200 and "尚未接入" in page.content.decode()


# --- the CLI ------------------------------------------------------------------------------------


def cli(*args: str) -> str:
    out = StringIO()
    call_command("exchange", "systems", *args, stdout=out)
    return out.getvalue()


def test_the_cli(world) -> None:  # type: ignore[no-untyped-def]
    uscc = world["operator"].uscc
    out = cli("accredit", "cli-sys", "--name", "命令行接入的系统", "--operator", uscc,
              "--homepage", "https://cli.example.cn")  # fmt: skip
    system = ExternalSystem.objects.get(code="cli-sys")
    key = next(w for w in out.split() if w.startswith(ingest.KEY_PREFIX))
    assert system.key_digest == hashlib.sha256(key.encode()).hexdigest()
    assert out.count(key) == 1
    accredited = Event.objects.get(
        event_type="exchange.system_accredited", subject="external:cli-sys"
    )
    assert accredited.actor == "system:cli"
    listing = cli("list")
    assert "cli-sys" in listing and "city-etrade" in listing and key not in listing
    assert send(record(), key=key).status_code == 201

    out = cli("rotate-key", "cli-sys")
    new = next(w for w in out.split() if w.startswith(ingest.KEY_PREFIX))
    assert new != key
    assert_error(send(record(), key=key, idem="2"), 401, "unknown_api_key")
    cli("disable", "cli-sys", "--reason", "接口维护")
    assert not ExternalSystem.objects.get(code="cli-sys").active
    assert_error(send(record(), key=new, idem="2"), 401, "unknown_api_key")
    cli("enable", "cli-sys", "--reason", "维护结束")
    assert send(record(), key=new, idem="2").status_code == 201
    assert "records=2" in cli("list")


def test_cli_refusals(world) -> None:  # type: ignore[no-untyped-def]
    before = db_state()
    for args, code in [
        (("accredit", "city-etrade", "--name", "重复", "--operator", world["operator"].uscc),
         "system_exists"),
        (("accredit", "x-sys", "--name", "某系统", "--operator", "9" * 18), "entity_not_found"),
        (("rotate-key", "no-such"), "system_not_found"),
        (("disable", "no-such", "--reason", "x"), "system_not_found"),
        (("disable", "city-etrade", "--reason", " "), "required"),
    ]:  # fmt: skip
        with pytest.raises(CommandError, match=code):
            cli(*args)
    assert db_state() == before


def test_a_market_user_is_not_the_cli(world) -> None:  # type: ignore[no-untyped-def]
    user = make_user("u_other", "bidder")
    before = db_state()
    with pytest.raises(Exception, match="not permitted"):
        ingest.rotate_key(actor=user, system=world["system"])
    with pytest.raises(Exception, match="sign in"):
        ingest.rotate_key(actor="system:demo", system=world["system"])
    assert db_state() == before
