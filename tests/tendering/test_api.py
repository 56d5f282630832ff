"""The tendering HTTP API: every endpoint's happy path, its refusals with their codes, anonymous
writes refused, hostile input answered with the one error shape (never a 500)."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest

from ggzy.accounts.services import issue_token
from ggzy.core import clock
from ggzy.tendering.models import Download, Project, TenderDocument
from tests.api.support import Raw, api_client, assert_error, last_seq
from tests.bidding import world as w

BASE = "/api/v1/tendering"
DOC = "第一章 招标公告\n投标人须具备相应资质。\n".encode()


def token(user: Any) -> str:
    return issue_token(actor=user, name="t")[1]


@pytest.fixture
def api():  # type: ignore[no-untyped-def]
    return api_client()


@pytest.fixture
def tokens(world):  # type: ignore[no-untyped-def]
    return {
        "tenderer": token(world.tenderer),
        "intake": token(world.intake),
        "ops": token(world.operations),
        "bidder": token(world.bidders[0].user),
    }


def body(world: Any, **overrides: Any) -> dict[str, Any]:
    terms = w.project_terms()
    out: dict[str, Any] = {
        "tenderer": world.tenderer_entity.uscc,
        "name": terms.name,
        "category": terms.category,
        "procedure": terms.procedure,
        "region": terms.region,
        "subject_type": "works",
        "investment_project_code": terms.investment_project_code,
        "funding_source": terms.funding_source,
        "budget": terms.budget,
        "description": "",
        "sections": [w.section_terms()],
    }
    out.update(overrides)
    return out


def register(api: Any, world: Any, tokens: dict[str, str], **overrides: Any) -> dict[str, Any]:
    r = api.call("POST", f"{BASE}/projects", body(world, **overrides), token=tokens["tenderer"])
    assert r.status_code == 201, r.content
    return r.json()


def upload(api: Any, pid: str, tok: str, data: bytes = DOC, name: str = "招标文件.txt",
           content_type: str = "text/plain", kind: str = "tender") -> Any:  # fmt: skip
    return api.call("POST", f"{BASE}/projects/{pid}/documents", Raw(data, content_type),
                    token=tok, query={"kind": kind, "name": name})  # fmt: skip


def accepted(api: Any, world: Any, tokens: dict[str, str]) -> str:
    pid = register(api, world, tokens)["public_id"]
    assert (
        api.call("POST", f"{BASE}/projects/{pid}/submit", token=tokens["tenderer"]).status_code
        == 200
    )
    assert (
        api.call("POST", f"{BASE}/projects/{pid}/accept", token=tokens["intake"]).status_code == 200
    )
    return pid


def publish_body(days: int = 21) -> dict[str, Any]:
    now = clock.now()
    return {
        "announcement": "招标公告正文",
        "documents_from": now.isoformat(),
        "documents_until": (now + timedelta(days=6)).isoformat(),
        "bid_deadline": (now + timedelta(days=days)).isoformat(),
    }


def published_via_api(api: Any, world: Any, tokens: dict[str, str], days: int = 21) -> str:
    pid = accepted(api, world, tokens)
    assert upload(api, pid, tokens["tenderer"]).status_code == 201
    r = api.call(
        "POST", f"{BASE}/projects/{pid}/publish", publish_body(days), token=tokens["tenderer"]
    )
    assert r.status_code == 200, r.content
    return pid


# --- registration and reads ---------------------------------------------------------------------


def test_register_shows_private_fields_to_members_and_hides_from_public(api, world, tokens):
    out = register(api, world, tokens)
    assert out["status"] == "draft"
    assert out["budget"] == "12000000.00"
    section = out["sections"][0]
    assert section["deposit"] == "200000.00" and section["max_price"] == "9800000.00"
    assert section["phase"] == "planned" and section["code"] is None
    pid = out["public_id"]
    # not published: anonymous and other users get 404, not 403
    assert_error(api.call("GET", f"{BASE}/projects/{pid}"), 404, "project_not_found")
    assert_error(api.call("GET", f"{BASE}/projects/{pid}", token=tokens["bidder"]), 404)
    mine = api.call("GET", f"{BASE}/projects/mine", token=tokens["tenderer"]).json()
    assert [p["public_id"] for p in mine] == [pid]


def test_full_lifecycle_over_http(api, world, tokens):
    pid = register(api, world, tokens)["public_id"]
    r = api.call("POST", f"{BASE}/projects/{pid}/submit", token=tokens["tenderer"])
    assert r.json()["status"] == "submitted"
    queue = api.call("GET", f"{BASE}/projects/queue", token=tokens["intake"]).json()
    assert [p["public_id"] for p in queue] == [pid]
    r = api.call("POST", f"{BASE}/projects/{pid}/accept", token=tokens["intake"])
    out = r.json()
    assert out["status"] == "accepted" and out["trading_code"]
    assert out["sections"][0]["code"] == f"{out['trading_code']}-001"
    up = upload(api, pid, tokens["tenderer"])
    assert up.status_code == 201
    assert up.json()["sha256"] == hashlib.sha256(DOC).hexdigest()
    r = api.call("POST", f"{BASE}/projects/{pid}/publish", publish_body(), token=tokens["tenderer"])
    assert r.status_code == 200, r.content
    public = api.call("GET", f"{BASE}/projects/{pid}").json()
    assert "status" not in public and "return_reason" not in public
    assert public["sections"][0]["phase"] == "bidding"
    assert [d["name"] for d in public["documents"]] == ["招标文件.txt"]
    listing = api.call("GET", f"{BASE}/projects", query={"category": "works"}).json()
    assert listing["count"] == 1 and listing["items"][0]["public_id"] == pid
    assert api.call("GET", f"{BASE}/projects", query={"q": "不存在"}).json()["count"] == 0
    timeline = api.call("GET", f"{BASE}/projects/{pid}/timeline").json()
    assert [e["type"] for e in timeline][-1] == "tendering.project_published"
    sid = public["sections"][0]["public_id"]
    section = api.call("GET", f"{BASE}/sections/{sid}").json()
    assert section["project"] == pid and section["phase"] == "bidding"


def test_edit_and_return(api, world, tokens):
    pid = register(api, world, tokens)["public_id"]
    r = api.call("PUT", f"{BASE}/projects/{pid}",
                 {k: v for k, v in body(world, name="新名称").items() if k != "tenderer"},
                 token=tokens["tenderer"])  # fmt: skip
    assert r.status_code == 200, r.content
    assert r.json()["name"] == "新名称"
    api.call("POST", f"{BASE}/projects/{pid}/submit", token=tokens["tenderer"])
    # only intake accepts or returns
    assert_error(api.call("POST", f"{BASE}/projects/{pid}/accept", token=tokens["tenderer"]), 403)
    assert_error(api.call("POST", f"{BASE}/projects/{pid}/return", {"reason": " "},
                          token=tokens["intake"]), 422, "required")  # fmt: skip
    r = api.call("POST", f"{BASE}/projects/{pid}/return", {"reason": "缺少立项批复"},
                 token=tokens["intake"])  # fmt: skip
    assert r.json()["status"] == "returned" and r.json()["return_reason"] == "缺少立项批复"
    # submitted projects cannot be edited; returned ones can
    r = api.call(
        "PUT",
        f"{BASE}/projects/{pid}",
        {k: v for k, v in body(world).items() if k != "tenderer"},
        token=tokens["tenderer"],
    )
    assert r.status_code == 200


def test_edit_submitted_refused(api, world, tokens):
    pid = register(api, world, tokens)["public_id"]
    api.call("POST", f"{BASE}/projects/{pid}/submit", token=tokens["tenderer"])
    before = last_seq()
    r = api.call(
        "PUT",
        f"{BASE}/projects/{pid}",
        {k: v for k, v in body(world).items() if k != "tenderer"},
        token=tokens["tenderer"],
    )
    assert_error(r, 409, "bad_project_state")
    assert last_seq() == before


def test_queue_is_for_intake(api, world, tokens):
    assert_error(api.call("GET", f"{BASE}/projects/queue", token=tokens["bidder"]), 403)
    assert_error(api.call("GET", f"{BASE}/projects/queue"), 401)


# --- refusals of registration -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("section", "code"),
    [
        ({"deposit": "200000.01"}, "deposit_too_high"),
        ({"min_price": "1.00"}, "minimum_price_forbidden"),
        ({"deposit": 1.5}, "bad_amount"),
        ({"estimated_price": "abc"}, "bad_amount"),
        ({"evaluation_method": "lottery"}, "bad_evaluation_method"),
        ({"surprise": 1}, "bad_section"),
    ],
)
def test_register_refusals(api, world, tokens, section, code):
    before = Project.objects.count()
    r = api.call(
        "POST",
        f"{BASE}/projects",
        body(world, sections=[w.section_terms(**section)]),
        token=tokens["tenderer"],
    )
    assert_error(r, 422, code)
    assert Project.objects.count() == before


def test_register_by_non_member_and_anonymous(api, world, tokens):
    assert_error(api.call("POST", f"{BASE}/projects", body(world)), 401)
    assert_error(api.call("POST", f"{BASE}/projects", body(world), token=tokens["bidder"]), 403)
    assert Project.objects.count() == 0


def test_category_without_tender_rules(api, world, tokens):
    r = api.call("POST", f"{BASE}/projects", body(world, category="land"), token=tokens["tenderer"])
    assert_error(r, 422, "category_not_tendered")


# --- hostile input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        (b"{not json", 400, "malformed_body"),
        (b'{"name": "a\\u0000b"}', 422, "nul_character"),
    ],
)
def test_bad_bodies(api, world, tokens, raw, status, code):
    r = api.call("POST", f"{BASE}/projects", raw=raw, token=tokens["tenderer"])
    assert_error(r, status, code)


@pytest.mark.parametrize(
    "override",
    [
        {"budget": 12000000.0},
        {"name": "名" * 5000},
        {"unknown": True},
        {"sections": []},
        {"sections": "x"},
        {"tenderer": "not-a-uscc"},
        {"budget": "1e400"},
        {"budget": "NaN"},
    ],
)
def test_hostile_fields_are_4xx(api, world, tokens, override):
    r = api.call("POST", f"{BASE}/projects", body(world, **override), token=tokens["tenderer"])
    assert 400 <= r.status_code < 500, (r.status_code, r.content[:300])
    assert_error(r, r.status_code)
    assert Project.objects.count() == 0


def test_hostile_publish_dates(api, world, tokens):
    pid = accepted(api, world, tokens)
    upload(api, pid, tokens["tenderer"])
    for bad in ({"bid_deadline": "tomorrow"}, {"bid_deadline": 5}, {"extra": 1}):
        r = api.call("POST", f"{BASE}/projects/{pid}/publish", {"announcement": "x", **bad},
                     token=tokens["tenderer"])  # fmt: skip
        assert_error(r, 422)
    r = api.call("POST", f"{BASE}/projects/{pid}/publish", {**publish_body(), "bid_deadline":
                 (clock.now() + timedelta(days=19)).isoformat()}, token=tokens["tenderer"])  # fmt: skip
    assert_error(r, 422, "bid_period_too_short")
    # a naive time is China time, never a crash
    naive = (clock.now() + timedelta(days=30)).replace(tzinfo=None).isoformat()
    r = api.call("POST", f"{BASE}/projects/{pid}/publish", {**publish_body(), "bid_deadline": naive},
                 token=tokens["tenderer"])  # fmt: skip
    assert r.status_code == 200, r.content


def test_anonymous_writes_are_401(api, published):
    pid = published.project.public_id
    doc = published.project.documents.get().public_id
    for method, path, payload in [
        ("PUT", f"/projects/{pid}", {}),
        ("POST", f"/projects/{pid}/submit", None),
        ("POST", f"/projects/{pid}/accept", None),
        ("POST", f"/projects/{pid}/return", {"reason": "x"}),
        ("POST", f"/projects/{pid}/publish", {"announcement": "x"}),
        ("POST", f"/projects/{pid}/clarifications", {"title": "t", "body": "b"}),
        ("POST", f"/projects/{pid}/objections", {"entity": "x" * 18, "text": "t"}),
        ("POST", "/objections/x/reply", {"reply": "r"}),
        ("DELETE", f"/documents/{doc}", None),
        ("GET", f"/projects/{pid}/downloads", None),
        ("GET", f"/projects/{pid}/objections", None),
    ]:
        assert_error(api.call(method, BASE + path, payload), 401, "not_authenticated")
    r = api.call("POST", f"{BASE}/projects/{pid}/documents", Raw(DOC, "text/plain"),
                 query={"kind": "tender", "name": "a.txt"})  # fmt: skip
    assert_error(r, 401)


# --- documents ----------------------------------------------------------------------------------


def test_upload_refusals(api, world, tokens):
    pid = accepted(api, world, tokens)
    tok = tokens["tenderer"]
    empty = api.client.post(f"{BASE}/projects/{pid}/documents?kind=tender&name=a.txt", b"",
                            content_type="text/plain", CONTENT_TYPE="text/plain",
                            HTTP_AUTHORIZATION=f"Bearer {tok}")  # fmt: skip
    assert_error(empty, 422, "empty_file")
    assert_error(upload(api, pid, tok, name="setup.exe", content_type="application/octet-stream"),
                 422, "bad_file_type")  # fmt: skip
    assert_error(upload(api, pid, tok, content_type="application/x-msdownload"), 415)
    assert_error(upload(api, pid, tok, kind="poster"), 422, "bad_document_kind")
    assert_error(upload(api, pid, tok, name="."), 422)
    assert_error(upload(api, pid, tokens["bidder"]), 404, "project_not_found")
    assert TenderDocument.objects.count() == 0


def test_upload_too_large(api, world, tokens, settings):
    settings.GGZY_DOCUMENT_MAX_BYTES = 10
    pid = accepted(api, world, tokens)
    assert_error(upload(api, pid, tokens["tenderer"], data=b"x" * 11), 413, "payload_too_large")


def test_remove_document(api, world, tokens):
    pid = accepted(api, world, tokens)
    doc = upload(api, pid, tokens["tenderer"]).json()["public_id"]
    assert_error(api.call("DELETE", f"{BASE}/documents/{doc}", token=tokens["bidder"]), 404)
    r = api.call("DELETE", f"{BASE}/documents/{doc}", token=tokens["tenderer"])
    assert r.status_code == 200 and r.json() == {"ok": True}
    assert TenderDocument.objects.count() == 0


def test_published_document_cannot_be_removed(api, world, tokens):
    pid = published_via_api(api, world, tokens)
    doc = TenderDocument.objects.get(project__public_id=pid).public_id
    assert_error(api.call("DELETE", f"{BASE}/documents/{doc}", token=tokens["tenderer"]), 409,
                 "already_published")  # fmt: skip


def test_anonymous_download_and_sealed_register(api, world, tokens, frozen_clock):
    pid = published_via_api(api, world, tokens)
    doc = TenderDocument.objects.get(project__public_id=pid)
    r = api.call("GET", f"{BASE}/documents/{doc.public_id}")
    assert r.status_code == 200
    assert b"".join(r.streaming_content) == DOC
    assert r["X-Content-SHA256"] == hashlib.sha256(DOC).hexdigest()
    assert "attachment" in r["Content-Disposition"]
    api.call("GET", f"{BASE}/documents/{doc.public_id}", token=tokens["bidder"])
    assert Download.objects.count() == 2
    assert_error(api.call("GET", f"{BASE}/projects/{pid}/downloads", token=tokens["ops"]), 403,
                 "sealed_until_deadline")  # fmt: skip
    assert_error(api.call("GET", f"{BASE}/projects/{pid}/downloads", token=tokens["bidder"]), 403,
                 "forbidden")  # fmt: skip
    frozen_clock.advance(timedelta(days=22))
    rows = api.call("GET", f"{BASE}/projects/{pid}/downloads", token=tokens["ops"]).json()
    assert sorted(str(row["user"]) for row in rows) == ["None", "bidder1"]


def test_unpublished_document_hidden(api, world, tokens):
    pid = accepted(api, world, tokens)
    doc = upload(api, pid, tokens["tenderer"]).json()["public_id"]
    assert_error(api.call("GET", f"{BASE}/documents/{doc}"), 404, "document_not_found")
    r = api.call("GET", f"{BASE}/documents/{doc}", token=tokens["tenderer"])
    assert r.status_code == 200 and Download.objects.count() == 0


# --- clarifications and objections --------------------------------------------------------------


def test_clarification_moves_deadline(api, world, tokens, frozen_clock):
    pid = published_via_api(api, world, tokens, days=21)
    frozen_clock.advance(timedelta(days=7))  # 14 days before the deadline
    r = api.call("POST", f"{BASE}/projects/{pid}/clarifications",
                 {"title": "澄清一", "body": "第三章修改"}, token=tokens["tenderer"])  # fmt: skip
    assert r.status_code == 201, r.content
    out = r.json()
    assert out["number"] == 1
    assert out["deadline_after"] == (clock.now() + timedelta(days=15)).isoformat().replace(
        "+00:00", "Z"
    )
    section = api.call("GET", f"{BASE}/projects/{pid}").json()["sections"][0]
    assert section["bid_deadline"] == out["deadline_after"] != section["original_deadline"]
    assert_error(api.call("POST", f"{BASE}/projects/{pid}/clarifications",
                          {"title": "x", "body": "y"}, token=tokens["bidder"]), 403)  # fmt: skip
    assert_error(api.call("POST", f"{BASE}/projects/{pid}/clarifications",
                          {"title": "x", "body": "y", "document": "nope"},
                          token=tokens["tenderer"]), 404, "document_not_found")  # fmt: skip


def test_objection_and_reply(api, world, tokens):
    pid = published_via_api(api, world, tokens, days=21)
    bidder = world.bidders[0]
    r = api.call("POST", f"{BASE}/projects/{pid}/objections",
                 {"entity": bidder.entity.uscc, "text": "资格条件排斥潜在投标人"},
                 token=tokens["bidder"])  # fmt: skip
    assert r.status_code == 201, r.content
    oid = r.json()["public_id"]
    assert api.call("GET", f"{BASE}/projects/{pid}").json()["sections"][0]["phase"] == "suspended"
    # another bidder sees none of it; the tenderer sees it
    other = token(world.bidders[1].user)
    assert api.call("GET", f"{BASE}/projects/{pid}/objections", token=other).json() == []
    assert (
        len(api.call("GET", f"{BASE}/projects/{pid}/objections", token=tokens["tenderer"]).json())
        == 1
    )
    assert_error(api.call("POST", f"{BASE}/objections/{oid}/reply", {"reply": "x"}, token=other),
                 404, "objection_not_found")  # fmt: skip
    assert_error(api.call("POST", f"{BASE}/objections/{oid}/reply", {"reply": "x"},
                          token=tokens["bidder"]), 403)  # fmt: skip
    r = api.call("POST", f"{BASE}/objections/{oid}/reply", {"reply": "已修改"},
                 token=tokens["tenderer"])  # fmt: skip
    assert r.json()["status"] == "answered"
    assert api.call("GET", f"{BASE}/projects/{pid}").json()["sections"][0]["phase"] == "bidding"
    assert_error(api.call("POST", f"{BASE}/objections/{oid}/reply", {"reply": "again"},
                          token=tokens["tenderer"]), 409, "already_answered")  # fmt: skip


def test_objection_for_foreign_entity_and_too_late(api, world, tokens, frozen_clock):
    pid = published_via_api(api, world, tokens, days=21)
    foreign = world.bidders[1].entity.uscc
    assert_error(api.call("POST", f"{BASE}/projects/{pid}/objections",
                          {"entity": foreign, "text": "t"}, token=tokens["bidder"]), 403)  # fmt: skip
    frozen_clock.advance(timedelta(days=12))
    r = api.call(
        "POST",
        f"{BASE}/projects/{pid}/objections",
        {"entity": world.bidders[0].entity.uscc, "text": "t"},
        token=tokens["bidder"],
    )
    assert_error(r, 409, "objection_too_late")


def test_not_found_everywhere(api, world, tokens):
    for path in ("/projects/nope", "/sections/nope", "/documents/nope", "/projects/nope/timeline"):
        assert_error(api.call("GET", BASE + path), 404)
