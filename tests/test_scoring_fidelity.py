import itertools
import json
import os
import random
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.scoring_helpers import answer, endpoints, simple_suite, snapshot
from vvtui.model import Check, ErrorInfo, Price, Probe, Result, Tokens, ToolCall
from vvtui.scoring import Scorer, ScoreReport, score_snapshot
from vvtui.sim.synthetic import corrupt, ladder_snapshot, make_result
from vvtui.storage import load_snapshot, save_snapshot

ROOT = Path(__file__).resolve().parents[1]


def fidelity(snap, name):
    return score_snapshot(snap).endpoints[name]


def test_identical_outputs_score_100_and_are_faithful():
    snap = simple_suite(12, {"same": lambda i, t: list(t)})
    s = fidelity(snap, "same")
    assert (s.fidelity, s.ci_low, s.ci_high, s.verdict) == (100.0, 100.0, 100.0, "faithful")
    assert s.token_agreement == 1.0 and s.kl_mean == 0.0 and s.top1_agreement == 1.0
    assert s.accuracy == 1.0 and s.checks_passed == s.checks_total == 12
    assert s.measured["tokens"] and s.measured["logprobs"] and s.measured["checks"]
    assert s.final and s.n_probes == 12


def test_unrelated_text_scores_below_20_with_or_without_logprobs_and_checks():
    unrelated = {"other": lambda i, t: answer(i, len(t), salt=99)}
    assert fidelity(simple_suite(12, unrelated), "other").fidelity < 20
    bare = simple_suite(12, unrelated, logprobs=False, checks=False)
    s = fidelity(bare, "other")
    assert s.fidelity < 20 and s.verdict == "degraded"
    assert not s.measured["logprobs"] and not s.measured["checks"]


def _noisy_repeat(tokens, rng, rate=0.35):
    """The reference's own nondeterminism: sometimes it parts from itself at a random point."""
    if rng.random() > rate:
        return list(tokens)
    cut = int(rng.integers(0, len(tokens)))
    return list(tokens[:cut]) + answer(int(rng.integers(1000, 9999)), len(tokens) - cut)


def test_reference_against_its_own_repeat_scores_100_within_its_interval():
    rng = np.random.default_rng(5)
    probes, results = [], []
    for i in range(30):
        toks = answer(i)
        probes.append(Probe(id=f"p{i}"))
        results.append(make_result("ref", f"p{i}", toks))
        for r in (1, 2):
            results.append(make_result("ref", f"p{i}", _noisy_repeat(toks, rng), repeat=r))
        # An endpoint that *is* the reference: another run with the same nondeterminism.
        results.append(make_result("again", f"p{i}", _noisy_repeat(toks, rng)))
    report = score_snapshot(snapshot(probes, endpoints("ref", "again"), results))
    again, ref = report.endpoints["again"], report.endpoints["ref"]
    assert ref.noise_floor > 0.01  # the reference does drift against itself
    assert again.ci_low <= 100.0 <= again.ci_high
    assert again.verdict in ("faithful", "inconclusive")
    assert ref.verdict == "reference" and ref.fidelity == 100.0


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.integers(0, 12), st.integers(1, 20))
def test_more_corrupted_tokens_never_score_higher(seed, k, extra):
    def at(n):
        return lambda i, t: corrupt(t, n, seed=seed + i)

    snap = simple_suite(6, {"less": at(k), "more": at(k + extra)}, n_tokens=30)
    report = score_snapshot(snap)
    assert report.endpoints["less"].fidelity >= report.endpoints["more"].fidelity


def _corrupter(k):
    return lambda i, t: corrupt(t, k, seed=i)


def test_corruption_ladder_is_monotone_and_spread_out():
    steps = [0, 1, 2, 4, 8, 16, 30]
    cands = {f"k{k}": _corrupter(k) for k in steps}
    for logprobs in (True, False):
        report = score_snapshot(simple_suite(20, cands, n_tokens=30, logprobs=logprobs))
        scores = [report.endpoints[f"k{k}"].fidelity for k in steps]
        assert scores[0] == 100.0
        assert all(a >= b for a, b in itertools.pairwise(scores)), scores
        assert scores[-1] < 20, scores
        if not logprobs:
            # Tokens alone: one replaced token in 30 is mild damage, not a broken endpoint.
            # (With logprobs the synthetic replacement is a confident, unrelated choice, which
            # the KL rightly reads as a strongly different distribution.)
            assert scores[1] > 50, scores


