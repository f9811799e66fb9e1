"""Answers cut short: where the reference finished and the candidate did not.

A host that lowers `max_tokens` (to save compute, or by a wrong default) returns answers that
agree with the reference token for token up to the cut, so the token part, which reads only the
opening TOKEN_WINDOW tokens, never sees a late cut. This part looks at how each answer ended
instead, wherever in the answer that is (docs/scoring.md, "Truncation").
"""

from __future__ import annotations

import math

from vvtui.model import Result

# Finish reasons of an answer that ended on its own or on the token limit. A tool call, a
# content filter or an error is some other ending: not a cut.
_ENDED = ("stop", "length", None)
# One-sided 95% normal quantile: sampled probes count only an excess of length endings that
# chance would not give.
LENGTH_Z = 1.645


def cut_at(ref: Result, cand: Result, ref_len: int, cand_len: int, common: int) -> int | None:
    """The candidate's length in tokens when its answer was cut short against the reference's,
    else None.

    `ref_len` and `cand_len` are both answers' lengths in the tokens they were aligned on and
    `common` their common prefix. Cut when the candidate hit the token limit (`length`) where
    the reference, under the same probe and so the same `max_tokens`, stopped by itself; or when
    the candidate's answer is a proper, non-empty prefix of the reference's (it stopped while the
    reference's text goes on, whatever finish reason it reported).
    """
    if cand.finish_reason not in _ENDED:
        return None
    if cand.finish_reason == "length" and ref.finish_reason == "stop":
        return cand_len
    if 0 < cand_len == common < ref_len:
        return cand_len
    return None


def length_excess(cand: list[Result], ref: list[Result]) -> float | None:
    """How much more often the candidate's samples hit the token limit than the reference's,
    beyond chance: the difference of the two rates less 1.645 standard errors of it (a one-sided
    95% margin, as the MMD part subtracts its permutation null), never below 0. None when either
    side has no samples. Ten samples a side: 1 cut against 0 costs nothing, 10 against 0 costs
    0.63."""
    if not cand or not ref:
        return None
    n_c, n_r = len(cand), len(ref)
    hit_c = sum(r.finish_reason == "length" for r in cand)
    hit_r = sum(r.finish_reason == "length" for r in ref)
    pooled = (hit_c + hit_r) / (n_c + n_r)
    margin = LENGTH_Z * math.sqrt(pooled * (1.0 - pooled) * (1.0 / n_c + 1.0 / n_r))
    return max(0.0, hit_c / n_c - hit_r / n_r - margin)
