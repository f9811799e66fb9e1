"""Token alignment of a candidate answer against the reference's.

Algorithm (see docs/scoring.md, "Alignment"):

1. Tokens become integer ids (one shared vocabulary for both sides).
2. The common prefix and suffix are stripped with vectorised comparisons (most of a faithful
   answer, in one numpy call).
3. What is left is diffed recursively. A region small enough (n*m <= EXACT_CELLS) gets an
   exact longest common subsequence (bit-parallel: one Python big int per table row). A larger
   region is split on *patience anchors*: tokens occurring exactly once on each side, kept in
   increasing order on both sides by a longest increasing subsequence. Gaps between anchors
   that are already identical are recognised in one vectorised pass; only gaps that differ
   recurse. A large region without any anchor is reported as one replacement.
4. A semantic clean-up absorbs tiny coincidental matches (at most SPURIOUS_MAX tokens, no longer
   than the edits on both sides) into the surrounding replacement, so highlighting of
   unrelated spans is not confetti of " the" and ",". `agreement` is computed before it.

Cost: identical or nearly identical answers are O(n) in numpy; answers that differ everywhere are
bounded by the anchor split and the exact-table cap (measured in benchmarks/scoring.py).
`difflib.SequenceMatcher` is not used: without `autojunk=False` it silently ignores frequent
tokens, and with it its worst case is quadratic in pure Python.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

# Regions up to this many table cells are aligned exactly (bit-parallel: ~2 ms at 2000 x 2000).
EXACT_CELLS = 4_000_000
# Matches of at most this many tokens, squeezed between larger edits, are treated as chance.
SPURIOUS_MAX = 2
_MAX_DEPTH = 64


class Op(NamedTuple):
    """One alignment block: reference tokens [i1, i2) against candidate tokens [j1, j2).

    tag: "equal" | "replace" | "delete" (only in the reference) | "insert" (only in the candidate).
    """

    tag: str
    i1: int
    i2: int
    j1: int
    j2: int

    def to_list(self) -> list[object]:
        return [self.tag, self.i1, self.i2, self.j1, self.j2]


@dataclass(slots=True)
class Alignment:
    ops: list[Op]
    n_ref: int
    n_cand: int
    # Index (in both sequences: the prefix before it is shared) of the first differing token.
    first_divergence: int | None
    # Tokens in a longest common subsequence (exact for regions up to EXACT_CELLS; on larger
    # ones, the subsequence the anchors found). Chance matches count here, not in `ops`.
    matched: int
    # matched / max(n_ref, n_cand); 1.0 for two empty answers.
    agreement: float


def align(ref_tokens: Sequence[Hashable], cand_tokens: Sequence[Hashable]) -> Alignment:
    """Align two token sequences (strings, bytes or ids). See the module docstring."""
    vocab: dict[Hashable, int] = {}
    a = encode_ids(ref_tokens, vocab)
    b = encode_ids(cand_tokens, vocab)
    return align_ids(a, b)


def encode_ids(tokens: Sequence[Hashable], vocab: dict[Hashable, int]) -> np.ndarray:
    get = vocab.setdefault
    return np.fromiter((get(t, len(vocab)) for t in tokens), dtype=np.int64, count=len(tokens))


def align_ids(a: np.ndarray, b: np.ndarray) -> Alignment:
    n, m = len(a), len(b)
    raw: list[tuple[str, int, int, int, int]] = []
    if n == m and (n == 0 or np.array_equal(a, b)):
        if n:
            raw.append(("equal", 0, n, 0, m))
    else:
        _diff(a, b, 0, n, 0, m, raw, 0)
    # Agreement counts the common subsequence before chance matches are absorbed: its length
    # is the same whichever longest subsequence the traceback picked, so it is well defined
    # and never rises when tokens are corrupted. The clean-up only shapes the highlighting.
    matched = sum(i2 - i1 for tag, i1, i2, _, _ in raw if tag == "equal")
    ops = _cleanup(_coalesce(raw))
    first = None
    for op in ops:
        if op.tag != "equal":
            first = op.i1
            break
    longest = max(n, m)
    agreement = 1.0 if longest == 0 else matched / longest
    return Alignment(ops, n, m, first, matched, agreement)


# Answers up to this many tokens are counted with plain Python lists in `match_stats`: for them
# numpy's per-call overhead costs more than the work (a re-score makes thousands of such calls).
_SMALL = 512


def match_stats(a: np.ndarray, b: np.ndarray) -> tuple[int, int | None]:
    """(matched, first_divergence) exactly as `align_ids` reports them, without building the
    blocks: the same recursion, but exact regions stop after the forward pass. Scoring needs
    only these; the blocks are for highlighting."""
    n, m = len(a), len(b)
    if n <= _SMALL and m <= _SMALL:
        # What `_diff` does, on lists: the region left after stripping the common prefix and
        # suffix is at most _SMALL**2 <= EXACT_CELLS cells, so its LCS is always exact.
        la, lb = a.tolist(), b.tolist()
        if la == lb:
            return n, None
        k = min(n, m)
        p = 0
        while p < k and la[p] == lb[p]:
            p += 1
        s = 0
        while s < k - p and la[n - 1 - s] == lb[m - 1 - s]:
            s += 1
        return p + s + _lcs_length(la[p : n - s], lb[p : m - s]), p
    if n == m and (n == 0 or np.array_equal(a, b)):
        return n, None
    raw: list[tuple[str, int, int, int, int]] = []
    _diff(a, b, 0, n, 0, m, raw, 0, count_only=True)
    matched = sum(i2 - i1 for tag, i1, i2, _, _ in raw if tag == "equal")
    return matched, _common_prefix(a, b)


# --------------------------------------------------------------------------------------------
# Recursive diff


def _common_prefix(a: np.ndarray, b: np.ndarray) -> int:
    k = min(len(a), len(b))
    if k == 0:
        return 0
    neq = np.flatnonzero(a[:k] != b[:k])
    return int(neq[0]) if len(neq) else k


def _common_suffix(a: np.ndarray, b: np.ndarray) -> int:
    k = min(len(a), len(b))
    if k == 0:
        return 0
    neq = np.flatnonzero(a[len(a) - k :][::-1] != b[len(b) - k :][::-1])
    return int(neq[0]) if len(neq) else k


def _diff(
    a: np.ndarray,
    b: np.ndarray,
    i1: int,
    i2: int,
    j1: int,
    j2: int,
    out: list[tuple[str, int, int, int, int]],
    depth: int,
    count_only: bool = False,
) -> None:
    """Append ops aligning a[i1:i2] with b[j1:j2] (absolute indices). With `count_only`, exact
    regions append one equal block holding just their LCS length (no traceback)."""
    sa, sb = a[i1:i2], b[j1:j2]
    p = _common_prefix(sa, sb)
    if p:
        out.append(("equal", i1, i1 + p, j1, j1 + p))
        i1 += p
        j1 += p
        sa, sb = sa[p:], sb[p:]
    s = _common_suffix(sa, sb)
    tail = None
    if s:
        tail = ("equal", i2 - s, i2, j2 - s, j2)
        i2 -= s
        j2 -= s
        sa, sb = sa[: len(sa) - s], sb[: len(sb) - s]
    n, m = i2 - i1, j2 - j1
    if n == 0 and m == 0:
        pass
    elif n == 0:
        out.append(("insert", i1, i1, j1, j2))
    elif m == 0:
        out.append(("delete", i1, i2, j1, j1))
    elif n * m <= EXACT_CELLS:
        _lcs(sa, sb, i1, j1, out, count_only)
    elif depth >= _MAX_DEPTH:
        out.append(("replace", i1, i2, j1, j2))
    else:
        _patience(sa, sb, i1, j1, out, depth, count_only)
    if tail is not None:
        out.append(tail)


def _lcs(
    a: np.ndarray,
    b: np.ndarray,
    i0: int,
    j0: int,
    out: list[tuple[str, int, int, int, int]],
    count_only: bool = False,
) -> None:
    """Exact LCS alignment with the bit-parallel algorithm (Allison-Dix, Hyyro): one row of the
    LCS table is an m-bit Python int whose zero bits mark the columns where the row's value
    steps up, so a row costs a few big-int operations (m/64 machine words each) instead of m
    Python steps. Rows are kept for the traceback, where L(i, j) is a masked popcount."""
    la, lb = a.tolist(), b.tolist()
    if count_only:
        value = _lcs_length(la, lb)
        if value:
            out.append(("equal", i0, i0 + value, j0, j0 + value))
        return
    n, m = len(la), len(lb)
    full = (1 << m) - 1
    masks: dict[int, int] = {}
    for j, token in enumerate(lb):
        masks[token] = masks.get(token, 0) | (1 << j)
    rows = [full]
    v = full
    for token in la:
        u = v & masks.get(token, 0)
        v = ((v + u) | (v - u)) & full
        rows.append(v)

    # Traceback from match to match. Bit c of ~row_i is set where row i steps up at column c+1,
    # so L(i, j) = popcount(~row_i & (2^j - 1)). At value v the path leaves the first row that
    # still reaches v within columns < j, and the match is the last step of that row below j:
    # the highest set bit of ~row_i & (2^j - 1).
    i, j, value = n, m, m - rows[n].bit_count()
    matches: list[tuple[int, int]] = []
    while value > 0:
        mask = (1 << j) - 1
        while j - (rows[i - 1] & mask).bit_count() == value:
            i -= 1
        c = (~rows[i] & mask).bit_length() - 1
        matches.append((i - 1, c))
        i -= 1
        j = c
        value -= 1
    matches.reverse()
    x, y = 0, 0  # next unaligned positions
    k = 0
    while k < len(matches):
        mi, mj = matches[k]
        if mi > x or mj > y:
            out.append(("replace", i0 + x, i0 + mi, j0 + y, j0 + mj))
        run = 1
        while (
            k + run < len(matches)
            and matches[k + run][0] == mi + run
            and matches[k + run][1] == mj + run
        ):
            run += 1
        out.append(("equal", i0 + mi, i0 + mi + run, j0 + mj, j0 + mj + run))
        x, y = mi + run, mj + run
        k += run
    if x < n or y < m:
        out.append(("replace", i0 + x, i0 + n, j0 + y, j0 + m))


def _lcs_length(la: list[int], lb: list[int]) -> int:
    """Length of a longest common subsequence, by the forward pass of `_lcs` alone. A token that
    occurs on one side only can be in no common subsequence, so both sides are first cut down to
    the tokens they share: after a divergence that is most of them gone."""
    in_b = set(lb)
    la = [t for t in la if t in in_b]
    if not la:
        return 0
    in_a = set(la)
    lb = [t for t in lb if t in in_a]
    m = len(lb)
    full = (1 << m) - 1
    masks: dict[int, int] = {}
    for j, token in enumerate(lb):
        masks[token] = masks.get(token, 0) | (1 << j)
    v = full
    for token in la:
        u = v & masks[token]
        v = ((v + u) | (v - u)) & full
    return m - v.bit_count()


def _unique_positions(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Values occurring exactly once in x, and their positions."""
    values, first, counts = np.unique(x, return_index=True, return_counts=True)
    once = counts == 1
    return values[once], first[once]


