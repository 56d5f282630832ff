"""Bid-document similarity: copies pair up, text taken from the tender document does not, metadata
equality is reported without placeholders, and the settings are checked."""

from __future__ import annotations

import random
from datetime import datetime

import pytest

from ggzy.supervision import similarity as sim
from ggzy.supervision.similarity import BidText, MetadataMatch, SimilaritySettings

TENDER = (
    "第一章 投标人须知。投标人应当按照招标文件的要求编制投标文件，投标文件应当对招标文件提出的"
    "实质性要求和条件作出响应。本工程计划工期为一百八十日历天，质量标准为合格，"
    "投标保证金为人民币八万元整。第二章 技术标要求：施工组织设计应包括施工方案与技术措施、"
    "质量管理体系与措施、安全管理体系与措施、环境保护管理体系与措施、工程进度计划与措施。"
)


def prose(seed: int, length: int = 600) -> str:
    """Random Chinese text (from 2,000 common-range characters), with sentence breaks."""
    rng = random.Random(seed)
    chars = [chr(0x4E00 + rng.randrange(2000)) for _ in range(length)]
    for i in range(25, length, 26):
        chars[i] = "，" if i % 3 else "。"
    return "".join(chars)


def edited(text: str, seed: int, edits: int) -> str:
    """``text`` with ``edits`` single characters replaced (a careless rewrite of a copy)."""
    rng = random.Random(seed)
    chars = list(text)
    for _ in range(edits):
        chars[rng.randrange(len(chars))] = chr(0x9000 + rng.randrange(500))
    return "".join(chars)


def test_copied_bid_with_edits_pairs_with_high_similarity() -> None:
    own = prose(1)
    bids = {
        "甲公司": BidText(TENDER + own),
        "乙公司": BidText(TENDER + edited(own, seed=2, edits=6)),
        "丙公司": BidText(TENDER + prose(3)),
    }
    pairs = sim.compare_bids(TENDER, bids)
    assert [(p.bidder_a, p.bidder_b) for p in pairs] == [("乙公司", "甲公司")]
    pair = pairs[0]
    assert pair.text_similar and pair.jaccard > 0.8 and pair.containment > 0.9
    assert pair.metadata_matches == ()
    assert pair.bidder_a == "乙公司"  # ids sorted by code point; snippets quote bidder_a
    quotes = [s.removesuffix("…") for s in pair.snippets]  # long passages are cut at 200
    assert quotes and all(q in bids["乙公司"].text for q in quotes)
    assert len(pair.snippets[0]) == 200 and pair.snippets[0].endswith("…")
    assert all(q not in TENDER for q in quotes)


def test_bids_that_only_share_the_tender_text_do_not_pair() -> None:
    bids = {f"B{i}": BidText(TENDER + prose(10 + i, 120) + TENDER[:80]) for i in range(4)}
    assert sim.compare_bids(TENDER, bids) == []
    # without removing the template they would: proves the removal, not the texts, did it
    unrelated = sim.compare_bids("", bids)
    assert len(unrelated) == 6 and all(p.text_similar for p in unrelated)


def test_exact_scores_on_a_small_ascii_example() -> None:
    # shingles of 3: abc bcd cde def  vs  abc bcd cdx dxy  → 2 shared, 6 in the union
    bids = {"a": BidText("abc-def"), "b": BidText("ABC DXY")}
    settings = SimilaritySettings(shingle_size=3, min_jaccard=0.3, min_snippet_chars=3)
    (pair,) = sim.compare_bids("", bids, settings)
    assert pair.shared_shingles == 2
    assert pair.jaccard == pytest.approx(2 / 6) and pair.containment == pytest.approx(2 / 4)
    assert pair.snippets == ("abc-d",)  # quoted as written, punctuation included


def test_punctuation_width_and_spacing_changes_do_not_hide_a_copy() -> None:
    own = (
        "我公司拟派项目经理具有一级建造师资格，本工程采用流水施工，基础工程先行，主体结构分段施工。"
    )
    reflowed = own.replace("，", " , ").replace("一级", "一级\n").replace("。", "．")
    pairs = sim.compare_bids(TENDER, {"A": BidText(own * 3), "B": BidText(reflowed * 3)})
    assert len(pairs) == 1 and pairs[0].jaccard == 1.0


