"""Issue 6's "done when": a member of the public finds the demo's tender by a Chinese phrase from
its tender documents and follows its whole disclosed timeline — through the pages, signed in as
no one."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

from ggzy.bidding.demo import DONE_NAME, OPEN_NAME
from ggzy.tendering.models import Project

pytestmark = pytest.mark.django_db


def test_a_visitor_finds_the_demo_tender_by_a_phrase_of_its_documents_and_follows_it(
    tmp_path: Path, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.GGZY_ENVELOPE_DIR = tmp_path / "envelopes"
    settings.VAR_DIR = tmp_path
    call_command("demo", stdout=io.StringIO())
    done = Project.objects.get(name=DONE_NAME)
    code = done.trading_code or done.public_id
    visitor = Client()
    # a phrase of the tender documents only (not of the title): "施工组织设计" and "企业信誉"
    page = visitor.get("/search/", {"q": "施工组织设计 企业信誉"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "<mark>" in html  # the words are highlighted
    plain = re.sub(r"</?mark>", "", html)
    assert DONE_NAME in plain and OPEN_NAME in plain  # both demo tenders carry the document
    # the result links to the project's timeline
    links = set(re.findall(r'href="(/disclosure/projects/[^"/]+/)"', html))
    assert f"/disclosure/projects/{code}/" in links
    timeline = visitor.get(f"/disclosure/projects/{code}/")
    assert timeline.status_code == 200
    text = timeline.content.decode()
    kinds = re.findall(r'<li id="([a-z_]+)-\d+">', text)
    # the whole life, in order: announcement first, the contract last
    assert kinds[0] == "announcement" and kinds[-1] == "contract", kinds
    for kind in ("opening", "candidates", "award"):
        assert kind in kinds, kinds
    assert kinds.index("opening") < kinds.index("candidates") < kinds.index("award")
    # nothing of the evaluation is disclosed: no expert, no score sheet
    assert "pingwei" not in text and "评分明细" not in text
