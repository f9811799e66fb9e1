import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_scoring_core_imports_neither_textual_nor_httpx_nor_heavy_deps():
    code = (
        "import sys, vvtui.scoring; "
        "print(sorted(m for m in ('textual', 'httpx', 'tiktoken', 'jsonschema', 'rich') "
        "if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    # tiktoken and jsonschema load on first use, never at import time.
    assert done.stdout.strip() == "[]"


def test_scoring_source_never_mentions_ui_or_http_libraries():
    for path in (ROOT / "vvtui" / "scoring").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        for banned in ("import textual", "from textual", "import httpx", "from httpx"):
            assert banned not in text, f"{path.name}: {banned}"
