"""The inspector's numbers are the scoring core's: per-position KL sums to the Scorer's KL, the
margin and near-tie are the comparison's, the damage breakdown recombines into its damage."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from vvtui.model import Result, Tokens
from vvtui.scoring import Scorer, compare_tops
from vvtui.scoring import damage as dmg
from vvtui.scoring.inspect import (
    alternatives,
    check_rows,
    damage_breakdown,
    inspect_comparison,
)
from vvtui.scoring.logprobs import kl_by_position
from vvtui.storage import load_snapshot

FIXTURE = Path(__file__).parent / "data" / "tui" / "quick-ladder-logprobs.json"


@pytest.fixture(scope="module")
def scored():
    snap = load_snapshot(FIXTURE)
    scorer = Scorer(snap.probes, snap.endpoints)
    scorer.add_many(snap.results)
    by_key = {(r.endpoint, r.probe_id, r.sample): r for r in snap.results if not r.repeat}
    return snap, scorer, by_key


def inspect(scored, endpoint: str, probe_id: str):
    _snap, scorer, by_key = scored
    comp = scorer.comparison(endpoint, probe_id)
    assert comp is not None
    ins = inspect_comparison(
        comp,
        by_key.get(("reference", probe_id, 0)),
        by_key[(endpoint, probe_id, 0)],
        summary=scorer.probe_summary(endpoint, probe_id),
        noise_floor=scorer.noise_floor(probe_id),
    )
    return comp, ins


def test_kl_by_position_sums_to_the_pair_kl() -> None:
    ref = [[("a", math.log(0.6)), ("b", math.log(0.3))], [("c", math.log(0.9))], []]
    cand = [[("a", math.log(0.4)), ("b", math.log(0.5))], [("c", math.log(0.8))], [("d", 0.0)]]
    per = kl_by_position(ref, cand, 3)
    stats = compare_tops(ref, cand, 3)
    assert per[2] is None  # the reference lists nothing there: not comparable
    assert math.fsum(v for v in per if v is not None) == pytest.approx(stats.kl_sum, abs=1e-12)
    assert per[0] is not None and per[0] > 0
    assert kl_by_position(ref, ref, 3)[:2] == [0.0, 0.0]
    assert kl_by_position(ref, cand, 0) == []


def test_alternatives_are_probabilities_best_first() -> None:
    row = [("x", math.log(0.2)), ("y", math.log(0.7)), ("z", -9999.0)]
    alts = alternatives(row, "x")
    assert [a.token for a in alts] == ["y", "x"]  # -9999: "not listed", dropped
    assert alts[0].prob == pytest.approx(0.7) and not alts[0].chosen and alts[1].chosen


def test_every_divergence_of_the_int4_ladder_reads_like_its_comparison(scored) -> None:
    snap, scorer, _ = scored
    seen = 0
    for probe in snap.probes:
        comp = scorer.comparison("int4", probe.id)
        if comp is None or comp.first_divergence is None:
            continue
        comp, ins = inspect(scored, "int4", probe.id)
        point = ins.divergence
        assert point is not None and point.position == comp.first_divergence
        assert point.margin == comp.tie_margin
        assert point.near_tie == dmg.is_near_tie(comp.tie_margin)
        if comp.logprobs is not None:
            total = math.fsum(v for v in ins.kl_positions if v is not None)
            assert total == pytest.approx(comp.logprobs.kl_sum, rel=1e-9, abs=1e-12)
            assert len(ins.kl_positions) == comp.first_divergence + 1
            assert point.kl == ins.kl_positions[-1]
        if point.ref_alternatives:
            probs = [a.prob for a in point.ref_alternatives]
            assert probs == sorted(probs, reverse=True)
            assert [a.token for a in point.ref_alternatives if a.chosen] == [point.ref_token]
            if point.margin is not None:
                # The margin is the log of the ratio of the two tokens' reference probabilities.
                ref_p = next(a.prob for a in point.ref_alternatives if a.chosen)
                assert point.cand_token_under_ref is not None
                gap = math.log(ref_p) - math.log(point.cand_token_under_ref)
                assert gap == pytest.approx(point.margin, abs=1e-9)
        # The parts recombine into the comparison's damage, and one sample is the probe's.
        assert ins.damage.combined == pytest.approx(comp.damage)
        assert ins.damage.probe_damage == pytest.approx(comp.damage)
        assert dict(ins.damage.parts) == comp.parts
        seen += 1
    assert seen >= 2


def test_a_near_tie_leaves_tokens_and_checks_out(scored) -> None:
    _comp, ins = inspect(scored, "int4", "json-schema-invoice")
    assert ins.divergence is not None and ins.divergence.near_tie
    parts = dict(ins.damage.parts)
    assert parts["tokens"] is None and "checks" not in parts
    assert ("tokens", 0.0) not in ins.damage.measured


def test_identical_answers_compare_every_position(scored) -> None:
    snap, scorer, by_key = scored
    for probe in snap.probes:
        comp = scorer.comparison("pricey", probe.id)
        if comp is None or comp.first_divergence is not None or comp.tokenizer != "provider":
            continue
        _comp, ins = inspect(scored, "pricey", probe.id)
        assert ins.divergence is None
        assert comp.logprobs is not None
        assert len(ins.kl_positions) == len(by_key[("pricey", probe.id, 0)].tokens or [])
        total = math.fsum(v for v in ins.kl_positions if v is not None)
        assert total == pytest.approx(comp.logprobs.kl_sum, rel=1e-9, abs=1e-12)
        return
    pytest.fail("no identical answer in the fixture")


def test_checks_side_by_side_and_damage_breakdown_order(scored) -> None:
    comp, ins = inspect(scored, "int4", "quant-copy-digits")
    assert [r.type for r in ins.checks] == [c.type for c in comp.checks]
    assert any(r.differs for r in ins.checks)
    assert [n for n, _ in ins.damage.parts] == [n for n in dmg.PARTS if n in comp.parts]
    assert check_rows(comp) == ins.checks
    breakdown = damage_breakdown({"tokens": 0.5, "kl": 0.5, "json": None}, {"damage": 0.6}, 0.1)
    assert breakdown.combined == pytest.approx(0.75)
    assert breakdown.excess == pytest.approx(0.5)
    assert breakdown.measured == [("tokens", 0.5), ("kl", 0.5)]


def test_without_logprobs_the_divergence_shows_tokens_only() -> None:
    probe_id = "p"
    ref = Result("ref", probe_id, text="ab", tokens=Tokens(["a", "b"]))
    cand = Result("cand", probe_id, text="ac", tokens=Tokens(["a", "c"]))
    from vvtui.model import EndpointInfo, Probe

    probe = Probe(id=probe_id, kind="chat", messages=[{"role": "user", "content": "x"}])
    scorer = Scorer(
        [probe],
        [
            EndpointInfo("ref", "m", "http://x", reference=True),
            EndpointInfo("cand", "m", "http://x"),
        ],
    )
    scorer.add_many([ref, cand])
    comp = scorer.comparison("cand", probe_id)
    assert comp is not None
    ins = inspect_comparison(comp, ref, cand)
    assert ins.divergence is not None
    assert (ins.divergence.ref_token, ins.divergence.cand_token) == ("b", "c")
    assert ins.divergence.ref_alternatives == [] and ins.kl_positions == []


def test_a_sampled_probe_shows_the_probes_parts(scored) -> None:
    snap, scorer, by_key = scored
    probe = next(p for p in snap.probes if p.kind == "sampled")
    comp = scorer.comparison("substituted", probe.id)
    assert comp is not None and comp.damage is None  # samples are compared as distributions
    summary = scorer.probe_summary("substituted", probe.id)
    ins = inspect_comparison(
        comp,
        by_key[("reference", probe.id, 0)],
        by_key[("substituted", probe.id, 0)],
        summary=summary,
        samples=probe.n_samples,
        sampled=True,
    )
    assert ins.sampled and dict(ins.damage.measured) == summary["parts"]
    assert "mmd" in summary["parts"]
    assert ins.damage.probe_damage == summary["damage"]
