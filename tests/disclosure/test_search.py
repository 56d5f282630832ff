"""Full-text search (ggzy.disclosure.search): segmentation, indexing, ranking, filters,
highlighting, refusals and hostile input — on whichever database the suite runs (SQLite FTS5 or
PostgreSQL tsvector); every expectation is worked out by hand from the records below."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ggzy.core.errors import ValidationFailed
from ggzy.disclosure import search, search_segment
from ggzy.disclosure.models import PublicRecord, SearchEntry

T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # 10:00 in Beijing, 2026-11-02
_seq = iter(range(1, 1_000_000))

# unrelated records, so that no word of the tests is in most records (bm25's idf stays positive)
FILLER = ["市政绿化养护服务", "办公家具采购", "医疗设备维修", "污水处理厂运营", "图书馆数字化",
          "农田水利灌溉", "食堂餐饮服务", "档案整理外包", "车辆租赁服务", "电梯维护保养"]  # fmt: skip


def record(
    key: str, title: str, body: str = "", *, index: bool = True, **fields: Any
) -> PublicRecord:
    fields.setdefault("kind", "announcement")
    fields.setdefault("published_at", T0)
    fields.setdefault("changed_at", fields["published_at"])
    r = PublicRecord.objects.create(key=key, seq=next(_seq), title=title, body=body, **fields)
    if index:
        assert search.index_record(r)
    return r


def keys(page: search.SearchPage) -> list[str]:
    return [h.record.key for h in page.hits]


def refused(code: str, q: str = "施工", **kw: Any) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as info:
        search.search(q, **kw)
    assert info.value.code == code, info.value.as_dict()
    return info.value


def make_filler() -> None:
    for i, title in enumerate(FILLER):
        record(f"filler-{i}", title, "本项目面向社会公开")


def make_world() -> None:
    """Records of every kind, region and date the filter tests read."""
    make_filler()
    record(
        "works-bj",
        "朝阳区道路施工招标公告",
        "道路改造工程施工总承包",
        category="works",
        region="110105",
        procedure="open_tender",
        status="published",
    )
    record(
        "works-nj",
        "玄武区桥梁施工招标公告",
        "桥梁加固施工",
        category="works",
        region="320102",
        procedure="open_tender",
        status="published",
        published_at=T0 - timedelta(days=10),
    )
    record(
        "gp-nj",
        "玄武区办公设备政府采购公告",
        "采购台式计算机",
        kind="announcement",
        category="procurement",
        region="320102",
        procedure="inquiry",
        status="published",
    )
    record(
        "award-nj",
        "玄武区桥梁施工中标结果",
        "中标人为某建设公司",
        kind="award",
        category="works",
        region="320102",
        procedure="open_tender",
        status="awarded",
        published_at=T0 + timedelta(days=5),
    )
    record("ext-sh", "浦东新区道路施工招标公告", "外部系统项目", kind="external",
           category="works", region="310115", procedure="open_tender", status="published",
           source="sh-ggzy")  # fmt: skip


@pytest.fixture
def filler(db: Any) -> None:
    make_filler()


@pytest.fixture
def world(db: Any) -> None:
    make_world()


# --- segmentation -------------------------------------------------------------------------------


def test_segmentation_keeps_words_and_drops_every_symbol() -> None:
    assert search_segment.tokens("政府采购项目") == ["政府", "采购", "政府采购", "项目"]
    assert search_segment.tokens('"招标" OR (标段*) ＡＢＣ１２３;--') == [
        "招标", "or", "标段", "abc123"]  # fmt: skip
    # a facet-looking word typed by a user is not a query term: it could only ever hit facets
    assert search_segment.query_terms("ggzyfr313130 施工 施工") == ["施工"]


# --- indexing -----------------------------------------------------------------------------------


def test_index_is_an_idempotent_upsert_and_remove_drops_the_entry(filler: None) -> None:
    r = record("a", "朝阳区道路施工招标公告", index=False)
    assert search.index_record(r) is True
    assert search.index_record(r) is False  # same seq: nothing written
    assert keys(search.search("道路")) == ["a"]

    # the record changes (a new seq): the old words leave the index, the new ones enter
    r.title, r.seq = "海淀区学校改造工程", next(_seq)
    r.save()
    assert search.index_record(r) is True
    assert keys(search.search("道路")) == []
    assert keys(search.search("学校 改造")) == ["a"]
    assert SearchEntry.objects.filter(record=r).count() == 1

    assert search.remove("a") is True
    assert search.remove("a") is False
    assert keys(search.search("学校")) == []


def test_reindex_rebuilds_from_the_records_and_drops_entries_of_removed_ones(filler: None) -> None:
    kept = record("kept", "朝阳区道路施工", index=False)
    gone = record("gone", "朝阳区桥梁施工")
    SearchEntry.objects.filter(record=gone).update(title_tokens="")  # a stale entry
    PublicRecord.objects.filter(key="gone").update(title="朝阳区隧道施工")
    assert search.reindex(batch_size=3) == len(FILLER) + 2
    assert SearchEntry.objects.count() == len(FILLER) + 2
    assert keys(search.search("道路")) == ["kept"]
    assert keys(search.search("隧道")) == ["gone"]
    kept.delete()  # the entry goes with its record
    assert SearchEntry.objects.count() == len(FILLER) + 1
    assert keys(search.search("道路")) == []


# --- ranking ------------------------------------------------------------------------------------


def test_every_word_must_match_and_title_words_outrank_body_words(filler: None) -> None:
    record("both-title", "道路施工监理服务", "详见招标文件")
    record("both-body", "服务采购公告", "道路施工阶段的监理")
    record("one", "道路施工", "详见招标文件")
    page = search.search("施工 监理")
    assert page.terms == ["施工", "监理"]
    assert keys(page) == ["both-title", "both-body"]  # "one" lacks 监理
    assert page.total == 2 and page.total_exact and not page.relaxed
    assert page.hits[0].score > page.hits[1].score > 0


def test_when_no_record_holds_every_word_the_ones_holding_more_rank_first(filler: None) -> None:
    record("two", "道路施工监理", "详见公告")
    record("one", "道路绿化", "详见公告")
    page = search.search("施工 监理 隧道")  # no record has 隧道
    assert page.relaxed
    assert keys(page) == ["two"]
    page = search.search("道路 监理 隧道")
    assert page.relaxed and keys(page) == ["two", "one"]
    assert page.hits[0].score > page.hits[1].score


def test_pages_of_a_ranked_result(filler: None) -> None:
    for i in range(5):  # more occurrences, shorter title: better rank
        record(f"r{i}", "施工" * (5 - i) + "公告" * i)
    page = search.search("施工", limit=2, offset=0)
    assert keys(page) == ["r0", "r1"] and page.total == 5 and page.has_next
    assert keys(search.search("施工", limit=2, offset=2)) == ["r2", "r3"]
    last = search.search("施工", limit=2, offset=4)
    assert keys(last) == ["r4"] and last.total == 5 and not last.has_next
    assert keys(search.search("施工", limit=2, offset=6)) == []


def test_total_stops_counting_past_the_cap(db: Any) -> None:
    rows = [PublicRecord(key=f"k{i}", seq=next(_seq), kind="announcement", title=f"施工 {i}",
                         published_at=T0, changed_at=T0) for i in range(search.COUNT_CAP + 1)]  # fmt: skip
    search.index_records(PublicRecord.objects.bulk_create(rows))
    page = search.search("施工")
    assert page.total == search.COUNT_CAP and page.total_exact is False and len(page.hits) == 20
    # past the cap the pages go on, to the last one
    page = search.search("施工", limit=100, offset=900)
    assert len(page.hits) == 100 and page.has_next and not page.total_exact
    page = search.search("施工", limit=100, offset=1000)
    assert len(page.hits) == 1 and not page.has_next
    assert search.search("施工 1000").total == 1  # "1000" is a token of one title only


# --- filters ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, {"works-bj", "works-nj", "award-nj", "ext-sh"}),
        ({"kind": "award"}, {"award-nj"}),
        ({"category": "works", "region": "320102"}, {"works-nj", "award-nj"}),
        ({"region": "110105"}, {"works-bj"}),
        ({"procedure": "inquiry"}, set()),
        ({"status": "awarded"}, {"award-nj"}),
        ({"source": "sh-ggzy"}, {"ext-sh"}),
        ({"kind": "", "region": None}, {"works-bj", "works-nj", "award-nj", "ext-sh"}),
        ({"date_from": "2026-11-02"}, {"works-bj", "award-nj", "ext-sh"}),
        ({"date_to": "2026-11-01"}, {"works-nj"}),
        ({"date_from": "2026-11-07", "date_to": "2026-11-07"}, {"award-nj"}),
        ({"date_from": "2026-11-08"}, set()),
    ],
)
def test_filters(world: None, filters: dict[str, Any], expected: set[str]) -> None:
    page = search.search("施工", **filters)
    assert set(keys(page)) == expected
    assert page.total == len(expected)


def test_a_day_is_the_platform_day(filler: None) -> None:
    # 2026-11-02 16:30 UTC is 2026-11-03 00:30 in Beijing
    record("late", "施工公告", published_at=datetime(2026, 11, 2, 16, 30, tzinfo=UTC))
    assert keys(search.search("施工", date_from="2026-11-03", date_to="2026-11-03")) == ["late"]
    assert keys(search.search("施工", date_to="2026-11-02")) == []


# --- highlighting -------------------------------------------------------------------------------


def test_title_and_snippet_are_escaped_with_only_marks_added(filler: None) -> None:
    record("x", "<script>alert(1)</script>道路施工", 'body <img src=x onerror="y"> 施工 & 监理')
    hit = search.search("施工").hits[0]
    assert hit.title_html == "&lt;script&gt;alert(1)&lt;/script&gt;道路<mark>施工</mark>"
    assert hit.snippet_html == (
        "body &lt;img src=x onerror=&quot;y&quot;&gt; <mark>施工</mark> &amp; 监理"
    )
    hit = search.search("script").hits[0]
    assert hit.title_html == (
        "&lt;<mark>script</mark>&gt;alert(1)&lt;/<mark>script</mark>&gt;道路施工"
    )


def test_the_snippet_is_a_window_around_the_first_match(filler: None) -> None:
    body = "前言" * 100 + "道路施工" + "结尾" * 100
    record("long", "公告", body)
    snippet = search.search("施工").hits[0].snippet_html
    # a quarter of the width before the match, the rest after; ellipses on both sides
    window = body[202 - 30 : 202 - 30 + search.SNIPPET_CHARS]
    assert snippet == "…" + window.replace("施工", "<mark>施工</mark>") + "…"


def test_documents_text_is_searched_but_not_shown(filler: None) -> None:
    record("doc", "办公楼维修公告", "详见附件", search_text="屋面防水卷材铺设")
    hit = search.search("防水").hits[0]
    assert hit.record.key == "doc" and hit.snippet_html == "详见附件"


# --- refusals -----------------------------------------------------------------------------------


def test_every_refusal_has_its_code(filler: None) -> None:
    assert refused("query_empty", "").detail is None
    refused("query_empty", "   ")
    refused("query_empty", "\"*^:() ;-- ' ！？")
    assert refused("query_too_long", "施" * 101).detail == {"max": 100, "length": 101}
    search.search("施" * 100)  # the limit itself is allowed
    refused("bad_filter", kind="tender")
    refused("bad_filter", region="1" * 65)
    refused("bad_date", date_from="2026-13-01")
    refused("bad_date", date_to="yesterday")
    refused("bad_date", date_from="2026-11-05", date_to="2026-11-04")
    refused("bad_page", limit=0)
    refused("bad_page", limit=101)
    refused("bad_page", offset=-1)
    refused("bad_page", offset=10_001)
    with pytest.raises(search.UnknownFilter) as info:
        search.parse_params({"q": "施工", "colour": "red"})
    assert info.value.code == "unknown_filter" and info.value.status == 400
    assert info.value.detail["unknown"] == ["colour"]
    with pytest.raises(ValidationFailed) as bad:
        search.parse_params({"q": "施工", "limit": "ten"})
    assert bad.value.code == "bad_page"


HOSTILE = ['"', '""', '"施工', "施工*", "*", "^施工", "title:施工", "施工 NEAR 监理", "NEAR(施工 监理)",
           "施工 AND", "OR 施工", "NOT", "(施工", "施工)", "'; DROP TABLE disclosure_publicrecord; --",
           "施工' OR '1'='1", "%施工%", "_", "\\", "施工\x00监理", "施工 & 监理 | !道路", "施工:*",
           "{title}: 施工", "-施工", "+施工", "施工 - 监理", "\ud800施工", "\u200b施工\ufeff"]  # fmt: skip


@pytest.mark.parametrize("q", HOSTILE)
def test_syntax_characters_are_never_syntax(world: None, q: str) -> None:
    try:
        page = search.search(q)
    except ValidationFailed as exc:
        assert exc.code == "query_empty"
        return
    # every hit holds every term literally: nothing was read as an operator
    for hit in page.hits:
        text = search_segment.tokens(hit.record.title + " " + hit.record.body)
        assert page.relaxed or all(t in text for t in page.terms)
    assert PublicRecord.objects.filter(key="works-bj").exists()


def test_syntax_characters_around_a_word_find_the_word(world: None) -> None:
    for q in ['"施工"', "施工*", "(施工)", "施工 AND", "'施工'; --"]:
        page = search.search(q)
        assert "works-bj" in keys(page), q


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(q=st.text(alphabet=st.one_of(st.sampled_from(list('"*^:()\'; -_%\\{}[]+~!&|<>NEARORTD施工招标道路')),
                                    st.characters()), max_size=120),
       kind=st.sampled_from([None, "", "award", "bogus"]),
       date_from=st.sampled_from([None, "", "2026-11-01", "2026-02-30", "x"]))  # fmt: skip
def test_any_query_gets_a_page_or_a_refusal(world: None, q: str, kind: str | None,
                                            date_from: str | None) -> None:  # fmt: skip
    try:
        page = search.search(q, kind=kind, date_from=date_from)
    except ValidationFailed as exc:
        assert exc.code in search.REFUSALS
    else:
        assert page.total >= len(page.hits)
        for hit in page.hits:
            assert "<" not in hit.title_html.replace("<mark>", "").replace("</mark>", "")


def test_the_engine_matches_the_database() -> None:
    from ggzy.disclosure.search_backends import PostgresEngine, SQLiteEngine, engine_for

    expected = {"sqlite": SQLiteEngine, "postgresql": PostgresEngine}[connection.vendor]
    assert isinstance(engine_for(connection), expected)


TEXTS = [
    "南京市玄武区人民医院门诊楼施工招标公告", "城市主干道改造工程中标候选人公示",
    "污水处理厂扩建工程监理招标公告", "政府采购办公设备采购项目竞争性谈判公告",
    "国有建设用地使用权挂牌出让公告", "招标文件澄清公告", "公告：招标已终止",
    "采矿权拍卖出让结果", "处理厂运维服务采购", "投标人须知与评标办法",
]  # fmt: skip


@pytest.mark.parametrize("query", [
    "污水处理厂 招标公告", "政府采购 采购项目", "国有建设用地使用权 出让", "招标 招标公告",
    "处理 处理厂", "人民医院门诊楼 施工", "评标委员会 评标", "采矿权 采矿",
])  # fmt: skip
def test_leaving_out_implied_terms_finds_the_same_texts(query: str) -> None:
    """required_terms only drops what search mode indexes anyway: on every text, holding all
    the required terms is holding all the terms."""
    terms = search_segment.query_terms(query)
    required = search_segment.required_terms(terms)
    assert set(required) <= set(terms)
    for text in [*TEXTS, query.replace(" ", "")]:
        held = set(search_segment.tokens(text))
        assert all(t in held for t in required) == all(t in held for t in terms), text
    if query == "污水处理厂 招标公告":
        assert "招标" not in required and "招标公告" in required