def test_quantization_like_noise_orders_endpoints_without_saturating():
    snap = ladder_snapshot({"ref": 0, "mild": 0.05, "medium": 0.4, "heavy": 2.0}, n_probes=16)
    report = score_snapshot(snap)
    mild, medium, heavy = (report.endpoints[n].fidelity for n in ("mild", "medium", "heavy"))
    assert 100 > mild > medium > heavy
    assert medium > 2 * heavy or heavy < 5
    kl = [report.endpoints[n].kl_mean for n in ("mild", "medium", "heavy")]
    assert kl[0] < kl[1] < kl[2]


def test_interval_narrows_with_more_probes():
    def mixed(i, t):
        return corrupt(t, [0, 0, 1, 3, 30][i % 5], seed=i)

    widths = []
    for n in (10, 40):
        s = fidelity(simple_suite(n, {"cand": mixed}, n_tokens=20), "cand")
        widths.append(s.ci_high - s.ci_low)
    assert widths[1] < widths[0]


def test_errors_count_against_the_endpoint_but_unsupported_is_not_measured():
    def failing(kind):
        def fn(i, t):
            if i < 2:
                return make_result("x", f"p{i:03d}", t, error=kind)
            return list(t)

        return fn

    snap = simple_suite(10, {"flaky": failing("timeout"), "nolp": failing("unsupported")})
    for r in snap.results:  # name the failing results after their endpoint
        if r.endpoint == "x":
            r.endpoint = "flaky" if r.error.kind == "timeout" else "nolp"
    report = score_snapshot(snap)
    flaky, nolp = report.endpoints["flaky"], report.endpoints["nolp"]
    assert flaky.fidelity == 80.0 and flaky.n_probes == 10
    assert flaky.errors == 2 and flaky.errors_by_kind == {"timeout": 2}
    assert flaky.parts["errors"] == 0.2
    assert nolp.fidelity == 100.0 and nolp.n_probes == 8
    assert nolp.errors_by_kind == {"unsupported": 2}
    assert report.probes["p000"]["nolp"]["mark"] == "error"


def test_missing_logprobs_are_not_measured_and_not_punished():
    def no_tokens(i, t):
        return make_result("plain", f"p{i:03d}", t, provider_tokens=False)

    s = fidelity(simple_suite(8, {"plain": no_tokens}), "plain")
    assert s.fidelity == 100.0
    assert not s.measured["logprobs"] and s.kl_mean is None
    meta = score_snapshot(simple_suite(8, {"plain": no_tokens})).meta
    assert meta["encoding"] in meta["tokenizers"]


def test_scores_round_trip_and_rescore_identically(tmp_path):
    snap = ladder_snapshot({"ref": 0, "a": 0.1, "b": 1.0}, n_probes=8, sampled_probes=2)
    report = score_snapshot(snap)
    again = ScoreReport.from_dict(json.loads(json.dumps(report.to_dict(), allow_nan=False)))
    assert again == report
    snap.scores = report.to_dict()
    path = save_snapshot(snap, tmp_path / "snap.json")
    loaded = load_snapshot(path)
    assert score_snapshot(loaded).to_dict() == loaded.scores