def _patience(
    a: np.ndarray,
    b: np.ndarray,
    i0: int,
    j0: int,
    out: list[tuple[str, int, int, int, int]],
    depth: int,
    count_only: bool = False,
) -> None:
    va, pa = _unique_positions(a)
    vb, pb = _unique_positions(b)
    common, ia, ib = np.intersect1d(va, vb, assume_unique=True, return_indices=True)
    if len(common) == 0:
        out.append(("replace", i0, i0 + len(a), j0, j0 + len(b)))
        return
    pos_a = pa[ia]
    pos_b = pb[ib]
    order = np.argsort(pos_a, kind="stable")
    pos_a, pos_b = pos_a[order], pos_b[order]
    keep = _lis_indices(pos_b.tolist())
    anchors_a = pos_a[keep]
    anchors_b = pos_b[keep]
    # Gaps between consecutive anchors (and before the first / after the last): a gap whose two
    # sides have the same length and the same content is a plain continuation of the match.
    starts_a = np.concatenate(([0], anchors_a + 1))
    ends_a = np.concatenate((anchors_a, [len(a)]))
    starts_b = np.concatenate(([0], anchors_b + 1))
    ends_b = np.concatenate((anchors_b, [len(b)]))
    len_a = ends_a - starts_a
    len_b = ends_b - starts_b
    same_len = len_a == len_b
    identical = same_len & (len_a == 0)
    check = np.flatnonzero(same_len & (len_a > 0))
    if len(check):
        lens = len_a[check]
        gap_id = np.repeat(np.arange(len(check)), lens)
        offsets = np.arange(int(lens.sum())) - np.repeat(np.cumsum(lens) - lens, lens)
        idx_a = np.repeat(starts_a[check], lens) + offsets
        idx_b = np.repeat(starts_b[check], lens) + offsets
        mismatches = np.bincount(gap_id, weights=a[idx_a] != b[idx_b], minlength=len(check))
        identical[check[mismatches == 0]] = True
    n_gaps = len(starts_a)
    for g in range(n_gaps):
        sa, ea, sb, eb = int(starts_a[g]), int(ends_a[g]), int(starts_b[g]), int(ends_b[g])
        if identical[g]:
            if ea > sa:
                out.append(("equal", i0 + sa, i0 + ea, j0 + sb, j0 + eb))
        else:
            _diff_slice(a, b, sa, ea, sb, eb, i0, j0, out, depth + 1, count_only)
        if g < n_gaps - 1:
            x, y = int(anchors_a[g]), int(anchors_b[g])
            out.append(("equal", i0 + x, i0 + x + 1, j0 + y, j0 + y + 1))


