"""The metric table (vvtui.scoring.metrics.METRICS) names real fields, and the running sums it
drives retract exactly what they added."""

from __future__ import annotations

from dataclasses import fields

from vvtui.scoring.metrics import METRICS, SUMMED, ZEROS, ProbeEval, fill_metrics
from vvtui.scoring.report import EndpointScore
from vvtui.scoring.tally import Tally


def test_every_metric_reads_probe_eval_fields_and_fills_an_endpoint_score_field():
    evals = {f.name for f in fields(ProbeEval)}
    scores = {f.name for f in fields(EndpointScore)}
    for m in METRICS:
        assert m.num in evals and (m.den is None or m.den in evals), m
        assert m.score_field in scores, m
    assert len({m.score_field for m in METRICS}) == len(METRICS)
    assert set(SUMMED) == {n for m in METRICS for n in (m.num, m.den) if n is not None}


def test_counts_stay_ints_and_ratios_are_pooled():
    tally = Tally()
    assert all(type(ZEROS[m.num]) is int for m in METRICS if m.den is None)
    a = ProbeEval(sampled=False, kl_sum=1.0, kl_positions=1, checks_passed=1, cut=True)
    b = ProbeEval(sampled=False, kl_sum=2.0, kl_positions=3, checks_passed=2)
    tally.apply(a, None, +1)
    tally.apply(b, None, +1)
    score = EndpointScore(name="x")
    fill_metrics(score, tally.sums, reference=False)
    assert score.kl_mean == 3.0 / 4
    assert score.top1_agreement == 0.0
    assert score.token_agreement is None
    assert score.checks_passed == 3 and type(score.checks_passed) is int
    assert score.cut_probes == 1 and type(score.cut_probes) is int


def test_the_reference_gets_no_candidate_only_metric():
    tally = Tally()
    tally.apply(ProbeEval(sampled=False, acc_num=1, acc_den=1, cut=True), None, +1)
    score = EndpointScore(name="ref", reference=True)
    fill_metrics(score, tally.sums, reference=True)
    assert score.accuracy is None and score.cut_probes == 0


def test_retracting_an_evaluation_restores_the_sums():
    tally = Tally()
    before = tally.sums.as_dict()
    ev = ProbeEval(sampled=False, damage=0.3, agree_sum=0.5, agree_n=1, leak_sum=0.1, leak_n=1)
    ev.parts = {"tokens": 0.2}
    ev.gap = frozenset({"tools"})
    tally.apply(ev, 0.1, +1)
    tally.apply(ev, 0.1, -1)
    assert tally.sums.as_dict() == before
    assert (tally.n, tally.n_floor, tally.refused, tally.gaps) == (0, 0, 0, {"tools": 0})
    assert tally.part_n["tokens"] == 0
