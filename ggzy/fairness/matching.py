"""Screening text against the rules: pure functions, no database.

A document's text is split into clauses (sentences and numbered items); each clause is
normalised (NFKC: full-width digits, letters and punctuation become their plain forms; spaces
removed) and every rule's expressions are searched in it. A hit is dropped when the phrase it
sits in negates it ("不得要求在本地设立分支机构") or when the clause matches one of the rule's
exclusions ("品牌：某某或同等品质").
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

QUOTE_CHARS = 300
MAX_CLAUSE_CHARS = 2000
MAX_PATTERN_CHARS = 500
MAX_PATTERNS = 20

# A negation before the hit, in the same phrase (phrases end at , ; : 。 ! ?).
NEGATION_BEFORE = re.compile(
    r"不得|不应|不宜|不能|不可|禁止|严禁|不以|不设|未设|不要求|无需|无须|不需|不须|不必|"
    r"不作|不做|不限|不含|取消|不将|不把|杜绝|防止|避免|反对|清理|纠正"
)
# A negation right after the hit ("本地业绩不作为加分条件", "注册地不限").
NEGATION_AFTER = re.compile(r"^.{0,12}?(?:不作为|不做为|不作要求|不做要求|不作限制|不限|不予考虑)")
PHRASE_END = re.compile(r"[,;:。!?]")
CLAUSE = re.compile(r"[^。！？；!?;\n]+[。！？；!?;]*")
SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Clause:
    start: int  # offset in the document text
    text: str  # as written (spaces collapsed)
    norm: str  # what the rules are matched against


@dataclass(frozen=True)
class Hit:
    rule_code: str
    clause: Clause
    matched: str
    quote: str


@dataclass(frozen=True)
class CompiledRule:
    code: str
    search: re.Pattern[str]
    exclude: re.Pattern[str] | None


def normalise(text: str) -> str:
    return SPACE.sub("", unicodedata.normalize("NFKC", text))


def clauses(text: str) -> Iterator[Clause]:
    """The clauses of ``text``: split after 。！？； and at line ends; over-long runs are cut."""
    for m in CLAUSE.finditer(text):
        piece = m.group(0)
        for cut in range(0, len(piece), MAX_CLAUSE_CHARS):
            chunk = piece[cut : cut + MAX_CLAUSE_CHARS]
            shown = SPACE.sub(" ", chunk).strip()
            if shown:
                yield Clause(start=m.start() + cut, text=shown, norm=normalise(chunk))


def check_pattern(pattern: str) -> str | None:
    """Why ``pattern`` cannot be a rule's expression, or None when it can."""
    if not isinstance(pattern, str) or not pattern.strip():
        return "empty"
    if len(pattern) > MAX_PATTERN_CHARS:
        return "too_long"
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"bad_regex: {exc}"
    return None


def _union(patterns: Iterable[str]) -> re.Pattern[str] | None:
    parts = [f"(?:{p})" for p in patterns if p]
    return re.compile("|".join(parts)) if parts else None


@lru_cache(maxsize=512)
def compile_rule(
    code: str, patterns: tuple[str, ...], exclude: tuple[str, ...]
) -> CompiledRule | None:
    search = _union(patterns)
    if search is None:
        return None
    return CompiledRule(code=code, search=search, exclude=_union(exclude))


def _negated(norm: str, start: int, end: int) -> bool:
    before = norm[:start]
    phrase_start = max((m.end() for m in PHRASE_END.finditer(before)), default=0)
    if NEGATION_BEFORE.search(before[phrase_start:]):
        return True
    after = norm[end:]
    stop = PHRASE_END.search(after)
    return bool(NEGATION_AFTER.search(after[: stop.start()] if stop else after))


def quote(clause: Clause, matched: str) -> str:
    """The clause, or ~300 characters of it around the hit."""
    text = clause.text
    if len(text) <= QUOTE_CHARS:
        return text
    at = max(text.find(matched[:8]), 0) if matched else 0
    begin = max(0, min(at - QUOTE_CHARS // 3, len(text) - QUOTE_CHARS))
    return ("…" if begin else "") + text[begin : begin + QUOTE_CHARS] + "…"


def clause_hits(rule: CompiledRule, clause: Clause) -> str | None:
    """The text of the first un-negated hit of ``rule`` in ``clause``, if any."""
    if rule.exclude is not None and rule.exclude.search(clause.norm):
        return None
    for m in rule.search.finditer(clause.norm):
        if m.end() > m.start() and not _negated(clause.norm, m.start(), m.end()):
            return m.group(0)[:200]
    return None


def screen(text: str, rules: list[CompiledRule]) -> list[Hit]:
    """Every (rule, clause) hit in ``text``, in document order; one hit per rule and clause."""
    hits = []
    for clause in clauses(text):
        for rule in rules:
            matched = clause_hits(rule, clause)
            if matched is not None:
                hits.append(Hit(rule.code, clause, matched, quote(clause, matched)))
    return hits


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
