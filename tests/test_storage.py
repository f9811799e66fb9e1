"""Snapshots on disk: written piece by piece, one result per line, redacted, read back whole."""

from __future__ import annotations

import json

import pytest

from vvtui.model import Tokens
from vvtui.redact import REDACTED, forget_all, remember
from vvtui.scoring import score_snapshot
from vvtui.sim.synthetic import ladder_snapshot, make_result
from vvtui.storage import dumps_json, load_snapshot, save_snapshot

SECRET = "vv-secret-value-1234567"


@pytest.fixture(autouse=True)
def _forget():
    yield
    forget_all()


def snapshot():
    snap = ladder_snapshot(
        {"ref": 0.0, "q": 0.6}, n_probes=3, n_tokens=6, sampled_probes=1, n_samples=2
    )
    snap.scores = score_snapshot(snap).to_dict()
    return snap


def test_the_file_is_the_snapshot_document(tmp_path):
    snap = snapshot()
    path = save_snapshot(snap, tmp_path / "s.json")
    text = path.read_text(encoding="utf-8")
    assert json.loads(text) == json.loads(dumps_json(snap.to_dict()))
    assert load_snapshot(path).to_dict() == snap.to_dict()
    # One line per result, the rest laid out as before.
    lines = text.splitlines()
    result_lines = [line for line in lines if line.startswith('  {"endpoint": ')]
    assert len(result_lines) == len(snap.results)
    assert text.startswith('{\n "schema_version": 1,') and text.endswith("}\n")


def test_no_results_is_an_empty_list(tmp_path):
    snap = snapshot()
    snap.results = []
    path = save_snapshot(snap, tmp_path / "s.json")
    assert json.loads(path.read_text())["results"] == []


def test_secrets_are_redacted_in_results_and_around_them(tmp_path):
    remember(SECRET)
    snap = snapshot()
    leaky = make_result("q", snap.probes[0].id, [" key", f" {SECRET}", " sk-abcdefghijklmnop1234"])
    leaky.tokens = Tokens(text=[" key"])  # token columns that do not spell the secret
    snap.results.append(leaky)
    snap.run.command = f"vvtui run --key {SECRET}"
    text = save_snapshot(snap, tmp_path / "s.json").read_text(encoding="utf-8")
    assert SECRET not in text and "sk-abcdefghijklmnop1234" not in text
    assert text.count(REDACTED) >= 3
    assert json.loads(text) == json.loads(dumps_json(snap.to_dict()))
