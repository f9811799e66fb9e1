"""The one way golden files are compared: portable across machines, exact everywhere else.

A golden file written on one CPU must pass on another, whose numpy/OpenBLAS kernels may round
the last bits of a float differently (see vvtui/scoring/tolerance.py). So:

- structured data (a score report) agrees when every non-float is identical and every float is
  within a relative 1e-9 (`vvtui.scoring.tolerance.differences`);
- text (Markdown, CSV, SVG) is cut into numbers and the text between them: the text must be
  identical, integers identical, and two decimals that differ must be different floats within
  that tolerance (the same float written two ways is a formatting change, and fails).

Numbers a format rounds for display (`72.5`, `97%`) are compared the same way, which is exact
in practice: they only move if a value sits within 1e-9 of a rounding boundary
(tests/test_golden_tolerance.py checks that none of the fixtures' does).

A failure names the first few places that differ. `VVTUI_UPDATE_GOLDEN=1` rewrites the file
instead; say why in the commit.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from vvtui.scoring.tolerance import ABS_TOL, REL_TOL, differences, floats_close

LIMIT = 5
# A number as text: an optional minus, digits with an optional fraction, an optional exponent.
NUMBER = re.compile(r"-?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def updating() -> bool:
    return bool(os.environ.get("VVTUI_UPDATE_GOLDEN"))


def _is_decimal(token: str) -> bool:
    return any(c in token for c in ".eE")


def _tokens(line: str) -> list[str]:
    """Alternating text and numbers: even items text (maybe empty), odd items numbers."""
    out: list[str] = []
    pos = 0
    for match in NUMBER.finditer(line):
        out += [line[pos : match.start()], match.group()]
        pos = match.end()
    out.append(line[pos:])
    return out


def _token_differs(got: str, want: str, rel: float, abs_tol: float) -> bool:
    if got == want:
        return False
    if not (_is_decimal(got) and _is_decimal(want)):
        return True
    a, b = float(got), float(want)
    return a == b or not floats_close(a, b, rel, abs_tol)


def _excerpt(line: str, at: int, width: int = 50) -> str:
    start = max(0, at - width)
    text = line[start : at + width]
    return ("…" if start else "") + text + ("…" if at + width < len(line) else "")


def text_differences(
    got: str, want: str, *, rel: float = REL_TOL, abs_tol: float = ABS_TOL, limit: int = LIMIT
) -> list[str]:
    """Where two texts disagree beyond float rounding, as "line N: got … / want …" entries."""
    got_lines, want_lines = got.split("\n"), want.split("\n")
    out: list[str] = []
    for n, (g, w) in enumerate(zip(got_lines, want_lines, strict=False), start=1):
        if g == w:
            continue
        gt, wt = _tokens(g), _tokens(w)
        if len(gt) != len(wt):
            at = next((i for i, (a, b) in enumerate(zip(g, w, strict=False)) if a != b), 0)
            out.append(f"line {n}: got {_excerpt(g, at)!r} / want {_excerpt(w, at)!r}")
        else:
            col = 0
            for i, (a, b) in enumerate(zip(gt, wt, strict=True)):
                differs = a != b if i % 2 == 0 else _token_differs(a, b, rel, abs_tol)
                if differs:
                    out.append(
                        f"line {n}: got {_excerpt(g, col)!r} / want {_excerpt(w, col)!r} "
                        f"({a!r} != {b!r})"
                    )
                    break
                col += len(a)
        if len(out) >= limit:
            return out
    if len(got_lines) != len(want_lines) and len(out) < limit:
        out.append(f"{len(got_lines)} lines != {len(want_lines)} lines")
    return out


def _fail(name: str, diffs: list[str]) -> str:
    shown = "\n  ".join(diffs)
    return (
        f"{name} differs from the golden file beyond a relative {REL_TOL:g} on floats "
        f"(first {len(diffs)} differences):\n  {shown}\n"
        "if the change is intended, regenerate with VVTUI_UPDATE_GOLDEN=1 and review the diff"
    )


def check_text_golden(path: Path, text: str) -> None:
    """Compare `text` with the file at `path` (or rewrite it under VVTUI_UPDATE_GOLDEN=1)."""
    if updating():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"{path} missing: run with VVTUI_UPDATE_GOLDEN=1 to create it"
    diffs = text_differences(text, path.read_text(encoding="utf-8"))
    assert not diffs, _fail(path.name, diffs)


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, indent=1, ensure_ascii=False, allow_nan=False)


def assert_agrees(got: Any, want: Any, name: str = "the report") -> None:
    """Structured data: non-floats identical, floats within a relative 1e-9."""
    diffs = differences(got, want, limit=LIMIT)
    assert not diffs, _fail(name, diffs)


def check_json_golden(path: Path, data: Any) -> None:
    """Compare plain data with the JSON file at `path` (or rewrite it)."""
    if updating():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(canonical_json(data) + "\n", encoding="utf-8")
        return
    assert path.exists(), f"{path} missing: run with VVTUI_UPDATE_GOLDEN=1 to create it"
    # Through JSON, so the comparison sees what the file can hold (tuples become lists).
    assert_agrees(json.loads(canonical_json(data)), json.loads(path.read_text("utf-8")), path.name)
