"""The wheel carries the shipped probe suites and themes, and an installed (non-editable) vvtui
finds them there rather than in a source checkout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("hatchling", reason="hatchling (test extra) builds the wheel")
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    (path,) = out.glob("vvtui-*.whl")
    return path


def test_wheel_ships_every_suite_and_theme(wheel: Path):
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("probes", "themes"):
        shipped = {p.name for p in (ROOT / folder).iterdir() if p.is_file()}
        assert shipped, folder
        for name in shipped:
            assert f"vvtui/_data/{folder}/{name}" in names, (folder, name)
    assert any(n.endswith("entry_points.txt") for n in names)


def test_installed_copy_finds_its_data_inside_the_package(wheel: Path, tmp_path: Path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = (
        "import json, vvtui.resources as r\n"
        "from vvtui.suites import available_suites, load_suites\n"
        "suites = available_suites()\n"
        "probes = load_suites(['all'], 1)\n"
        "found = {k: str(r.data_dir(k)) for k in ('probes', 'themes')}\n"
        "print(json.dumps({**found, 'suites': sorted(suites), 'n': len(probes)}))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    # Run from an empty directory so nothing resolves against the source checkout.
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout)
    assert found["probes"].startswith(str(site)) and found["themes"].startswith(str(site))
    assert {"quick", "quant", "tools", "json", "logprob", "sampled", "leakage"} <= set(
        found["suites"]
    )
    assert found["n"] >= 60


def test_files_runs_write_into_the_checkout_are_ignored_by_git():
    """`make demo-headless` and runs without --out write into the folder they start in: from a
    clone that must not leave untracked files behind."""
    import re

    from vvtui.runner.session import default_snapshot_path

    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    outs = re.findall(r"--out (\S+)", (ROOT / "Makefile").read_text(encoding="utf-8"))
    assert outs, "the Makefile no longer names a demo snapshot: update this test"
    written = [*outs, default_snapshot_path().name]
    stamp = default_snapshot_path().stem
    written += [f"{stamp}.md", f"{stamp}.svg", f"{default_snapshot_path().name}.wal.jsonl"]
    proc = subprocess.run(
        ["git", "check-ignore", "--no-index", *written],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    ignored = set(proc.stdout.split())
    assert ignored == set(written), f"not in .gitignore: {sorted(set(written) - ignored)}"
