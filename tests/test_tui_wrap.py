"""Incremental word wrapping: appending re-wraps only the last line, and the result is the same
as wrapping the whole text at once."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from vvtui.tui.wrap import WrapIndex, _wrap_cells, _wrap_narrow, char_cells, wrap_from

_alphabet = st.sampled_from([*list("ab cd  ef\n"), "漢", "字", "é", "\t"])
texts = st.lists(st.text(alphabet=_alphabet, max_size=12), max_size=12)


def cells(s: str) -> int:
    return sum(char_cells(c) for c in s)


@settings(max_examples=150, deadline=None)
@given(chunks=texts, width=st.integers(min_value=1, max_value=12))
def test_incremental_equals_full(chunks: list[str], width: int) -> None:
    index = WrapIndex(width)
    text = ""
    index.update(text)
    for chunk in chunks:
        text += chunk
        first = index.update(text)
        assert 0 <= first <= len(index.lines)
    assert index.lines == wrap_from(text, 0, width)


@settings(max_examples=150, deadline=None)
@given(chunks=texts, width=st.integers(min_value=2, max_value=12))
def test_lines_fit_and_lose_only_break_characters(chunks: list[str], width: int) -> None:
    text = "".join(chunks)
    lines = wrap_from(text, 0, width)
    for start, end in lines:
        assert "\n" not in text[start:end]
        assert cells(text[start:end]) <= width
    # Between consecutive lines, only a newline or the space a line broke at is dropped.
    for (_, end), (start, _) in itertools.pairwise(lines):
        assert text[end:start] in ("", "\n", " ")
    assert lines[-1][1] == len(text)


def test_breaks_at_spaces_and_mid_word_when_it_must() -> None:
    text = "hello world abcdefghij"
    lines = [text[s:e] for s, e in wrap_from(text, 0, 8)]
    assert lines == ["hello", "world", "abcdefgh", "ij"]


def test_wide_characters_take_two_cells() -> None:
    text = "漢字漢字漢"
    lines = [text[s:e] for s, e in wrap_from(text, 0, 4)]
    assert lines == ["漢字", "漢字", "漢"]


def test_update_returns_first_changed_line() -> None:
    index = WrapIndex(5)
    index.update("abc de")
    assert [tuple(x) for x in index.lines] == [(0, 3), (4, 6)]
    assert index.update("abc defgh ij") == 1  # only the open line is re-wrapped


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from(list("ab  c\n\t.")), max_size=60),
    start=st.integers(min_value=0, max_value=60),
    width=st.integers(min_value=1, max_value=12),
)
def test_one_cell_text_wraps_the_same_by_search_as_by_character(
    text: str, start: int, width: int
) -> None:
    start = min(start, len(text))
    assert _wrap_narrow(text, start, width) == _wrap_cells(text, start, width)
