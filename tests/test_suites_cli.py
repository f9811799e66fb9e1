"""`vvtui probes list|show|validate|import-k2vv`: output and exit codes."""

from __future__ import annotations

import json

import pytest

from vvtui.cli import main
from vvtui.suites import loader as loader_mod


@pytest.fixture(autouse=True)
def _no_user_dir(monkeypatch, tmp_path):
    monkeypatch.setattr(loader_mod, "user_dir", lambda: tmp_path / "no-user-probes")


def test_list_table_and_json(capsys):
    assert main(["probes", "list", "--suite", "quick"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["ID", "KIND", "SUITE", "TAGS"]
    assert "quant-arith-chain" in out and "tool_call" in out
    assert main(["probes", "list", "--suite", "tools", "--suite", "json", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["suite"] for r in rows} == {"tools", "json"}
    assert set(rows[0]) >= {"id", "kind", "tags", "suite"}


def test_list_unknown_suite_is_exit_2_with_suggestion(capsys):
    assert main(["probes", "list", "--suite", "levakage"]) == 2
    err = capsys.readouterr().err
    assert "unknown suite 'levakage'" in err and "did you mean 'leakage'" in err
    assert len(err.strip().splitlines()) == 1


def test_show_renders_one_probe(capsys):
    assert main(["probes", "show", "quant-copy-digits", "--seed", "3"]) == 0
    probe = json.loads(capsys.readouterr().out)
    assert probe["id"] == "quant-copy-digits" and len(probe["params"]["d"]) == 24
    assert main(["probes", "show", "quant-copy-digit"]) == 2
    assert "did you mean 'quant-copy-digits'" in capsys.readouterr().err


def test_validate_exit_codes(tmp_path, capsys):
    good = tmp_path / "good.toml"
    good.write_text('[[probe]]\nid = "a"\nprompt = "x"\n', encoding="utf-8")
    assert main(["probes", "validate", str(good)]) == 0
    assert "ok: 1 probe(s) valid" in capsys.readouterr().out
    assert main(["probes", "validate", "--strict"]) == 0  # the shipped suites
    capsys.readouterr()
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[probe]]\nid = "a"\nprompt = "x"\ncheks = []\n\n[[probe]]\nid = "b"\nkind = "x"\n'
        'prompt = "y"\n',
        encoding="utf-8",
    )
    assert main(["probes", "validate", str(good), str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith(f"{bad}:4: probe 'a': unknown key 'cheks'")
    assert err[1].startswith(f"{bad}:8: probe 'b': unknown kind 'x'")
    assert err[2] == "2 problem(s)"


def test_import_k2vv_writes_a_loadable_suite(tmp_path, capsys):
    src = tmp_path / "set.jsonl"
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
    src.write_text(
        json.dumps({"messages": [{"role": "_input", "content": "sys"}], "tools": [tool]}) + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out" / "k2vv.toml"
    assert main(["probes", "import-k2vv", str(src), "-o", str(out), "--suite-name", "kv"]) == 0
    assert "1 probe(s)" in capsys.readouterr().out
    assert main(["probes", "list", "--suite", str(out), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["id"], r["kind"], r["suite"]) for r in rows] == [("kv-00001", "tool_call", "kv")]
    # An existing output is not overwritten without --force.
    assert main(["probes", "import-k2vv", str(src), "-o", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["probes", "import-k2vv", str(src), "-o", str(out), "--force"]) == 0


def test_import_k2vv_bad_lines(tmp_path, capsys):
    src = tmp_path / "set.jsonl"
    good = json.dumps({"messages": [{"role": "user", "content": "x"}]})
    src.write_text(good + "\n{oops\n", encoding="utf-8")
    out = tmp_path / "k.toml"
    assert main(["probes", "import-k2vv", str(src), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{src}:2: not valid JSON" in err and not out.exists()
    assert main(["probes", "import-k2vv", str(src), "-o", str(out), "--skip-bad"]) == 0
    assert out.exists() and "skipped 1 bad line(s)" in capsys.readouterr().err


def test_help_has_examples(capsys):
    with pytest.raises(SystemExit):
        main(["probes", "validate", "--help"])
    assert "examples:" in capsys.readouterr().out
