"""Answers cut short count as damage wherever the cut falls, and refused probes are conformance
gaps that keep an endpoint from `faithful` (docs/scoring.md: "Truncation", "Verdict")."""

from __future__ import annotations

import pytest

from vvtui.model import EndpointInfo, Probe, Result
from vvtui.scoring import Scorer, score_snapshot
from vvtui.scoring.damage import TOKEN_WINDOW
from vvtui.scoring.truncation import cut_at, length_excess
from vvtui.scoring.verdict_gates import (
    DEGRADED,
    FAITHFUL,
    INCONCLUSIVE,
    Gate,
    cut_gate,
    gap_gate,
    gated_verdict,
)
from vvtui.sim.synthetic import make_result

LONG = [f" w{i}" for i in range(300)]
ENDPOINTS = [EndpointInfo("ref", "m", "u", reference=True), EndpointInfo("cand", "m", "u")]


def probes(n: int) -> list[Probe]:
    return [Probe(id=f"p{i}", max_tokens=400) for i in range(n)]


def ladder(cand: dict[str, Result], n: int = 12) -> Scorer:
    """n probes whose reference answers are LONG; the candidate answers the same unless
    `cand` says otherwise for a probe id."""
    scorer = Scorer(probes(n), ENDPOINTS)
    for p in probes(n):
        scorer.add(make_result("ref", p.id, LONG))
        scorer.add(cand.get(p.id) or make_result("cand", p.id, LONG))
    return scorer


def test_cut_at_reads_how_each_answer_ended():
    ref = make_result("ref", "p", LONG)
    capped = make_result("cand", "p", LONG[:61], finish_reason="length")
    assert cut_at(ref, capped, 300, 61, 61) == 61
    # Cut and reported as a natural stop: the reference's text goes on.
    quiet = make_result("cand", "p", LONG[:61], finish_reason="stop")
    assert cut_at(ref, quiet, 300, 61, 61) == 61
    # A different answer that stopped by itself, shorter: not a cut (the tokens say the rest).
    other = make_result("cand", "p", [" x"] * 61, finish_reason="stop")
    assert cut_at(ref, other, 300, 61, 0) is None
    # Both hit the limit at the same length; or the candidate called a tool instead.
    both = make_result("ref", "p", LONG, finish_reason="length")
    assert (
        cut_at(both, make_result("cand", "p", LONG, finish_reason="length"), 300, 300, 300) is None
    )
    tool = make_result("cand", "p", [], finish_reason="tool_calls")
    assert cut_at(ref, tool, 300, 0, 0) is None
    # The candidate went on where the reference stopped: longer, not cut.
    assert cut_at(make_result("ref", "p", LONG[:61]), quiet, 61, 300, 61) is None


@pytest.mark.parametrize("at", [3, 61, 250, 299])
def test_a_cut_is_full_damage_wherever_it_falls(at):
    scorer = ladder({"p0": make_result("cand", "p0", LONG[:at], finish_reason="length")})
    comp = scorer.comparison("cand", "p0")
    assert comp is not None and comp.cut_at == at
    assert comp.parts["truncation"] == 1.0 and comp.damage == pytest.approx(1.0)
    if at >= TOKEN_WINDOW:
        # The window the token part reads is identical: only this part sees the cut.
        assert comp.parts["tokens"] == 0.0
    report = scorer.finalize()
    assert report.probes["p0"]["cand"]["cut_at"] == at
    assert report.endpoints["cand"].cut_probes == 1
    untouched = scorer.comparison("cand", "p1")
    assert untouched is not None and untouched.cut_at is None
    assert untouched.parts["truncation"] == 0.0


def test_a_host_that_cuts_answers_is_not_faithful_and_says_why():
    cut = {f"p{i}": make_result("cand", f"p{i}", LONG[:200], finish_reason="length") for i in (0,)}
    report = ladder(cut, n=40).finalize()
    score = report.endpoints["cand"]
    # 1 of 40 probes damaged: a fidelity the interval alone would call faithful.
    assert score.fidelity == pytest.approx(100 * 39 / 40)
    assert score.verdict == INCONCLUSIVE
    assert score.verdict_reasons == ["✂ 1 answer cut short"]
    assert score.parts["truncation"] == pytest.approx(1 / 40)
    clean = ladder({}, n=40).finalize().endpoints["cand"]
    assert clean.verdict == FAITHFUL and clean.verdict_reasons == [] and clean.cut_probes == 0


def test_sampled_probes_count_only_more_limit_hits_than_chance_gives():
    cut = make_result("cand", "s", LONG[:9], finish_reason="length")
    kept = make_result("ref", "s", LONG[:9])
    probe = Probe(id="s", kind="sampled", temperature=1.0, n_samples=10, max_tokens=400)
    scorer = Scorer([probe], ENDPOINTS)
    for s in range(10):
        scorer.add(make_result("ref", "s", LONG[: 100 + s], sample=s))
        ending = "length" if s < 4 else "stop"
        scorer.add(make_result("cand", "s", LONG[: 90 + s], sample=s, finish_reason=ending))
    report = scorer.finalize()
    # 4 of 10 against 0 of 10, less 1.645 standard errors of the difference (pooled rate 0.2).
    margin = 1.645 * (0.2 * 0.8 * 0.2) ** 0.5
    assert report.probes["s"]["cand"]["parts"]["truncation"] == pytest.approx(0.4 - margin)
    assert length_excess([cut] * 1 + [kept] * 9, [kept] * 10) == 0.0
    assert length_excess([cut] * 10, [kept] * 10) == pytest.approx(1 - 1.645 * (0.25 * 0.2) ** 0.5)
    assert length_excess([], [kept]) is None


