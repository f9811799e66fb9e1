"""Re-scoring a fixed synthetic snapshot gives the stored report: bit for bit on one machine,
to a relative 1e-9 on any other.

Written before the scorer was optimised, so speed-ups cannot move a score: every probe kind the
scorer handles (checks, logprobs/KL, provider and tiktoken tokens, tool calls, JSON, script
leakage, sampled probes with MMD, reference repeats, errors, an answer cut short) is in the
snapshot. A change that is
meant to move scores regenerates the file with VVTUI_UPDATE_GOLDEN=1 and says why.

The stored report was written on one CPU; numpy's kernels differ between CPUs in the last bits of
a float, so the comparison with it is tests/golden.py's (non-floats exact, floats to 1e-9). What
holds bit for bit is re-scoring on the same machine, checked here across two processes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.golden import canonical_json, check_json_golden
from vvtui.model import Check, Probe, Snapshot, ToolCall
from vvtui.scoring import score_snapshot
from vvtui.sim.synthetic import fast_ladder_snapshot, ladder_snapshot, make_result

GOLDEN = Path(__file__).parent / "data" / "scoring" / "golden_report.json"
ROOT = Path(__file__).resolve().parents[1]

TOOL = {
    "type": "function",
    "function": {
        "name": "lookup",
        "parameters": {
            "type": "object",
            "properties": {"q": {"type": "string"}, "n": {"type": "integer"}},
            "required": ["q"],
        },
    },
}
SCHEMA = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}


def golden_snapshot() -> Snapshot:
    noises = {"ref": 0.0, "bf16": 0.05, "int4": 0.8, "int2": 3.0}
    snap = ladder_snapshot(
        noises,
        n_probes=10,
        n_tokens=30,
        sampled_probes=2,
        n_samples=6,
        repeats=1,
        reference_repeat_noise=0.02,
        seed=5,
    )
    flips = {"ref": 0.0, "bf16": 0.01, "int4": 0.08, "int2": 0.3}
    fast = fast_ladder_snapshot(flips, n_probes=12, n_tokens=40, seed=6)
    snap.probes += fast.probes
    snap.results += fast.results
    names = list(noises)
    # Tool calls: right, wrong arguments, no call, invalid JSON.
    calls = {
        "ref": ToolCall(0, "lookup", '{"q": "lima", "n": 2}'),
        "bf16": ToolCall(0, "lookup", '{"q": "lima", "n": 2}'),
        "int4": ToolCall(0, "lookup", '{"q": "lima", "n": "two"}'),
        "int2": None,
    }
    for i in range(3):
        pid = f"tool{i}"
        snap.probes.append(
            Probe(
                id=pid,
                kind="tool_call",
                tools=[TOOL],
                checks=[Check("tool_call", {"name": "lookup", "arguments": {"q": "lima"}})],
            )
        )
        for name in names:
            call = calls[name] if i != 2 or name != "int4" else ToolCall(0, "lookup", '{"q": ')
            if call is None:
                snap.results.append(make_result(name, pid, ["I", " think", " so", "."]))
            else:
                snap.results.append(
                    make_result(name, pid, [], finish_reason="tool_calls", tool_calls=[call])
                )
    # JSON answers, tokenized by tiktoken (no provider tokens), one endpoint breaking the schema.
    json_answers = {"ref": '{"a": 1}', "bf16": '{"a": 1}', "int4": '{"a": "1"}', "int2": "a = 1"}
    for i in range(3):
        pid = f"json{i}"
        snap.probes.append(
            Probe(
                id=pid,
                kind="json",
                response_format={"type": "json_object"},
                checks=[Check("json_schema", {"schema": SCHEMA})],
            )
        )
        for name in names:
            snap.results.append(make_result(name, pid, [json_answers[name]], provider_tokens=False))
    # Script leakage and numbers, plus errors of two kinds.
    leak = {"ref": " The answer is 42.", "bf16": " The answer is 42.", "int4": " The 答案 is 41."}
    for i in range(2):
        pid = f"leak{i}"
        snap.probes.append(
            Probe(
                id=pid,
                checks=[Check("number", {"value": "42"}), Check("script", {"expected": "latin"})],
            )
        )
        for name in names:
            if name == "int2":
                kind = "timeout" if i == 0 else "api"
                snap.results.append(make_result(name, pid, [], error=kind))
            else:
                snap.results.append(make_result(name, pid, [leak[name]], provider_tokens=False))
    # An answer cut by the token limit past the token window, where the reference stopped.
    words = [f" t{i}" for i in range(40)]
    snap.probes.append(Probe(id="cut0", max_tokens=64))
    for name in names:
        n, finish = (25, "length") if name == "int4" else (40, "stop")
        snap.results.append(make_result(name, "cut0", words[:n], finish_reason=finish))
    return snap


def test_rescoring_the_golden_snapshot_gives_the_stored_report():
    check_json_golden(GOLDEN, score_snapshot(golden_snapshot()).to_dict())


def test_rescoring_in_two_processes_gives_the_same_bits():
    code = (
        "from tests.golden import canonical_json; "
        "from tests.test_scoring_golden import golden_snapshot; "
        "from vvtui.scoring import score_snapshot; "
        "print(canonical_json(score_snapshot(golden_snapshot()).to_dict()))"
    )
    outputs = []
    for seed in ("1", "2"):
        done = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        outputs.append(done.stdout)
    here = canonical_json(score_snapshot(golden_snapshot()).to_dict()) + "\n"
    assert outputs[0] == outputs[1] == here


def test_the_golden_snapshot_exercises_every_part():
    report = score_snapshot(golden_snapshot()).to_dict()
    int4 = report["endpoints"]["int4"]
    assert int4["kl_positions"] > 0 and int4["leakage"] > 0
    assert int4["tool_triggered"] is not None and int4["errors"] == 0
    assert report["endpoints"]["int2"]["errors"] == 2
    sampled = report["probes"]["p010"]["int4"]
    assert sampled["mmd_p"] is not None
    assert report["probes"]["p000"]["ref"]["noise_floor"] is not None
    assert {"provider"} < set(report["meta"]["tokenizers"])
    assert report["probes"]["cut0"]["int4"]["cut_at"] == 25
    assert report["endpoints"]["int4"]["cut_probes"] == 1
