"""The TOML writer reads back to exactly what it was given."""

from __future__ import annotations

import math
import tomllib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vvtui.toml_writer import TomlWriteError, dumps

keys = st.text(min_size=0, max_size=12)
scalars = (
    st.text(max_size=80)
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False)
    | st.booleans()
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=20,
)
documents = st.dictionaries(keys, values, max_size=6)


@settings(max_examples=150, deadline=None)
@given(documents)
def test_round_trip(doc):
    assert tomllib.loads(dumps(doc)) == doc


def test_readable_layout_for_probes():
    doc = {
        "suite": {"name": "x"},
        "probe": [
            {
                "id": "a",
                "messages": [
                    {"role": "system", "content": "line one\nline two with \"quotes\" and '''"},
                    {"role": "user", "content": "x" * 100},
                ],
                "tools": [{"type": "function", "function": {"name": "f"}}],
            }
        ],
    }
    text = dumps(doc, header="generated\nby a test")
    assert text.startswith("# generated\n# by a test\n\n[suite]\n")
    assert "[[probe]]" in text and "[[probe.messages]]" in text
    assert 'content = """\nline one\nline two' in text
    assert tomllib.loads(text) == doc


def test_special_strings_and_keys():
    doc = {
        "weird key": 1,
        "0\n": "newline after a bare-looking key",
        "$schema": "x",
        "": "empty key",
        "ctl": "a\x00b\x1fc\x7fd\te\rf",
        "trailing": 'ends with quote"',
        "multi": "first\n" * 30 + '"""',
        "unicode": "中文 ✓ \u2028 end",
        "nums": [0.1, -0.0, 1e300, math.inf, -math.inf, 10**18],
    }
    assert tomllib.loads(dumps(doc)) == doc
    nan = tomllib.loads(dumps({"n": math.nan}))["n"]
    assert math.isnan(nan)


def test_none_is_dropped_in_tables_and_refused_in_arrays():
    assert tomllib.loads(dumps({"a": None, "b": {"c": None, "d": 1}})) == {"b": {"d": 1}}
    with pytest.raises(TomlWriteError, match="no null"):
        dumps({"a": [1, None]})
    with pytest.raises(TomlWriteError):
        dumps({"a": object()})
