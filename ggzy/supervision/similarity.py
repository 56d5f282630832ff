"""Bid-document similarity within a section: 条例40(1)(4)(5) ("由同一单位或者个人编制", "异常一致",
"相互混装") and OCP R041 (physical similarities in documents from different bidders).

Pure functions over the decrypted technical bids of one section and the section's tender
document; no database. Steps:

1. **Normalise** (NFKC, case-folded, only letters and digits kept: whitespace, punctuation and
   symbols go, so re-flowed or re-punctuated copies still match) and cut into **character
   shingles** of ``shingle_size`` characters (Chinese has no word breaks; character n-grams are the
   usual unit, supervision-indicators.md §6.1).
2. **Remove template text**: every shingle that also occurs in the tender document (or in an
   optional extra template, e.g. a model form) is dropped. Bidders must copy the tender's forms and
   requirements; only what they wrote themselves can show that one wrote for the other.
3. **Candidate pairs**: a section with at most ``exact_max_bidders`` bidders compares every pair
   exactly (a few dozen set intersections cost less than being approximate); above that a
   ``datasketch`` MinHash (``num_perm``, fixed ``seed``) per bidder goes into a ``MinHashLSH`` with
   ``lsh_threshold``, and only the pairs it proposes are compared. LSH estimates Jaccard, so a
   small bid copied into a large one (high containment, low Jaccard) is found on the exact path
   only.
4. **Score** each candidate on the exact de-templated sets: Jaccard |A∩B|/|A∪B| and containment
   |A∩B|/min(|A|,|B|); a pair is ``text_similar`` when either reaches its threshold. The evidence
   is the longest shared passages, quoted from bidder a's original text.
5. **Metadata equality**: the same author, last saver, template, hardware id, file hash or creation
   / modification time among different bidders, ignoring :data:`PLACEHOLDERS` (values that many
   unrelated computers share, such as "Administrator" or "Normal.dotm", and the empty markers
   '-', '/', '无', '暂无' of R50). The editing application is not compared by default: most bids are
   written in the same two programs.
6. **Mixed-up files** (相互混装): one bidder's file contains another bidder's registered name
   (when :attr:`BidText.name` is given), unless the tender document contains that name too.

A pair is reported when it is text-similar, shares any metadata value, or names the other.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from itertools import combinations

from datasketch import MinHash, MinHashLSH

DEFAULT_METADATA_FIELDS = (
    "author",
    "last_saver",
    "template",
    "hardware_id",
    "file_hash",
    "created",
    "modified",
)
MIN_NAME_CHARS = 4  # shorter names ("华建") occur in unrelated text too
# Compared after the same normalisation as the values (NFKC, stripped, case-folded).
PLACEHOLDERS = frozenset({
    "", "-", "--", "/", "\\", ".", "0", "无", "暂无", "空", "未知", "不详", "null", "none", "n/a",
    "na", "unknown", "administrator", "admin", "user", "users", "owner", "微软用户", "微软中国",
    "microsoft", "microsoft office user", "microsoft office 用户", "normal", "normal.dot",
    "normal.dotm", "normal.wpt", "wps", "wps office",
})  # fmt: skip


@dataclass(frozen=True)
class BidText:
    """One bidder's technical bid text, decrypted after opening, and its file metadata."""

    text: str
    metadata: Mapping[str, object] = field(default_factory=dict)
    name: str = ""  # the bidder's registered name, to find it in another bidder's file


@dataclass(frozen=True)
class MetadataMatch:
    field: str
    value: str


@dataclass(frozen=True)
class Pair:
    bidder_a: str  # bidder_a < bidder_b
    bidder_b: str
    jaccard: float  # of the de-templated shingle sets
    containment: float
    shared_shingles: int
    text_similar: bool
    snippets: tuple[str, ...]  # the longest shared passages, from bidder_a's text
    metadata_matches: tuple[MetadataMatch, ...]
    # (writer, named): the writer's bid names the other bidder — files mixed up (条例40(5))
    mentions: tuple[tuple[str, str], ...] = ()


_INT_RANGES = {
    "shingle_size": (3, 50),
    "num_perm": (16, 1024),
    "seed": (0, 2**32 - 1),
    "exact_max_bidders": (0, 100_000),
    "max_snippets": (0, 50),
    "min_snippet_chars": (1, 100_000),
    "max_snippet_chars": (10, 100_000),
}
_FLOAT_RANGES = {
    "lsh_threshold": (0.05, 0.95),
    "min_jaccard": (0.0, 1.0),
    "min_containment": (0.0, 1.0),
}


