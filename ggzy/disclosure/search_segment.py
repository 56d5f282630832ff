"""Chinese word segmentation for the search (分词): one jieba tokenizer for documents and
queries, so that a query term is a token the index holds.

Text is NFKC-normalised (full-width ``ＡＢＣ１２３`` → ``abc123``) and lower-cased; jieba's
search mode (:func:`jieba.Tokenizer.cut_for_search`) gives the words and, for a long word, its
dictionary sub-words too (``政府采购`` → ``政府 采购 政府采购``). Only runs of letters and digits
are kept: punctuation, spaces and every other symbol (the FTS and SQL syntax characters among
them) never become a token.

Filter values (kind, category, region, …) are indexed as *facet tokens* (``ggzyf`` + a field
letter + the value in hex), so a filter is one more term the full-text index intersects rather
than a scan of the matches. No segmented word can equal one: query words with that prefix are
dropped."""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterable, Mapping

import jieba

FACET_PREFIX = "ggzyf"
FACET_FIELDS: dict[str, str] = {
    "kind": "k",
    "category": "c",
    "region": "r",
    "procedure": "p",
    "status": "s",
    "source": "o",
}
# The shown text and the documents' text can be long; the index keeps their first part (a PostgreSQL
# tsvector holds at most 1 MB).
MAX_TEXT_CHARS = 100_000

# Words of the field that jieba's general dictionary splits or misses; each also yields its
# dictionary sub-words in search mode.
DOMAIN_WORDS = (
    "招标", "投标", "招标人", "投标人", "招标代理", "招标公告", "招标文件", "投标文件",
    "标段", "标包", "政府采购", "采购人", "供应商", "公开招标", "邀请招标", "竞争性谈判",
    "竞争性磋商", "单一来源", "询价", "框架协议", "资格预审", "资格后审", "开标", "评标",
    "评标委员会", "评标专家", "中标", "中标人", "中标候选人", "中标结果", "成交", "成交结果",
    "流标", "废标", "终止公告", "澄清", "异议", "投诉", "公示", "交易中心", "公共资源",
    "公共资源交易", "工程建设", "施工总承包", "监理", "勘察", "设计", "土地使用权",
    "国有建设用地使用权", "矿业权", "采矿权", "探矿权", "国有产权", "产权交易", "挂牌",
    "拍卖", "保证金", "投标保证金", "履约保证金", "电子保函", "交易标识码", "统一社会信用代码",
)  # fmt: skip

_WORD = re.compile(r"[^\W_]+")
_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None


def tokenizer() -> jieba.Tokenizer:
    """The one jieba tokenizer of the process, with the domain words (built once, from the
    dictionary jieba ships: nothing is downloaded)."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                logging.getLogger("jieba").setLevel(logging.WARNING)
                jieba.setLogLevel(logging.WARNING)
                tk = jieba.Tokenizer()
                tk.initialize()
                for word in DOMAIN_WORDS:
                    tk.add_word(word, freq=100_000)
                _tokenizer = tk
    return _tokenizer


def normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def tokens(text: str) -> list[str]:
    """The search-mode tokens of ``text``, in order (repeats kept: term frequency counts)."""
    out: list[str] = []
    for piece in tokenizer().cut_for_search(normalize(text)):
        out.extend(_WORD.findall(piece))
    return out


def token_text(text: str, *, limit: int | None = None) -> str:
    """``text`` segmented and space-joined, as the index stores it."""
    return " ".join(tokens(text if limit is None else text[:limit]))


def query_terms(text: str) -> list[str]:
    """The distinct terms of a user's query, in order; facet-like words are dropped."""
    seen: dict[str, None] = {}
    for tok in tokens(text):
        if not tok.startswith(FACET_PREFIX):
            seen.setdefault(tok, None)
    return list(seen)


def _implied(term: str, other: str, freq: Mapping[str, int]) -> bool:
    """Whether every token list holding ``other`` holds ``term`` too: search mode yields a word's
    dictionary sub-words of 2 characters (for a word longer than 2) and of 3 (longer than 3),
    and a sub-word's own sub-words are the word's as well."""
    if term == other or term not in other or not freq.get(term):
        return False
    return (len(term) == 2 and len(other) > 2) or (len(term) == 3 and len(other) > 3)


def required_terms(terms: Iterable[str]) -> list[str]:
    """The terms an all-words match has to test: a term that another term implies (``招标`` and
    ``公告`` beside ``招标公告``) matches wherever that one does, so leaving it out finds the
    same records — and spares the index its posting list, often one of the longest."""
    words = list(terms)
    freq = tokenizer().FREQ
    return [t for t in words if not any(_implied(t, u, freq) for u in words)]


def facet_token(field: str, value: str) -> str:
    return f"{FACET_PREFIX}{FACET_FIELDS[field]}{value.encode('utf-8').hex()}"


def facet_text(values: Mapping[str, str]) -> str:
    """The facet tokens of a record's filter values, space-joined."""
    return " ".join(facet_token(field, values.get(field, "") or "") for field in FACET_FIELDS)


def facet_tokens(filters: Iterable[tuple[str, str]]) -> list[str]:
    return [facet_token(field, value) for field, value in filters]
