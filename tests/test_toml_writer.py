import math
import tomllib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vvtui.toml_writer import (
    format_comment,
    format_key,
    format_string,
    format_value,
    join_blocks,
    table_lines,
)

scalars = (
    st.text(max_size=20)
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@given(values)
def test_every_value_round_trips_through_tomllib(value):
    assert tomllib.loads(f"x = {format_value(value)}")["x"] == value


@given(st.text(max_size=30))
def test_keys_round_trip(key):
    assert list(tomllib.loads(f"{format_key(key)} = 1")) == [key]


def test_bare_keys_stay_bare_and_others_are_quoted():
    assert format_key("allow_fallbacks") == "allow_fallbacks"
    assert format_key("X-Title") == "X-Title"
    assert format_key("a.b") == '"a.b"'
    assert format_key("") == '""'


def test_strings_escape_quotes_backslashes_and_controls():
    assert format_string('say "hi"\\') == '"say \\"hi\\"\\\\"'
    assert format_string("a\nb\tc\x00\x7f") == '"a\\nb\\tc\\u0000\\u007f"'
    assert tomllib.loads("x = " + format_string("é ✓ 中"))["x"] == "é ✓ 中"


def test_special_floats():
    assert math.isnan(tomllib.loads(f"x = {format_value(math.nan)}")["x"])
    assert tomllib.loads(f"x = {format_value(-math.inf)}")["x"] == -math.inf
    assert format_value(0.6) == "0.6"
    assert format_value(1e-7) == "1e-07"


def test_inline_tables_nest():
    text = format_value({"provider": {"order": ["groq"], "allow_fallbacks": False}})
    assert text == '{ provider = { order = ["groq"], allow_fallbacks = false } }'


@pytest.mark.parametrize("bad", [None, object(), b"bytes", [None], [{"k": [None]}]])
def test_unwritable_values_raise(bad):
    with pytest.raises(TypeError):
        format_value(bad)


def test_table_lines_skip_none_and_put_comments_above():
    lines = table_lines(
        "endpoint", {"name": "a", "price": None, "reference": True}, array=True, comments=["hi"]
    )
    assert lines == ["# hi", "[[endpoint]]", 'name = "a"', "reference = true"]


def test_join_blocks_makes_a_document_tomllib_reads():
    doc = join_blocks(
        [
            format_comment("generated\nby a test"),
            table_lines("endpoint", {"name": "a", "labels": {"quant": "fp8"}}, array=True),
            table_lines("endpoint", {"name": "b"}, array=True),
        ]
    )
    assert doc.startswith("# generated\n# by a test\n\n[[endpoint]]")
    data = tomllib.loads(doc)
    assert [e["name"] for e in data["endpoint"]] == ["a", "b"]
    assert data["endpoint"][0]["labels"] == {"quant": "fp8"}


def test_none_inside_a_table_is_an_absent_key():
    # The writer's one rule for null, shared with whole documents: a None in a table is left out.
    assert format_value({"k": None, "j": 1}) == "{ j = 1 }"