@dataclass(frozen=True)
class SimilaritySettings:
    """Settings of :func:`compare_bids`; each is checked against its allowed range."""

    shingle_size: int = 8
    num_perm: int = 128
    seed: int = 1
    lsh_threshold: float = 0.3
    min_jaccard: float = 0.3
    min_containment: float = 0.7
    exact_max_bidders: int = 50
    max_snippets: int = 3
    min_snippet_chars: int = 20
    max_snippet_chars: int = 200
    metadata_fields: tuple[str, ...] = DEFAULT_METADATA_FIELDS
    placeholders: frozenset[str] = PLACEHOLDERS

    def __post_init__(self) -> None:
        for name, (low, high) in _INT_RANGES.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValueError(f"{name} must be an integer in {low}..{high}, got {value!r}")
        for name, (lo, hi) in _FLOAT_RANGES.items():
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not lo <= value <= hi
            ):
                raise ValueError(f"{name} must be a number in {lo}..{hi}, got {value!r}")
        fields_ = self.metadata_fields
        if not isinstance(fields_, tuple) or not all(isinstance(f, str) and f for f in fields_):
            raise ValueError(f"metadata_fields must be a tuple of field names, got {fields_!r}")
        if not isinstance(self.placeholders, frozenset):
            raise ValueError("placeholders must be a frozenset of strings")


DEFAULT_SETTINGS = SimilaritySettings()


@dataclass(frozen=True)
class _Prepared:
    text: str
    norm: str
    offsets: tuple[int, ...]  # offsets[i] = position in ``text`` of norm[i]
    shingles: frozenset[str]


def normalise(text: str) -> tuple[str, tuple[int, ...]]:
    """``text`` with only letters and digits (NFKC, case-folded), and where each came from."""
    chars: list[str] = []
    offsets: list[int] = []
    for i, ch in enumerate(text):
        kept = _kept(ch)
        if kept:
            chars.append(kept)
            offsets.extend([i] * len(kept))
    return "".join(chars), tuple(offsets)


@lru_cache(maxsize=65536)
def _kept(ch: str) -> str:
    """What one character contributes to the normalised text (cached: texts reuse few chars)."""
    return "".join(
        c
        for c in unicodedata.normalize("NFKC", ch).casefold()
        if unicodedata.category(c)[0] in "LN"
    )


def shingles(norm: str, size: int) -> set[str]:
    """The character n-grams of a normalised text (a shorter, non-empty text is one shingle)."""
    if 0 < len(norm) < size:
        return {norm}
    return {norm[i : i + size] for i in range(len(norm) - size + 1)}


def compare_bids(
    tender_text: str,
    bids: Mapping[str, BidText],
    settings: SimilaritySettings = DEFAULT_SETTINGS,
    *,
    templates: Sequence[str] = (),
) -> list[Pair]:
    """The suspicious pairs of one section's bids, most similar first (see the module docstring)."""
    n = settings.shingle_size
    template: set[str] = set()
    for text in (tender_text, *templates):
        template |= shingles(normalise(text)[0], n)
    prepared: dict[str, _Prepared] = {}
    for bidder in sorted(bids):
        text = bids[bidder].text or ""
        norm, offsets = normalise(text)
        own = frozenset(shingles(norm, n) - template)
        prepared[str(bidder)] = _Prepared(text, norm, offsets, own)
    metadata = metadata_matches(bids, settings)
    named = name_mentions(tender_text, bids, normalised={b: p.norm for b, p in prepared.items()})
    candidates = set(metadata) | set(named) | _text_candidates(prepared, settings)
    pairs = [
        _pair(a, b, prepared, metadata.get((a, b), ()), named.get((a, b), ()), settings)
        for a, b in candidates
    ]
    reported = [p for p in pairs if p.text_similar or p.metadata_matches or p.mentions]
    return sorted(reported, key=lambda p: (-max(p.jaccard, p.containment), p.bidder_a, p.bidder_b))


def metadata_matches(
    bids: Mapping[str, BidText], settings: SimilaritySettings = DEFAULT_SETTINGS
) -> dict[tuple[str, str], tuple[MetadataMatch, ...]]:
    """Pairs of different bidders whose files share a (non-placeholder) metadata value."""
    found: dict[tuple[str, str], list[MetadataMatch]] = {}
    for name in settings.metadata_fields:
        holders: dict[str, list[str]] = {}
        shown: dict[str, str] = {}
        for bidder in sorted(bids):
            raw = bids[bidder].metadata.get(name)
            value = _metadata_value(raw)
            key = unicodedata.normalize("NFKC", value).strip().casefold()
            if raw is None or key in settings.placeholders:
                continue
            holders.setdefault(key, []).append(str(bidder))
            shown.setdefault(key, value.strip())
        for key, who in sorted(holders.items()):
            for a, b in combinations(who, 2):
                found.setdefault((a, b), []).append(MetadataMatch(field=name, value=shown[key]))
    return {k: tuple(v) for k, v in found.items()}


