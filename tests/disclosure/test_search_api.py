"""The search through its interfaces: ``GET /api/v1/search`` (anonymous), the page ``/search/``
and the ``ggzy disclosure`` command."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from ggzy.disclosure.models import SearchEntry
from tests.disclosure.test_search import FILLER, make_filler, make_world, record

API = "/api/v1/search"


@pytest.fixture
def filler(db: Any) -> None:
    make_filler()


@pytest.fixture
def world(db: Any) -> None:
    make_world()


def get(**params: Any) -> Any:
    return Client().get(API, params)


# --- API ----------------------------------------------------------------------------------------


def test_anonymous_search_returns_ranked_highlighted_hits(world: None) -> None:
    res = get(q="玄武区 施工", category="works")
    assert res.status_code == 200
    body = res.json()
    assert body["terms"] == ["玄武", "玄武区", "施工"]
    assert body["total"] == 2 and body["total_exact"] is True and body["relaxed"] is False
    assert body["filters"] == {"category": "works"}
    assert {h["key"] for h in body["hits"]} == {"works-nj", "award-nj"}
    hit = next(h for h in body["hits"] if h["key"] == "works-nj")
    assert hit["title"] == "玄武区桥梁施工招标公告"
    assert hit["title_html"] == "<mark>玄武区</mark>桥梁<mark>施工</mark>招标公告"
    assert hit["snippet_html"] == "桥梁加固<mark>施工</mark>"
    assert hit["region"] == "320102" and hit["kind"] == "announcement"
    assert hit["published_at"].startswith("2026-10-23")


def test_the_api_pages_and_escapes(filler: None) -> None:
    record("x", "<script>alert(1)</script>施工", "施工")
    record("y", "施工施工", "施工")
    first = get(q="施工", limit="1").json()
    assert [h["key"] for h in first["hits"]] == ["y"] and first["total"] == 2
    second = get(q="施工", limit="1", offset="1").json()
    assert (
        second["hits"][0]["title_html"] == "&lt;script&gt;alert(1)&lt;/script&gt;<mark>施工</mark>"
    )


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"q": "施工", "colour": "red"}, 400, "unknown_filter"),
        ({"q": "施工", "page": "2"}, 400, "unknown_filter"),
        ({}, 422, "query_empty"),
        ({"q": "!!! ???"}, 422, "query_empty"),
        ({"q": "施" * 101}, 422, "query_too_long"),
        ({"q": "施工", "kind": "tender"}, 422, "bad_filter"),
        ({"q": "施工", "date_from": "2026-02-30"}, 422, "bad_date"),
        ({"q": "施工", "date_from": "2026-11-05", "date_to": "2026-11-01"}, 422, "bad_date"),
        ({"q": "施工", "limit": "101"}, 422, "bad_page"),
        ({"q": "施工", "limit": "x"}, 422, "bad_page"),
        ({"q": "施工", "offset": "10001"}, 422, "bad_page"),
        ({"q": "施工\x00"}, 422, "nul_character"),
    ],
)
def test_refusals_have_their_own_4xx(filler: None, params: dict[str, str], status: int,
                                     code: str) -> None:  # fmt: skip
    res = get(**params)
    assert res.status_code == status, res.content
    body = res.json()
    assert body["code"] == code and set(body) == {"code", "message", "detail"}


@pytest.mark.parametrize("q", ['" OR 1=1 --', "NEAR(施工", "施工:*", "'; DROP TABLE x; --", "^*"])
def test_hostile_queries_are_never_a_500(world: None, q: str) -> None:
    assert get(q=q).status_code in (200, 422)


def test_a_bad_token_is_refused_even_on_a_public_read(filler: None) -> None:
    res = Client().get(API, {"q": "施工"}, HTTP_AUTHORIZATION="Bearer ggzy_nope")
    assert res.status_code == 401 and res.json()["code"] == "not_authenticated"


# --- page ---------------------------------------------------------------------------------------


def test_the_page_shows_filters_highlights_and_pages(filler: None) -> None:
    for i in range(25):
        record(f"p{i:02d}", f"道路施工公告{i:02d}", "施工 <b>粗体</b>")
    page = Client().get("/search/", {"q": "施工", "kind": "announcement"})
    assert page.status_code == 200
    html = page.content.decode()
    assert '<input type="search" name="q" value="施工"' in html
    assert '<option value="announcement" selected>招标公告</option>' in html
    assert "共 25 条结果" in html
    assert "道路<mark>施工</mark>公告" in html
    assert "&lt;b&gt;粗体&lt;/b&gt;" in html and "<b>粗体" not in html
    assert html.count('class="panel search-hit"') == 20
    assert 'href="?q=%E6%96%BD%E5%B7%A5&amp;kind=announcement&amp;page=2" rel="next"' in html
    second = Client().get("/search/", {"q": "施工", "kind": "announcement", "page": "2"})
    assert second.content.decode().count('class="panel search-hit"') == 5
    assert 'rel="prev"' in second.content.decode()


def test_the_page_without_a_query_and_with_a_refused_one(filler: None) -> None:
    blank = Client().get("/search/")
    assert blank.status_code == 200 and "search-hit" not in blank.content.decode()
    bad = Client().get("/search/", {"q": "施工", "date_from": "not-a-date"})
    assert bad.status_code == 400 and "日期应为 YYYY-MM-DD" in bad.content.decode()
    empty = Client().get("/search/", {"q": "***"})
    assert empty.status_code == 400 and "请输入检索词" in empty.content.decode()
    none = Client().get("/search/", {"q": "隧道"})
    assert none.status_code == 200 and "没有符合条件的记录" in none.content.decode()


# --- CLI ----------------------------------------------------------------------------------------


def test_the_command_reindexes_and_searches(filler: None) -> None:
    record("cli", "朝阳区道路施工招标公告", index=False)
    out = StringIO()
    call_command("disclosure", "reindex", "--batch", "4", stdout=out)
    assert (
        out.getvalue().strip()
        == f"已重建索引 {len(FILLER) + 1} 条 (indexed {len(FILLER) + 1} records)"
    )
    assert SearchEntry.objects.count() == len(FILLER) + 1
    out = StringIO()
    call_command("disclosure", "search", "道路 施工", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "1 条 (hits) · 词语 (terms): 道路 施工"
    assert lines[1].endswith("2026-11-02  announcement    cli  朝阳区道路施工招标公告")
    with pytest.raises(CommandError, match=r"\[query_too_long\]"):
        call_command("disclosure", "search", "施" * 101, stdout=StringIO())
    with pytest.raises(CommandError, match=r"\[bad_date\]"):
        call_command("disclosure", "search", "施工", "--date-from", "x", stdout=StringIO())