def test_rescore_does_not_depend_on_string_hashing(tmp_path):
    snap = ladder_snapshot({"ref": 0, "a": 0.1, "b": 1.0}, n_probes=6, sampled_probes=1)
    path = save_snapshot(snap, tmp_path / "snap.json")
    code = (
        "import json, sys; from vvtui.storage import load_snapshot; "
        "from vvtui.scoring import score_snapshot; "
        "print(json.dumps(score_snapshot(load_snapshot(sys.argv[1])).to_dict(), sort_keys=True))"
    )
    outputs = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        done = subprocess.run(
            [sys.executable, "-c", code, str(path)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        outputs.add(done.stdout)
    assert len(outputs) == 1


def test_incremental_scoring_matches_a_rescore_whatever_the_arrival_order():
    snap = ladder_snapshot({"ref": 0, "a": 0.1, "b": 1.0}, n_probes=8, sampled_probes=2, repeats=1)
    expected = score_snapshot(snap).to_dict()
    results = list(snap.results)
    random.Random(3).shuffle(results)
    scorer = Scorer(snap.probes, snap.endpoints)
    for result in results:
        changed = scorer.add(result)
        assert result.endpoint in changed
        if result.endpoint == "ref" and result.repeat == 0:
            others = {e for e in ("a", "b") if scorer.comparison(e, result.probe_id) is not None}
            assert others <= changed
        live = scorer.endpoint_score(result.endpoint)
        assert not live.final
    live = scorer.endpoint_scores()
    assert set(live) == {"ref", "a", "b"} and live["ref"].verdict == "reference"
    assert live["a"].fidelity > live["b"].fidelity
    assert scorer.finalize().to_dict() == expected
    assert len(scorer.history("a")) > 0 and all(0 <= f <= 100 for f in scorer.history("a"))


def test_comparison_gives_character_spans_in_both_texts():
    ref_pieces = [b"\xe4\xb8\x96", b"\xe7\x95\x8c", b"\xf0\x9f", b"\x99\x82", b" ok"]
    cand_pieces = [b"\xe4\xb8\x96", b"\xe7\x95\x8c", b"\xf0\x9f", b"\x99\x83", b" ok"]

    def result(name, pieces):
        text = b"".join(pieces).decode()
        strings = [p.decode("utf-8", errors="replace") for p in pieces]
        return Result(name, "p", text=text, tokens=Tokens(strings, bytes=[list(p) for p in pieces]))

    scorer = Scorer([Probe(id="p")], endpoints("ref", "cand"))
    scorer.add(result("ref", ref_pieces))
    scorer.add(result("cand", cand_pieces))
    comp = scorer.comparison("cand", "p")
    assert comp.tokenizer == "provider" and comp.mark == "diverged"
    # The emoji's first two bytes are one identical token; the tokens differ in its last two.
    assert comp.first_divergence == 3
    spans = [(s.tag, s.ref_start, s.ref_end, s.cand_start, s.cand_end) for s in comp.spans]
    # Blocks that split a character share it: the emoji belongs to both neighbours.
    assert spans == [("equal", 0, 3, 0, 3), ("replace", 2, 3, 2, 3), ("equal", 3, 6, 3, 6)]
    assert comp.first_divergence_char == (2, 2)
    assert scorer.comparison("ref", "p").mark == "pass"
    assert scorer.comparison("cand", "missing") is None
    assert scorer.probe_marks("p") == {"ref": "pass", "cand": "diverged"}


def test_sampled_probes_use_the_two_sample_test():
    snap = ladder_snapshot(
        {"ref": 0, "same": 0, "other": 20}, n_probes=0, sampled_probes=6, n_samples=10
    )
    report = score_snapshot(snap)
    same, other = report.endpoints["same"], report.endpoints["other"]
    assert other.mmd_p < 0.01 and same.mmd_p > 0.01
    assert other.measured["mmd"] and other.mmd_probes == 6
    assert other.fidelity < same.fidelity
    assert report.probes["p000"]["other"]["mark"] == "diverged"


def test_latency_percentiles_and_costs():
    probes = [Probe(id=f"p{i}", checks=[Check("contains", {"value": "a"})]) for i in range(10)]
    price = Price(input=1.0, output=2.0)
    results = []
    for i in range(10):
        r = make_result("ref", f"p{i}", [" a"], ttft_s=0.1 * (i + 1), tokens_per_s=10.0 * (i + 1))
        r.input_tokens, r.output_tokens = 100, 50
        results.append(r)
    est = make_result("ref", "p0", [" a", " b"], repeat=1)
    est.output_tokens = None  # the provider sent no usage: estimated
    results.append(est)
    s = score_snapshot(snapshot(probes, endpoints("ref", price=price), results)).endpoints["ref"]
    ttfts = [0.1 * (i + 1) for i in range(10)] + [0.2]
    assert abs(s.ttft_p50 - float(np.percentile(ttfts, 50))) < 1e-12
    assert abs(s.ttft_p90 - float(np.percentile(ttfts, 90))) < 1e-12
    assert (
        abs(s.tps_p50 - float(np.percentile([10.0 * (i + 1) for i in range(10)] + [50.0], 50)))
        < 1e-9
    )
    per_request = (100 * 1.0 + 50 * 2.0) / 1e6
    assert abs(s.cost_usd - (10 * per_request + (20 * 1.0 + 2 * 2.0) / 1e6)) < 1e-15
    assert s.estimated_usage
    assert abs(s.cost_per_pass - s.cost_usd / 10) < 1e-15


def test_odd_results_never_crash_scoring():
    probes = [Probe(id="p", kind="tool_call", tools=[{"function": {"name": "f"}}])]
    weird = [
        Result("ref", "p", text="", tokens=Tokens([], top=[])),
        Result(
            "cand",
            "p",
            text="x",
            tokens=Tokens(["x"], logprob=[float("nan")], top=[[("x", -9999.0)]]),
            tool_calls=[ToolCall(0, "", "{{{")],
            finish_reason="tool_calls",
        ),
        Result("ghost", "unknown-probe", text="hello"),
        Result("cand", "p", sample=1, error=ErrorInfo("internal", "bug")),
    ]
    scorer = Scorer(probes, endpoints("ref", "cand"))
    for r in weird:
        scorer.add(r)
    report = scorer.finalize()
    assert set(report.endpoints) == {"ref", "cand", "ghost"}
    json.dumps(report.to_dict(), allow_nan=False)
    assert replace(report.endpoints["cand"]).errors == 1


def test_an_endpoint_without_its_key_is_not_measured_rather_than_unfaithful():
    def keyless(i, t):
        return make_result("nokey", f"p{i:03d}", t, error="config")

    report = score_snapshot(simple_suite(6, {"nokey": keyless}))
    s = report.endpoints["nokey"]
    assert s.n_probes == 0 and s.errors_by_kind == {"config": 6}
    assert s.fidelity is None and s.verdict != "degraded"


def _flip_at(position, ref_gap):
    """Probes whose reference top-2 gap at `position` is `ref_gap` nats; the candidate takes the
    runner-up there (and, as greedy decoding does, continues differently)."""

    def make(n_probes=10):
        probes, results = [], []
        for i in range(n_probes):
            toks = answer(i, 30)
            alt = " zzflip"
            tops = [[(t, -0.1), (" zzother", -4.0)] for t in toks]
            tops[position] = [(toks[position], -0.6), (alt, -0.6 - ref_gap), (" zzother", -4.0)]
            lps = [row[0][1] for row in tops]
            probe = Probe(
                id=f"p{i:03d}",
                top_logprobs=3,
                checks=[Check("contains", {"value": toks[position]})],
            )
            probes.append(probe)
            results.append(make_result("ref", probe.id, toks, logprobs=lps, tops=tops))
            cand = [*toks[:position], alt, *answer(i, 30, salt=9)[position + 1 :]]
            ctops = [list(row) for row in tops[:position]]
            ctops.append([(alt, -0.6), (toks[position], -0.6 - ref_gap / 2), (" zzother", -4.0)])
            ctops += [[(t, -0.1), (" zzother", -4.0)] for t in cand[position + 1 :]]
            clps = [row[0][1] for row in ctops]
            results.append(make_result("cand", probe.id, cand, logprobs=clps, tops=ctops))
        return snapshot(probes, endpoints("ref", "cand"), results)

    return make()


def test_a_flip_at_the_references_own_near_tie_is_not_damage():
    from vvtui.scoring.damage import TIE_MARGIN

    tie = score_snapshot(_flip_at(2, TIE_MARGIN / 3))
    clear = score_snapshot(_flip_at(2, 3.0))
    # The same early flip: at a near-tie only the logprob shift counts; at a 3-nat gap the
    # tokens and the failed check do.
    assert tie.probes["p000"]["cand"]["tie_margin"] < TIE_MARGIN
    assert tie.endpoints["cand"].fidelity > 90 and tie.endpoints["cand"].verdict == "faithful"
    assert clear.endpoints["cand"].fidelity < 20 and clear.endpoints["cand"].verdict == "degraded"
    assert (
        tie.probes["p000"]["cand"]["mark"] == "fail"
    )  # the answer still differs: shown, not hidden


def test_a_probe_the_reference_also_fails_is_not_held_against_anyone():
    def both_fail(i, t):
        return make_result("cand", f"p{i:03d}", t, error="http") if i < 3 else list(t)

    snap = simple_suite(10, {"cand": both_fail})
    for r in snap.results:
        if r.endpoint == "ref" and r.probe_id in ("p000", "p001", "p002"):
            r.error, r.text, r.tokens = ErrorInfo("http", "HTTP 500"), "", None
    s = score_snapshot(snap).endpoints["cand"]
    assert s.fidelity == 100.0 and s.n_probes == 7 and s.errors == 3