def _diff_slice(
    a: np.ndarray,
    b: np.ndarray,
    sa: int,
    ea: int,
    sb: int,
    eb: int,
    i0: int,
    j0: int,
    out: list[tuple[str, int, int, int, int]],
    depth: int,
    count_only: bool = False,
) -> None:
    sub: list[tuple[str, int, int, int, int]] = []
    _diff(a[sa:ea], b[sb:eb], 0, ea - sa, 0, eb - sb, sub, depth, count_only)
    for tag, x1, x2, y1, y2 in sub:
        out.append((tag, i0 + sa + x1, i0 + sa + x2, j0 + sb + y1, j0 + sb + y2))


def _lis_indices(seq: list[int]) -> list[int]:
    """Indices of a longest strictly increasing subsequence (patience sorting, O(k log k))."""
    tails: list[int] = []
    tail_idx: list[int] = []
    parent = [-1] * len(seq)
    for k, v in enumerate(seq):
        pos = bisect_left(tails, v)
        if pos == len(tails):
            tails.append(v)
            tail_idx.append(k)
        else:
            tails[pos] = v
            tail_idx[pos] = k
        parent[k] = tail_idx[pos - 1] if pos else -1
    out: list[int] = []
    k = tail_idx[-1] if tail_idx else -1
    while k >= 0:
        out.append(k)
        k = parent[k]
    out.reverse()
    return out


