"""The disclosure rows of the API error matrix (tests/api/test_errors.py): a disclosed record
of the error world (the projector's, or one made for the matrix when the world has none)."""

from __future__ import annotations

from typing import Any

from ggzy.core import clock
from ggzy.disclosure import projector
from ggzy.disclosure.models import ProjectorState, PublicRecord


def some_record() -> PublicRecord:
    projector.catch_up()
    row = PublicRecord.objects.exclude(project_code="").order_by("seq").first()
    if row is None:
        state, _ = ProjectorState.objects.get_or_create(pk=1)
        state.record_seq += 1
        state.save()
        now = clock.now()
        row = PublicRecord.objects.create(
            key="announcement:matrix", seq=state.record_seq, kind="announcement",
            project_code="MATRIX-001", title="矩阵测试项目", published_at=now, changed_at=now,
        )  # fmt: skip
    return row


PATH_VALUES: dict[str, Any] = {"project_code": lambda w: some_record().project_code}
BAD_PATH_VALUES: dict[str, list[tuple[str, int, str]]] = {
    "project_code": [("NO-SUCH-PROJECT", 404, "project_not_found"), ("x" * 200, 404,
                     "project_not_found")],
}  # fmt: skip
QUERY_VALUES: dict[str, dict[str, Any]] = {
    "GET /api/v1/disclosure/record": {"key": lambda: some_record().key},
    "GET /api/v1/search": {"q": "招标"},
}
