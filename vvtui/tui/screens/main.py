"""The run screen: endpoint panes side by side, the probe list, the scoreboard.

Drawing is paced by two timers, never by the runner: a frame timer (15 fps) flushes the text
that streamed into the model since the last frame into the visible panes; scoring runs in short
slices when results arrive (merged `ResultsArrived` messages), and a score tick pushes what the
scores changed to the screen a little at a time.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Static

from vvtui.present.styles import MARKS
from vvtui.tui import banded
from vvtui.tui import format as fmt
from vvtui.tui.document import LiveText, build_result_doc
from vvtui.tui.format import prompt_line
from vvtui.tui.keymap import pane_digit_bindings
from vvtui.tui.layout import (
    SIDEBAR_WIDTH,
    grid_shape,
    pane_pages,
    panes_that_fit,
    sidebar_by_default,
)
from vvtui.tui.messages import ResultsArrived, RunPhaseChanged
from vvtui.tui.prefs import BOARD_MODES
from vvtui.tui.screens.inspector import InspectorScreen
from vvtui.tui.widgets.compact_board import CompactBoard
from vvtui.tui.widgets.navigator import ProbeNavigator, departs
from vvtui.tui.widgets.pane import EndpointPane
from vvtui.tui.widgets.scoreboard import Scoreboard

if TYPE_CHECKING:
    from vvtui.tui.controller import RunController
    from vvtui.tui.state import RunModel, Slot

# Streaming text is drawn at the frame rate; scores, marks and scoreboard rows at the score tick.
FRAME_S = 1 / 15
# How often the screen may repaint what changed. Textual's default is 60 times a second: every
# batch of the runner's events (50 a second) dirtied a header or a mark somewhere and cost a
# compositor pass of its own. 30 still answers a key within a frame of a 30 fps terminal.
SCREEN_UPDATE_S = 1 / 30
# How long one screen update may render before it leaves the rest of what changed to the next
# (`banded.BandedCompositor`): a keypress or a timer never waits behind a whole screen of
# streaming panes.
SCREEN_UPDATE_BUDGET_S = 0.012
# And the share of the time screen updates may spend rendering, on average: what was not drawn
# waits for the next update, so a screen of fast streams costs at most this share of a core
# (a row of panes then moves a few times a second rather than at every frame).
SCREEN_DRAW_SHARE = 0.25
# Neither limit holds while no answer streams, nor for this long after a keypress: what a key
# changes (another probe, a maximized pane) is drawn whole, at once.
URGENT_S = 0.5
SCORE_TICK_S = 0.4
# While a run streams, the share of a core the screen's event loop may use, measured: above it,
# frames are skipped (at most FRAME_SKIP_MAX in a row) until it falls back. Drawing fast streams
# in every pane can fill a core; the runner process, which times the tokens, needs the other.
FRAME_CPU_SHARE = 0.2
FRAME_SKIP_MAX = 3
# More streaming panes than this and each frame draws one row of them (see `_frame`).
STAGGER_AT = 8
BOARD_ROWS_PER_TICK = 4
STATS_PANES_PER_TICK = 4

PHASE_TEXT = {
    "idle": ("starting", "dim"),
    "running": ("running", "$accent"),
    "scoring": ("scoring", "$warning"),
    "finished": ("finished", "$success"),
    "cancelled": ("cancelled", "$warning"),
    "failed": ("failed", "b $error"),
}


def progress_bar(done: int, total: int, width: int = 12) -> str:
    if total <= 0:
        return "░" * width
    filled = round(width * min(1.0, done / total))
    return "█" * filled + "░" * (width - filled)


class MainScreen(Screen[None]):
    """The run: panes, probe navigator, scoreboard. It asks the app for what is the app's to do
    (re-running, remembering the scoreboard mode) with messages; the app also hears every
    `RunPhaseChanged`, which bubbles up once this screen has redrawn."""

    class RerunRequested(Message):
        """The user asked to run the same probes again (the app decides whether it may)."""

    class BoardChanged(Message):
        """The user switched the scoreboard mode (the app remembers it for next time)."""

        def __init__(self, board: str) -> None:
            super().__init__()
            self.board = board

    BINDINGS: ClassVar = [
        Binding("r", "rerun", "Re-run", id="rerun", tooltip="Run the same probes again"),
        Binding("c", "cancel_run", "Cancel", id="cancel", tooltip="Stop the run, keep results"),
        Binding("n", "next_probe", "Next", id="next-probe", tooltip="Show the next probe"),
        Binding("p", "prev_probe", "Prev", id="prev-probe", tooltip="Show the previous probe"),
        Binding("d", "toggle_diff", "Diff", id="diff", tooltip="Toggle disagreement highlights"),
        Binding("f", "follow", "Follow", id="follow", show=False, tooltip="Follow the live probe"),
        Binding(
            "o",
            "only_disagreements",
            "Disagree only",
            id="only-disagreements",
            show=False,
            tooltip="List only probes where endpoints disagree",
        ),
        Binding(
            "b", "toggle_probes", "Probes", id="probe-list", show=False, tooltip="Show/hide probes"
        ),
        Binding("S", "sort", "Sort", id="sort", show=False, tooltip="Cycle the scoreboard's order"),
        Binding("i", "inspect", "Inspect", id="inspect", tooltip="Take the selected answer apart"),
        Binding("m", "maximize_pane", "Max", id="maximize", tooltip="Fill the screen with a pane"),
        Binding("x", "compare", "Compare", id="compare", tooltip="Reference + selected, wide"),
        Binding(
            "right_square_bracket",
            "page(1)",
            "More panes",
            id="next-panes",
            key_display="]",
            tooltip="Show the next page of panes",
        ),
        Binding(
            "left_square_bracket",
            "page(-1)",
            "",
            id="prev-panes",
            key_display="[",
            show=False,
            tooltip="Show the previous page of panes",
        ),
        Binding(
            "B",
            "board",
            "Board",
            id="board",
            show=False,
            tooltip="Scoreboard: full, one line per endpoint, hidden (remembered)",
        ),
        *pane_digit_bindings(
            "select_pane",
            "Select pane",
            "select",
            "1-9 select the pane `i`, `m`, `x` act on (or click it)",
        ),
    ]

    DEFAULT_CSS = """
    MainScreen { layout: vertical; }
    #runbar { height: 1; padding: 0 1; background: $panel; }
    #prompt { height: 1; padding: 0 1; color: $text-muted; }
    #body { height: 1fr; }
    #sidebar { width: SIDEBAR; border-right: vkey $panel-lighten-1; }
    #sidebar.-hidden { display: none; }
    #sidebar-title { height: 1; padding: 0 1; color: $text-muted; background: $panel; }
    #navigator { padding: 0 1; }
    #main { width: 1fr; }
    #panes { height: 1fr; grid-gutter: 0 0; }
    #scoreboard.-hidden, #board-compact.-hidden { display: none; }
    """.replace("SIDEBAR", str(SIDEBAR_WIDTH))

    def __init__(
        self, controller: RunController, *, follow_dwell_s: float = 1.5, board: str | None = None
    ) -> None:
        super().__init__()
        # Repaints changes band by band, within a time budget per update (#17).
        self._compositor = banded.compositor(SCREEN_UPDATE_BUDGET_S, SCREEN_DRAW_SHARE)
        self._screen_update_timer: Timer | None = None
        self.controller = controller
        self.follow_dwell_s = follow_dwell_s
        model = controller.model
        self.probe_id = model.probe_ids[0] if model.probe_ids else ""
        self.sample = 0
        self.follow = not controller.replay
        self.diff = True
        self._switched_at = 0.0
        self._sidebar_choice: bool | None = None
        self._shown_docs: dict[str, object] = {}
        self._runbar_key: tuple[object, ...] = ()
        self._pane_list: list[EndpointPane] | None = None
        self._frame_no = 0
        # Frame pacing (`_paced`): the loop's CPU share, smoothed, and frames skipped in a row.
        self._wall_at, self._cpu_at = time.perf_counter(), time.thread_time()
        self._cpu_share = 0.0
        self._skipped = 0
        # Score changes waiting for their turn on screen (see _score_tick).
        self._stats_due: set[str] = set()
        self._board_due: set[str] = set()
        self._marks_due: set[str] = set()
        self._tick = 0
        self._board_next = 0
        self._stats_next = 0  # the pane the next portion of stats lines starts from
        # The pane `i`, `m` and `x` act on (None: the first that disagrees on the probe shown).
        self.selected: str | None = None
        # Two panes side by side at full width: the reference and the selected one.
        self.compare = False
        # When not every pane fits with room for its answer: the pages and the one shown.
        self.pages: list[list[str]] = [list(model.endpoint_names)]
        self.page = 0
        # The scoreboard mode: the remembered one (`board`) when it is still a mode.
        self.board_mode = board if board in BOARD_MODES else "full"
        # Whether the page key is offered (`check_action`): not with the one page above.
        self._paged = False

    @property
    def model(self) -> RunModel:
        return self.controller.model

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        model = self.model
        yield Static(id="runbar")
        yield Static(id="prompt")
        with Horizontal(id="body"):
            with Vertical(id="sidebar"):
                yield Static(self._sidebar_title(), id="sidebar-title")
                yield ProbeNavigator(model.probe_ids, model.endpoint_names, id="navigator")
            with Vertical(id="main"):
                with Grid(id="panes"):
                    for i, info in enumerate(model.endpoints):
                        yield EndpointPane(
                            info,
                            reference=info.name == model.reference,
                            index=i,
                            until_decided=model.until_decided,
                        )
                yield Scoreboard(model.endpoint_names, id="scoreboard")
                yield CompactBoard(model.endpoint_names, id="board-compact")
        yield Footer()

    @property
    def _update_timer(self) -> Timer:
        """Textual's screen-update timer (`Screen._update_timer`), at SCREEN_UPDATE_S."""
        if self._screen_update_timer is None:
            self._screen_update_timer = self.set_interval(
                SCREEN_UPDATE_S, self._on_timer_update, name="screen_update", pause=True
            )
        return self._screen_update_timer

    def _on_timer_update(self) -> None:
        compositor = self._compositor
        if not isinstance(compositor, banded.BandedCompositor):
            super()._on_timer_update()
            return
        carried = compositor.carried
        changed = bool(self._dirty_widgets) or self._layout_required or self._repaint_required
        super()._on_timer_update()
        if carried and not changed and self.is_current and not self.app._batch_count:
            # Only what the last update's budget left over: Textual updates a screen only for
            # widgets that asked, so render it here.
            self._compositor_refresh()
        if compositor.carried:
            self._update_timer.resume()

    def on_mount(self) -> None:
        self.set_interval(FRAME_S, self._frame, name="frame")
        self.set_interval(SCORE_TICK_S, self._score_tick, name="score")
        self._apply_board()
        self._apply_sidebar()
        self._reset_view()
        if not self.controller.replay and not self.controller.runs:
            self.controller.start(self)

    def on_resize(self) -> None:
        self._apply_sidebar()

    def _sidebar_title(self) -> str:
        # One mark per pane, in pane order: the digits are the panes' numbers.
        digits = "".join(str((i + 1) % 10) for i in range(len(self.model.endpoint_names)))
        return f"{digits} probe"

    def _apply_sidebar(self) -> None:
        show = self._sidebar_choice
        if show is None:
            show = sidebar_by_default(self.size.width or self.app.size.width)
        # Compare mode gives the two answers the whole width (n/p still step probes).
        show = show and not self.compare
        self.query_one("#sidebar").set_class(not show, "-hidden")
        self._layout_grid(show)

    def _layout_grid(self, sidebar: bool) -> None:
        size = self.size if self.size.width else self.app.size
        model = self.model
        n = len(model.endpoints)
        width = size.width - (SIDEBAR_WIDTH if sidebar else 0)
        # What is left for the panes: the screen less run bar, prompt, footer and scoreboard.
        board = {"full": n + 1, "compact": n, "hidden": 0}[self.board_mode]
        height = size.height - 3 - board
        if self.compare:
            self.pages = [[model.reference, self.selected_endpoint()]]
        else:
            self.pages = pane_pages(self._pane_priority(), panes_that_fit(n, width, height))
        self.page = min(self.page, len(self.pages) - 1)
        shown = set(self.pages[self.page])
        cols, rows = grid_shape(len(shown), width, height)
        if self.compare:
            cols, rows = 2, 1
        grid = self.query_one("#panes", Grid)
        if (grid.styles.grid_size_columns, grid.styles.grid_size_rows) != (cols, rows):
            grid.styles.grid_size_columns = cols
            grid.styles.grid_size_rows = rows
        selected = self.selected_endpoint()
        for pane in self._panes():
            visible = pane.info.name in shown or pane is self.maximized
            if pane.display != visible:
                pane.display = visible
                if visible:
                    # Once laid out: a pane that was hidden has no width to wrap its answer to.
                    self.call_after_refresh(self._redraw_pane, pane)
            pane.set_selected(pane.info.name == selected and len(model.endpoints) > 1)
        paged = len(self.pages) > 1
        if paged != self._paged:
            # Only when the keys offered change: the footer rebuilds itself on every refresh
            # and the whole screen is laid out again (~100 ms with 16 panes), which a followed
            # run did on every probe it moved to.
            self._paged = paged
            self.refresh_bindings()

    def _redraw_pane(self, pane: EndpointPane) -> None:
        self._draw_pane(pane)
        pane.answer.sync(force=True)
        pane.on_resize()

    def _pane_priority(self) -> list[str]:
        """Panes in the order they earn a place on a small screen: the reference, the selected
        one, those that disagree on the probe shown, then the rest."""
        model = self.model
        marks = model.marks(self.probe_id) if self.probe_id else {}
        order = [model.reference, self.selected_endpoint()]
        order += [n for n in model.endpoint_names if departs(marks, n, model.reference)]
        order += model.endpoint_names
        return list(dict.fromkeys(n for n in order if n))

    def selected_endpoint(self) -> str:
        """The selected pane's endpoint, or the first that disagrees with the reference on
        the probe shown (the one worth a look), or the first that is not the reference."""
        model = self.model
        if self.selected in model.endpoint_names:
            return self.selected
        others = [n for n in model.endpoint_names if n != model.reference]
        marks = model.marks(self.probe_id) if self.probe_id else {}
        for name in others:
            if departs(marks, name, model.reference):
                return name
        return others[0] if others else model.reference

    def _apply_board(self) -> None:
        self.query_one(Scoreboard).set_class(self.board_mode != "full", "-hidden")
        compact = self.query_one(CompactBoard)
        compact.set_class(self.board_mode != "compact", "-hidden")
        if self.board_mode == "compact":
            compact.update_scores(dict(self.model.scores))

    def _reset_view(self) -> None:
        """Show the current model from scratch (first mount, or after a re-run)."""
        model = self.model
        self._shown_docs.clear()
        self._stats_due.clear()
        self._board_due.clear()
        self._marks_due.clear()
        navigator = self.query_one(ProbeNavigator)
        navigator.marks = {pid: model.marks(pid) for pid in model.probe_ids}
        navigator.set_filter(navigator.only_disagreements)
        navigator.show_probe(self.probe_id)
        self.query_one(Scoreboard).update_scores(dict(model.scores))
        for pane in self.query(EndpointPane):
            _show_stats(pane, model)
        self._show_probe(self.probe_id, force=True)

    # ------------------------------------------------------------------ drawing

    def _panes(self) -> list[EndpointPane]:
        # Looked up once: a DOM query on every frame was ~2 ms of each 15 fps frame.
        panes = self._pane_list
        if panes is None or any(not pane.is_attached for pane in panes):
            panes = self._pane_list = list(self.query(EndpointPane))
        return panes

    def on_key(self) -> None:
        if isinstance(self._compositor, banded.BandedCompositor):
            self._compositor.urgent(URGENT_S)

    def _paced(self) -> bool:
        """Whether this frame is skipped: the loop has used more than FRAME_CPU_SHARE of a core
        lately (smoothed over a few frames) while the run streams."""
        wall, cpu = time.perf_counter(), time.thread_time()
        spent = (cpu - self._cpu_at) / max(1e-3, wall - self._wall_at)
        self._wall_at, self._cpu_at = wall, cpu
        self._cpu_share = 0.6 * self._cpu_share + 0.4 * spent
        if (
            self.model.running
            and self._cpu_share > FRAME_CPU_SHARE
            and self._skipped < FRAME_SKIP_MAX
        ):
            self._skipped += 1
            return True
        self._skipped = 0
        return False

    def _frame(self) -> None:
        model = self.model
        if isinstance(self._compositor, banded.BandedCompositor):
            self._compositor.throttled = model.running
        if self._paced():
            return
        if self.follow and model.running:
            self._follow()
        panes = self._panes()
        streaming = [isinstance(pane.answer.doc, LiveText) for pane in panes]
        # With many answers streaming, a frame draws one row of the grid (rows take turns).
        # Textual repaints every widget inside the box around all of a frame's changes, so a
        # frame that touched a line in each row rendered every pane, header and stats line on
        # screen (~60 ms with 16 panes); one row's box holds that row's panes only.
        row: int | None = None
        tops: list[int] = []
        rows: list[int] = []
        if sum(streaming) > STAGGER_AT:
            # A pane's region is looked up in the compositor's map: once a frame each.
            tops = [pane.region.y if pane.display else -1 for pane in panes]
            rows = sorted(set(tops) - {-1})
            if rows:
                row = rows[self._frame_no % len(rows)]
        self._frame_no += 1
        later: set[Slot] = set()
        for k, pane in enumerate(panes):
            if not pane.display:
                continue  # paged out: drawn when it is shown again
            slot = (pane.info.name, self.probe_id, self.sample)
            if row is not None and tops[k] != row:
                if slot in model.dirty_slots:
                    later.add(slot)
                continue
            if slot in model.dirty_slots or streaming[k]:
                self._draw_pane(pane)
            pane.sync()
        model.dirty_slots.clear()
        model.dirty_slots |= later
        if row is None or row == rows[0]:
            # The run bar is at the top: drawn with the top row, its box stays small.
            self._draw_runbar()

    def _follow(self) -> None:
        frontier = self.model.frontier
        if frontier is None or frontier == self.probe_id:
            return
        if time.monotonic() - self._switched_at < self.follow_dwell_s:
            return
        # Drawn by the frames, a row at a time: 16 new answers in one frame was the loop's
        # longest stall of a followed run (~100 ms), once a probe.
        self._show_probe(frontier, draw=False)

    def _draw_pane(self, pane: EndpointPane) -> None:
        model = self.model
        name = pane.info.name
        slot = (name, self.probe_id, self.sample)
        status = model.slot_status(slot)
        result = model.results.get(slot)
        note = ""
        if result is not None:
            comparison = model.comparison(name, self.probe_id, self.sample)
            is_ref = name == model.reference
            key = (id(result), id(comparison), self.diff, is_ref)
            if self._shown_docs.get(name) != key:
                doc = build_result_doc(result, None if is_ref else comparison, diff=self.diff)
                pane.show(doc)
                self._shown_docs[name] = key
            pane.set_upstream(result.upstream_provider)
            note = self._mark_note(name, comparison)
        else:
            self._shown_docs.pop(name, None)
            stream = model.streams.get(slot)
            if stream is not None:
                if name != model.reference and self.diff:
                    ref = model.reference_text(self.probe_id, self.sample)
                    if ref:
                        stream.compare_with(ref)
                pane.show(stream)
                if stream.mark is not None and self.diff:
                    note = "[b $vv-mark-diverged]≠[/]"  # parted from the reference so far
            else:
                placeholder = {
                    "waiting": "waiting for its turn…",
                    "cancelled": "not asked: the run was cancelled",
                }.get(status.state, "")
                pane.show(None, placeholder)
        pane.set_status(status, note)

    def _mark_note(self, name: str, comparison: object) -> str:
        mark = self.model.marks(self.probe_id).get(name, "pending")
        if comparison is None:
            return ""
        glyph = fmt.MARK_GLYPHS.get(mark, "")
        style = MARKS[mark].style if mark in MARKS else "dim"
        text = f"{glyph} {mark}"
        fd = getattr(comparison, "first_divergence", None)
        if mark == "diverged" and fd is not None:
            text = f"{glyph} at token {fd}"
        elif mark == "fail":
            checks = getattr(comparison, "checks", [])
            text = f"{glyph} checks {sum(c.passed for c in checks)}/{len(checks)}"
        cut = getattr(comparison, "cut_at", None)
        if cut is not None:
            # Wherever it falls. Cut where the answers part (a clean cut): the cut is the news.
            cut_text = f"✂ cut at token {cut}"
            text = cut_text if mark == "diverged" and fd == cut else f"{text} {cut_text}"
        return f"[b {style}]{text}[/]"

    def _draw_runbar(self) -> None:
        model = self.model
        probe = model.probe_by_id.get(self.probe_id)
        index = model.probe_ids.index(self.probe_id) + 1 if probe else 0
        paging = (self.page, len(self.pages), self.compare)
        # Below 100 columns the progress would be cut off: the mode words give way to it.
        narrow = (self.size.width or self.app.size.width) < 100
        key: tuple[object, ...]
        key = (self.probe_id, model.phase, model.checking, model.done, model.total)
        key += (self.follow, self.diff, paging, narrow)
        if key == self._runbar_key:
            return
        self._runbar_key = key
        phase, style = PHASE_TEXT.get(model.phase, (model.phase, ""))
        if model.phase == "idle" and model.checking:
            # Before the first probe: on a first run of a ladder, this takes seconds.
            phase, style = "checking conformance…", "$accent"
        kind = f" · {probe.kind}" if probe else ""
        mode = "follow" if self.follow else "browse"
        parts = [
            ("vvtui ", "b $primary"),
            (f"probe {index}/{len(model.probe_ids)} ", ""),
            (self.probe_id, "b"),
            (kind, "dim"),
            ("   ", ""),
            ("" if narrow else f"{mode} · diff {'on' if self.diff else 'off'}   ", "dim"),
            (self._paging_note(), "$accent"),
            (f"{model.done}/{model.total} ", ""),
            (progress_bar(model.done, model.total, 6 if narrow else 12), "$accent"),
            ("  ", ""),
            (phase, style),
        ]
        if model.error:
            parts.append((f": {fmt.truncate(model.error, 60)}", "$error"))
        self.query_one("#runbar", Static).update(Content.assemble(*parts), layout=False)
        prompt = prompt_line(probe) if probe else ""
        tools = (
            [t.get("function", {}).get("name", "") for t in (probe.tools or [])] if probe else []
        )
        if tools:
            prompt += f"   (tools: {', '.join(tools)})"
        self.query_one("#prompt", Static).update(
            Content(f"› {fmt.truncate(prompt, 400)}"), layout=False
        )

    def _paging_note(self) -> str:
        if self.compare:
            return "compare · x leaves   "
        if len(self.pages) > 1:
            return f"panes {self.page + 1}/{len(self.pages)} ]   "
        return ""

    def _show_probe(self, probe_id: str, force: bool = False, draw: bool = True) -> None:
        if probe_id not in self.model.probe_by_id:
            return
        if probe_id == self.probe_id and not force:
            return
        self.probe_id = probe_id
        self.sample = 0
        self._switched_at = time.monotonic()
        self._shown_docs.clear()
        self.query_one(ProbeNavigator).show_probe(probe_id)
        self.page = 0
        self._layout_grid(not self.query_one("#sidebar").has_class("-hidden"))
        for pane in self._panes():
            if draw:
                self._draw_pane(pane)
                pane.sync()
            else:
                self.model.dirty_slots.add((pane.info.name, probe_id, self.sample))
        self._draw_runbar()

    # ------------------------------------------------------------------ scores

    def _score_tick(self) -> None:
        """Push what scoring changed to the screen, in small portions while running: the panes'
        stats and the probe marks take turns, and the scoreboard repaints at most
        BOARD_ROWS_PER_TICK rows per tick (a row is a dozen Rich-rendered cells, ~5 ms here):
        all of it in one frame would stall the loop for that frame."""
        model = self.model
        model.score_pending()
        self._stats_due |= model.dirty_endpoints
        self._board_due |= model.dirty_endpoints
        self._marks_due |= model.dirty_probes
        model.dirty_endpoints.clear()
        model.dirty_probes.clear()
        self._tick += 1
        turn = self._tick % 2
        everything = not model.running
        if self._stats_due:
            # A few panes a tick, round robin, while running: the stats lines of all 16 panes
            # in one frame made Textual render every pane again (~90 ms, the longest stall
            # left of a run), as a frame that touched each row of the grid did.
            order = self._panes()
            start = self._stats_next % max(1, len(order))
            panes = [p for p in order[start:] + order[:start] if p.info.name in self._stats_due]
            if not everything:
                panes = panes[:STATS_PANES_PER_TICK]
            for pane in panes:
                _show_stats(pane, model)
                self._stats_due.discard(pane.info.name)
            if panes and not everything:
                self._stats_next = order.index(panes[-1]) + 1
            else:
                self._stats_due.clear()  # panes that are gone
        if self._board_due:
            all_names = model.endpoint_names
            # Round robin from where the last tick stopped, so no row waits behind the others.
            start = self._board_next % max(1, len(all_names))
            rotated = all_names[start:] + all_names[:start]
            names = [n for n in rotated if n in self._board_due]
            if not everything:
                names = names[:BOARD_ROWS_PER_TICK]
            if names:
                self._board_next = all_names.index(names[-1]) + 1
            board = {n: model.scores[n] for n in names if n in model.scores}
            self.query_one(Scoreboard).update_scores(board)
            self.query_one(CompactBoard).update_scores(board)
            self._board_due.difference_update(names)
        if self._marks_due and (everything or turn == 1):
            if self.probe_id in self._marks_due and len(self.pages) > 1 and not self.compare:
                # Who disagrees on the probe shown changed: the first page is chosen by that.
                self._apply_sidebar()
            navigator = self.query_one(ProbeNavigator)
            navigator.update_marks({pid: model.marks(pid) for pid in self._marks_due})
            self._marks_due.clear()

    @on(ResultsArrived)
    def _results_arrived(self, event: ResultsArrived) -> None:
        # Score now (in a bounded slice) so the scorer keeps up with the run; what the scores
        # change on screen is pushed by the score tick, at most twice a second.
        self.model.score_pending()

    @on(RunPhaseChanged)
    def _phase_changed(self, event: RunPhaseChanged) -> None:
        self._score_tick()
        for pane in self._panes():
            self._draw_pane(pane)
        self._draw_runbar()
        # Not stopped: the message goes on to the app (notifications, saving, a pending re-run).

    @on(EndpointPane.Selected)
    def _pane_clicked(self, event: EndpointPane.Selected) -> None:
        self._select(event.name)

    @on(ProbeNavigator.Picked)
    def _picked(self, event: ProbeNavigator.Picked) -> None:
        self.follow = False
        self._show_probe(event.probe_id)

    # ------------------------------------------------------------------ actions

    def _step(self, delta: int) -> None:
        navigator = self.query_one(ProbeNavigator)
        order = navigator.visible_probes() or self.model.probe_ids
        if self.probe_id in order:
            i = order.index(self.probe_id) + delta
        else:
            i = 0 if delta > 0 else len(order) - 1
        i = max(0, min(len(order) - 1, i))
        self.follow = False
        self._show_probe(order[i])

    def action_next_probe(self) -> None:
        self._step(+1)

    def action_prev_probe(self) -> None:
        self._step(-1)

    def action_follow(self) -> None:
        self.follow = not self.follow
        self.notify("following the live probe" if self.follow else "follow off", timeout=2)
        if self.follow and self.model.frontier:
            self._show_probe(self.model.frontier)
        self._draw_runbar()

    def action_toggle_diff(self) -> None:
        self.diff = not self.diff
        self._show_probe(self.probe_id, force=True)

    def action_only_disagreements(self) -> None:
        navigator = self.query_one(ProbeNavigator)
        navigator.set_filter(not navigator.only_disagreements)
        shown = len(navigator.visible_probes())
        if navigator.only_disagreements:
            self.notify(f"{shown} probe(s) where endpoints disagree", timeout=3)
        else:
            self.notify("all probes", timeout=2)

    def action_toggle_probes(self) -> None:
        hidden = self.query_one("#sidebar").has_class("-hidden")
        self._sidebar_choice = hidden
        self._apply_sidebar()

    def action_sort(self) -> None:
        order = self.query_one(Scoreboard).cycle_sort()
        self.notify(f"scoreboard sorted by {order}", timeout=2)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # A saved run cannot be re-run or cancelled from here: no keys that only say so.
        if action in ("rerun", "cancel_run") and self.controller.replay:
            return False
        if action == "page":
            return len(self.pages) > 1
        return True

    def _select(self, name: str) -> None:
        self.selected = name
        screen = self.app.screen
        if isinstance(screen, InspectorScreen):
            screen.show_endpoint(name)
        self._apply_sidebar()

    def action_select_pane(self, index: int) -> None:
        names = self.model.endpoint_names
        if 0 <= index < len(names):
            self._select(names[index])
            if self.maximized is not None:
                self._maximize(names[index])

    def action_inspect(self) -> None:
        name = self.selected_endpoint()
        if name == self.model.reference:
            self.notify("select an endpoint to compare with the reference (1-9)", timeout=3)
            return
        self.follow = False
        self.app.push_screen(InspectorScreen(self.model, name, self.probe_id, self.sample))

    def action_maximize_pane(self) -> None:
        if self.maximized is not None:
            self.minimize()
        else:
            self._maximize(self.selected_endpoint())

    def _maximize(self, name: str) -> None:
        pane = next((p for p in self._panes() if p.info.name == name), None)
        if pane is None:
            return
        pane.display = True  # it may be on another page
        self.maximize(pane, container=False)
        self._draw_pane(pane)
        pane.sync()

    def minimize(self) -> None:
        super().minimize()
        self._apply_sidebar()  # a pane maximized from another page goes back to it

    def action_compare(self) -> None:
        # The run bar says so ("compare · x leaves"): no toast over the panes compared.
        self.compare = not self.compare
        self.page = 0
        self._apply_sidebar()

    def action_page(self, delta: int) -> None:
        if len(self.pages) > 1:
            self.page = (self.page + delta) % len(self.pages)
            self._apply_sidebar()

    def action_board(self) -> None:
        i = BOARD_MODES.index(self.board_mode)
        self.board_mode = BOARD_MODES[(i + 1) % len(BOARD_MODES)]
        self._apply_board()
        self._apply_sidebar()
        self.post_message(self.BoardChanged(self.board_mode))
        self.notify(f"scoreboard: {self.board_mode}", timeout=2)

    def action_rerun(self) -> None:
        self.post_message(self.RerunRequested())

    def action_cancel_run(self) -> None:
        if self.controller.cancel():
            self.notify("cancelling: answers in flight are kept as cancelled", timeout=3)
        else:
            self.notify("no run in progress", severity="warning", timeout=2)

    def restart_view(self) -> None:
        """After a re-run started: forget what was shown, follow the new run."""
        self.follow = True
        self._reset_view()


def _show_stats(pane: EndpointPane, model: RunModel) -> None:
    """A pane's stats lines from the run's model: score, history, trouble, decision."""
    name = pane.info.name
    pane.set_stats(
        model.scores.get(name), model.history(name), model.trouble(name), model.decision_notes(name)
    )
