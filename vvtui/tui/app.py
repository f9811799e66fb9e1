"""The Textual app: wiring only. Themes, keymap, command palette, global actions (quit, help,
export, screenshot, theme) and the decisions around leaving with unsaved results; the run screen
and the run controller do the rest."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.theme import Theme

from vvtui.errors import VvtuiError
from vvtui.redact import redact, redacted_traceback
from vvtui.tui import heap
from vvtui.tui.controller import RunController
from vvtui.tui.keymap import binding_ids, check_keymap, keys_for
from vvtui.tui.messages import RunPhaseChanged
from vvtui.tui.prefs import Prefs, initial_theme, load_prefs, save_prefs
from vvtui.tui.screens.help import HelpFacts, HelpScreen, key_rows
from vvtui.tui.screens.inspector import InspectorScreen
from vvtui.tui.screens.main import MainScreen
from vvtui.tui.screens.unsaved import DISCARD, SAVE, UnsavedScreen
from vvtui.tui.themes import VARIABLE_DEFAULTS, load_themes, resolve_theme

# Digit keys past the first say the same thing in the help (its row reads "1-9").
DIGIT_REPEATS = {f"select-{k}" for k in range(2, 10)} | {f"inspect-{k}" for k in range(1, 10)}


@dataclass
class AppOptions:
    export_dir: Path
    config_theme: str | None = None
    keymap: dict[str, str] = field(default_factory=dict)
    # The prefs file (remembered theme); None remembers nothing (tests).
    state_path: Path | None = None
    # Theme folders, later ones overriding earlier ones by name.
    theme_dirs: list[Path] = field(default_factory=list)
    # Seconds "follow" stays on a probe before moving to the live one.
    follow_dwell_s: float = 1.5
    # Keep full GC collections out of runs (`vvtui.tui.heap`). The CLI turns it on; tests leave
    # the process's GC settings alone.
    manage_gc: bool = False


def report_crash(app: App[int], error: BaseException | None) -> None:
    """What Textual's `_fatal_error` does, minus the locals, through the redactor."""
    import sys

    from rich.text import Text

    error = error or sys.exc_info()[1]
    text = redacted_traceback(error) if error is not None else "vvtui: internal error\n"
    app.bell()
    app._exit_renderables.append(Text(text))
    app._close_messages_no_wait()


