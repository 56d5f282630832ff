"""The expert-pool API over HTTP: apply → approve, the expert's own history, R20's refusal, the
import's row report, the export, and what outsiders see."""

from __future__ import annotations

from ggzy.accounts.services import issue_token
from ggzy.experts import excel
from ggzy.experts.models import Expert
from tests.api.support import Raw, api_client, assert_error, db_state, event_types_since, last_seq
from tests.experts import world, xlsx

EXPERTS = "/api/v1/experts"


def _token(user):  # type: ignore[no-untyped-def]
    return issue_token(actor=user, name="t")[1]


def test_apply_approve_and_the_experts_own_history(xw, users):  # type: ignore[no-untyped-def]
    http, me, staff = api_client(), _token(xw.owner), _token(xw.staff)
    # when the expert applies
    r = http.call("POST", f"{EXPERTS}/applications", world.body(xw.data()), token=me)
    assert r.status_code == 201, r.content
    public_id = r.json()["public_id"]
    # then the queue shows it, and staff approve it
    queue = http.call("GET", EXPERTS, query={"status": "pending"}, token=staff).json()
    assert [e["public_id"] for e in queue["items"]] == [public_id]
    r = http.call("POST", f"{EXPERTS}/{public_id}/approve", token=staff)
    assert r.json()["status"] == "active"
    # and a later suspension is in the expert's own history (ratings: tests/experts/test_ratings_api.py)
    http.call("POST", f"{EXPERTS}/{public_id}/suspend", {"reason": "违规", "until": "2027-01-01"},
              token=staff)  # fmt: skip
    mine = http.call("GET", f"{EXPERTS}/me", token=me).json()
    assert [(c["to_status"], c["until"]) for c in mine["status_history"]] == [
        ("pending", None), ("active", None), ("suspended", "2027-01-01")]  # fmt: skip
    assert mine["ratings"] == []


def test_r20_refusal_names_the_unmet_condition(xw):  # type: ignore[no-untyped-def]
    http, staff = api_client(), _token(xw.staff)
    expert = xw.pending(years_in_field=6)
    before, seq = db_state(), last_seq()
    body = assert_error(http.call("POST", f"{EXPERTS}/{expert.public_id}/approve", token=staff),
                        422, "expert_ineligible")  # fmt: skip
    assert body["detail"]["rule"] == "R20" and body["detail"]["unmet"] == ["years_in_field"]
    # nothing changed; the refusal is recorded for supervision
    assert db_state(upto_seq=seq) == before
    assert event_types_since(seq) == ["experts.approval_refused"]


def test_outsiders_do_not_see_a_record(xw, users):  # type: ignore[no-untyped-def]
    expert = xw.active()
    http = api_client()
    for who in ("bidder", "tenderer", "agent"):
        assert_error(http.call("GET", f"{EXPERTS}/{expert.public_id}", token=_token(users[who])),
                     404, "expert_not_found")  # fmt: skip
        assert_error(http.call("GET", EXPERTS, token=_token(users[who])), 403, "forbidden")
    assert http.call("GET", f"{EXPERTS}/{expert.public_id}",
                     token=_token(users["inspector"])).status_code == 200  # fmt: skip
    assert_error(http.call("GET", f"{EXPERTS}/me", token=_token(users["bidder"])), 404,
                 "expert_not_found")  # fmt: skip


def test_import_refusal_carries_the_row_report_and_export_downloads(xw):  # type: ignore[no-untyped-def]
    http, staff = api_client(), _token(xw.staff)
    bad = xlsx.workbook([xlsx.row(xw.employer.uscc), xlsx.row(xw.employer.uscc, years_in_field=99)])
    body = assert_error(http.call("POST", f"{EXPERTS}/import", Raw(bad, excel.XLSX_TYPE),
                                  token=staff), 422, "import_rows_invalid")  # fmt: skip
    assert [(e["row"], e["column"], e["code"]) for e in body["detail"]["errors"]] == [
        (3, "从业年限", "bad_years")]  # fmt: skip
    assert Expert.objects.count() == 0
    assert_error(http.call("POST", f"{EXPERTS}/import", Raw(b"a,b\n", "text/csv"), token=staff),
                 415, "unsupported_media_type")  # fmt: skip
    assert_error(http.call("POST", f"{EXPERTS}/import", Raw(b"not a zip", excel.XLSX_TYPE),
                           token=staff), 422, "not_xlsx")  # fmt: skip
    good = xlsx.workbook([xlsx.row(xw.employer.uscc)])
    r = http.call("POST", f"{EXPERTS}/import", Raw(good, excel.XLSX_TYPE), token=staff)
    assert r.status_code == 200 and len(r.json()["experts"]) == 1
    r = http.call("GET", f"{EXPERTS}/export", token=staff)
    assert r["Content-Type"] == excel.XLSX_TYPE
    assert len(excel.workbook_rows(r.content)) == 2


