"""Answers cut short: where the reference finished and the candidate did not.

A host that lowers `max_tokens` (to save compute, or by a wrong default) returns answers that
agree with the reference token for token up to the cut, so the token part, which reads only the
opening TOKEN_WINDOW tokens, never sees a late cut. This part looks at how each answer ended
instead, wherever in the answer that is (docs/scoring.md, "Truncation").
"""

from __future__ import annotations

from vvtui.model import Result

# Finish reasons of an answer that ended on its own or on the token limit. A tool call, a
# content filter or an error is some other ending: not a cut.
_ENDED = ("stop", "length", None)


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


def length_rate(results: list[Result]) -> float | None:
    """Share of answers that hit the token limit (sampled probes compare these rates)."""
    if not results:
        return None
    return sum(r.finish_reason == "length" for r in results) / len(results)