def test_a_refused_probe_is_a_gap_not_damage():
    refused = make_result("cand", "p0", [], error="unsupported")
    scorer = Scorer(
        [Probe(id="p0", kind="json", response_format={"type": "json_schema"}), *probes(40)[1:]],
        ENDPOINTS,
    )
    scorer.add(make_result("ref", "p0", ['{"a": 1}']))
    scorer.add(refused)
    for p in probes(40)[1:]:
        scorer.add(make_result("ref", p.id, LONG))
        scorer.add(make_result("cand", p.id, LONG))
    live = scorer.endpoint_score("cand")
    assert live.refused_probes == 1 and live.gaps == {"json_schema": 1}
    assert live.verdict != FAITHFUL
    report = scorer.finalize()
    score = report.endpoints["cand"]
    assert score.fidelity == 100.0 and score.n_probes == 39
    assert score.verdict == INCONCLUSIVE
    assert score.verdict_reasons == ["1 probe refused, not measured: no json_schema"]


def test_a_probe_the_reference_refused_too_is_no_gap():
    scorer = Scorer(
        [Probe(id="p0", kind="json", response_format={"type": "json_schema"})], ENDPOINTS
    )
    scorer.add(make_result("ref", "p0", [], error="unsupported"))
    scorer.add(make_result("cand", "p0", [], error="unsupported"))
    score = scorer.finalize().endpoints["cand"]
    assert score.refused_probes == 0 and score.gaps == {} and score.verdict_reasons == []


def test_gates_only_ever_lower_a_verdict():
    gate = Gate("x", INCONCLUSIVE)
    assert gated_verdict(FAITHFUL, [gate]) == (INCONCLUSIVE, ["x"])
    assert gated_verdict(DEGRADED, [gate]) == (DEGRADED, ["x"])
    assert gated_verdict(INCONCLUSIVE, [None, Gate("y", DEGRADED)]) == (DEGRADED, ["y"])
    assert gated_verdict("reference", [gate]) == ("reference", [])
    assert gap_gate({}, 0) is None and cut_gate(0) is None
    assert gap_gate({"tools": 2, "other": 1}, 3) == Gate(
        "3 probes refused, not measured: other features refused, no tools"
    )


def test_gaps_and_cuts_survive_a_rescore():
    from vvtui.model import RunInfo, Snapshot

    snap = Snapshot(
        vvtui_version="test",
        created_at="2025-01-01T00:00:00Z",
        run=RunInfo(seed=1, reference_repeats=0, complete=True),
        probes=probes(6),
        endpoints=ENDPOINTS,
        results=[make_result("ref", f"p{i}", LONG) for i in range(6)]
        + [make_result("cand", "p0", LONG[:50], finish_reason="length")]
        + [make_result("cand", "p1", [], error="unsupported")]
        + [make_result("cand", f"p{i}", LONG) for i in range(2, 6)],
    )
    first = score_snapshot(snap).to_dict()
    again = Snapshot.from_dict(snap.to_dict())
    assert score_snapshot(again).to_dict() == first
    cand = first["endpoints"]["cand"]
    assert cand["cut_probes"] == 1 and cand["refused_probes"] == 1
    assert len(cand["verdict_reasons"]) == 2


def test_running_on_after_a_near_tie_of_the_references_own_is_not_a_cut():
    """The reference puts both tokens within 0.3 nats at the first divergence: the claimed model
    itself could have taken the candidate's branch and run on to the limit."""
    ref_tokens = [" a", " b", " c", " d"]
    tops = [[(t, -0.01), (" x", -5.0)] for t in ref_tokens]
    tops[1] = [(" b", -0.6), (" z", -0.8)]
    lps = [row[0][1] for row in tops]
    ran_on = [" a", " z", " y", " w", " v", " u"]
    cand_tops = [[(t, -0.1)] for t in ran_on]
    cand_lps = [-0.1] * len(ran_on)

    def comparison(tops_at_1: list[tuple[str, float]]):
        tops[1] = tops_at_1
        scorer = Scorer([Probe(id="p0", max_tokens=6)], ENDPOINTS)
        scorer.add(make_result("ref", "p0", ref_tokens, logprobs=lps, tops=tops))
        scorer.add(
            make_result(
                "cand", "p0", ran_on, logprobs=cand_lps, tops=cand_tops, finish_reason="length"
            )
        )
        return scorer.comparison("cand", "p0")

    near = comparison([(" b", -0.6), (" z", -0.8)])
    assert near is not None and near.tie_margin == pytest.approx(0.2)
    assert near.cut_at is None and near.parts["truncation"] == 0.0
    # The same run-on after a real flip (the reference gave " z" no weight) is counted.
    far = comparison([(" b", -0.01), (" z", -6.0)])
    assert far is not None and far.cut_at == len(ran_on) and not far.cut_short
