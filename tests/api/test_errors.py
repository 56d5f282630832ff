"""Every operation in the generated OpenAPI document refuses bad input with a 4xx in the one error
shape, ``{"code", "message", "detail"}``, and a refused request changes nothing.

The operations are read from ``api.get_openapi_schema()``, so a new endpoint is walked
automatically; the tables below only say what a *plausible* request to it looks like.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings

from ggzy.api import api as ninja_api
from ggzy.exchange.ocds import ocid_of
from ggzy.exchange.ocds import prefix as ocds_prefix
from ggzy.experts.excel import XLSX_TYPE
from ggzy.ledger.models import TreeHead
from tests.api import tender_world
from tests.api import trust_world as tw
from tests.api.conftest import World
from tests.api.support import (
    ApiClient,
    Raw,
    api_client,
    assert_error,
    catalog_body,
    db_state,
    entity_payload,
    last_seq,
)
from tests.award import matrix as award_matrix
from tests.complaints import matrix as complaints_matrix
from tests.conftest import PASSWORD
from tests.disclosure import matrix as disclosure_matrix
from tests.evaluation import matrix as eval_matrix
from tests.exchange import ingest_matrix
from tests.exchange import test_national_matrix as national_matrix
from tests.experts import draw_matrix, rating_matrix
from tests.experts import world as expert_world
from tests.supervision import matrix as supervision_matrix
from tests.tendering import invitation_matrix
from tests.venues import world as venue_world

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
    if f"{method.upper()} {path}" not in ingest_matrix.OWN_MATRIX  # walked by their own matrix
]


# How to name an existing object, per path parameter. Trust objects are made on first use.
PATH_VALUES: dict[str, Callable[[World], str]] = {
    "uscc": lambda w: w.entity.uscc,
    "qualification_id": lambda w: str(w.qualification.pk),
    "token_id": lambda w: str(w.spare_token.pk),
    "day": lambda w: "2026-12-01",
    "seq": lambda w: "1",
    "code": lambda w: w.trust.authority.code,
    "category": lambda w: "works",
    "version": lambda w: "1",
    "binding_id": lambda w: str(w.trust.binding.pk),
    "signature_id": lambda w: str(w.signature.pk),
    "request_id": lambda w: w.sign_request.public_id,
    "envelope_id": lambda w: w.envelope.row.public_id,
    # tendering / bidding objects: any one will do where no operation below says otherwise
    "public_id": lambda w: w.tender.draft().public_id,
    "section_id": lambda w: w.tender.open_section().public_id,
    "bid_id": lambda w: w.tender.bid()[0].public_id,
    "deposit_id": lambda w: str(w.tender.deposit().pk),
    "finding_id": lambda w: w.tender.finding().public_id,
    "objection_id": lambda w: str(w.tender.opening_objection().pk),
    # the expert pool: an active expert of another expert account (omni keeps the pool)
    "expert_id": lambda w: expert_world.for_world(w).active().public_id,
    "specialty_code": lambda w: (expert_world.for_world(w), "A01.01")[1],
    "period_id": lambda w: str(expert_world.for_world(w).period().pk),
    "conflict_id": lambda w: str(expert_world.for_world(w).conflict().pk),
    # venues: the venue world's Nanjing site, its first evaluation room, a held booking, a session
    "site_code": lambda w: (venue_world.for_world(w).sites, "NJ")[1],
    "venue_id": lambda w: str(venue_world.for_world(w).venues["NJ/E1"].pk),
    "booking_id": lambda w: venue_world.for_world(w).held().public_id,
    "remote_session_id": lambda w: venue_world.for_world(w).session().public_id,
    **draw_matrix.PATH_VALUES,  # the expert draw: tests/experts/draw_matrix.py
    **eval_matrix.PATH_VALUES,  # evaluation: the error world's session, as far as it has got
    **rating_matrix.PATH_VALUES,  # expert ratings: tests/experts/rating_matrix.py
    **award_matrix.PATH_VALUES,  # award: tests/award/matrix.py
    **national_matrix.PATH_VALUES,  # the national data exchange: tests/exchange
    **disclosure_matrix.PATH_VALUES,  # public records: tests/disclosure/matrix.py
    **ingest_matrix.PATH_VALUES,  # external trading systems: tests/exchange/ingest_matrix.py
    **supervision_matrix.PATH_VALUES,  # supervision: tests/supervision/matrix.py
    **complaints_matrix.PATH_VALUES,  # complaints: tests/complaints/matrix.py
    # OCDS: the contracting process of the world's open (published) section
    "ocid": lambda w: ocid_of(w.tender.open_section()),
}

NO_SUCH_PUBLIC_ID = "0" * 32  # the shape of a signing request's / envelope's id, naming none


def _not_found(code: str) -> list[tuple[str, int, str]]:
    return [(NO_SUCH_PUBLIC_ID, 404, code), ("no-such-thing", 404, code)]


def _int_not_found(code: str) -> list[tuple[str, int, str]]:
    # an int in the handler's signature but not in the route (``{int:...}``): a non-number is a
    # 422 on the path parameter, where the older endpoints answer 404 not_found
    return [("abc", 422, "validation_error"), ("999999", 404, code)]


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
    "code": [("no-such-ca", 404, "ca_not_found"), ("TEST-ECDSA", 404, "ca_not_found")],
    "category": [("no-such-category", 404, "category_not_found")],
    "version": [("abc", 404, "not_found"), ("999", 404, "ruleset_not_found")],
    "binding_id": [("abc", 404, "not_found"), ("999999", 404, "binding_not_found")],
    "signature_id": [("abc", 404, "not_found"), ("999999", 404, "signature_not_found")],
    "request_id": [
        (NO_SUCH_PUBLIC_ID, 404, "sign_request_not_found"),
        ("not-a-request", 404, "sign_request_not_found"),
    ],
    "envelope_id": [
        (NO_SUCH_PUBLIC_ID, 404, "envelope_not_found"),
        ("not-an-envelope", 404, "envelope_not_found"),
    ],
    "public_id": _not_found("project_not_found"),
    "section_id": _not_found("section_not_found"),
    "bid_id": _not_found("bid_not_found"),
    "deposit_id": _int_not_found("deposit_not_found"),
    "finding_id": _not_found("finding_not_found"),
    "objection_id": _int_not_found("objection_not_found"),
    "expert_id": _not_found("expert_not_found"),
    "specialty_code": [
        ("Z99", 404, "specialty_not_found"),
        ("no-such-thing", 404, "specialty_not_found"),
    ],
    "period_id": _int_not_found("period_not_found"),
    "conflict_id": _int_not_found("conflict_not_found"),
    "site_code": [("ZZ", 404, "site_not_found"), ("no-such-thing", 404, "site_not_found")],
    "venue_id": _int_not_found("venue_not_found"),
    "booking_id": _not_found("booking_not_found"),
    "remote_session_id": _not_found("session_not_found"),
    **draw_matrix.BAD_PATH_VALUES,
    **eval_matrix.BAD_PATH_VALUES,
    **rating_matrix.BAD_PATH_VALUES,
    **award_matrix.BAD_PATH_VALUES,
    **national_matrix.BAD_PATH_VALUES,
    **disclosure_matrix.BAD_PATH_VALUES,
    **ingest_matrix.BAD_PATH_VALUES,
    **supervision_matrix.BAD_PATH_VALUES,
    **complaints_matrix.BAD_PATH_VALUES,
    "ocid": [
        ("not-an-ocid", 400, "malformed_ocid"),
        (f"{ocds_prefix()}-{NO_SUCH_PUBLIC_ID}", 404, "ocid_not_found"),
    ],
}
# (operation, path parameter) -> bad values, where one operation answers for the name otherwise.
BAD_PATH_VALUES_OF: dict[tuple[str, str], list[tuple[str, int, str]]] = {
    **rating_matrix.BAD_PATH_VALUES_OF,
}
# ``public_id`` names a different kind of object under these paths.
BAD_PUBLIC_IDS: dict[str, list[tuple[str, int, str]]] = {
    "/api/v1/tendering/sections/": _not_found("section_not_found"),
    "/api/v1/tendering/documents/": _not_found("document_not_found"),
    "/api/v1/tendering/objections/": _not_found("objection_not_found"),
    **supervision_matrix.BAD_PUBLIC_IDS,
}


def _bad_path_values(op: Operation, name: str) -> list[tuple[str, int, str]]:
    if (op.key, name) in BAD_PATH_VALUES_OF:
        return BAD_PATH_VALUES_OF[(op.key, name)]
    if name == "public_id":
        for prefix, values in BAD_PUBLIC_IDS.items():
            if op.path.startswith(prefix):
                return values
    return BAD_PATH_VALUES[name]


# Operations whose body is an upload, not JSON (no requestBody in the schema): the JSON body cases
# do not apply; the size limit does (GGZY_ENVELOPE_MAX_BYTES).
# (setting, where a spooled upload would be left)
_ENVELOPE_LIMIT = ("GGZY_ENVELOPE_MAX_BYTES", lambda w: w.envelope_dir)
RAW_UPLOADS: dict[str, tuple[str, Callable[[World], Any]]] = {
    "POST /api/v1/trust/envelopes": _ENVELOPE_LIMIT,
    "POST /api/v1/bidding/sections/{section_id}/bids": _ENVELOPE_LIMIT,
    "POST /api/v1/bidding/bids/{bid_id}/replace": _ENVELOPE_LIMIT,
    "POST /api/v1/tendering/projects/{public_id}/documents": (
        "GGZY_DOCUMENT_MAX_BYTES",
        lambda w: Path(settings.GGZY_DOCUMENT_DIR),
    ),
    "POST /api/v1/bidding/bank-notices/import": ("GGZY_BANK_CSV_MAX_BYTES", lambda w: None),
    "POST /api/v1/experts/import": ("GGZY_EXPERT_IMPORT_MAX_BYTES", lambda w: None),
    **supervision_matrix.RAW_UPLOADS,
    **complaints_matrix.RAW_UPLOADS,
}

_STATIC_BODIES: dict[str, Any] = {
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
    "POST /api/v1/trust/cas/{code}/status": {"status": "suspended", "reason": "例行检查"},
    "POST /api/v1/trust/challenges": {"purpose": "login"},
    "PUT /api/v1/catalog/{category}/procedures": {"procedures": ["open_tender"]},
    "PATCH /api/v1/experts/specialties/{specialty_code}": {"name": "土建工程"},
    "PATCH /api/v1/experts/{expert_id}": {"years_in_field": 15},
    "POST /api/v1/experts/{expert_id}/suspend": {"reason": "评标中违规"},
    "POST /api/v1/experts/{expert_id}/retire": {"reason": "本人申请退出"},
    "POST /api/v1/venues/sites": {
        "code": "WX",
        "name": "无锡市公共资源交易中心",
        "region": "320100",
        "address": "无锡市某路1号",
    },
    "PATCH /api/v1/venues/sites/{site_code}": {"address": "南京市新址"},
    "PATCH /api/v1/venues/rooms/{venue_id}": {"capacity": 12},
    "POST /api/v1/venues/bookings/{booking_id}/release": {"reason": "改期"},
    "POST /api/v1/venues/bookings/{booking_id}/cancel": {"reason": "设备检修"},
}

# Bodies that consume something (a challenge nonce, an unbound certificate, an envelope id) or
# name an object of the world, built per test.
_BUILT_BODIES: dict[str, Callable[[World], Any]] = {
    "POST /api/v1/trust/cas": lambda w: tw.onboard_body(),
    "POST /api/v1/catalog/{category}/rulesets": lambda w: catalog_body(),
    "POST /api/v1/trust/cas/{code}/certificates": lambda w: tw.add_certificates_body(),
    "POST /api/v1/trust/cas/{code}/crls": lambda w: tw.crl_body(),
    "POST /api/v1/trust/sign-requests": lambda w: tw.sign_request_body(),
    "POST /api/v1/trust/certificates/verify": lambda w: tw.verify_body(w.trust),
    "POST /api/v1/trust/bindings": lambda w: tw.bind_body(
        tw.fresh_entity_certificate(w.trust.entity), w.omni.username, w.entity
    ),
    "POST /api/v1/trust/login": lambda w: tw.login_body(w.trust.certificate),
    "POST /api/v1/trust/signatures": lambda w: tw.signature_body(w.trust.certificate),
    "POST /api/v1/trust/signatures/verify": lambda w: tw.signature_body(w.trust.certificate),
    "POST /api/v1/trust/sign-requests/{request_id}/signature": lambda w: tw.answer_body(
        w.trust, w.sign_request
    ),
    "POST /api/v1/trust/envelopes": lambda w: Raw(tw.seal(w.trust)[0]),
    "POST /api/v1/trust/envelopes/{envelope_id}/open": lambda w: tw.open_body(
        w.envelope.content_key
    ),
    "POST /api/v1/experts/specialties": lambda w: (
        expert_world.for_world(w) and {"code": "A09", "name": "水利工程"}
    ),
    "POST /api/v1/experts/applications": lambda w: expert_world.body(
        expert_world.for_world(w).data()
    ),
    "POST /api/v1/experts": lambda w: expert_world.body(expert_world.for_world(w).data()),
    "POST /api/v1/experts/{expert_id}/unavailability": lambda w: {
        "start": str(w.clock.moment.date() + timedelta(days=1)),
        "end": str(w.clock.moment.date() + timedelta(days=2)),
    },
    "POST /api/v1/experts/{expert_id}/conflicts": lambda w: {
        "entity": w.entity.uscc,
        "reason": "配偶任职",
    },
}


TENDERING, FAIRNESS, BIDDING = "/api/v1/tendering", "/api/v1/fairness", "/api/v1/bidding"
Prepared = tuple[dict[str, str], Any]  # (path values, body)


def _project(state: str, body: Callable[[World], Any] | None = None) -> Any:
    def build(w: World) -> Prepared:
        return {"public_id": getattr(w.tender, state)().public_id}, body(w) if body else None

    return build


def _publish_body(w: World) -> dict[str, Any]:
    now = w.clock.moment
    return {
        "announcement": "招标公告正文",
        "documents_until": (now + timedelta(days=6)).isoformat(),
        "bid_deadline": (now + timedelta(days=21)).isoformat(),
    }


def _closed_section(w: World) -> Prepared:
    return {"section_id": w.tender.past_deadline(w.tender.open_section()).public_id}, None


def _downloads(w: World) -> Prepared:
    project = w.tender.published()
    w.tender.past_deadline(w.tender.section(project))
    return {"public_id": project.public_id}, None


def _notice(w: World) -> Prepared:
    return {}, w.tender.notice(w.tender.deposit())


def _csv(w: World) -> Prepared:
    notice = w.tender.notice(w.tender.deposit())
    text = ",".join(notice) + "\n" + ",".join(str(v) for v in notice.values()) + "\n"
    return {}, Raw(text.encode(), "text/csv")


def _guarantee(w: World) -> Prepared:
    deposit = w.tender.deposit(method="guarantee")
    return {"deposit_id": str(deposit.pk)}, w.tender.guarantee(deposit)


def _submit(w: World) -> Prepared:
    section = w.tender.open_section()
    return {"section_id": section.public_id}, Raw(w.tender.sealed(section).data)


def _replace(w: World) -> Prepared:
    section = w.tender.open_section()
    bid, _ = w.tender.bid(section)
    return {"bid_id": bid.public_id}, Raw(w.tender.sealed(section).data)


def _receipt(w: World) -> Prepared:
    from ggzy.bidding.bids import receipt

    r = receipt(w.tender.bid()[0])
    return {}, {"body": r["body"], "signature": r["signature"]}


def _decrypting(body: Callable[[World, Any, str], Any] | None = None) -> Any:
    def build(w: World) -> Prepared:
        session, bid, key = w.tender.decrypting()
        values = {"section_id": session.section.public_id, "bid_id": bid.public_id}
        return values, body(w, session, key.hex()) if body else None

    return build


def _close(w: World) -> Prepared:
    session, _, _ = w.tender.decrypting()
    w.clock.set(session.window_ends_at)
    return {"section_id": session.section.public_id}, None


# Operations whose URL and body must name the same fresh object, in the right state: made once
# per test (``world.prepared``), before the snapshot.
PREPARED: dict[str, Callable[[World], Prepared]] = {
    f"POST {TENDERING}/projects": lambda w: (
        {},
        tender_world.project_body(w.tender.tenderer_entity.uscc),
    ),
    f"PUT {TENDERING}/projects/{{public_id}}": _project(
        "draft", lambda w: tender_world.project_body(name="改名后的工程")
    ),
    f"GET {TENDERING}/projects/{{public_id}}/timeline": _project("published"),
    f"GET {TENDERING}/projects/{{public_id}}/objections": _project("published"),
    f"GET {TENDERING}/projects/{{public_id}}/downloads": _downloads,
    f"GET {TENDERING}/sections/{{public_id}}": lambda w: (
        {"public_id": w.tender.open_section().public_id},
        None,
    ),
    f"POST {TENDERING}/projects/{{public_id}}/agency/confirm": _project("agency_pending"),
    f"POST {TENDERING}/projects/{{public_id}}/accept": _project("submitted"),
    f"POST {TENDERING}/projects/{{public_id}}/return": _project(
        "submitted", lambda w: {"reason": "投资项目代码有误"}
    ),
    f"POST {TENDERING}/projects/{{public_id}}/publish": _project("accepted", _publish_body),
    f"POST {TENDERING}/projects/{{public_id}}/documents": _project(
        "draft", lambda w: Raw("第一章 招标公告\n".encode(), "text/plain")
    ),
    f"DELETE {TENDERING}/documents/{{public_id}}": lambda w: (
        {"public_id": w.tender.document().public_id},
        None,
    ),
    f"GET {TENDERING}/documents/{{public_id}}": lambda w: (
        {"public_id": w.tender.document().public_id},
        None,
    ),
    f"POST {TENDERING}/projects/{{public_id}}/clarifications": _project(
        "published", lambda w: {"title": "澄清一", "body": "工期调整为300日历天"}
    ),
    f"POST {TENDERING}/projects/{{public_id}}/objections": _project(
        "published", lambda w: {"entity": w.entity.uscc, "text": "资格条件过高"}
    ),
    f"POST {TENDERING}/objections/{{public_id}}/reply": lambda w: (
        {"public_id": w.tender.objection().public_id},
        {"reply": "资格条件依法设定"},
    ),
    f"POST {FAIRNESS}/findings/{{finding_id}}/reason": lambda w: (
        {"finding_id": w.tender.finding().public_id},
        {"reason": "行业主管部门要求"},
    ),
    f"POST {BIDDING}/sections/{{section_id}}/deposits": lambda w: (
        {"section_id": w.tender.open_section().public_id},
        {"entity": w.entity.uscc, "method": "transfer"},
    ),
    f"GET {BIDDING}/sections/{{section_id}}/deposits": _closed_section,  # sealed until then
    f"POST {BIDDING}/bank-notices": _notice,
    f"POST {BIDDING}/bank-notices/import": _csv,
    f"POST {BIDDING}/deposits/{{deposit_id}}/guarantee": _guarantee,
    f"POST {BIDDING}/deposits/{{deposit_id}}/refunded": lambda w: (
        {"deposit_id": str(w.tender.refund_due().pk)},
        {"reference": "REFUND-0001"},
    ),
    f"POST {BIDDING}/sections/{{section_id}}/bids": _submit,
    f"POST {BIDDING}/bids/{{bid_id}}/replace": _replace,
    f"POST {BIDDING}/receipts/verify": _receipt,
    f"GET {BIDDING}/sections/{{section_id}}/opening": _decrypting(),
    f"POST {BIDDING}/sections/{{section_id}}/opening": lambda w: (
        {"section_id": w.tender.due_for_opening()[0].public_id},
        None,
    ),
    f"POST {BIDDING}/sections/{{section_id}}/opening/close": _close,
    f"POST {BIDDING}/bids/{{bid_id}}/key": _decrypting(lambda w, s, key: {"content_key": key}),
    f"POST {BIDDING}/sections/{{section_id}}/opening/objections": _decrypting(
        lambda w, s, key: {"entity": w.entity.uscc, "text": "开标时间有误"}
    ),
    f"POST {BIDDING}/opening-objections/{{objection_id}}/answer": lambda w: (
        {"objection_id": str(w.tender.opening_objection().pk)},
        {"answer": "开标时间符合招标文件"},
    ),
}


EXPERTS = "/api/v1/experts"


def _expert(state: str, body: Any = None) -> Any:
    def build(w: World) -> Prepared:
        return {"expert_id": getattr(expert_world.for_world(w), state)().public_id}, body

    return build


def _expert_period(w: World) -> Prepared:
    period = expert_world.for_world(w).period()
    return {"expert_id": period.expert.public_id, "period_id": str(period.pk)}, None


def _expert_conflict(w: World) -> Prepared:
    conflict = expert_world.for_world(w).conflict()
    return {"expert_id": conflict.expert.public_id, "conflict_id": str(conflict.pk)}, None


PREPARED |= {
    f"POST {EXPERTS}/{{expert_id}}/account": lambda w: (
        {"expert_id": expert_world.for_world(w).unlinked().public_id},
        {"username": expert_world.for_world(w).spare_account().username},
    ),
    f"GET {EXPERTS}/me": lambda w: (expert_world.for_world(w).pending(owner=w.omni) and {}, None),
    f"POST {EXPERTS}/import": lambda w: (
        {},
        Raw(expert_world.xlsx_file(expert_world.for_world(w)), XLSX_TYPE),
    ),
    f"POST {EXPERTS}/{{expert_id}}/approve": _expert("pending"),
    f"POST {EXPERTS}/{{expert_id}}/reject": _expert("pending", {"reason": "职称证书不清晰"}),
    f"POST {EXPERTS}/{{expert_id}}/reinstate": _expert("suspended", {"reason": "整改完成"}),
    f"DELETE {EXPERTS}/{{expert_id}}/unavailability/{{period_id}}": _expert_period,
    f"DELETE {EXPERTS}/{{expert_id}}/conflicts/{{conflict_id}}": _expert_conflict,
}


PREPARED |= draw_matrix.PREPARED  # the expert draw: tests/experts/draw_matrix.py
PREPARED |= eval_matrix.PREPARED  # evaluation: tests/evaluation/matrix.py
PREPARED |= rating_matrix.PREPARED  # expert ratings: tests/experts/rating_matrix.py
PREPARED |= award_matrix.PREPARED  # award: tests/award/matrix.py
PREPARED |= invitation_matrix.PREPARED  # invited tender: tests/tendering/invitation_matrix.py
PREPARED |= ingest_matrix.PREPARED  # external trading systems: tests/exchange/ingest_matrix.py
PREPARED |= supervision_matrix.PREPARED  # supervision: tests/supervision/matrix.py
PREPARED |= complaints_matrix.PREPARED  # complaints: tests/complaints/matrix.py


VENUES = "/api/v1/venues"


def _vw(w: World) -> Any:
    return venue_world.for_world(w)


def _venue_session(w: World) -> Prepared:
    main = _vw(w).main()
    return {"remote_session_id": main.session.public_id, "booking_id": main.booking.public_id}, None


def _venue_secondary(venue: str, body: Any = None) -> Any:
    def build(w: World) -> Prepared:
        sv = _vw(w).secondary(venue, 0)
        values = {"remote_session_id": sv.session.public_id, "booking_id": sv.booking.public_id}
        return values, (body(w) if callable(body) else body)

    return build


def _venue_booking_body(w: World) -> dict[str, Any]:
    vw = _vw(w)
    start, end = vw.evaluation_times(vw.main_section)
    return {"venue": vw.venues["NJ/E1"].pk, "section": vw.main_section.public_id,
            "purpose": "evaluation", "start": start.isoformat(), "end": end.isoformat()}  # fmt: skip


PREPARED |= {
    f"POST {VENUES}/rooms": lambda w: (
        {},
        _vw(w).sites
        and {
            "site": "NJ",
            "code": "E9",
            "name": "第九评标室",
            "kind": "evaluation_room",
            "capacity": 9,
        },
    ),
    f"POST {VENUES}/bookings": lambda w: ({}, _venue_booking_body(w)),
    f"POST {VENUES}/bookings/{{booking_id}}/experts": lambda w: (
        {"booking_id": _vw(w).main().booking.public_id},
        {"expert": _vw(w).expert(0).public_id},
    ),
    f"DELETE {VENUES}/bookings/{{booking_id}}/experts/{{expert_id}}": lambda w: (
        {"booking_id": _vw(w).assigned()[0].public_id, "expert_id": _vw(w).assigned()[1].public_id},
        None,
    ),
    f"POST {VENUES}/sessions": lambda w: (
        {},
        {"booking": _vw(w).free_evaluation().public_id, "witness": w.omni.username},
    ),
    f"POST {VENUES}/sessions/{{remote_session_id}}/venues": lambda w: (
        {"remote_session_id": _vw(w).session().public_id},
        {
            "booking": _vw(w).secondary_booking("SZ/E1").public_id,
            "witness": _vw(w).witnesses[0].username,
        },
    ),
    f"DELETE {VENUES}/sessions/{{remote_session_id}}/venues/{{booking_id}}": _venue_secondary(
        "SH/E1"
    ),
    f"PUT {VENUES}/sessions/{{remote_session_id}}/venues/{{booking_id}}/witness": _venue_secondary(
        "SZ/E1", lambda w: {"witness": _vw(w).witnesses[2].username}
    ),
    f"POST {VENUES}/sessions/{{remote_session_id}}/venues/{{booking_id}}/events": lambda w: (
        _venue_session(w)[0],
        {"kind": "incident", "note": "主场网络中断约2分钟"},
    ),
}


def _prepared(op: Operation, world: World) -> Prepared | None:
    if op.key not in PREPARED:
        return None
    if op.key not in world.prepared:
        world.prepared[op.key] = PREPARED[op.key](world)
    return world.prepared[op.key]  # type: ignore[no-any-return]


def _valid_body(op: Operation, world: World) -> Any:
    """A body ``op`` accepts from ``world.omni`` — so a refusal has one cause only. Building it
    may write (a challenge, the world's trust objects): call it before taking a snapshot."""
    if (prepared := _prepared(op, world)) is not None:
        return prepared[1]
    if op.key in _BUILT_BODIES:
        return _BUILT_BODIES[op.key](world)
    return _STATIC_BODIES.get(op.key)


# Operations that POST but only read (or, like a login, change only volatile columns).
READS_THAT_POST = {
    "POST /api/v1/auth/login",
    "POST /api/v1/auth/logout",
    "POST /api/v1/trust/certificates/verify",
    "POST /api/v1/trust/signatures/verify",
    "POST /api/v1/bidding/receipts/verify",
}


QUERY_VALUES: dict[str, dict[str, Any]] = {
    f"POST {TENDERING}/projects/{{public_id}}/documents": {
        "kind": "tender",
        "name": "招标文件.txt",
    },
    **disclosure_matrix.QUERY_VALUES,  # tests/disclosure/matrix.py
    **supervision_matrix.QUERY_VALUES,  # tests/supervision/matrix.py
    **complaints_matrix.QUERY_VALUES,  # tests/complaints/matrix.py
}


def _valid_query(op: Operation) -> dict[str, str]:
    if op.key in QUERY_VALUES:  # a value may be made when asked for (a callable)
        return {k: v() if callable(v) else v for k, v in QUERY_VALUES[op.key].items()}
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
    names = [p["name"] for p in op.params("path")]
    prepared = _prepared(op, world)
    given = {**(prepared[0] if prepared else {}), **replace}
    missing = [n for n in names if n not in given and n not in PATH_VALUES]
    assert not missing, f"give path parameter(s) {missing} of {op.key} a value in PATH_VALUES"
    return op.path.format(**{n: given[n] if n in given else PATH_VALUES[n](world) for n in names})


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


@dataclass(frozen=True)
class Call:
    """One operation as the plausible request would call it (URL and body made beforehand)."""

    op: Operation
    world: World
    url: str
    body: Any

    @property
    def fields(self) -> dict[str, Any]:
        return self.body if isinstance(self.body, dict) else {}


def case_malformed_json(http: ApiClient, c: Call) -> None:
    r = http.call(c.op.method, c.url, raw='{"name": ', token=c.world.omni_secret)
    assert_error(r, 400, "malformed_body")


def case_body_not_an_object(http: ApiClient, c: Call) -> None:
    r = http.call(c.op.method, c.url, body=[1, 2], token=c.world.omni_secret)
    body = assert_error(r, 422, "validation_error")
    assert _locs(body) == [["body", "payload"]]


def _accepts_an_object(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "object" or any(
        s.get("type") == "object" for s in schema.get("anyOf", [])
    )


def case_wrong_body_types(http: ApiClient, c: Call) -> None:
    properties = c.op.body_properties()
    wrong = {  # an object where none is expected, a list where an object is
        name: [1, 2] if _accepts_an_object(schema) else {"wrong": "type"}
        for name, schema in properties.items()
    }
    r = http.call(c.op.method, c.url, body=wrong, token=c.world.omni_secret)
    body = assert_error(r, 422, "validation_error")
    reported = {loc[2] for loc in _locs(body) if loc[:2] == ["body", "payload"] and len(loc) > 2}
    assert reported == set(properties)


def case_wrong_query_types(http: ApiClient, c: Call) -> None:
    typed = _typed_query_params(c.op)
    query = _valid_query(c.op) | {name: "¿wrong?" for name in typed}
    r = http.call(c.op.method, c.url, query=query, token=c.world.omni_secret)
    body = assert_error(r, 422, "validation_error")
    assert {loc[1] for loc in _locs(body)} == set(typed)


def case_unknown_field(http: ApiClient, c: Call) -> None:
    body = c.fields | {"unexpected_field": "x"}
    r = http.call(c.op.method, c.url, body=body, token=c.world.omni_secret)
    answer = assert_error(r, 422, "validation_error")
    assert {"loc": ["body", "payload", "unexpected_field"], "type": "extra_forbidden"} in [
        {"loc": e["loc"], "type": e["type"]} for e in answer["detail"]
    ]


def case_oversized_body(http: ApiClient, c: Call) -> None:
    if c.op.key in RAW_UPLOADS:  # a real upload, one byte over the configured maximum
        setting, spool_dir = RAW_UPLOADS[c.op.key]
        query = _valid_query(c.op)
        with override_settings(**{setting: len(c.body.data) - 1}):
            r = http.call(c.op.method, c.url, body=c.body, query=query, token=c.world.omni_secret)
        assert_error(r, 413, "payload_too_large")
        where = spool_dir(c.world)
        assert where is None or not any(where.glob("upload-*")), "the spooled upload is left"
        return
    raw = json.dumps({"padding": "x" * (MAX_BODY + MAX_BODY // 2)})
    r = http.call(c.op.method, c.url, raw=raw, token=c.world.omni_secret)
    assert_error(r, 413, "payload_too_large")


def case_nul_character(http: ApiClient, c: Call) -> None:
    if c.op.has_body:
        first = next(iter(c.op.body_properties()))
        body = c.fields | {first: "a\x00b"}
        r = http.call(c.op.method, c.url, body=body, token=c.world.omni_secret)
    else:
        query = _valid_query(c.op) | {c.op.params("query")[0]["name"]: "a\x00b"}
        r = http.call(c.op.method, c.url, query=query, token=c.world.omni_secret)
    assert_error(r, 422, "nul_character")


def case_unauthenticated(http: ApiClient, c: Call) -> None:
    r = http.call(c.op.method, c.url, body=c.body)
    assert_error(r, 401, "not_authenticated")


def case_garbage_bearer(http: ApiClient, c: Call) -> None:
    r = http.call(c.op.method, c.url, body=c.body, query=_valid_query(c.op), token=GARBAGE_TOKEN)
    assert_error(r, 401, "not_authenticated")


def case_bad_identifier(http: ApiClient, c: Call) -> None:
    for param in c.op.params("path"):
        for value, status, code in _bad_path_values(c.op, param["name"]):
            url = _url(c.op, c.world, **{param["name"]: value})
            r = http.call(
                c.op.method, url, body=c.body, query=_valid_query(c.op), token=c.world.omni_secret
            )
            assert_error(r, status, code)


def case_session_without_csrf_token(http: ApiClient, c: Call) -> None:
    browser = api_client(enforce_csrf_checks=True)
    browser.client.force_login(c.world.omni)
    r = browser.call(c.op.method, c.url, body=c.body)
    assert_error(r, 403, "csrf_failed")


def _applies(case: str, op: Operation) -> bool:
    body_cases = {"malformed_json", "body_not_an_object", "wrong_body_types", "unknown_field"}
    if case in body_cases:
        return op.has_body
    if case == "oversized_body":
        return op.has_body or op.key in RAW_UPLOADS
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
    by_key = {op.key: op for op in OPERATIONS}
    # an upload is walked by the size limit; if it ever gets a JSON body, revisit RAW_UPLOADS
    assert all(key in by_key and not by_key[key].has_body for key in RAW_UPLOADS)


BY_OPERATION = [
    pytest.param(op, [case for o, case in (p.values for p in MATRIX) if o is op], id=op.key)
    for op in OPERATIONS
]


@pytest.mark.parametrize(("op", "cases"), BY_OPERATION)
def test_bad_request_is_refused_in_the_error_shape_and_changes_nothing(
    http: ApiClient, world: World, op: Operation, cases: list[str]
) -> None:
    """Every bad-request case of one operation against one world: a refusal changes nothing, so
    the world stays as it was for the next case; every failing case is reported."""
    failures = []
    for case in cases:
        # given the world as it is, and the plausible request (made first: its body may hold a
        # fresh challenge, and a refused request must leave that challenge unused)
        call = Call(op, world, _url(op, world), _valid_body(op, world))
        before = db_state()
        try:
            # when the operation receives the bad request / then it answers 4xx in the error
            # shape, and nothing was written: no row, no ledger event
            CASES[case](http, call)
            assert db_state() == before, "something was written"
        except AssertionError as exc:
            failures.append(f"{case}: {exc}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("op", [pytest.param(op, id=op.key) for op in OPERATIONS])
def test_the_plausible_request_is_accepted(http: ApiClient, world: World, op: Operation) -> None:
    """The control: the same URLs and bodies succeed, so the refusals above are not vacuous."""
    url, body = _url(op, world), _valid_body(op, world)
    before = db_state()
    r = http.call(op.method, url, body=body, query=_valid_query(op), token=world.omni_secret)
    assert 200 <= r.status_code < 300, (r.status_code, r.content[:500])
    if op.method != "GET" and op.key not in READS_THAT_POST:
        assert db_state() != before, "a write that changed nothing"


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
    allowed = {m.upper() for m in SCHEMA["paths"][path]}
    op = Operation(method, path, {"parameters": _all_path_params(path)})
    url = _url(op, world)  # may make the world's trust objects: before the snapshot
    before = db_state()
    r = http.call(method, url, body={}, token=world.omni_secret)
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
        ("DELETE", "/api/v1/trust/bindings/99999999999999999999999", 404, "binding_not_found"),
        ("GET", "/api/v1/trust/signatures/99999999999999999999999", 404, "signature_not_found"),
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


ENVELOPES = "/api/v1/trust/envelopes"


def _files(directory: Any) -> list[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*"))


@pytest.mark.parametrize(
    ("upload", "content_type", "status", "code"),
    [
        ("pdf", "application/zip", 422, "not_zip"),
        ("truncated", "application/zip", 422, "truncated"),
        ("sealed", "application/json", 415, "unsupported_media_type"),
        ("sealed", "text/plain", 415, "unsupported_media_type"),  # a cross-site form's type
        ("duplicate", "application/zip", 409, "envelope_duplicate"),
    ],
)
def test_a_bad_envelope_upload_is_refused_and_changes_nothing(
    http: ApiClient, world: World, upload: str, content_type: str, status: int, code: str
) -> None:
    # given a sealed envelope, and one already received
    sealed, _ = tw.seal(world.trust)
    raw = {
        "pdf": b"%PDF-1.7 a bid that was never sealed",
        "truncated": sealed[: len(sealed) // 2],
        "sealed": sealed,
        "duplicate": world.envelope.data,
    }[upload]
    before, files = db_state(), _files(world.envelope_dir)
    # when it is uploaded
    r = http.call("POST", ENVELOPES, body=Raw(raw, content_type), token=world.omni_secret)
    # then it is refused with its reason; no row, no event, no file kept
    assert_error(r, status, code)
    assert db_state() == before
    assert _files(world.envelope_dir) == files


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
