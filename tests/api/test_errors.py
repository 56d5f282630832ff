"""Every operation in the generated OpenAPI document refuses bad input with a 4xx in the one error
shape, ``{"code", "message", "detail"}``, and a refused request changes nothing.

The operations are read from ``api.get_openapi_schema()``, so a new endpoint is walked
automatically; the tables below only say what a *plausible* request to it looks like.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from ggzy.api import api as ninja_api
from ggzy.ledger.models import TreeHead
from tests.api.conftest import World
from tests.api.support import (
    ApiClient,
    api_client,
    assert_error,
    db_state,
    entity_payload,
    last_seq,
)
from tests.conftest import PASSWORD

SCHEMA = ninja_api.get_openapi_schema()
MAX_BODY = 1024 * 1024
GARBAGE_TOKEN = "ggzy_this-token-was-never-issued"


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    spec: dict[str, Any]

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def has_body(self) -> bool:
        return "requestBody" in self.spec

    @property
    def needs_auth(self) -> bool:
        return bool(self.spec.get("security"))

    def params(self, where: str) -> list[dict[str, Any]]:
        return [p for p in self.spec.get("parameters", []) if p["in"] == where]

    def body_properties(self) -> dict[str, Any]:
        schema = self.spec["requestBody"]["content"]["application/json"]["schema"]
        name = schema["$ref"].rsplit("/", 1)[-1]
        return dict(SCHEMA["components"]["schemas"][name]["properties"])


OPERATIONS = [
    Operation(method.upper(), path, spec)
    for path, item in SCHEMA["paths"].items()
    for method, spec in item.items()
]


def _path_values(world: World) -> dict[str, str]:
    return {
        "uscc": world.entity.uscc,
        "qualification_id": str(world.qualification.pk),
        "token_id": str(world.spare_token.pk),
        "day": "2026-12-01",
        "seq": "1",
    }


# A value that names nothing, per path parameter: (value, status, code).
BAD_PATH_VALUES: dict[str, list[tuple[str, int, str]]] = {
    "uscc": [
        ("91110000600037341M", 404, "entity_not_found"),  # check character wrong
        ("91350100M000100Y43", 404, "entity_not_found"),  # valid, but not registered
        ("not-a-uscc", 404, "entity_not_found"),
    ],
    "qualification_id": [("abc", 404, "not_found"), ("999999", 404, "qualification_not_found")],
    "token_id": [("abc", 404, "not_found"), ("999999", 404, "token_not_found")],
    "day": [("2026-02-30", 422, "validation_error"), ("tomorrow", 422, "validation_error")],
    "seq": [("abc", 404, "not_found"), ("999999", 404, "event_not_found")],
}


def _valid_bodies(world: World) -> dict[str, Any]:
    """A body each operation accepts from ``world.omni`` — so a refusal has one cause only."""
    return {
        "POST /api/v1/auth/login": {"username": "omni", "password": PASSWORD},
        "POST /api/v1/auth/signup": {
            "username": "newcomer",
            "password": "Another-Secret-77",
            "display_name": "新人",
            "role": "bidder",
        },
        "POST /api/v1/auth/tokens": {"name": "ci"},
        "POST /api/v1/entities": entity_payload(90),
        "PATCH /api/v1/entities/{uscc}": {"name": "改名后的建设有限公司"},
        "POST /api/v1/entities/{uscc}/qualifications": {
            "qualification_type": "市政公用工程施工总承包",
            "issuer": "江苏省住房和城乡建设厅",
            "number": "D232099999",
        },
        "POST /api/v1/entities/{uscc}/contacts": {"name": "赵六", "phone": "025-66660000"},
        "POST /api/v1/entities/{uscc}/members": {"username": "candidate", "role": "operator"},
        "POST /api/v1/entities/{uscc}/status": {"status": "suspended", "reason": "行政处罚"},
        "PUT /api/v1/calendar/days/{day}": {"is_working_day": False, "name": "元旦"},
    }


def _valid_query(op: Operation) -> dict[str, str]:
    values = {
        "kind": "uscc",
        "value": "91110000600037341L",
        "start": "2026-11-23",
        "end": "2026-12-01",
        "days": "5",
        "old": str(TreeHead.objects.order_by("size").values_list("size", flat=True).first()),
        "new": str(last_seq()),
    }
    return {p["name"]: values[p["name"]] for p in op.params("query") if p.get("required")}


def _url(op: Operation, world: World, **replace: str) -> str:
    values = _path_values(world) | replace
    names = [p["name"] for p in op.params("path")]
    missing = [n for n in names if n not in values]
    assert not missing, f"give path parameter(s) {missing} of {op.key} a value in _path_values"
    return op.path.format(**{n: values[n] for n in names})


def _param_type(param: dict[str, Any]) -> tuple[str | None, str | None, bool]:
    schema = param.get("schema", {})
    return schema.get("type"), schema.get("format"), "enum" in schema


def _typed_query_params(op: Operation) -> list[str]:
    """Query parameters that have a type a string can get wrong (numbers, dates, choices)."""
    out = []
    for p in op.params("query"):
        kind, fmt, is_enum = _param_type(p)
        if kind in ("integer", "number", "boolean") or fmt in ("date", "date-time") or is_enum:
            out.append(p["name"])
    return out


def _locs(body: dict[str, Any]) -> list[list[Any]]:
    return [e["loc"] for e in body["detail"]]


# --- the cases -------------------------------------------------------------------------------


def case_malformed_json(http: ApiClient, op: Operation, world: World) -> None:
    r = http.call(op.method, _url(op, world), raw='{"name": ', token=world.omni_secret)
    assert_error(r, 400, "malformed_body")


def case_body_not_an_object(http: ApiClient, op: Operation, world: World) -> None:
    r = http.call(op.method, _url(op, world), body=[1, 2], token=world.omni_secret)
    body = assert_error(r, 422, "validation_error")
    assert _locs(body) == [["body", "payload"]]


def case_wrong_body_types(http: ApiClient, op: Operation, world: World) -> None:
    properties = op.body_properties()
    wrong = {name: {"wrong": "type"} for name in properties}  # an object where none is expected
    r = http.call(op.method, _url(op, world), body=wrong, token=world.omni_secret)
    body = assert_error(r, 422, "validation_error")
    reported = {loc[2] for loc in _locs(body) if loc[:2] == ["body", "payload"] and len(loc) > 2}
    assert reported == set(properties)


def case_wrong_query_types(http: ApiClient, op: Operation, world: World) -> None:
    typed = _typed_query_params(op)
    query = _valid_query(op) | {name: "¿wrong?" for name in typed}
    r = http.call(op.method, _url(op, world), query=query, token=world.omni_secret)
    body = assert_error(r, 422, "validation_error")
    assert {loc[1] for loc in _locs(body)} == set(typed)


def case_unknown_field(http: ApiClient, op: Operation, world: World) -> None:
    body = _valid_bodies(world).get(op.key, {}) | {"unexpected_field": "x"}
    r = http.call(op.method, _url(op, world), body=body, token=world.omni_secret)
    answer = assert_error(r, 422, "validation_error")
    assert {"loc": ["body", "payload", "unexpected_field"], "type": "extra_forbidden"} in [
        {"loc": e["loc"], "type": e["type"]} for e in answer["detail"]
    ]


def case_oversized_body(http: ApiClient, op: Operation, world: World) -> None:
    raw = json.dumps({"padding": "x" * (MAX_BODY + MAX_BODY // 2)})
    r = http.call(op.method, _url(op, world), raw=raw, token=world.omni_secret)
    assert_error(r, 413, "payload_too_large")


def case_nul_character(http: ApiClient, op: Operation, world: World) -> None:
    if op.has_body:
        first = next(iter(op.body_properties()))
        body = _valid_bodies(world).get(op.key, {}) | {first: "a\x00b"}
        r = http.call(op.method, _url(op, world), body=body, token=world.omni_secret)
    else:
        query = _valid_query(op) | {op.params("query")[0]["name"]: "a\x00b"}
        r = http.call(op.method, _url(op, world), query=query, token=world.omni_secret)
    assert_error(r, 422, "nul_character")


def case_unauthenticated(http: ApiClient, op: Operation, world: World) -> None:
    r = http.call(op.method, _url(op, world), body=_valid_bodies(world).get(op.key))
    assert_error(r, 401, "not_authenticated")


def case_garbage_bearer(http: ApiClient, op: Operation, world: World) -> None:
    body = _valid_bodies(world).get(op.key)
    r = http.call(
        op.method, _url(op, world), body=body, query=_valid_query(op), token=GARBAGE_TOKEN
    )
    assert_error(r, 401, "not_authenticated")


def case_bad_identifier(http: ApiClient, op: Operation, world: World) -> None:
    body = _valid_bodies(world).get(op.key)
    for param in op.params("path"):
        for value, status, code in BAD_PATH_VALUES[param["name"]]:
            url = _url(op, world, **{param["name"]: value})
            r = http.call(
                op.method, url, body=body, query=_valid_query(op), token=world.omni_secret
            )
            assert_error(r, status, code)


def case_session_without_csrf_token(http: ApiClient, op: Operation, world: World) -> None:
    browser = api_client(enforce_csrf_checks=True)
    browser.client.force_login(world.omni)
    r = browser.call(op.method, _url(op, world), body=_valid_bodies(world).get(op.key))
    assert_error(r, 403, "csrf_failed")


def _applies(case: str, op: Operation) -> bool:
    body_cases = {"malformed_json", "body_not_an_object", "wrong_body_types", "unknown_field"}
    if case in body_cases or case == "oversized_body":
        return op.has_body
    if case == "wrong_query_types":
        return bool(_typed_query_params(op))
    if case == "nul_character":
        return op.has_body or bool(op.params("query"))
    if case == "unauthenticated":
        return op.needs_auth
    if case == "bad_identifier":
        return bool(op.params("path"))
    if case == "session_without_csrf_token":
        return op.needs_auth and op.method != "GET"
    return case == "garbage_bearer"


CASES = {
    name.removeprefix("case_"): fn for name, fn in globals().items() if name.startswith("case_")
}
MATRIX = [
    pytest.param(op, case, id=f"{op.key} - {case}")
    for op in OPERATIONS
    for case in CASES
    if _applies(case, op)
]


def test_every_operation_is_walked() -> None:
    assert len(OPERATIONS) >= 28  # the v1 surface at the time of writing; new ones add to it
    assert {op.key for op in OPERATIONS} >= {
        "POST /api/v1/entities",
        "PATCH /api/v1/entities/{uscc}",
        "PUT /api/v1/calendar/days/{day}",
        "DELETE /api/v1/auth/tokens/{token_id}",
    }
    walked = {op.key for op, _ in (p.values for p in MATRIX)}
    assert walked == {op.key for op in OPERATIONS}


@pytest.mark.parametrize(("op", "case"), MATRIX)
def test_bad_request_is_refused_in_the_error_shape_and_changes_nothing(
    http: ApiClient, world: World, op: Operation, case: str
) -> None:
    # given the world as it is
    before = db_state()
    # when the operation receives the bad request / then it answers 4xx in the error shape
    CASES[case](http, op, world)
    # and nothing was written: no row, no ledger event
    assert db_state() == before


@pytest.mark.parametrize("op", [pytest.param(op, id=op.key) for op in OPERATIONS])
def test_the_plausible_request_is_accepted(http: ApiClient, world: World, op: Operation) -> None:
    """The control: the same URLs and bodies succeed, so the refusals above are not vacuous."""
    r = http.call(
        op.method,
        _url(op, world),
        body=_valid_bodies(world).get(op.key),
        query=_valid_query(op),
        token=world.omni_secret,
    )
    assert 200 <= r.status_code < 300, (r.status_code, r.content[:500])


@pytest.mark.parametrize(
    "path",
    ["/api/v1/no-such-thing", "/api/v1/entities/91110000600037341L/no-such-thing", "/api/v2/info"],
)
def test_unknown_url_is_404_in_the_error_shape(http: ApiClient, world: World, path: str) -> None:
    before = db_state()
    for method in ("GET", "POST", "DELETE"):
        assert_error(http.call(method, path, body={}, token=world.omni_secret), 404, "not_found")
    assert db_state() == before


def _unsupported_methods(item: dict[str, Any]) -> list[str]:
    return [m for m in ("GET", "POST", "PUT", "PATCH", "DELETE") if m.lower() not in item]


@pytest.mark.parametrize(
    ("path", "method"),
    [
        pytest.param(path, method, id=f"{method} {path}")
        for path, item in SCHEMA["paths"].items()
        for method in _unsupported_methods(item)
    ],
)
def test_wrong_method_is_405_in_the_error_shape(
    http: ApiClient, world: World, path: str, method: str
) -> None:
    before = db_state()
    allowed = {m.upper() for m in SCHEMA["paths"][path]}
    op = Operation(method, path, {"parameters": _all_path_params(path)})
    r = http.call(method, _url(op, world), body={}, token=world.omni_secret)
    assert_error(r, 405, "method_not_allowed")
    assert set(r["Allow"].replace(" ", "").split(",")) == allowed
    assert db_state() == before


def _all_path_params(path: str) -> list[dict[str, Any]]:
    item = SCHEMA["paths"][path]
    return next(op for op in item.values()).get("parameters", [])


@pytest.mark.parametrize(
    ("method", "url", "status", "code"),
    [
        (
            "GET",
            "/api/v1/calendar/add-working-days?start=9999-12-31&days=10",
            422,
            "date_out_of_range",
        ),
        (
            "GET",
            "/api/v1/calendar/add-working-days?start=0001-01-01&days=-10",
            422,
            "date_out_of_range",
        ),
        (
            "GET",
            "/api/v1/calendar/count-working-days?start=0001-01-01&end=9999-12-31",
            422,
            "range_too_long",
        ),
        ("DELETE", "/api/v1/auth/tokens/99999999999999999999999", 404, "token_not_found"),
        ("GET", "/api/v1/ledger/events/99999999999999999999999", 404, "event_not_found"),
        ("GET", "/api/v1/entities?limit=101", 422, "validation_error"),
        ("GET", "/api/v1/entities?offset=-1", 422, "validation_error"),
    ],
)
def test_edge_values_are_refused_not_crashed(
    http: ApiClient, world: World, method: str, url: str, status: int, code: str
) -> None:
    # (dates near 9999-12-31 used to overflow into a 500)
    before = db_state()
    assert_error(http.call(method, url, token=world.omni_secret), status, code)
    assert db_state() == before


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        ("[" * 100_000 + "]" * 100_000, "application/json"),  # nesting deeper than any parser goes
        (b'{"name": "\xff\xfe"}', "application/json"),  # not UTF-8
        ("name=ci", "application/x-www-form-urlencoded"),  # a form, not JSON
        ("", "application/json"),
    ],
    ids=["deep-nesting", "not-utf8", "form-encoded", "empty"],
)
def test_unparseable_bodies_are_400_or_422(
    http: ApiClient, world: World, raw: str | bytes, content_type: str
) -> None:
    before = db_state()
    r = http.call(
        "POST", "/api/v1/auth/tokens", raw=raw, content_type=content_type, token=world.omni_secret
    )
    if content_type != "application/json":
        assert_error(r, 415, "unsupported_media_type")  # JSON only: no cross-site form posts
    elif raw:
        assert_error(r, 400, "malformed_body")
    else:
        assert_error(r, 422, "validation_error")
    assert db_state() == before


def test_a_form_with_too_many_fields_is_400_not_500(world: World) -> None:
    # A session call makes the CSRF check read the form; Django then refuses > 1000 fields.
    browser = api_client(enforce_csrf_checks=True)
    browser.client.force_login(world.omni)
    browser.client.cookies["csrftoken"] = "k" * 32
    before = db_state()
    r = browser.call(
        "POST",
        "/api/v1/auth/tokens",
        raw="&".join(f"f{i}=1" for i in range(2000)),
        content_type="application/x-www-form-urlencoded",
    )
    assert_error(r, 400, "bad_request")
    assert db_state() == before


@pytest.mark.django_db
def test_signup_refuses_a_malformed_email() -> None:
    from tests.api.support import api_client

    response = api_client().call(
        "POST",
        "/api/v1/auth/signup",
        {
            "username": "newbie",
            "password": "Correct-Horse-9!",
            "display_name": "新人",
            "role": "bidder",
            "email": "nope",
        },
    )
    assert response.status_code == 422
    assert set(response.json()) == {"code", "message", "detail"}
