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
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

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


class Row(NamedTuple):
    """One position's listed alternatives: probabilities (absent entries dropped, duplicates
    pooled), the top-1 token and the listed mass."""

    probs: dict[str, float]
    top1: str | None
    mass: float


def prepare(row: TopList) -> Row:
    probs: dict[str, float] = {}
    best = None
    best_lp = -math.inf
    exp = math.exp
    for token, lp in row:
        # Also drops NaN and -inf; None never reaches here (Tokens.from_dict makes floats).
        if not lp > ABSENT_LOGPROB:
            continue
        probs[token] = probs.get(token, 0.0) + exp(lp if lp < 0.0 else 0.0)
        if lp > best_lp:
            best, best_lp = token, lp
    return Row(probs, best, sum(probs.values()))


class LazyRows:
    """Prepared rows of one result's `Tokens.top`, built on first access per position (a
    comparison usually needs only the shared prefix)."""

    __slots__ = ("_rows", "raw")

    def __init__(self, raw: Sequence[TopList]) -> None:
        self.raw = raw
        self._rows: list[Row | None] = [None] * len(raw)

    def __len__(self) -> int:
        return len(self.raw)

    def __getitem__(self, i: int) -> Row:
        row = self._rows[i]
        if row is None:
            row = self._rows[i] = prepare(self.raw[i])
        return row


def prepare_rows(top: Sequence[TopList]) -> list[Row]:
    return [prepare(row) for row in top]


def _complete(listed: Row, union: set[str]) -> tuple[dict[str, float], float, float]:
    """This side's probabilities over `union` plus the "other" bucket, and its missing mass."""
    probs = listed.probs
    total = listed.mass
    if total > 1.0:  # rounding in the provider's logprobs
        probs = {t: p / total for t, p in probs.items()}
        total = 1.0
    missing = max(0.0, 1.0 - total)
    unlisted = [t for t in union if t not in probs]
    out = dict(probs)
    if unlisted:
        cap = min(probs.values())
        share = min(cap, missing / (len(unlisted) + 1))
        for t in unlisted:
            out[t] = share
        missing_left = missing - share * len(unlisted)
    else:
        missing_left = missing
    return out, max(0.0, missing_left), missing


def row_kl(p_row: Row, q_row: Row) -> tuple[float, bool, bool] | None:
    """(KL(p || q), same top-1, missing mass large) at one position, or None when either side
    lists no usable alternative."""
    if not p_row.probs or not q_row.probs:
        return None
    same_top1 = p_row.top1 == q_row.top1
    if p_row.probs == q_row.probs:
        return 0.0, same_top1, 1.0 - min(p_row.mass, 1.0) > MISSING_MASS_FLAG
    union = set(p_row.probs) | set(q_row.probs)
    p, p_other, p_missing = _complete(p_row, union)
    q, q_other, q_missing = _complete(q_row, union)
    kl = 0.0
    for t, pt in p.items():
        if pt > 0.0:
            kl += pt * math.log(pt / max(q.get(t, 0.0), _EPS))
    if p_other > 0.0:
        kl += p_other * math.log(p_other / max(q_other, _EPS))
    uncertain = max(p_missing, q_missing) > MISSING_MASS_FLAG
    return max(0.0, kl), same_top1, uncertain


def position_kl(ref: TopList, cand: TopList) -> tuple[float, bool, bool] | None:
    """`row_kl` on raw (token, logprob) lists."""
    return row_kl(prepare(ref), prepare(cand))


def compare_rows(
    ref_rows: Sequence[Row] | LazyRows, cand_rows: Sequence[Row] | LazyRows, upto: int
) -> LogprobStats:
    """KL and top-1 agreement over positions [0, upto): callers pass the shared prefix plus the
    first divergent position (the last place both sides saw the same context)."""
    stats = LogprobStats()
    both_lazy = isinstance(ref_rows, LazyRows) and isinstance(cand_rows, LazyRows)
    for i in range(min(upto, len(ref_rows), len(cand_rows))):
        if both_lazy and ref_rows.raw[i] == cand_rows.raw[i]:  # type: ignore[union-attr]
            # Identical alternatives (a faithful endpoint's usual case): KL 0, same top-1.
            row = ref_rows[i]
            if not row.probs:
                continue
            kl, same, unsure = 0.0, True, 1.0 - min(row.mass, 1.0) > MISSING_MASS_FLAG
        else:
            found = row_kl(ref_rows[i], cand_rows[i])
            if found is None:
                continue
            kl, same, unsure = found
        stats.positions += 1
        stats.kl_sum += kl
        stats.top1_agree += int(same)
        stats.uncertain += int(unsure)
        if kl > stats.kl_max:
            stats.kl_max = kl
    return stats


def compare_tops(
    ref_top: Sequence[TopList], cand_top: Sequence[TopList], upto: int
) -> LogprobStats:
    """`compare_rows` on raw top-k columns (`Tokens.top`)."""
    return compare_rows(LazyRows(ref_top), LazyRows(cand_top), upto)
