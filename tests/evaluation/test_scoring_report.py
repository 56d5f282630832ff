"""The report: canonical bytes every expert signs, and a Chinese Markdown rendering."""

from __future__ import annotations

import hashlib
import json
import random
from decimal import Decimal

from ggzy.evaluation.inputs import ExpertScore
from ggzy.evaluation.report import build_report, canonical_json, render_markdown, report_bytes
from ggzy.evaluation.scoring import score_section
from tests.evaluation.builders import (
    bid,
    commercial,
    price,
    scheme_87,
    section,
    sheet,
    technical,
)

D = Decimal
SCHEME = scheme_87(price(30), technical(50), commercial(20))
BIDS = (
    bid("A", "900000"),
    bid("B", "1000000"),
    bid("C", "1200000"),
    bid("D", "850000", invalid_reason="未按招标文件规定提交投标保证金"),
)
SCORES = sheet(
    {
        "A": {"tech": [40, 42, 38, 41, 39], "biz": [15, 16, 14, 15, 15]},
        "B": {"tech": [45, 44, 46, "45.5", "44.5"], "biz": [16, 16, 17, 15, 16]},
        "C": {"tech": [48, 47, 49, 48, "47.5"], "biz": [18, 18, 19, 17, 18]},
    }
)


def _bytes(bids: tuple = BIDS, scores: tuple = SCORES, committee: tuple | None = None) -> bytes:  # type: ignore[type-arg]
    kwargs = {} if committee is None else {"committee": committee}
    return report_bytes(score_section(section(SCHEME, bids, scores, **kwargs)))  # type: ignore[arg-type]


def test_identical_inputs_give_identical_bytes_whatever_their_order() -> None:
    first = _bytes()
    assert _bytes() == first
    shuffled = list(SCORES)
    random.Random(7).shuffle(shuffled)
    assert _bytes(BIDS[::-1], tuple(shuffled), ("E5", "E3", "E1", "E2", "E4")) == first


def test_bytes_are_canonical_json() -> None:
    raw = _bytes()
    data = json.loads(raw)
    assert (
        raw == json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    )
    assert b"\n" not in raw and "投标人A".encode() in raw  # UTF-8, not \\u escapes
    assert data["format"] == "ggzy.evaluation.report/1"
    # decimals are fixed-point strings
    c = data["bids"][0]
    assert (c["bid_id"], c["price_points"], c["total"], c["rank"]) == ("C", "22.50", "88.40", 1)
    assert c["criteria"][0]["experts"] == {
        "E1": "48.00",
        "E2": "47.00",
        "E3": "49.00",
        "E4": "48.00",
        "E5": "47.50",
    }
    assert data["scheme"]["criteria"][0]["weight"] == "30.00"
    assert data["bids"][-1]["invalid_reason"] == "未按招标文件规定提交投标保证金"
    assert data["candidates"] == ["C", "B", "A"]


def test_any_change_changes_the_bytes() -> None:
    first = hashlib.sha256(_bytes()).hexdigest()
    changed = list(SCORES)
    changed[0] = ExpertScore("E1", "A", "tech", D("40.5"))
    assert hashlib.sha256(_bytes(scores=tuple(changed))).hexdigest() != first


def test_numerically_equal_scores_print_alike() -> None:
    respelled = tuple(
        ExpertScore(s.expert_id, s.bid_id, s.criterion_id, s.points.quantize(D("0.001")))
        for s in SCORES
    )
    assert _bytes(scores=respelled) == _bytes()


def test_canonical_json_of_plain_data() -> None:
    assert canonical_json({"b": 1, "a": ["评", None]}) == '{"a":["评",null],"b":1}'.encode()


def test_build_report_is_plain_data() -> None:
    report = build_report(score_section(section(SCHEME, BIDS, SCORES)))

    def plain(value: object) -> bool:
        if isinstance(value, dict):
            return all(isinstance(k, str) and plain(v) for k, v in value.items())
        if isinstance(value, list):
            return all(plain(v) for v in value)
        return value is None or isinstance(value, str | int | bool)

    assert plain(report)


def test_markdown_rendering_in_chinese() -> None:
    text = render_markdown(score_section(section(SCHEME, BIDS, SCORES)))

    assert text.startswith("# 评标结果\n")
    assert "综合评分法（87号令价格分公式）" in text
    assert "| 1 | 投标人C | ¥1,200,000.00 | ¥1,200,000.00 | 22.50 | 88.40 |  |" in text
    assert "## 中标候选人\n\n1. 投标人C\n2. 投标人B\n3. 投标人A" in text
    assert "- 投标人D：未按招标文件规定提交投标保证金" in text
    assert "| 技术方案 | 48.00 / 47.00 / 49.00 / 48.00 / 47.50 | 47.90 | 47.90 |" in text
    assert "评标基准价（最低有效评审价）：¥900,000.00" in text


def test_markdown_shows_the_draw() -> None:
    scheme = scheme_87(price(30), technical(70, step="1"))
    bids = (bid("P", "1000000"), bid("Q", "1000000"), bid("R", "1100000"))
    scores = sheet({b: {"tech": [60] * 5} for b in "PQR"})
    text = render_markdown(score_section(section(scheme, bids, scores, seed="seed-42")))
    assert "## 并列处理（随机抽取）" in text and "随机种子：`seed-42`" in text
    assert "并列，随机抽取定序" in text
