"""Every default rule hits its positive examples and none of its negated or harmless ones; the
matcher's clause splitting, normalisation and negation work as documented."""

from __future__ import annotations

import pytest

from ggzy.fairness import defaults, matching


def _compiled(spec):  # type: ignore[no-untyped-def]
    rule = matching.compile_rule(
        spec["code"], tuple(spec["patterns"]), tuple(spec.get("exclude_patterns", []))
    )
    assert rule is not None
    return rule


CASES_HIT = [(s["code"], text) for s in defaults.RULES for text in s["examples"]]
CASES_MISS = [(s["code"], text) for s in defaults.RULES for text in s["non_examples"]]
SPECS = {s["code"]: s for s in defaults.RULES}


def test_the_default_list_covers_the_named_barriers() -> None:
    assert len(defaults.RULES) >= 15
    assert len(SPECS) == len(defaults.RULES)  # codes are unique
    for spec in defaults.RULES:
        assert spec["source"] and spec["source_text"], spec["code"]
        assert spec["examples"] and spec["non_examples"], spec["code"]
        assert spec["severity"] in {"blocking", "warning"}
        for pattern in [*spec["patterns"], *spec.get("exclude_patterns", [])]:
            assert matching.check_pattern(pattern) is None


@pytest.mark.parametrize(("code", "text"), CASES_HIT)
def test_rule_hits_its_example(code: str, text: str) -> None:
    hits = matching.screen(text, [_compiled(SPECS[code])])
    assert [h.rule_code for h in hits] == [code]


@pytest.mark.parametrize(("code", "text"), CASES_MISS)
def test_rule_ignores_its_non_example(code: str, text: str) -> None:
    assert matching.screen(text, [_compiled(SPECS[code])]) == []


def test_no_default_rule_hits_an_ordinary_tender_document() -> None:
    text = (
        "一、项目概况：本项目位于南京市江宁区，建设规模为道路改造工程。\n"
        "投标人资格要求：具有市政公用工程施工总承包三级及以上资质，具备有效的安全生产许可证。\n"
        "项目经理须具有二级注册建造师执业资格，且未担任其他在建工程项目经理。\n"
        "投标保证金：人民币20万元，不超过估算价的2%。评标办法：经评审的最低投标价法。\n"
        "潜在投标人可在交易平台免费下载招标文件，无需报名。\n"
        "招标人地址：南京市玄武区中山路1号；联系人：张三。"
    )
    assert matching.screen(text, [_compiled(s) for s in defaults.RULES]) == []


def test_full_width_text_and_spaces_are_normalised() -> None:
    hits = matching.screen("投标保证金 为 投标报价的 ５ ％ 。", [_compiled(SPECS["F17"])])
    assert [h.rule_code for h in hits] == ["F17"]
    assert hits[0].quote == "投标保证金 为 投标报价的 ５ ％ 。"


def test_negation_only_reaches_its_own_phrase() -> None:
    text = "投标人不得存在违法记录，须在本市设立分支机构。"
    assert [h.rule_code for h in matching.screen(text, [_compiled(SPECS["F01"])])] == ["F01"]


def test_clauses_split_on_sentences_and_lines_with_offsets() -> None:
    text = "第一句。第二句；\n第三行"
    got = [(c.start, c.text) for c in matching.clauses(text)]
    assert got == [(0, "第一句。"), (4, "第二句；"), (9, "第三行")]
    assert all(text[start : start + len(t)] == t for start, t in got)


def test_a_long_clause_is_quoted_around_the_hit() -> None:
    text = "甲" * 1000 + "投标人须在本市设立分支机构" + "乙" * 1000
    [hit] = matching.screen(text, [_compiled(SPECS["F01"])])
    assert len(hit.quote) <= matching.QUOTE_CHARS + 2
    assert "本市设立分支机构" in hit.quote


@pytest.mark.parametrize("pattern", ["", "(", "a" * 501, "[z-a]"])
def test_bad_patterns_are_named(pattern: str) -> None:
    assert matching.check_pattern(pattern) is not None
