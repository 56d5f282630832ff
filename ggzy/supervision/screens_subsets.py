"""Summary screens (Wallimann, Imhof & Huber): every screen on every subset of 3 and of 4 bids.

A cartel that does not include every bidder is diluted by the competitive outsiders: the screens
of the whole tender look normal. Computing the screens on each subset of k bids and summarising
them per tender (mean, median, min, max) keeps the signal of the colluding subset visible (the
``min`` of CV or the ``max`` of RD). See ``/work/shared/reference/supervision-indicators.md`` §1.

Why numpy and not Polars expressions: Polars has no combinations expression, and exploding
C(n, k) rows per tender through the query engine would be an order of magnitude slower. Here the
tenders are grouped by their bid count n; for each n the combination index matrix is built once
(subsets of *positions* in the ascending bids, so every subset is already sorted) and applied to
all tenders with that n at once, in chunks that bound memory (``_CHUNK_SUBSETS`` subsets ≈ a few
MB per temporary array), on all cores (numpy releases the GIL).

Tenders with more than ``max_bids`` bids (C(n, 4) grows as n⁴: 1,001 subsets at 14 bids, 27,405
at 30) use a deterministic sample instead of all subsets: as many subsets as a ``max_bids``-bid
tender has, drawn by a random generator seeded from (n, k) alone. The sample is the same for every
tender with n bids and independent of the rest of the data, so a tender's summary never changes
when other tenders are added; the ``summary_sampled`` column says which tenders were sampled.
Why 12 by default: tenders up to 12 bids (the great majority; the literature's data sets have a
median of 5–8) get the exact summary, and the worst case per tender is bounded at
C(12, 3) + C(12, 4) = 715 subsets, so a 60-bid tender costs what a 12-bid one does instead of
~520,000 subsets. A sample of 220 / 495 subsets estimates the mean and median closely; its min
and max can only be less extreme than the exact ones.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import combinations

import numpy as np
import numpy.typing as npt
import polars as pl

Floats = npt.NDArray[np.float64]

STATS = ("mean", "median", "min", "max")
SUBSET_SCREENS = ("cv", "spd", "diffp", "rd", "rdnor", "rdalt", "kurt", "skew", "kstest")
DEFAULT_SIZES = (3, 4)
DEFAULT_MAX_BIDS = 12
_CHUNK_SUBSETS = 1 << 16
_EPS = float(np.finfo(np.float64).eps)
# enumerate all C(n, k) combinations below this and sample rows of them; above it draw subsets
_ENUMERATE_LIMIT = 2_000_000


def screens_for_size(k: int) -> tuple[str, ...]:
    """The screens defined on a k-bid subset (KURT needs 4 bids, RD/SKEW/KSTEST/RDALT need 3)."""
    if k < 3:
        raise ValueError(f"sizes: subsets must have at least 3 bids, got {k}")
    return tuple(s for s in SUBSET_SCREENS if s != "kurt" or k >= 4)


def summary_columns(sizes: Sequence[int] = DEFAULT_SIZES) -> list[str]:
    return [f"{s}_k{k}_{stat}" for k in sizes for s in screens_for_size(k) for stat in STATS]


def subset_index(n: int, k: int, max_bids: int) -> npt.NDArray[np.intp]:
    """Positions (into the ascending bids) of the subsets screened for an n-bid tender, (S, k).

    All C(n, k) subsets when n ≤ max_bids; otherwise C(max_bids, k) subsets drawn with a
    generator seeded by (n, k) — distinct rows of the full matrix while it is small enough to
    enumerate, independent draws (rarely repeating a subset) beyond that.
    """
    if n <= max_bids:
        return np.array(list(combinations(range(n), k)), dtype=np.intp).reshape(-1, k)
    want = math.comb(max_bids, k)
    rng = np.random.default_rng([n, k])
    if math.comb(n, k) <= _ENUMERATE_LIMIT:
        full = np.array(list(combinations(range(n), k)), dtype=np.intp)
        rows = np.sort(rng.choice(len(full), size=want, replace=False))
        return full[rows]
    keys = rng.random((want, n))
    return np.sort(np.argsort(keys, axis=1)[:, :k], axis=1).astype(np.intp)


def subset_screens(x: Sequence[Floats], k: int) -> dict[str, Floats]:
    """The screens of many k-bid subsets at once; ``x[j]`` holds the (j+1)-th lowest bid of every
    subset (same shape). NaN marks an undefined value (the same rules as the tender screens)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        lo, second, hi = x[0], x[1], x[k - 1]
        mean = sum(x[1:], x[0].copy()) / k
        d = [xj - mean for xj in x]
        d2 = [dj * dj for dj in d]
        m2 = sum(d2[1:], d2[0].copy())
        m3 = sum((dj * d2j for dj, d2j in zip(d[1:], d2[1:], strict=True)), d[0] * d2[0])
        m4 = sum((d2j * d2j for d2j in d2[1:]), d2[0] * d2[0])
        flat = hi == lo
        out: dict[str, Floats] = {}
        out["cv"] = np.sqrt(m2 / (k - 1)) / mean
        out["spd"] = (hi - lo) / lo
        b2d = x[k - 1].copy()
        for j in range(k - 2, 0, -1):
            b2d = np.where(x[j] > lo, x[j], b2d)
        out["diffp"] = np.where(flat, np.nan, (b2d - lo) / lo)
        gap = second - lo
        lmean = sum(x[2:], x[1].copy()) / (k - 1)
        ld = [xj - lmean for xj in x[1:]]
        lm2 = sum((dj * dj for dj in ld[1:]), ld[0] * ld[0])
        # losing bids all equal (sd 0) is tested exactly: their computed sd can be a rounding 1e-19
        out["rd"] = np.where(hi > second, gap / np.sqrt(lm2 / (k - 2)), np.nan)
        out["rdnor"] = np.where(flat, np.nan, gap * (k - 1) / (hi - lo))
        out["rdalt"] = np.where(hi > second, gap * (k - 2) / (hi - second), np.nan)
        v2, v3, v4 = m2 / k, m3 / k, m4 / k
        degenerate = v2 <= (_EPS * mean) ** 2
        out["skew"] = np.where(
            degenerate, np.nan, math.sqrt(k * (k - 1)) / (k - 2) * v3 / (v2 * np.sqrt(v2))
        )
        if k >= 4:
            g2 = ((k + 1) * v4 / (v2 * v2) - 3 * (k - 1)) * (k - 1) / ((k - 2) * (k - 3))
            out["kurt"] = np.where(degenerate, np.nan, g2)
        # the lowest and highest bid each contribute exactly 1/k (their cdf is 0 and 1)
        scale = 1.0 / (hi - lo)
        ks = np.full_like(lo, 1.0 / k)
        for j in range(1, k - 1):
            f = (x[j] - lo) * scale
            ks = np.maximum(ks, np.maximum((j + 1) / k - f, f - j / k))
        out["kstest"] = np.where(flat, np.nan, ks)
    return out