def test_the_taxonomy_is_public(xw):  # type: ignore[no-untyped-def]
    r = api_client().call("GET", f"{EXPERTS}/specialties", query={"active_only": "true"})
    assert [s["code"] for s in r.json()][:3] == ["A", "A01", "A01.01"]
    assert r.json()[2]["parent"] == "A01" and r.json()[2]["is_works"] is True


def test_hostile_requests_are_answered_4xx_never_500(xw, users):  # type: ignore[no-untyped-def]
    # given malformed, out-of-range and NUL-carrying bodies, paths and files
    http = api_client()
    me = _token(xw.owner)
    staff = _token(xw.staff)
    ops = _token(users["center_operations"])
    expert = xw.active()
    pid = expert.public_id
    good = world.body(xw.data())
    probes = [
        ("POST", f"{EXPERTS}/applications", None, "{not json", me),
        ("POST", f"{EXPERTS}/applications", good | {"years_in_field": -1}, None, me),
        ("POST", f"{EXPERTS}/applications", good | {"years_in_field": 10**40}, None, me),
        ("POST", f"{EXPERTS}/applications", good | {"years_in_field": 1e308}, None, me),
        ("POST", f"{EXPERTS}/applications", good | {"name": "a\x00b"}, None, me),
        ("POST", f"{EXPERTS}/applications", good | {"other_specialties": ["A\x00"]}, None, me),
        (
            "POST",
            f"{EXPERTS}/applications",
            good | {"resident_id": "１１０１０５１９４９１２３１００２X"},
            None,
            me,
        ),
        ("POST", f"{EXPERTS}", good | {"username": "x" * 150}, None, staff),
        ("PATCH", f"{EXPERTS}/{pid}", {"years_in_field": 3}, None, staff),
        ("PATCH", f"{EXPERTS}/{pid}", {"region": "3201\x00"}, None, staff),
        ("PATCH", f"{EXPERTS}/{pid}", {"employer": "9" * 24}, None, staff),
        ("POST", f"{EXPERTS}/{pid}/suspend", {"reason": "r", "until": "9999-12-31"}, None, staff),
        (
            "POST",
            f"{EXPERTS}/{pid}/unavailability",
            {"start": "9999-12-31", "end": "9999-12-31"},
            None,
            me,
        ),
        (
            "POST",
            f"{EXPERTS}/{pid}/unavailability",
            {"start": "0001-01-01", "end": "9999-12-31"},
            None,
            me,
        ),
        (
            "POST",
            f"{EXPERTS}/{pid}/unavailability",
            {"start": "2026-13-01", "end": "2026-12-31"},
            None,
            me,
        ),
        ("DELETE", f"{EXPERTS}/{pid}/unavailability/{2**70}", None, None, me),
        ("DELETE", f"{EXPERTS}/{pid}/conflicts/-1", None, None, me),
        ("POST", f"{EXPERTS}/{pid}/conflicts", {"entity": "x" * 24, "reason": "r"}, None, me),
        (
            "POST",
            f"{EXPERTS}/{pid}/ratings",
            {"session_ref": "S", "rater_kind": "center", "score": 10**30},
            None,
            ops,
        ),
        ("GET", f"{EXPERTS}/{'z' * 500}", None, None, staff),
        ("GET", f"{EXPERTS}/ab%00cd", None, None, staff),
        ("GET", f"{EXPERTS}/specialties/A%00", None, None, staff),
        ("POST", f"{EXPERTS}", good | {"username": "zj\x00"}, None, staff),
        ("GET", EXPERTS, None, None, staff),
        ("POST", f"{EXPERTS}/import", Raw(b"\x00" * 100, "application/octet-stream"), None, staff),
        (
            "POST",
            f"{EXPERTS}/import",
            Raw(b"PK\x03\x04garbage", "application/octet-stream"),
            None,
            staff,
        ),
        ("POST", f"{EXPERTS}/import", Raw(b"", "application/octet-stream"), None, staff),
        ("GET", f"{EXPERTS}/export", None, None, staff),
    ]
    # when each is sent
    bad = []
    for method, path, body, raw, token in probes:
        r = http.call(method, path, body, raw=raw, token=token)
        if r.status_code >= 500:
            bad.append((method, path, body, r.status_code, r.content[:200]))
    # then none is answered with a 500
    for q in ("王", "王\x00"):
        found = http.call("GET", EXPERTS, query={"offset": "10000000", "q": q}, token=staff)
        assert found.status_code < 500, (q, found.content[:200])
    assert bad == []