def name_mentions(
    tender_text: str, bids: Mapping[str, BidText], *, normalised: Mapping[str, str] | None = None
) -> dict[tuple[str, str], tuple[tuple[str, str], ...]]:
    """Pairs where one bidder's file contains the other's name (normalised, at least
    :data:`MIN_NAME_CHARS` characters, and not a name the tender document itself contains)."""
    tender = normalise(tender_text)[0]
    texts = dict(normalised or {str(b): normalise(bids[b].text or "")[0] for b in bids})
    found: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for named in sorted(bids):
        name = normalise(bids[named].name or "")[0]
        if len(name) < MIN_NAME_CHARS or name in tender:
            continue
        for writer in sorted(texts):
            if writer != str(named) and name in texts[writer]:
                key = (min(writer, str(named)), max(writer, str(named)))
                found.setdefault(key, []).append((writer, str(named)))
    return {k: tuple(sorted(v)) for k, v in found.items()}


def _metadata_value(raw: object) -> str:
    if isinstance(raw, datetime | date):
        return raw.isoformat()
    return "" if raw is None else str(raw)


def _text_candidates(
    prepared: Mapping[str, _Prepared], settings: SimilaritySettings
) -> set[tuple[str, str]]:
    with_text = [b for b, p in prepared.items() if p.shingles]
    if len(with_text) <= settings.exact_max_bidders:
        return set(combinations(with_text, 2))
    lsh = MinHashLSH(threshold=settings.lsh_threshold, num_perm=settings.num_perm)
    sketches: dict[str, MinHash] = {}
    for bidder in with_text:
        sketch = MinHash(num_perm=settings.num_perm, seed=settings.seed)
        sketch.update_batch(s.encode("utf-8") for s in sorted(prepared[bidder].shingles))
        sketches[bidder] = sketch
        lsh.insert(bidder, sketch)
    found: set[tuple[str, str]] = set()
    for bidder, sketch in sketches.items():
        for other in lsh.query(sketch):
            if other != bidder:
                found.add((min(bidder, other), max(bidder, other)))
    return found


def _pair(
    a: str,
    b: str,
    prepared: Mapping[str, _Prepared],
    meta: tuple[MetadataMatch, ...],
    mentions: tuple[tuple[str, str], ...],
    settings: SimilaritySettings,
) -> Pair:
    left, right = prepared[a].shingles, prepared[b].shingles
    shared = left & right
    union = len(left) + len(right) - len(shared)
    smaller = min(len(left), len(right))
    jaccard = len(shared) / union if union else 0.0
    containment = len(shared) / smaller if smaller else 0.0
    similar = bool(shared) and (
        jaccard >= settings.min_jaccard or containment >= settings.min_containment
    )
    return Pair(
        bidder_a=a,
        bidder_b=b,
        jaccard=jaccard,
        containment=containment,
        shared_shingles=len(shared),
        text_similar=similar,
        snippets=tuple(shared_passages(prepared[a], shared, settings)) if shared else (),
        metadata_matches=meta,
        mentions=mentions,
    )


def shared_passages(
    bid: _Prepared, shared: Iterable[str], settings: SimilaritySettings
) -> list[str]:
    """The longest runs of ``bid``'s text whose every shingle is shared, quoted as written."""
    common = set(shared)
    n = settings.shingle_size
    norm = bid.norm
    runs: list[tuple[int, int]] = []  # (start, end) in norm characters, end exclusive
    start = -1
    for i in range(max(len(norm) - n + 1, 0) + 1):
        inside = i < len(norm) - n + 1 and norm[i : i + n] in common
        if inside and start < 0:
            start = i
        elif not inside and start >= 0:
            runs.append((start, i - 1 + n))
            start = -1
    if not runs and norm in common:
        runs.append((0, len(norm)))
    runs = [r for r in runs if r[1] - r[0] >= settings.min_snippet_chars]
    runs.sort(key=lambda r: (r[0] - r[1], r[0]))
    out = []
    for begin, end in runs[: settings.max_snippets]:
        quote = bid.text[bid.offsets[begin] : bid.offsets[end - 1] + 1].strip()
        if len(quote) > settings.max_snippet_chars:
            quote = quote[: settings.max_snippet_chars - 1] + "…"
        out.append(quote)
    return out