class VvtuiApp(App[int]):
    TITLE = "vvtui"
    BINDINGS: ClassVar = [
        Binding("q", "quit", "Quit", id="quit", tooltip="Quit (asks before dropping results)"),
        Binding(
            "f1,question_mark", "help", "Help", id="help", key_display="?", tooltip="Keys, marks"
        ),
        Binding("e", "export", "Export", id="export", tooltip="Write snapshot JSON + Markdown"),
        Binding("s", "screenshot", "Screenshot", id="screenshot", tooltip="Save an SVG"),
        Binding("t", "pick_theme", "Theme", id="theme", tooltip="Pick a theme"),
        # Like headless: cancel, keep what was gathered (written once the app has closed),
        # exit 130. Replaces Textual's "press ctrl+q to quit" notice.
        Binding(
            "ctrl+c",
            "interrupt",
            "Interrupt",
            id="interrupt",
            show=False,
            priority=True,
            tooltip="Cancel the run, save what was gathered, exit 130",
        ),
    ]

    def __init__(
        self,
        controller: RunController | None,
        options: AppOptions,
        *,
        prepare: Callable[[], RunController] | None = None,
        preparing: str = "endpoints, probe suites",
    ) -> None:
        """`prepare` (run in a thread once the app shows) builds the controller when there is
        none yet: the screen comes first, the seconds a run takes to set up come behind it."""
        super().__init__()
        if controller is None and prepare is None:
            raise ValueError("a controller or a way to prepare one is needed")
        # None while `prepare` builds it behind the starting screen (or after it failed).
        self.controller: RunController | None = controller
        self._prepare = prepare
        self._preparing = preparing
        # The error that stopped `prepare` (shown on an error screen; the app exits with its code).
        self.start_error: VvtuiError | None = None
        self.options = options
        self.keymap_overrides: dict[str, str] = {}
        self.theme_sources: dict[str, Path] = {}
        self._persisted_theme: str | None = None
        self._quitting = False
        self._rerun_pending = False
        self._discarded = False
        # Files written while the app ran (exports, screenshots): printed once it has closed.
        self.saved_paths: list[Path] = []
        self.main_screen: MainScreen | None = None
        self._crash: BaseException | None = None

    # ------------------------------------------------------------------ setup

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(VARIABLE_DEFAULTS)

    def _handle_exception(self, error: Exception) -> None:
        # Textual race: a command palette closed (esc) while its search worker still runs makes
        # that worker fail to find the palette's list, and a failed worker ends the app. Nothing
        # is wrong but the palette is gone: do not take the run down with it.
        from textual.css.query import NoMatches
        from textual.worker import WorkerFailed

        if (
            isinstance(error, WorkerFailed)
            and isinstance(error.error, NoMatches)
            and "CommandPalette" in str(error.error)
        ):
            self.log.warning("ignored a closed command palette's search:", error.error)
            return
        self._crash = error
        super()._handle_exception(error)

    def _fatal_error(self) -> None:
        # Textual's crash report prints a traceback with local variables, which can hold
        # request headers: print the redacted traceback, without locals, instead.
        report_crash(self, self._crash)

    def on_mount(self) -> None:
        self._setup_themes()
        self._setup_keymap()
        if self.controller is None:
            from vvtui.tui.screens.starting import StartingScreen

            self.push_screen(StartingScreen(self._preparing))
            # After the first paint: the thread's imports would take the GIL from it.
            self.call_after_refresh(
                self.run_worker, self._prepare_run, thread=True, group="prepare", name="prepare"
            )
            return
        self._show_main(self.controller)

    def _show_main(self, controller: RunController) -> None:
        self.main_screen = MainScreen(
            controller, follow_dwell_s=self.options.follow_dwell_s, board=self.prefs.board
        )
        from vvtui.tui.screens.starting import StartingScreen

        if isinstance(self.screen, StartingScreen):
            self.switch_screen(self.main_screen)
        else:
            self.push_screen(self.main_screen)
        if self.options.manage_gc:
            self.call_after_refresh(heap.settle)

    def _prepare_run(self) -> None:
        assert self._prepare is not None
        try:
            controller = self._prepare()
        except VvtuiError as exc:
            self.call_from_thread(self._prepare_failed, exc)
            return
        self.call_from_thread(self._prepared, controller)

    def _prepared(self, controller: RunController) -> None:
        if self._quitting:  # left while it was being prepared
            controller.stop_runner()
            return
        self.controller = controller
        self._show_main(controller)

    def _prepare_failed(self, error: VvtuiError) -> None:
        from vvtui.tui.screens.error import ErrorScreen

        self.start_error = error
        self.switch_screen(ErrorScreen(error))

    def on_unmount(self) -> None:
        if self.options.manage_gc:
            heap.resume_full()  # leaving mid-run: the process goes on to score and save

    def _setup_themes(self) -> None:
        loaded = load_themes(self.options.theme_dirs)
        for theme in loaded.themes.values():
            self.register_theme(theme)
        self.theme_sources = dict(loaded.sources)
        if loaded.errors:
            self.notify(
                "\n".join(redact(e) for e in loaded.errors),
                title=f"{len(loaded.errors)} theme file(s) ignored",
                severity="error",
                timeout=15,
            )
        prefs = load_prefs(self.options.state_path)
        wanted = initial_theme(self.options.config_theme, prefs)
        name, notice = resolve_theme(wanted, self.available_themes)
        if notice:
            self.notify(notice, title="theme", severity="warning", timeout=8)
        self._persisted_theme = prefs.theme if prefs.theme == name else name
        self.theme = name
        self.theme_changed_signal.subscribe(self, self._theme_changed)

    def _theme_changed(self, theme: Theme) -> None:
        if theme.name == self._persisted_theme:
            return
        self._persisted_theme = theme.name
        self.remember("theme", theme=theme.name, config_theme=self.options.config_theme)

    def remember(self, what: str, **changes: str | None) -> None:
        """Update the remembered prefs (the others kept as they are on disk)."""
        path = self.options.state_path
        try:
            save_prefs(path, dataclasses.replace(load_prefs(path), **changes))
        except OSError as exc:
            self.notify(f"could not remember the {what}: {exc}", severity="warning")

    @property
    def prefs(self) -> Prefs:
        return load_prefs(self.options.state_path)

    def _setup_keymap(self) -> None:
        known = binding_ids([self.BINDINGS, MainScreen.BINDINGS, InspectorScreen.BINDINGS])
        good, problems = check_keymap(self.options.keymap, known)
        self.keymap_overrides = good
        if good:
            self.set_keymap(good)
        if problems:
            self.notify("\n".join(problems), title="keymap", severity="warning", timeout=10)

    # ------------------------------------------------------------------ palette

    def _action(self, action: str) -> Callable[[], object]:
        return partial(self.run_action, action)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        controller = self.controller
        # A saved run is neither re-run nor cancelled here, nor a run still being prepared.
        if controller is not None and not controller.replay:
            yield SystemCommand("run: restart", "Run the same probes again", self._action("rerun"))
            yield SystemCommand("run: cancel", "Stop the run, keep results", self._action("cancel"))
        yield SystemCommand(
            "export: snapshot", "Write snapshot JSON + Markdown", self._action("export")
        )
        yield SystemCommand("export: screenshot", "Save an SVG", self._action("screenshot"))
        main = self.main_screen
        if main is not None:
            for title, help_text, action in (
                ("view: toggle diff highlighting", "Show/hide disagreement", "toggle_diff"),
                ("view: next probe", "Show the next probe", "next_probe"),
                ("view: previous probe", "Show the previous probe", "prev_probe"),
                ("view: follow the live probe", "Follow the run", "follow"),
                (
                    "view: only disagreements",
                    "List probes where endpoints disagree",
                    "only_disagreements",
                ),
                ("view: probe list", "Show or hide the probe list", "toggle_probes"),
                ("view: sort scoreboard", "Cycle the scoreboard's order", "sort"),
                ("view: inspect the selected answer", "Divergence, KL, checks", "inspect"),
                ("view: maximize the selected pane", "Fill the screen with it", "maximize_pane"),
                ("view: compare with the reference", "Two panes, full width", "compare"),
                ("view: scoreboard size", "Full, one line per endpoint, hidden", "board"),
            ):
                yield SystemCommand(title, help_text, partial(main.run_action, action))
        yield SystemCommand("view: help", "Keys, marks and where files go", self._action("help"))
        for name in sorted(self.available_themes):
            yield SystemCommand(f"theme: {name}", "Switch theme", partial(self._set_theme, name))
        yield SystemCommand("app: quit", "Quit vvtui", self._action("quit"))

    def _set_theme(self, name: str) -> None:
        self.theme = name

    # ------------------------------------------------------------------ actions

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen) or self.controller is None:
            return
        bindings = [(b, keys_for(b, self.keymap_overrides)) for b in self._all_bindings()]
        facts = HelpFacts(
            keys=key_rows(bindings),
            export_dir=str(self.options.export_dir),
            out=None if self.controller.out is None else str(self.controller.out),
            state_path=None if self.options.state_path is None else str(self.options.state_path),
            theme_dirs=[str(d) for d in self.options.theme_dirs],
            replay=self.controller.replay,
        )
        self.push_screen(HelpScreen(facts))

    def _all_bindings(self) -> list[Binding]:
        replay = self.controller is not None and self.controller.replay
        hidden = {"rerun", "cancel"} if replay else set()
        return [
            b
            for b in [*self.BINDINGS, *MainScreen.BINDINGS, *InspectorScreen.BINDINGS]
            if isinstance(b, Binding) and b.id not in hidden and b.id not in DIGIT_REPEATS
        ]

    def action_pick_theme(self) -> None:
        self.search_themes()

    def action_rerun(self) -> None:
        self.request_rerun()

    def action_cancel(self) -> None:
        if self.main_screen is not None:
            self.main_screen.action_cancel_run()

    async def action_export(self) -> None:
        if self.controller is None:
            self.notify("nothing to export yet", severity="warning")
            return
        self.notify("exporting…", timeout=2)
        try:
            paths = await self.controller.export()
        except OSError as exc:
            self.notify(redact(str(exc)), title="export failed", severity="error")
            return
        if not paths:
            self.notify("nothing to export yet", severity="warning")
            return
        self.saved_paths += paths
        self.notify("\n".join(str(p) for p in paths), title="exported", timeout=10)

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        # Textual's signature, so a keymap or the palette may still name a file; by default the
        # screenshot goes to the export folder, time-stamped.
        folder = Path(path) if path is not None else self.options.export_dir
        try:
            folder.mkdir(parents=True, exist_ok=True)
            stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
            path = self.save_screenshot(filename=filename or f"vvtui-{stamp}.svg", path=str(folder))
        except OSError as exc:
            self.notify(redact(str(exc)), title="screenshot failed", severity="error")
            return
        self.saved_paths.append(Path(path))
        self.notify(path, title="screenshot saved", timeout=10)

    def action_interrupt(self) -> None:
        if self.controller is not None:  # ctrl+c on the starting screen has no run to stop
            self.controller.cancel()
        self.exit(130, return_code=130)

    async def action_quit(self) -> None:
        controller = self.controller
        if controller is None:  # still starting, or it could not start
            self._quitting = True
            self.exit(self.start_error.exit_code if self.start_error is not None else 0)
            return
        if self._quitting:
            self.exit(0)  # asked twice: leave now (run_app still saves what was gathered)
            return
        if controller.running:
            self._quitting = True
            controller.cancel()
            self.notify("stopping the run and saving what was gathered… (q again: leave now)")
            return
        self._leave_when_saved(controller)

    def _leave_when_saved(self, controller: RunController) -> None:
        if not controller.unsaved:
            self.exit(0)
            return
        # Every result since the last save, the reference's repeats included: what the file
        # would hold (the panes show one answer per endpoint and probe, fewer).
        n = controller.model.unsaved
        question = (
            f"{n} answers of this run are not saved in any file.\n"
            f"Save the snapshot (and report) to {self.options.export_dir} before quitting?"
        )

        def chosen(choice: str | None) -> None:
            self._quitting = False
            if choice == SAVE:
                self.run_worker(self._save_then(lambda: self.exit(0)), group="save")
            elif choice == DISCARD:
                self._discarded = True
                self.exit(0)

        self.push_screen(UnsavedScreen(question, "quit"), chosen)

    async def _save_then(self, then: object) -> None:
        await self.action_export()
        if self.controller is not None and not self.controller.unsaved and callable(then):
            then()

    def request_rerun(self) -> None:
        controller = self.controller
        if controller is None:
            return
        if controller.replay:
            self.notify(
                "this is a saved snapshot; to run again use `vvtui run` (or --resume)",
                severity="warning",
            )
            return
        if controller.running:
            self._rerun_pending = True
            controller.cancel()
            self.notify("stopping this run before starting again…")
            return
        if controller.unsaved:
            question = (
                "The answers of the last run are not saved in any file.\n"
                f"Save them to {self.options.export_dir} before running again?"
            )

            def chosen(choice: str | None) -> None:
                if choice == SAVE:
                    self.run_worker(self._save_then(self._start_rerun), group="save")
                elif choice == DISCARD:
                    self._start_rerun()

            self.push_screen(UnsavedScreen(question, "re-run"), chosen)
            return
        self._start_rerun()

    def _start_rerun(self) -> None:
        controller = self.controller
        assert self.main_screen is not None and controller is not None  # a run was shown
        controller.start(self.main_screen)
        self.main_screen.restart_view()
        self.notify(f"run {controller.runs} started (same probes, same seed)", timeout=3)

    # ------------------------------------------------------------------ run events

    @on(MainScreen.RerunRequested)
    def _rerun_requested(self) -> None:
        self.request_rerun()

    @on(MainScreen.BoardChanged)
    def _board_changed(self, event: MainScreen.BoardChanged) -> None:
        self.remember("scoreboard", board=event.board)

    @on(RunPhaseChanged)
    def _run_phase_changed(self, event: RunPhaseChanged) -> None:
        """The run changed phase (the message bubbles up from the main screen, which has redrawn
        by now)."""
        phase, final = event.phase, event.final
        controller = self.controller
        if controller is None:  # only a run's main screen sends it
            return
        model = controller.model
        if self.options.manage_gc:
            if final:
                heap.resume_full()
            elif phase == "running":
                heap.defer_full()
        if phase == "failed":
            self.notify(model.error or "the run failed", title="run failed", severity="error")
        if not final:
            return
        if phase in ("finished", "cancelled") and controller.saved and controller.out_path:
            self.saved_paths.append(controller.out_path)
        if phase in ("finished", "cancelled"):
            where = (
                f"\nsnapshot: {controller.out_path}"
                if controller.out_path is not None and controller.saved
                else "\nnot saved yet: e exports it"
            )
            self.notify(
                f"{model.gathered} answers, scored{where}",
                title=f"run {phase}",
                severity="information" if phase == "finished" else "warning",
                timeout=8,
            )
        if self._rerun_pending:
            self._rerun_pending = False
            self.request_rerun()
        elif self._quitting:
            self._leave_when_saved(controller)

    @property
    def discarded(self) -> bool:
        """The user chose to leave without saving."""
        return self._discarded
