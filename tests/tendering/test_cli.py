"""``ggzy project``: list, show, accept, return, publish — through the services, errors one line."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command

from ggzy.core import clock
from ggzy.tendering import services
from ggzy.tendering.models import Project
from tests.bidding import world as w


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("project", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def submitted(world):  # type: ignore[no-untyped-def]
    project = services.register_project(
        actor=world.tenderer, tenderer=world.tenderer_entity, terms=w.project_terms()
    )
    services.submit_project(actor=world.tenderer, project=project)
    return project


def test_queue_accept_show_publish(world, submitted, tmp_path):
    assert submitted.public_id in run("list", "--queue")
    assert "trading code" in run("accept", submitted.public_id, "--as", "intake_staff")
    shown = json.loads(run("show", submitted.public_id))
    assert shown["status"] == "accepted" and shown["sections"][0]["code"]
    services.upload_document(actor=world.tenderer, project=submitted, kind="tender",
                             name="a.txt", stream=io.BytesIO(b"doc"))  # fmt: skip
    notice = tmp_path / "notice.txt"
    notice.write_text("招标公告", encoding="utf-8")
    now = clock.now()
    out = run("publish", submitted.public_id, "--announcement-file", str(notice),
              "--deadline", (now + timedelta(days=21)).isoformat(),
              "--sale-until", (now + timedelta(days=6)).isoformat(), "--as", "tenderer_admin")  # fmt: skip
    assert "published" in out
    assert submitted.public_id in run("list")


def test_return_and_refusals_are_one_line(world, submitted):
    with pytest.raises(CommandError, match=r"^\[forbidden\]"):
        run("accept", submitted.public_id, "--as", "tenderer_admin")
    with pytest.raises(CommandError, match=r"^\[user_not_found\]"):
        run("accept", submitted.public_id, "--as", "nobody")
    with pytest.raises(CommandError, match=r"^\[project_not_found\]"):
        run("show", "nope")
    assert "returned" in run(
        "return", submitted.public_id, "--reason", "缺材料", "--as", "intake_staff"
    )
    assert Project.objects.get().return_reason == "缺材料"
    with pytest.raises(CommandError, match=r"^\[bad_project_state\]"):
        run("accept", submitted.public_id, "--as", "intake_staff")
