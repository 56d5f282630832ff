"""The complaint rows of the API-wide matrices (tests/api/test_errors.py and
tests/api/test_permissions.py): a complaint of the world's entity on a published section, in the
status each call needs, made fresh for each call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings

from ggzy.complaints import services
from ggzy.complaints.models import Complaint
from ggzy.core import clock
from ggzy.tendering.models import Section
from ggzy.tendering.states import ProjectStatus

CMP = "/api/v1/complaints"
TEXT = "招标文件设置不合理的资格条件"


def _section(tender: Any) -> Section:
    found = Section.objects.filter(project__status=ProjectStatus.PUBLISHED).order_by("pk").first()
    return found or tender.open_section()


def complaint(tender: Any, regulator: Any, status: str = "filed") -> Complaint:
    """A fresh complaint by the tender world's bidder, moved on to ``status`` by ``regulator``."""
    c = services.file_complaint(actor=tender.bidder.user, section=_section(tender),
                                entity=tender.bidder.entity, matter="documents", text=TEXT,
                                known_on=clock.today())  # fmt: skip
    if status in ("accepted", "paused"):
        c = services.accept(actor=regulator, complaint=c)
    if status == "paused":
        c = services.pause(actor=regulator, complaint=c, kind="testing", reason="送检")
    return c


def file_body(tender: Any) -> dict[str, Any]:
    return {"section": _section(tender).public_id, "entity": tender.bidder.entity.uscc,
            "matter": "documents", "text": TEXT, "known_on": clock.today().isoformat()}  # fmt: skip


# --- tests/api/test_errors.py ------------------------------------------------------------------

PATH_VALUES: dict[str, Any] = {
    "complaint_id": lambda w: complaint(w.tender, w.omni).public_id,
}
BAD_PATH_VALUES: dict[str, list[tuple[str, int, str]]] = {
    "complaint_id": [
        ("nope", 404, "complaint_not_found"),
        ("x" * 200, 404, "complaint_not_found"),
    ],
}


def _on(status: str, body: Any = None) -> Any:
    return lambda w: ({"complaint_id": complaint(w.tender, w.omni, status).public_id}, body)


def _upload(w: Any) -> Any:
    from tests.api.support import Raw

    return {"complaint_id": complaint(w.tender, w.omni).public_id}, Raw(b"evidence", "text/plain")


PREPARED: dict[str, Any] = {
    f"POST {CMP}/cases": lambda w: ({}, file_body(w.tender)),
    f"POST {CMP}/cases/{{complaint_id}}/accept": _on("filed"),
    f"POST {CMP}/cases/{{complaint_id}}/refuse": _on("filed", {"reason": "不属于本部门管辖"}),
    f"POST {CMP}/cases/{{complaint_id}}/transfer": _on(
        "filed", {"department": "市住建局", "reason": "属住建部门管辖"}
    ),
    f"POST {CMP}/cases/{{complaint_id}}/pause": _on(
        "accepted", {"kind": "expert_review", "reason": "组织专家评审"}
    ),
    f"POST {CMP}/cases/{{complaint_id}}/resume": _on("paused"),
    f"POST {CMP}/cases/{{complaint_id}}/decide": _on(
        "accepted", {"outcome": "dismissed", "text": "投诉事项缺乏事实依据"}
    ),
    f"POST {CMP}/cases/{{complaint_id}}/evidence": _upload,
}
QUERY_VALUES: dict[str, dict[str, Any]] = {
    f"POST {CMP}/cases/{{complaint_id}}/evidence": {"name": "证据.txt"},
}
RAW_UPLOADS: dict[str, tuple[str, Any]] = {
    f"POST {CMP}/cases/{{complaint_id}}/evidence": (
        "GGZY_COMPLAINT_EVIDENCE_MAX_BYTES",
        lambda w: Path(settings.GGZY_COMPLAINTS_DIR),
    ),
}


# --- tests/api/test_permissions.py --------------------------------------------------------------

REGULATOR = frozenset({"regulator"})
VIEW = frozenset({"regulator", "inspector", "auditor"})


def permission_rules(
    rule: Any, *, members: frozenset[str], signed_in: frozenset[str]
) -> dict[str, Any]:
    """``rule`` is the matrix's ``WriteRule``. The entity's members file and add evidence; the
    regulator handles; inspectors and auditors (who read every case) and the members (who read
    their own) are refused with 403; to everyone else signed in a case does not exist (404)."""
    hidden = signed_in - VIEW - members

    def on_case(suffix: str, status: str, body: Any = None) -> Any:
        def request(c: Any, actor: str) -> tuple[str, Any]:
            row = complaint(c.tender, c.users["regulator"], status)
            return f"{CMP}/cases/{row.public_id}{suffix}", body() if callable(body) else body

        return request

    def handle(suffix: str, status: str, event: str, body: Any = None) -> Any:
        return rule(REGULATOR, 200, (event,), on_case(suffix, status, body), hidden=hidden,
                    not_found="complaint_not_found")  # fmt: skip

    def raw() -> Any:
        from tests.api.support import Raw

        return Raw(b"evidence", "text/plain")

    return {
        f"POST {CMP}/cases": rule(
            members, 201, ("complaints.filed",),
            lambda c, a: (f"{CMP}/cases", file_body(c.tender))),
        f"POST {CMP}/cases/{{complaint_id}}/accept": handle(
            "/accept", "filed", "complaints.accepted"),
        f"POST {CMP}/cases/{{complaint_id}}/refuse": handle(
            "/refuse", "filed", "complaints.refused", {"reason": "不属于本部门管辖"}),
        f"POST {CMP}/cases/{{complaint_id}}/transfer": handle(
            "/transfer", "filed", "complaints.transferred",
            {"department": "市住建局", "reason": "属住建部门管辖"}),
        f"POST {CMP}/cases/{{complaint_id}}/pause": handle(
            "/pause", "accepted", "complaints.paused", {"kind": "testing", "reason": "送检"}),
        f"POST {CMP}/cases/{{complaint_id}}/resume": handle(
            "/resume", "paused", "complaints.resumed"),
        f"POST {CMP}/cases/{{complaint_id}}/decide": handle(
            "/decide", "accepted", "complaints.decided", {"outcome": "upheld", "text": "成立"}),
        f"POST {CMP}/cases/{{complaint_id}}/evidence": rule(
            REGULATOR | members, 201, ("complaints.evidence_added",),
            on_case("/evidence?name=x.txt", "filed", raw), hidden=hidden,
            not_found="complaint_not_found"),
    }  # fmt: skip
