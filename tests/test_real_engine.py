"""The real quantization ladder end to end: llama.cpp servers for SmolLM2-135M-Instruct at F16,
Q8_0, Q3_K_S and Q2_0, the `quick` and `logprob` suites run headless against them with F16 as
the reference (and F16 repeated against itself), and the scores checked for the order the
ladder must show.

Marked `real_engine`: excluded from `make test`; run with `make test-real` (which builds the
`local` extra). Model files are prepared once into the user cache (reused when their hashes
match); servers, logs, config and snapshot live in a temporary folder and are stopped at the end.
Takes several minutes on 2 cores.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from vvtui.local import EXTRA_HINT, missing_extra

REPO = Path(__file__).resolve().parent.parent
LADDER = ("F16", "Q8_0", "Q3_K_S", "Q2_0")
SUITES = ("quick", "logprob")
SEED = 20240

pytestmark = [
    pytest.mark.real_engine,
    pytest.mark.skipif(
        bool(missing_extra()),
        reason=f"the 'local' extra is not installed ({', '.join(missing_extra())}): {EXTRA_HINT}",
    ),
    pytest.mark.timeout(3600),
]


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from vvtui.local import local_dir
    from vvtui.local.prepare import prepare
    from vvtui.local.servers import down, start_ladder

    work = tmp_path_factory.mktemp("ladder")
    paths = prepare(LADDER, local_dir(), progress=print)
    state = start_ladder(paths, work, threads=1, timeout=300, progress=print)
    out = work / "snap.json"
    try:
        command = [sys.executable, "-m", "vvtui", "run", "--headless"]
        command += ["--config", str(state.config_path), "--out", str(out)]
        command += ["--reference-repeats", "1", "--seed", str(SEED)]
        for suite in SUITES:
            command += ["--suite", suite]
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        proc = subprocess.run(
            command, cwd=work, env=env, capture_output=True, text=True, timeout=3000, check=False
        )
        print(proc.stdout)
        print(proc.stderr[-4000:], file=sys.stderr)
        assert proc.returncode == 0, f"vvtui run exited {proc.returncode}: {proc.stderr[-2000:]}"
    finally:
        outcomes = down(work)
    assert all(o.outcome in ("stopped", "killed") for o in outcomes), outcomes
    return json.loads(out.read_text(encoding="utf-8"))


def scores(snapshot: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return snapshot["scores"]["endpoints"]


def test_every_rung_answered_except_where_the_engine_cannot(snapshot):
    """llama-cpp-python answers a `json_schema` response format with HTTP 500 (PROVIDERS.md):
    that probe errors on every rung alike. Any other error is a real failure."""
    s = scores(snapshot)
    assert set(LADDER) <= set(s)
    schema_probes = {
        p["id"]
        for p in snapshot["probes"]
        if (p.get("response_format") or {}).get("type") == "json_schema"
    }
    for result in snapshot["results"]:
        error = result.get("error")
        if error is None:
            continue
        assert result["probe_id"] in schema_probes, (result["endpoint"], result["probe_id"], error)
        assert error.get("status") == 500, error
    for name in LADDER:
        assert s[name]["kl_positions"] > 0, f"{name}: no logprobs compared"


def test_reference_is_f16_and_its_repeat_is_measured(snapshot):
    s = scores(snapshot)
    assert s["F16"]["reference"] is True
    # The reference repeated against itself: kl and agreement come from its repeats.
    assert s["F16"]["kl_positions"] > 0
    assert s["F16"]["token_agreement"] is not None


def measured(score: dict[str, Any]) -> str:
    keys = ("fidelity", "ci_low", "ci_high", "verdict", "kl_mean", "top1_agreement")
    keys += ("token_agreement", "damage", "noise_floor", "n_probes")
    return ", ".join(f"{k}={score.get(k)}" for k in keys)


def test_q8_0_is_faithful(snapshot):
    q8 = scores(snapshot)["Q8_0"]
    assert q8["verdict"] == "faithful", measured(q8)


def test_q2_0_is_degraded(snapshot):
    q2 = scores(snapshot)["Q2_0"]
    assert q2["verdict"] == "degraded", measured(q2)


def test_fidelity_falls_down_the_ladder(snapshot):
    s = scores(snapshot)
    fidelity = [s[name]["fidelity"] for name in LADDER]
    assert fidelity == sorted(fidelity, reverse=True), dict(zip(LADDER, fidelity, strict=True))
    assert s["F16"]["fidelity"] == pytest.approx(100.0)


def test_kl_on_shared_prefixes_grows_down_the_ladder(snapshot):
    s = scores(snapshot)
    kl = [s[name]["kl_mean"] for name in LADDER]
    assert kl == sorted(kl), dict(zip(LADDER, kl, strict=True))
    assert kl[-1] > kl[0]
    top1 = [s[name]["top1_agreement"] for name in LADDER]
    assert top1[1] > top1[-1], dict(zip(LADDER, top1, strict=True))


def test_every_rung_of_the_default_ladder_answers_a_generation(tmp_path):
    """What `make demo-real` starts: all six rungs, each checked by `start_ladder` with one real
    generation before it counts as up (a build for CPU features the machine cannot use dies
    there), then asked once more here."""
    from vvtui.local import local_dir
    from vvtui.local.prepare import DEFAULT_VARIANTS, prepare
    from vvtui.local.servers import down, generate_once, start_ladder

    paths = prepare(DEFAULT_VARIANTS, local_dir(), progress=print)
    state = start_ladder(paths, tmp_path, threads=1, timeout=300, progress=print)
    try:
        assert [s.variant for s in state.servers] == list(DEFAULT_VARIANTS)
        assert {s.variant: generate_once(s) for s in state.servers} == dict.fromkeys(
            DEFAULT_VARIANTS
        )
    finally:
        outcomes = down(tmp_path)
    assert all(o.outcome in ("stopped", "killed") for o in outcomes), outcomes
