"""Distribution divergence from top-k logprobs: KL(ref || cand) and top-1 agreement.

Providers return at most the top-k alternatives per position (k <= 20), so the full next-token
distributions are unknown. Per position we build two distributions over the *union* of both
top-k lists plus one "other" bucket (docs/scoring.md, "KL divergence"):

- a listed token keeps its probability;
- a token listed only by the other side gets an even share of this side's missing mass
  m = 1 - sum(listed), capped by the smallest probability this side listed (an unlisted token
  cannot be more likely than a listed one), shares computed with one extra share reserved for
  the rest of the vocabulary;
- "other" holds what is left of m, so each side sums to 1.

KL is then exact on that coarsened space. Merging the vocabulary tail into one bucket can only
lower KL (data-processing inequality); the estimated entries may move it either way, which is why
positions where either side's missing mass exceeds MISSING_MASS_FLAG are counted and reported.
Logprobs of -9999 ("not in the top 20" on OpenAI) or below ABSENT_LOGPROB, and non-finite
values, are treated as absent.

Comparisons are batched: the needed rows of every answer in a batch are flattened once into
id/probability arrays, and KL for all compared positions of all pairs is a few numpy operations.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from operator import itemgetter

import numpy as np

from vvtui.model import TopColumn

ABSENT_LOGPROB = -9000.0
MISSING_MASS_FLAG = 0.2
# Probability floor for the candidate side: bounds one position's KL (about 13.8 nats) when
# rounding leaves a side no missing mass for a token the other side lists.
_EPS = 1e-6

TopList = Sequence[tuple[str, float]]


@dataclass(slots=True)
class LogprobStats:
    """KL and top-1 agreement over compared positions of one pair of answers."""

    positions: int = 0
    kl_sum: float = 0.0
    top1_agree: int = 0
    # Positions where either side's listed alternatives miss more than MISSING_MASS_FLAG.
    uncertain: int = 0
    kl_max: float = 0.0

    @property
    def kl_mean(self) -> float | None:
        return self.kl_sum / self.positions if self.positions else None

    @property
    def top1(self) -> float | None:
        return self.top1_agree / self.positions if self.positions else None


_first = itemgetter(0)
_second = itemgetter(1)


def ids_of(keys: Sequence[Hashable], vocab: dict[Hashable, int]) -> np.ndarray:
    """Ids of `keys` in `vocab`, adding unseen keys (C-level lookups: no Python loop per key)."""
    n = len(vocab)
    # Ids are only ever compared for equality, so the order new keys get theirs in is free.
    for key in set(keys).difference(vocab):
        vocab[key] = n
        n += 1
    return np.fromiter(map(vocab.__getitem__, keys), np.int64, len(keys))


@lru_cache(maxsize=32)
def _earlier(k: int) -> np.ndarray:
    return np.tril(np.ones((k, k), dtype=bool), -1)


def _rowsum(x: np.ndarray) -> np.ndarray:
    """Row sums accumulated column by column: padding columns add exact zeros, so a row sums
    to the same bits whatever width its batch was padded to."""
    acc = np.zeros(x.shape[0])
    for j in range(x.shape[1]):
        acc += x[:, j]
    return acc


def rows_to_arrays(
    rows: Sequence[TopList], vocab: dict[Hashable, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ids, probs, top1) for top-k rows: ids (n, k) with -1 where absent, probabilities with
    duplicate strings pooled into their first occurrence and rows rescaled when rounding pushes
    their sum above 1, top1 the id of the most likely listed token (-1 when none)."""
    alts, lps, lengths = _flat_rows(rows, len(rows))
    return _padded_arrays(alts, lps, lengths, vocab)


