import csv
import io
import subprocess
import sys

import pytest

from tests.report_helpers import FIXTURE, hostile
from vvtui.cli import main
from vvtui.cli.report_cmd import pick_format
from vvtui.errors import UsageError
from vvtui.storage import save_snapshot


def run(capsys, *argv):
    code = main(["report", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_markdown_on_stdout_by_default(capsys):
    code, out, err = run(capsys, str(FIXTURE))
    assert code == 0 and out.startswith("# vvtui report: quick")
    assert err == ""


@pytest.mark.parametrize(
    ("name", "start"),
    [("r.html", "<!DOCTYPE html>"), ("r.md", "# vvtui report"), ("r.csv", "endpoint,reference")],
)
def test_format_follows_the_output_extension(tmp_path, capsys, name, start):
    target = tmp_path / name
    code, out, err = run(capsys, str(FIXTURE), "-o", str(target))
    assert code == 0 and out == ""
    assert target.read_text(encoding="utf-8").startswith(start)
    assert f"report: {target}" in err


def test_csv_level_and_explicit_format(tmp_path, capsys):
    code, out, _ = run(capsys, str(FIXTURE), "--format", "csv", "--level", "endpoints")
    assert code == 0
    assert len(list(csv.DictReader(io.StringIO(out)))) == 5
    target = tmp_path / "report.txt"
    assert run(capsys, str(FIXTURE), "-f", "md", "-o", str(target))[0] == 0
    assert target.read_text().startswith("# vvtui report")


def test_worst_limits_the_side_by_side_probes(capsys):
    _, out, _ = run(capsys, str(FIXTURE), "--worst", "2")
    assert "### 2." in out and "### 3." not in out


def test_unknown_extension_and_unreadable_snapshot_exit_2_with_one_line(tmp_path, capsys):
    code, _, err = run(capsys, str(FIXTURE), "-o", str(tmp_path / "r.pdf"))
    assert code == 2 and err.count("\n") == 1 and "--format" in err
    code, _, err = run(capsys, str(tmp_path / "nope.json"))
    assert code == 2 and err.startswith("vvtui: error:") and err.count("\n") == 1
    (tmp_path / "bad.json").write_text('{"schema_version": "x"}')
    code, _, err = run(capsys, str(tmp_path / "bad.json"))
    assert code == 2 and "not a vvtui snapshot" in err


def test_html_is_not_poured_onto_a_terminal(capsys, monkeypatch):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    code, out, err = run(capsys, str(FIXTURE), "--format", "html")
    assert code == 2 and "-o report.html" in err and out == ""


def test_rescoring_is_announced(tmp_path, capsys):
    path = save_snapshot(hostile(scored=False), tmp_path / "unscored.json")
    code, out, err = run(capsys, str(path))
    assert code == 0 and "scores recomputed: the snapshot holds no scores" in err
    assert "recomputed by this vvtui" in out


def test_pick_format():
    assert pick_format(None, None) == "md"
    assert pick_format(None, "x.HTM") == "html"
    assert pick_format("csv", "x.html") == "csv"
    with pytest.raises(UsageError):
        pick_format(None, "report")


def test_help_stays_light():
    # Registering the report and diff commands must not import numpy or the scoring core.
    code = (
        "import sys; from vvtui.cli import build_parser; build_parser(); "
        "bad = [m for m in ('numpy', 'vvtui.scoring', 'vvtui.reports.html') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_worst_zero_shows_no_probe_but_says_how_many_diverged(capsys):
    _, out, _ = run(capsys, str(FIXTURE), "--worst", "0")
    assert "### 1." not in out and "none shown side by side (--worst 0)" in out
