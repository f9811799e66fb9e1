"""Small builders for scoring tests (synthetic probes, endpoints and results)."""

from __future__ import annotations

from collections.abc import Sequence

from vvtui.model import Check, EndpointInfo, Price, Probe, Result, RunInfo, Snapshot
from vvtui.sim.synthetic import VOCAB, make_result


def endpoints(*names: str, price: Price | None = None) -> list[EndpointInfo]:
    return [
        EndpointInfo(n, "m", f"http://x/{n}/v1", reference=(i == 0), price=price)
        for i, n in enumerate(names)
    ]


def answer(i: int, n: int = 40, salt: int = 0) -> list[str]:
    """A deterministic pseudo-answer of n tokens for probe i."""
    return [VOCAB[(i * 7919 + k * 104729 + salt * 31337) % (len(VOCAB) - 6) + 6] for k in range(n)]


def tops_for(tokens: Sequence[str], shift: float = 0.0) -> list[list[tuple[str, float]]]:
    """Top-3 alternatives per position: the chosen token first, then two fixed alternatives."""
    rows = []
    for k, tok in enumerate(tokens):
        alt1, alt2 = VOCAB[(k * 13) % 300 + 6], VOCAB[(k * 17 + 5) % 300 + 6]
        if alt1 == tok:
            alt1 = " zzalt1"
        if alt2 in (tok, alt1):
            alt2 = " zzalt2"
        rows.append([(tok, -0.1 - shift), (alt1, -2.5 + shift), (alt2, -3.5)])
    return rows


def snapshot(probes: list[Probe], eps: list[EndpointInfo], results: list[Result]) -> Snapshot:
    return Snapshot("test", "2025-01-01T00:00:00Z", RunInfo(complete=True), eps, probes, results)


def simple_suite(
    n_probes: int,
    candidates: dict[str, object],
    *,
    n_tokens: int = 40,
    logprobs: bool = True,
    checks: bool = True,
) -> Snapshot:
    """Reference "ref" answers `answer(i)`; each candidate is a function (i, tokens) -> tokens
    (or a Result) producing its answer to probe i."""
    names = ["ref", *candidates]
    probes = []
    results = []
    for i in range(n_probes):
        toks = answer(i, n_tokens)
        probe = Probe(
            id=f"p{i:03d}",
            top_logprobs=3 if logprobs else 0,
            checks=[Check("contains", {"value": "".join(toks[:3])})] if checks else [],
        )
        probes.append(probe)
        results.append(
            make_result("ref", probe.id, toks, tops=tops_for(toks) if logprobs else None)
        )
        for name, fn in candidates.items():
            out = fn(i, toks)  # type: ignore[operator]
            if isinstance(out, Result):
                results.append(out)
            else:
                results.append(
                    make_result(name, probe.id, out, tops=tops_for(out) if logprobs else None)
                )
    return snapshot(probes, endpoints(*names), results)