def _flat_rows(top: Sequence[TopList], m: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The first m rows of a top-k column as (alternatives, logprobs, row lengths)."""
    if isinstance(top, TopColumn):
        alts, lps, ends = top.flat(m)
        ends_np = np.frombuffer(ends, dtype=np.int64) if len(ends) else np.zeros(0, np.int64)
        # np.diff(prepend=0) builds a broadcast array per call; this is the same, cheaper.
        lengths = ends_np.copy()
        lengths[1:] -= ends_np[:-1]
        return alts, np.frombuffer(lps, dtype=np.float64) if len(lps) else np.zeros(0), lengths
    rows = top[:m]
    flat = list(chain.from_iterable(rows))
    lps_np = np.fromiter(map(_second, flat), np.float64, len(flat))
    return list(map(_first, flat)), lps_np, np.fromiter(map(len, rows), np.int64, len(rows))


def _padded_arrays(
    alts: Sequence[Hashable], lps: np.ndarray, lengths: np.ndarray, vocab: dict[Hashable, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`rows_to_arrays` from flattened rows: row i holds the next lengths[i] entries."""
    n = len(lengths)
    k = int(lengths.max()) if n else 0
    if n == 0 or k == 0:
        return np.full((n, k), -1, np.int64), np.zeros((n, k)), np.full(n, -1, np.int64)
    ids = np.full((n, k), -1, np.int64)
    lp = np.full((n, k), -np.inf)
    if int(lengths.min()) == k:
        ids[:] = ids_of(alts, vocab).reshape(n, k)
        lp[:] = lps.reshape(n, k)
    else:
        # Short rows are padded with absent entries (id -1, logprob -inf).
        row = np.repeat(np.arange(n), lengths)
        col = np.arange(len(alts)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        ids[row, col] = ids_of(alts, vocab)
        lp[row, col] = lps
    absent = ~(lp > ABSENT_LOGPROB)  # also NaN and -inf
    lp = np.minimum(lp, 0.0)
    if absent.any():
        ids[absent] = -1
        lp[absent] = -np.inf
    probs = np.exp(lp)
    if k > 1:
        ordered = np.sort(ids, axis=1)
        rows_dup = np.flatnonzero(
            ((ordered[:, 1:] == ordered[:, :-1]) & (ordered[:, 1:] >= 0)).any(1)
        )
        if len(rows_dup):
            # The same string twice in one row (distinct ids decoding alike): pool the mass. Only
            # those rows: on the others pooling adds exact zeros, so they keep their bits as is.
            sub_ids, sub_probs = ids[rows_dup], probs[rows_dup]
            same = (sub_ids[:, :, None] == sub_ids[:, None, :]) & (sub_ids >= 0)[:, :, None]
            dup = (same & _earlier(k)).any(axis=2)
            probs[rows_dup] = np.where(dup, 0.0, np.einsum("iab,ib->ia", same, sub_probs))
            ids[rows_dup] = np.where(dup, -1, sub_ids)
    mass = _rowsum(probs)
    over = mass > 1.0
    if over.any():
        probs[over] /= mass[over, None]
    top1 = ids[np.arange(n), np.argmax(lp, axis=1)]  # -1 when the row lists nothing usable
    return ids, probs, top1


def _safe_log_ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.log(np.maximum(num, 1e-300)) - np.log(np.maximum(den, _EPS))


def _kl_arrays(
    pi: np.ndarray, pp: np.ndarray, pt: np.ndarray, qi: np.ndarray, qp: np.ndarray, qt: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per row: (KL(p || q), same top-1, missing mass large, usable) on the union-plus-other
    space of the module docstring. ids -1 mark absent entries."""
    vp, vq = pi >= 0, qi >= 0
    usable = np.logical_and(vp.any(axis=1), vq.any(axis=1))
    eq = (pi[:, :, None] == qi[:, None, :]) & vp[:, :, None]
    p_in_q = eq.any(axis=2)
    q_in_p = eq.any(axis=1)
    # At most one match per entry (ids are unique within a row), so this "sum" is exact.
    q_for_p = np.einsum("iab,ib->ia", eq, qp)
    miss_p = np.maximum(0.0, 1.0 - _rowsum(pp))
    miss_q = np.maximum(0.0, 1.0 - _rowsum(qp))
    only_q = vq & ~q_in_p  # listed by the candidate only: unlisted for the reference
    only_p = vp & ~p_in_q
    u_p = only_q.sum(axis=1)
    u_q = only_p.sum(axis=1)
    min_p = np.where(vp, pp, np.inf).min(axis=1)
    min_q = np.where(vq, qp, np.inf).min(axis=1)
    share_p = np.where(u_p > 0, np.minimum(min_p, miss_p / (u_p + 1)), 0.0)
    share_q = np.where(u_q > 0, np.minimum(min_q, miss_q / (u_q + 1)), 0.0)
    other_p = np.maximum(0.0, miss_p - share_p * u_p)
    other_q = np.maximum(0.0, miss_q - share_q * u_q)
    q_at_p = np.where(p_in_q, q_for_p, share_q[:, None])
    listed = _rowsum(np.where(vp & (pp > 0), pp * _safe_log_ratio(pp, q_at_p), 0.0))
    sp = share_p[:, None]
    estimated = _rowsum(np.where(only_q & (sp > 0), sp * _safe_log_ratio(sp, qp), 0.0))
    rest = np.where(other_p > 0, other_p * _safe_log_ratio(other_p, other_q), 0.0)
    kl = np.maximum(0.0, listed + estimated + rest)
    same = (pt == qt) & (pt >= 0)
    uncertain = np.maximum(miss_p, miss_q) > MISSING_MASS_FLAG
    return kl, same, uncertain, usable


@dataclass(slots=True)
class KLJob:
    """Compare positions [0, upto) of two top-k columns. `ref_key`/`cand_key` name the answers
    (a batch flattens each named answer once, however many jobs use it); `stats` is filled by
    `run_kl_jobs`. With `identical`, the candidate's rows equal the reference's: KL 0."""

    ref_key: Hashable
    ref_top: Sequence[TopList]
    cand_key: Hashable
    cand_top: Sequence[TopList]
    upto: int
    identical: bool = False
    stats: LogprobStats | None = None

    @property
    def size(self) -> int:
        return min(self.upto, len(self.ref_top), len(self.cand_top))


def run_kl_jobs(
    jobs: Sequence[KLJob], vocab: dict[Hashable, int] | None = None, max_rows: int = 20_000
) -> None:
    """Fill every job's stats. Per-job sums use `math.fsum`, which is exact, so a job's numbers
    do not depend on which other jobs shared its batch."""
    vocab = {} if vocab is None else vocab
    start = 0
    while start < len(jobs):
        end, rows = start, 0
        while end < len(jobs) and (end == start or rows < max_rows):
            rows += 2 * jobs[end].size
            end += 1
        _run_chunk(jobs[start:end], vocab)
        start = end


def _run_chunk(jobs: Sequence[KLJob], vocab: dict[Hashable, int]) -> None:
    need: dict[Hashable, int] = {}
    tops: dict[Hashable, Sequence[TopList]] = {}
    for job in jobs:
        m = job.size
        need[job.ref_key] = max(need.get(job.ref_key, 0), m)
        tops[job.ref_key] = job.ref_top
        if not job.identical:
            need[job.cand_key] = max(need.get(job.cand_key, 0), m)
            tops[job.cand_key] = job.cand_top
    offsets: dict[Hashable, int] = {}
    alts: list[Hashable] = []
    lps: list[np.ndarray] = []
    lengths: list[np.ndarray] = []
    n_rows = 0
    for key, m in need.items():
        offsets[key] = n_rows
        a, lp, ln = _flat_rows(tops[key], m)
        alts += a
        lps.append(lp)
        lengths.append(ln)
        n_rows += len(ln)
    ids, probs, top1 = _padded_arrays(
        alts,
        np.concatenate(lps) if lps else np.zeros(0),
        np.concatenate(lengths) if lengths else np.zeros(0, np.int64),
        vocab,
    )
    sizes = np.array([job.size for job in jobs], dtype=np.int64)
    if ids.shape[1] == 0 or not sizes.any():
        for job in jobs:  # nothing listed anywhere: no position can be compared
            job.stats = LogprobStats()
        return
    # Row indices of each job's positions, for both sides (identical jobs compare ref to ref).
    within = np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    ref_at = np.repeat([offsets[j.ref_key] for j in jobs], sizes) + within
    cand_at = (
        np.repeat([offsets[j.ref_key if j.identical else j.cand_key] for j in jobs], sizes) + within
    )
    kl, same, uncertain, usable = _kl_arrays(
        ids[ref_at], probs[ref_at], top1[ref_at], ids[cand_at], probs[cand_at], top1[cand_at]
    )
    kl_list = kl.tolist()
    use_list = usable.tolist()

    def running(flags: np.ndarray) -> list[int]:
        # Counts over any job's rows as a difference of two running totals (exact integers).
        return np.concatenate(([0], np.cumsum(flags, dtype=np.int64))).tolist()

    n_usable = running(usable)
    n_same = running(same & usable)
    n_unsure = running(uncertain & usable)
    pos = 0
    for job, n in zip(jobs, sizes.tolist(), strict=True):
        stats = LogprobStats()
        end = pos + n
        count = n_usable[end] - n_usable[pos]
        if count:
            if count == n:
                values = kl_list[pos:end]
            else:
                values = [v for v, u in zip(kl_list[pos:end], use_list[pos:end], strict=True) if u]
            stats.positions = count
            stats.kl_sum = 0.0 if job.identical else math.fsum(values)
            stats.kl_max = 0.0 if job.identical else max(values)
            stats.top1_agree = n_same[end] - n_same[pos]
            stats.uncertain = n_unsure[end] - n_unsure[pos]
        pos = end
        job.stats = stats


def compare_tops(
    ref_top: Sequence[TopList], cand_top: Sequence[TopList], upto: int
) -> LogprobStats:
    """KL and top-1 agreement over positions [0, upto) of two `Tokens.top` columns: callers
    pass the shared prefix plus the first divergent position (the last place both sides saw
    the same context)."""
    job = KLJob("ref", ref_top, "cand", cand_top, upto)
    run_kl_jobs([job])
    assert job.stats is not None
    return job.stats


def position_kl(ref: TopList, cand: TopList) -> tuple[float, bool, bool] | None:
    """(KL(ref || cand), same top-1, missing mass large) at one position, or None when either
    side lists no usable alternative."""
    vocab: dict[Hashable, int] = {}
    pi, pp, pt = rows_to_arrays([ref], vocab)
    qi, qp, qt = rows_to_arrays([cand], vocab)
    k = max(pi.shape[1], qi.shape[1])
    if k == 0:
        return None

    def pad(x: np.ndarray, fill: float) -> np.ndarray:
        out = np.full((1, k), fill, dtype=x.dtype)
        out[:, : x.shape[1]] = x
        return out

    kl, same, uncertain, usable = _kl_arrays(
        pad(pi, -1), pad(pp, 0.0), pt, pad(qi, -1), pad(qp, 0.0), qt
    )
    if not usable[0]:
        return None
    return float(kl[0]), bool(same[0]), bool(uncertain[0])


def kl_by_position(
    ref_top: Sequence[TopList], cand_top: Sequence[TopList], upto: int
) -> list[float | None]:
    """KL(ref || cand) at each position [0, upto) of two top-k columns, with the estimator
    `run_kl_jobs` sums (None where either side lists no usable alternative). Their sum over the
    usable positions is that job's `kl_sum`: the per-position view of the same number."""
    m = min(upto, len(ref_top), len(cand_top))
    if m <= 0:
        return []
    vocab: dict[Hashable, int] = {}
    pi, pp, pt = rows_to_arrays(ref_top[:m], vocab)
    qi, qp, qt = rows_to_arrays(cand_top[:m], vocab)
    k = max(pi.shape[1], qi.shape[1])
    if k == 0:
        return [None] * m

    def pad(x: np.ndarray, fill: float) -> np.ndarray:
        out = np.full((m, k), fill, dtype=x.dtype)
        out[:, : x.shape[1]] = x
        return out

    kl, _same, _uncertain, usable = _kl_arrays(
        pad(pi, -1), pad(pp, 0.0), pt, pad(qi, -1), pad(qp, 0.0), qt
    )
    return [float(v) if u else None for v, u in zip(kl.tolist(), usable.tolist(), strict=True)]
