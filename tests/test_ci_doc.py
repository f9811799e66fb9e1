"""docs/ci.md is a recipe people paste: its YAML must parse and its vvtui commands must exist."""

import re
import shlex
from pathlib import Path

import pytest

from vvtui.cli import build_parser

DOC = Path(__file__).resolve().parent.parent / "docs" / "ci.md"


def blocks(lang):
    text = DOC.read_text(encoding="utf-8")
    return re.findall(rf"```{lang}\n(.*?)```", text, flags=re.S)


def commands():
    """Every vvtui command line in the doc's code blocks, continuations and YAML folding
    joined, CI expressions replaced by a plain value."""
    found = []
    for block in blocks(r"(?:yaml|sh)"):
        lines = block.splitlines()
        i = 0
        while i < len(lines):
            line = lines[i].strip()
            line = re.sub(r"^(- )?(run: )?(>\s*)?", "", line)
            m = re.search(r"(?:^|;\s*then\s+|^if .*?then\s+)(vvtui\s.*)$", line)
            if m is None:
                i += 1
                continue
            parts = [m.group(1)]
            # Folded YAML (>) and shell continuations: following lines that start with an option.
            while i + 1 < len(lines) and lines[i + 1].strip().startswith("--"):
                i += 1
                parts.append(lines[i].strip())
            cmd = " ".join(p.rstrip("\\").strip() for p in parts)
            cmd = re.sub(r"\|\|.*$|;.*$", "", cmd)
            cmd = re.sub(r"\$\{\{[^}]*\}\}", "1", cmd)
            cmd = re.sub(r"\"?\$\{?[A-Z_]+\}?\"?", "1", cmd)
            found.append(shlex.split(cmd))
            i += 1
    # Commands quoted inline in the prose.
    text = DOC.read_text(encoding="utf-8")
    found += [shlex.split(c) for c in re.findall(r"`(vvtui [^`]+)`", text)]
    return found


def test_every_vvtui_command_in_the_doc_parses():
    cmds = commands()
    verbs = {c[1] for c in cmds}
    assert {"run", "diff", "report", "config"} <= verbs, verbs
    parser = build_parser()
    parsed = []
    verbs_known = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for argv in cmds:
        assert argv[0] == "vvtui"
        if len(argv) == 2:  # a command named in prose ("`vvtui diff` compares ...")
            assert argv[1] in verbs_known, argv
            continue
        try:
            parsed.append(parser.parse_args(argv[1:]))
        except SystemExit:
            pytest.fail(f"docs/ci.md: does not parse: {' '.join(argv)}")
    # The recipe's job gates the run and limits the drift.
    assert any(
        a.command == "run" and a.headless and a.junit and a.min_fidelity is not None for a in parsed
    )
    assert any(
        a.command == "diff"
        and None not in (a.max_fidelity_drop, a.max_ttft_increase, a.max_price_increase)
        for a in parsed
    )


def test_yaml_blocks_parse():
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed (not a vvtui dependency)")
    docs = [yaml.safe_load(b) for b in blocks("yaml")]
    assert len(docs) == 2
    github, gitlab = docs
    # "on" is YAML 1.1's boolean true for PyYAML.
    assert "schedule" in (github.get("on") or github.get(True))
    steps = github["jobs"]["drift"]["steps"]
    assert any("vvtui run --headless" in (s.get("run") or "") for s in steps)
    assert gitlab["vvtui-drift"]["artifacts"]["reports"]["junit"] == "junit.xml"


def test_toml_block_is_a_valid_config(tmp_path):
    from vvtui.config import load_config

    (toml,) = blocks("toml")
    path = tmp_path / "config.toml"
    path.write_text(toml, encoding="utf-8")
    config = load_config(path)
    assert [e.name for e in config.endpoints] == ["first-party", "or-groq"]
    assert all(e.api_key_env for e in config.endpoints)