def _summarise(y: Floats) -> tuple[Floats, Floats, Floats, Floats]:
    """Mean, median, min, max of each row of ``y`` over its defined (non-NaN) entries."""
    valid = ~np.isnan(y)
    count = valid.sum(axis=1)
    ys = np.sort(y, axis=1)  # NaN sorts last
    rows = np.arange(len(y))
    last = np.maximum(count - 1, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(valid, y, 0.0).sum(axis=1) / count
        median = 0.5 * (ys[rows, last // 2] + ys[rows, count // 2])
    none = count == 0
    return (
        np.where(none, np.nan, mean),
        np.where(none, np.nan, median),
        np.where(none, np.nan, ys[:, 0]),
        np.where(none, np.nan, ys[rows, last]),
    )


def _chunks(m: int, subsets: int) -> Iterator[slice]:
    step = max(1, _CHUNK_SUBSETS // max(subsets, 1))
    for start in range(0, m, step):
        yield slice(start, min(m, start + step))


def summary_screens_sorted(
    values: Floats,
    counts: npt.NDArray[np.int64],
    *,
    sizes: Sequence[int] = DEFAULT_SIZES,
    max_bids: int = DEFAULT_MAX_BIDS,
    threads: int | None = None,
) -> dict[str, Floats]:
    """Summary screens from flat ascending bids grouped by tender, tenders ordered by bid count.

    ``values`` holds each tender's bids ascending, tender after tender; ``counts`` (non-decreasing)
    the bid count of each tender. Returns one float array (NaN = undefined) per summary column.
    """
    rows = len(counts)
    out = {c: np.full(rows, np.nan) for c in summary_columns(sizes)}
    starts = np.concatenate(([0], np.cumsum(counts)))
    jobs: list[Callable[[], None]] = []
    for n in np.unique(counts):
        first, stop = np.searchsorted(counts, [n, n + 1])
        block = values[starts[first] : starts[stop]].reshape(stop - first, int(n))
        for k in sizes:
            if n < k:
                continue
            index = subset_index(int(n), k, max_bids)
            for part in _chunks(stop - first, len(index)):
                jobs.append(_job(block[part], index, k, out, first + part.start))
    with ThreadPoolExecutor(threads or os.cpu_count() or 1) as pool:
        for future in [pool.submit(job) for job in jobs]:
            future.result()
    return out


def _job(
    block: Floats, index: npt.NDArray[np.intp], k: int, out: dict[str, Floats], row: int
) -> Callable[[], None]:
    def run() -> None:
        x = [block[:, index[:, j]] for j in range(k)]
        for screen, y in subset_screens(x, k).items():
            for stat, value in zip(STATS, _summarise(y), strict=True):
                out[f"{screen}_k{k}_{stat}"][row : row + len(block)] = value

    return run


def summary_screens(
    bids: pl.DataFrame | pl.LazyFrame,
    *,
    sizes: Sequence[int] = DEFAULT_SIZES,
    max_bids: int = DEFAULT_MAX_BIDS,
    threads: int | None = None,
) -> pl.DataFrame:
    """One row per tender: ``<screen>_k<k>_<mean|median|min|max>`` over its k-bid subsets.

    ``bids`` has ``tender_id`` and ``amount`` (validated as for the tender screens). A tender
    with fewer than k bids has nulls for size k; a statistic is taken over the subsets where the
    screen is defined and is null when it is defined on none (for example RD when every subset has
    equal losing bids). ``kurt`` exists only for k ≥ 4. ``summary_sampled`` is true for tenders
    with more than ``max_bids`` bids, whose summary comes from the seeded sample of subsets
    described in the module docstring. Rows are ordered by ``tender_id``.
    """
    from ggzy.supervision.screens import validated_bids

    if max_bids < max(sizes):
        raise ValueError(f"max_bids: must be at least the largest subset size, got {max_bids}")
    grouped = (
        validated_bids(bids)
        .group_by("tender_id")
        .agg(pl.col("amount").sort().alias("b"))
        .with_columns(pl.col("b").list.len().cast(pl.Int64).alias("n"))
        .sort("n", "tender_id")
        .collect()
    )
    values = grouped["b"].explode().to_numpy().astype(np.float64, copy=False)
    counts = grouped["n"].to_numpy()
    arrays = summary_screens_sorted(values, counts, sizes=sizes, max_bids=max_bids, threads=threads)
    frame = pl.DataFrame({"tender_id": grouped["tender_id"], **arrays})
    return (
        frame.with_columns(pl.col(list(arrays)).fill_nan(None))
        .with_columns(summary_sampled=pl.Series(counts > max_bids))
        .sort("tender_id")
    )
