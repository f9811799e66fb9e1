from tests.scoring_helpers import endpoints
from vvtui.model import Probe, ToolCall
from vvtui.scoring import Scorer
from vvtui.sim.synthetic import make_result

TOOL = {
    "type": "function",
    "function": {
        "name": "lookup",
        "parameters": {
            "type": "object",
            "properties": {"q": {"type": "string"}},
            "required": ["q"],
        },
    },
}


def tool_result(endpoint, pid, arguments=None):
    if arguments is None:
        return make_result(endpoint, pid, ["Sure", "."], finish_reason="stop")
    return make_result(
        endpoint,
        pid,
        [],
        finish_reason="tool_calls",
        tool_calls=[ToolCall(0, "lookup", arguments)],
    )


def test_k2vv_trigger_f1_and_schema_accuracy_on_a_hand_built_example():
    probes = [Probe(id=f"t{i}", kind="tool_call", tools=[TOOL]) for i in range(10)]
    ok = '{"q": "x"}'
    # Reference triggers on t0..t5. Candidate triggers on t0..t4 (TP 5), misses t5 (FN 1),
    # triggers on t6 (FP 1); of its 6 triggered responses one has invalid JSON (t1) and one
    # violates the schema (t2): schema accuracy 4/6.
    ref_args = [ok] * 6 + [None] * 4
    cand_args = [ok, '{"q": ', '{"query": 1}', ok, ok, None, ok, None, None, None]
    scorer = Scorer(probes, endpoints("ref", "cand"))
    for probe, r, c in zip(probes, ref_args, cand_args, strict=True):
        scorer.add(tool_result("ref", probe.id, r))
        scorer.add(tool_result("cand", probe.id, c))
    for score in (scorer.endpoint_score("cand"), scorer.finalize().endpoints["cand"]):
        assert score.tool_precision == 5 / 6
        assert score.tool_recall == 5 / 6
        assert abs(score.tool_f1 - 5 / 6) < 1e-12
        assert score.tool_triggered == 6 and score.tool_schema_ok == 4
        assert abs(score.schema_accuracy - 4 / 6) < 1e-12
    ref = scorer.finalize().endpoints["ref"]
    assert ref.schema_accuracy == 1.0 and ref.tool_f1 is None
    marks = scorer.probe_marks("t5")
    assert marks == {"ref": "pass", "cand": "diverged"}