# --------------------------------------------------------------------------------------------
# Post-processing


def _coalesce(raw: list[tuple[str, int, int, int, int]]) -> list[tuple[str, int, int, int, int]]:
    """Merge adjacent equal blocks, and runs of edits between equal blocks into one edit.
    Plain tuples here and in `_cleanup` (an `Op` is built once per final block): on two
    unrelated 10k-token answers there are thousands of raw blocks."""
    ops: list[tuple[str, int, int, int, int]] = []
    pend: list[int] | None = None  # [i1, i2, j1, j2] of the pending edit run
    for tag, i1, i2, j1, j2 in raw:
        if i1 == i2 and j1 == j2:
            continue
        if tag == "equal":
            if pend is not None:
                ops.append(_edit(*pend))
                pend = None
            if ops and ops[-1][0] == "equal" and ops[-1][2] == i1 and ops[-1][4] == j1:
                last = ops[-1]
                ops[-1] = ("equal", last[1], i2, last[3], j2)
            else:
                ops.append(("equal", i1, i2, j1, j2))
        elif pend is None:
            pend = [i1, i2, j1, j2]
        else:
            pend[1] = i2
            pend[3] = j2
    if pend is not None:
        ops.append(_edit(*pend))
    return ops


def _edit(i1: int, i2: int, j1: int, j2: int) -> tuple[str, int, int, int, int]:
    if i1 == i2:
        return ("insert", i1, i2, j1, j2)
    if j1 == j2:
        return ("delete", i1, i2, j1, j2)
    return ("replace", i1, i2, j1, j2)


def _cleanup(ops: list[tuple[str, int, int, int, int]]) -> list[Op]:
    """Absorb chance matches: an equal block of at most SPURIOUS_MAX tokens that is no longer
    than the edit on either side of it becomes part of one replacement with both edits. One
    left-to-right pass with a stack; a grown edit may absorb the chance match before it too."""
    if len(ops) < 3:
        return [Op(*op) for op in ops]
    stack: list[tuple[str, int, int, int, int]] = []
    for op in ops:
        if op[0] == "equal":
            stack.append(op)
            continue
        cur = op
        while stack:
            top = stack[-1]
            if top[0] != "equal":
                stack.pop()
                cur = _edit(top[1], cur[2], top[3], cur[4])
                continue
            if len(stack) >= 2:
                size = max(top[2] - top[1], top[4] - top[3])
                before = stack[-2]
                if (
                    size <= SPURIOUS_MAX
                    and size <= max(before[2] - before[1], before[4] - before[3])
                    and size <= max(cur[2] - cur[1], cur[4] - cur[3])
                ):
                    stack.pop()
                    stack.pop()
                    cur = _edit(before[1], cur[2], before[3], cur[4])
                    continue
            break
        stack.append(cur)
    return [Op(*op) for op in stack]
