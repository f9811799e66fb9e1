import json
import math

from vvtui.cli import main
from vvtui.scoring import score_snapshot
from vvtui.sim.synthetic import ladder_snapshot
from vvtui.storage import save_snapshot


def write(tmp_path, with_scores=True):
    snap = ladder_snapshot({"ref": 0, "mild": 0.05, "heavy": 2.0}, n_probes=6, n_tokens=20)
    if with_scores:
        snap.scores = score_snapshot(snap).to_dict()
    return snap, save_snapshot(snap, tmp_path / "run.json")


def test_score_prints_a_table(tmp_path, capsys):
    _, path = write(tmp_path)
    assert main(["score", str(path), "--probes"]) == 0
    out = capsys.readouterr()
    lines = out.out.splitlines()
    assert lines[0].split()[:4] == ["endpoint", "fidelity", "95%", "CI"]
    assert any(line.startswith("ref ") and "reference" in line for line in lines)
    assert any(line.startswith("heavy ") and "degraded" in line for line in lines)
    assert any(line.startswith("p000 ") for line in lines)
    assert "differ" not in out.err  # stored scores equal the re-score


def test_score_json_is_the_report(tmp_path, capsys):
    snap, path = write(tmp_path, with_scores=False)
    assert main(["score", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    # Beside the report: what each verdict cost (a full run's verdicts needed every request).
    costs = data.pop("cost_to_verdict")
    assert data == json.loads(json.dumps(score_snapshot(snap).to_dict()))
    assert set(data) == {"version", "meta", "endpoints", "probes"}
    candidates = [e.name for e in snap.endpoints if not e.reference]
    assert set(costs) == set(candidates)
    for name in candidates:
        sent = sum(1 for r in snap.results if r.endpoint == name)
        assert costs[name]["requests"] == sent


def test_score_reports_stale_stored_scores(tmp_path, capsys):
    snap, path = write(tmp_path)
    snap.scores["endpoints"]["mild"]["fidelity"] = 1.0
    save_snapshot(snap, path)
    assert main(["score", str(path)]) == 0
    assert "differ from this re-score" in capsys.readouterr().err


def test_scores_stored_on_another_machine_are_not_stale_for_their_last_bits(tmp_path, capsys):
    # Another CPU's numpy kernels move the last bits of a float: not a difference worth a note.
    snap, path = write(tmp_path)
    mild = snap.scores["endpoints"]["mild"]
    mild["fidelity"] = math.nextafter(mild["fidelity"], 0.0)
    mild["kl_mean"] = math.nextafter(mild["kl_mean"], math.inf)
    save_snapshot(snap, path)
    assert main(["score", str(path)]) == 0
    assert "differ" not in capsys.readouterr().err
    mild["fidelity"] *= 1 + 1e-6
    save_snapshot(snap, path)
    assert main(["score", str(path)]) == 0
    assert "differ from this re-score" in capsys.readouterr().err


def test_missing_or_broken_snapshot_is_a_one_line_error(tmp_path, capsys):
    assert main(["score", str(tmp_path / "nope.json")]) == 2
    (tmp_path / "bad.json").write_text("{not json")
    assert main(["score", str(tmp_path / "bad.json")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("vvtui: error:") for line in err)


def test_score_probes_keeps_long_endpoint_names_whole(tmp_path, capsys):
    names = {"reference-bf16": 0, "provider-a-int4-fast": 2.0, "provider-a-int4-slow": 0.05}
    snap = ladder_snapshot(names, n_probes=3, n_tokens=12)
    path = save_snapshot(snap, tmp_path / "run.json")
    assert main(["score", str(path), "--probes"]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = next(line for line in lines if line.startswith("probe "))
    assert header.split() == ["probe", *names]
    for line in lines[lines.index(header) + 2 :]:
        # Each mark sits under its endpoint's name.
        for name, mark in zip(header.split()[1:], line.split()[1:], strict=True):
            assert line[header.index(name) :].startswith(mark), (name, line)