def test_metadata_equality_ignores_placeholders() -> None:
    created = datetime(2026, 3, 1, 9, 30, 15)
    bids = {
        "A": BidText(
            prose(20), {"author": "王某", "last_saver": "Administrator", "created": created}
        ),
        "B": BidText(prose(21), {"author": " 王某 ", "last_saver": "administrator"}),
        "C": BidText(prose(22), {"author": "暂无", "template": "Normal.dotm", "created": created}),
        "D": BidText(prose(23), {"author": "无", "template": "normal.dotm", "application": "WPS"}),
        "E": BidText(prose(24), {"hardware_id": "-", "file_hash": "9f2c"}),
        "F": BidText(prose(25), {"hardware_id": "-", "file_hash": "9F2C", "application": "WPS"}),
    }
    pairs = sim.compare_bids(TENDER, bids)
    found = {(p.bidder_a, p.bidder_b): p.metadata_matches for p in pairs}
    assert found == {
        ("A", "B"): (MetadataMatch("author", "王某"),),
        ("A", "C"): (MetadataMatch("created", "2026-03-01T09:30:15"),),
        ("E", "F"): (MetadataMatch("file_hash", "9f2c"),),
    }
    assert not any(p.text_similar for p in pairs)
    with_app = SimilaritySettings(metadata_fields=("application",), placeholders=frozenset())
    assert list(sim.metadata_matches(bids, with_app)) == [("D", "F")]


def test_lsh_path_finds_the_copies_and_agrees_with_the_exact_path() -> None:
    bids = {f"B{i:02d}": BidText(TENDER + prose(100 + i)) for i in range(30)}
    bids["B07"] = BidText(TENDER + edited(prose(100 + 3), seed=7, edits=10))
    bids["B20"] = BidText(TENDER + edited(prose(100 + 11), seed=8, edits=4) + prose(999, 100))
    exact = sim.compare_bids(TENDER, bids)
    lsh = sim.compare_bids(TENDER, bids, SimilaritySettings(exact_max_bidders=0))
    # B20 holds nearly all of B11: containment first
    assert [(p.bidder_a, p.bidder_b) for p in exact] == [("B11", "B20"), ("B03", "B07")]
    assert lsh == exact


def test_lsh_is_deterministic_for_a_fixed_seed() -> None:
    bids = {f"B{i}": BidText(edited(prose(5), seed=i, edits=40 * i)) for i in range(8)}
    settings = SimilaritySettings(exact_max_bidders=0, lsh_threshold=0.2)
    assert sim.compare_bids("", bids, settings) == sim.compare_bids("", bids, settings)


def test_empty_texts() -> None:
    assert sim.compare_bids("", {}) == []
    bids = {"A": BidText(""), "B": BidText("   "), "C": BidText(TENDER)}
    assert sim.compare_bids(TENDER, bids) == []
    assert sim.compare_bids(TENDER, bids, SimilaritySettings(exact_max_bidders=0)) == []
    same_author = {"A": BidText("", {"author": "张三"}), "B": BidText("", {"author": "张三"})}
    (pair,) = sim.compare_bids("", same_author)
    assert (pair.jaccard, pair.text_similar, pair.snippets) == (0.0, False, ())


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("shingle_size", 2),
        ("shingle_size", 8.0),
        ("num_perm", 0),
        ("lsh_threshold", 1.0),
        ("min_jaccard", -0.1),
        ("min_containment", 1.1),
        ("max_snippets", True),
        ("exact_max_bidders", -1),
    ],
)
def test_settings_out_of_range_name_the_setting(name: str, value: object) -> None:
    with pytest.raises(ValueError, match=rf"^{name} must be .* in "):
        SimilaritySettings(**{name: value})  # type: ignore[arg-type]


def test_metadata_fields_must_be_names() -> None:
    with pytest.raises(ValueError, match=r"^metadata_fields"):
        SimilaritySettings(metadata_fields=("author", ""))


def test_a_file_naming_another_bidder_is_reported() -> None:
    tender = TENDER + "招标代理机构：云南丁咨询有限公司。"
    bids = {
        "A": BidText(prose(30) + "投标人：云南甲建设有限公司（盖章）", name="云南甲建设有限公司"),
        # B's file was prepared from A's: A's name is left in it, with other spacing
        "B": BidText(prose(31) + "投标人：云南甲建设 有限公司（盖章）", name="云南乙建设有限公司"),
        "C": BidText(prose(32) + "同云南丁咨询有限公司联系", name="云南丁咨询有限公司"),
        "D": BidText(prose(33) + "我们与云南丁咨询有限公司联系", name="乙建"),
    }
    pairs = sim.compare_bids(tender, bids)
    assert [(p.bidder_a, p.bidder_b, p.mentions) for p in pairs] == [("A", "B", (("B", "A"),))]
    assert not pairs[0].text_similar and pairs[0].metadata_matches == ()
