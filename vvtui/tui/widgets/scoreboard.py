"""Endpoints × scores, live: a DataTable whose cells are the Scorer's numbers, formatted.

Sort by clicking a column header (again to reverse) or with the sort key, which cycles through
the useful orders.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

from vvtui.present import columns as spec
from vvtui.present.styles import MARKS
from vvtui.present.styles import verdict as verdict_look
from vvtui.scoring import EndpointScore
from vvtui.tui.themes import variable_colour

# The columns the TUI shows, as (key, column) pairs, from the one spec every scoreboard shares
# (vvtui.present.columns): a key reads the same here as in the reports.
COLUMNS: tuple[tuple[str, spec.Column], ...] = tuple((c.key, c) for c in spec.pick(spec.TUI_KEYS))
_BY_KEY = dict(COLUMNS)
# The endpoint column: its width follows the names, and it sorts by name.
NAME = "name"
# What the sort key cycles through ("plan": the order of the config).
SORT_CYCLE = ("plan", "fidelity", "cost", "ttft", "tps")


def cell_texts(score: EndpointScore) -> dict[str, str]:
    """The text of each cell for one endpoint (what tests compare with the Scorer's values)."""
    row = spec.ScoreRow(score)
    return {key: column.text(row) for key, column in COLUMNS}


class Scoreboard(DataTable):
    BINDINGS: ClassVar = []

    DEFAULT_CSS = """
    Scoreboard {
        height: auto; max-height: 50%; background: $surface; overflow-x: auto;
        scrollbar-size-horizontal: 1;
    }
    Scoreboard > .datatable--header { text-style: bold; background: $panel; }
    """

    def __init__(self, names: list[str], *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.names = list(names)
        self.scores: dict[str, EndpointScore] = {n: EndpointScore(name=n) for n in names}
        self.sort_column: str = "plan"
        self._filled = False
        self.sort_reverse = False
        # What each row shows, so an update builds only the cells whose text changed.
        self._texts: dict[str, dict[str, str]] = {}

    def on_mount(self) -> None:
        # Fixed widths (the longest value each column can show): cells then change without
        # resizing the table, which would cost a layout pass per update.
        name_width = max([len("endpoint"), *(len(n) + 2 for n in self.names)])
        for key, column in COLUMNS:
            label = Text(column.header, justify="right" if column.numeric else "left")
            width = max(len(column.header), column.width or name_width)
            self.add_column(label, key=key, width=width)
        for name in self.names:
            self.add_row(*self._cells(name, self.scores[name]).values(), key=name)
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._restyle())

    # ------------------------------------------------------------------ cells

    def _var_style(self, name: str, bold: bool = False) -> Style:
        # DataTable cells are Rich text: theme variables are resolved here, and again on a
        # theme change.
        colour = variable_colour(self.app.theme_variables.get(name))
        return Style(color=None if colour is None else colour.rich_color, bold=bold)

    def _cells(
        self, name: str, score: EndpointScore, changed_only: bool = False
    ) -> dict[str, Text]:
        """The row's cells, in column order; with `changed_only`, those whose text differs from
        what the row shows (a cell's style follows from its text)."""
        texts = cell_texts(score)
        shown = self._texts.get(name, {}) if changed_only else {}
        self._texts[name] = texts
        cells = {}
        for key, column in COLUMNS:
            if texts[key] == shown.get(key):
                continue
            text = Text(texts[key], justify="right" if column.numeric else "left", no_wrap=True)
            if key == "verdict_glyph":
                text.stylize(self._var_style(verdict_look(score.verdict).var, True))
            elif key == NAME and score.reference:
                text.stylize(self._var_style("primary"), len(score.name))
            elif key == "errors" and score.errors:
                text.stylize(self._var_style(MARKS["error"].var, True))
            elif key == "conformance" and (score.conformance or {}).get("failed"):
                text.stylize(self._var_style(MARKS["fail"].var, True))
            cells[key] = text
        return cells

    def update_scores(self, scores: dict[str, EndpointScore]) -> None:
        """New scores for some endpoints; cells change in place, the order is kept up to date."""
        changed = False
        for name, score in scores.items():
            if name not in self.scores:
                continue
            self.scores[name] = score
            cells = self._cells(name, score, changed_only=self._filled)
            if cells:
                self._set_row(name, cells)
                changed = True
        self._filled = True
        if changed and self.sort_column != "plan":
            self._apply_sort()

    def _set_row(self, name: str, cells: dict[str, Text]) -> None:
        """Change some cells of one row, repainting only that row.

        DataTable's `update_cell` bumps a table-wide counter that every cached cell render is
        keyed on, so one changed cell re-renders the whole table (~0.5 ms a cell here: 100 ms
        of event loop for 16 endpoints, several times a second during a run). This drops the
        cached renders of the changed row only. It leans on DataTable's private caches; if they
        are not what it expects, it falls back to `update_cell`.
        """
        try:
            row_index = self.get_row_index(name)
            row_data = self._data[RowKey(name)]
            first_y = (self.header_height if self.show_header else 0) + sum(
                row.height for row in self.ordered_rows[:row_index]
            )
            lines = range(first_y, first_y + self.rows[RowKey(name)].height)
            caches: tuple[tuple[Any, Callable[[Any], bool]], ...] = (
                (self._cell_render_cache, lambda k: k[0] == name),
                (self._row_render_cache, lambda k: k[0] == name),
                (self._row_renderable_cache, lambda k: k[1] == row_index),
                (self._line_cache, lambda k: k[0] in lines),
            )
            for column, cell in cells.items():
                row_data[ColumnKey(column)] = cell
            for cache, stale in caches:
                for key in [k for k in cache.keys() if stale(k)]:  # noqa: SIM118 (no __iter__)
                    cache.discard(key)
        except (AttributeError, KeyError, TypeError, IndexError):
            for column, cell in cells.items():
                self.update_cell(name, column, cell)
            return
        self.refresh_row(row_index)

    def _restyle(self) -> None:
        for name in self.names:
            self._set_row(name, self._cells(name, self.scores[name]))

    # ------------------------------------------------------------------ sorting

    def sort_by(self, column: str, reverse: bool = False) -> None:
        self.sort_column = column
        self.sort_reverse = reverse
        self._apply_sort()

    def cycle_sort(self) -> str:
        """The next order in SORT_CYCLE; returns its name."""
        i = SORT_CYCLE.index(self.sort_column) if self.sort_column in SORT_CYCLE else -1
        self.sort_by(SORT_CYCLE[(i + 1) % len(SORT_CYCLE)])
        return self.sort_column

    def _apply_sort(self) -> None:
        if self.sort_column == "plan":
            order = {n: i for i, n in enumerate(self.names)}

            def key(cell: Any) -> Any:
                return order.get(str(cell.plain).removesuffix(spec.REFERENCE_STAR), 0)
        else:
            column = _BY_KEY[self.sort_column]

            def key(cell: Any) -> Any:
                name = str(cell.plain).removesuffix(spec.REFERENCE_STAR)
                return column.sort_key(spec.ScoreRow(self.scores[name])), name

        self.sort(NAME, key=key, reverse=self.sort_reverse)

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        column = str(event.column_key.value)
        if column == NAME:
            column = "plan" if self.sort_column != "plan" else NAME
        reverse = self.sort_column == column and not self.sort_reverse
        self.sort_by(column, reverse)

    def row_order(self) -> list[str]:
        return [str(row.key.value) for row in self.ordered_rows]
