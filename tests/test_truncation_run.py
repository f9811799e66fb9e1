"""End to end on loopback: a host serving the reference's own weights but lowering max_tokens
(here the endpoint's extra_body overrides the probe's max_tokens, which is what such a host
does server-side) is caught by the long-answer probe of `quick`, and says why."""

from __future__ import annotations

import json
from pathlib import Path

from vvtui.cli import main
from vvtui.reports.markdown import render_markdown
from vvtui.sim.ladder import sim_config_toml
from vvtui.sim.profiles import default_profiles
from vvtui.storage import load_snapshot

CAP = 200


def test_a_host_capping_max_tokens_is_not_faithful_and_says_why(tmp_path: Path, sim_server):
    profiles = [p for p in default_profiles(20) if p.name in ("reference", "noisy-kernel")]
    config = tmp_path / "c.toml"
    config.write_text(
        sim_config_toml(sim_server.url, profiles)
        + f"""
[[endpoint]]
name = "capped"
base_url = "{sim_server.url}/reference/v1"
model = "vv-sim-8b"
simulated = true
extra_body = {{ max_tokens = {CAP} }}
"""
    )
    out = tmp_path / "s.json"
    args = ["run", "--headless", "--quiet", "--config", str(config), "--suite", "quick"]
    main([*args, "--seed", "7", "--capabilities", "off", "--out", str(out)])
    snap = json.loads(out.read_text())
    scores = snap["scores"]
    capped = scores["endpoints"]["capped"]
    cut = {pid: row["capped"].get("cut_at") for pid, row in scores["probes"].items()}
    assert cut["quant-copy-passage"] == CAP
    # The cut falls far past the token window: only the truncation part sees it.
    passage = scores["probes"]["quant-copy-passage"]["capped"]
    assert passage["parts"]["truncation"] == 1.0 and passage["parts"]["tokens"] == 0.0
    assert capped["cut_probes"] >= 1 and capped["verdict"] != "faithful"
    assert any("cut short" in reason for reason in capped["verdict_reasons"])
    # The same weights served without a cap: nothing cut, no false alarm.
    kernel = scores["endpoints"]["noisy-kernel"]
    assert kernel["cut_probes"] == 0 and kernel["verdict_reasons"] == []
    report = render_markdown(load_snapshot(out))
    assert f"✂ cut at token {CAP}" in report and "✂ 1 cut" in report


def test_verdict_sentences_say_what_capped_the_verdict():
    from tests.test_tui_gaps import gapped_snapshot
    from vvtui.reports.data import report_data
    from vvtui.reports.scoreboard import gap_text, verdict_sentence

    snap = gapped_snapshot()
    data = report_data(snap)
    host = next(e for e in snap.endpoints if e.name == "host")
    sentence = verdict_sentence(data, host)
    assert sentence.startswith("inconclusive: fidelity ")
    assert "1 probe refused, not measured: no json_schema" in sentence
    assert "✂ 1 answer cut short" in sentence
    assert gap_text(data.endpoint_score("host")) == "no json_schema · ✂ 1 cut"
    assert gap_text(data.endpoint_score("ref")) == "–"


def test_a_gated_verdict_whose_interval_clears_the_line_says_but():
    from types import SimpleNamespace

    from vvtui.model import EndpointInfo
    from vvtui.reports.scoreboard import verdict_sentence

    score = {
        "verdict": "inconclusive",
        "fidelity": 97.5,
        "ci_low": 92.5,
        "ci_high": 100.0,
        "n_probes": 40,
        "verdict_reasons": ["✂ 1 answer cut short"],
    }
    data = SimpleNamespace(
        threshold=90.0,
        scores=SimpleNamespace(meta={}),
        endpoint_score=lambda _name: score,
        snapshot=SimpleNamespace(results=[]),
    )
    sentence = verdict_sentence(data, EndpointInfo("capped", "m", "u"))  # type: ignore[arg-type]
    assert sentence == (
        "inconclusive: fidelity 97.5, 95% CI 92.5–100, at or above 90, but ✂ 1 answer cut short"
    )
