"""The Textual front end. Entry points for the CLI: `run_app` (a live run), `view_snapshot` (a
saved run, replayed) and `show_error` (a readable screen for a config or probe file that cannot
be used). Textual is imported only when one of them is called."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vvtui.errors import VvtuiError
    from vvtui.model import RunInfo, Snapshot
    from vvtui.runner.plan import RunPlan
    from vvtui.tui.app import AppOptions, VvtuiApp
    from vvtui.tui.controller import RunController


def app_options(config: Any, export_dir: Path) -> AppOptions:
    from vvtui.tui.app import AppOptions
    from vvtui.tui.prefs import default_state_path
    from vvtui.tui.themes import shipped_themes_dir, user_themes_dir

    return AppOptions(
        export_dir=export_dir,
        config_theme=getattr(config, "theme", None),
        keymap=dict(getattr(config, "keymap", None) or {}),
        state_path=default_state_path(),
        theme_dirs=[shipped_themes_dir(), user_themes_dir()],
        manage_gc=True,
    )


def run_app(
    *,
    config: Any,
    plan: RunPlan,
    info: RunInfo,
    out: Path | None,
    export_dir: Path,
    resume_from: Snapshot | None = None,
    report: Callable[[Snapshot], str] | None = None,
) -> int:
    """Run `plan` in the TUI. Returns the exit code (0 unless the app failed). `report` renders
    the Markdown report the Export key writes beside the snapshot."""
    from vvtui.tui.app import VvtuiApp
    from vvtui.tui.controller import RunController, RunSpec

    controller = RunController(
        spec=RunSpec(plan, info, resume_from), out=out, export_dir=export_dir, report=report
    )
    controller.prepare_runner()  # its start-up overlaps the app's
    app = VvtuiApp(controller, app_options(config, export_dir))
    code = app.run()
    written = keep_results(app, controller)
    print_saved(app, written)
    # A crash (Textual prints its traceback) leaves return_code set; keep_results ran anyway.
    # Ctrl-C leaves with 130, like headless.
    return int(app.return_code or code or 0)


def prepared_app(
    prepare: Callable[[], tuple[RunPlan, RunInfo]],
    *,
    out: Path | None,
    export_dir: Path,
    preparing: str,
    report: Callable[[Snapshot], str] | None = None,
) -> VvtuiApp:
    """The app for a run whose plan takes seconds to prepare (the demo starts its simulator and
    loads every suite): it shows at once and calls `prepare` in a thread behind its first screen.
    The runner process starts now too, so its imports overlap both."""
    from vvtui.runner.child_session import spawn_child
    from vvtui.tui.app import VvtuiApp
    from vvtui.tui.controller import RunController, RunSpec, child_runner_wanted, warm_up

    spare = spawn_child() if child_runner_wanted() else None

    def build() -> RunController:
        try:
            plan, info = prepare()
        except BaseException:
            if spare is not None:
                spare.kill()
                spare.wait()
            raise
        # The tokenizer too, while the screen is idle: loaded later, in a thread beside a screen
        # drawing its first frames, it took seconds on a busy machine.
        warm_up()
        controller = RunController(
            spec=RunSpec(plan, info), out=out, export_dir=export_dir, report=report
        )
        controller.prepare_runner(spare)
        return controller

    return VvtuiApp(None, app_options(None, export_dir), prepare=build, preparing=preparing)


def run_prepared_app(
    prepare: Callable[[], tuple[RunPlan, RunInfo]],
    *,
    out: Path | None,
    export_dir: Path,
    preparing: str,
    report: Callable[[Snapshot], str] | None = None,
) -> int:
    """`run_app` for a plan prepared behind the first screen (see `prepared_app`)."""
    app = prepared_app(prepare, out=out, export_dir=export_dir, preparing=preparing, report=report)
    code = app.run()
    written = keep_results(app, app.controller) if app.controller is not None else None
    print_saved(app, written)
    if app.start_error is not None:
        return app.start_error.exit_code
    return int(app.return_code or code or 0)


def view_snapshot(
    snapshot: Snapshot,
    *,
    config: Any,
    export_dir: Path,
    report: Callable[[Snapshot], str] | None = None,
) -> int:
    """Open a saved snapshot in the TUI (no requests are made)."""
    from vvtui.tui.app import VvtuiApp
    from vvtui.tui.controller import RunController

    if not snapshot.scores:
        from vvtui.scoring import score_snapshot

        print("vvtui: scoring the snapshot…", file=sys.stderr)
        snapshot.scores = score_snapshot(snapshot).to_dict()
    controller = RunController(snapshot=snapshot, export_dir=export_dir, report=report)
    app = VvtuiApp(controller, app_options(config, export_dir))
    code = app.run()
    print_saved(app, None)
    return int(app.return_code or code or 0)


def print_saved(app: Any, already: Path | None) -> None:
    """Every file the session wrote (run snapshots, exports, screenshots), on the terminal once
    the app has closed: the toasts that named them are gone with the screen."""
    for path in dict.fromkeys(getattr(app, "saved_paths", [])):
        if path != already:
            print(f"vvtui: saved {path}", file=sys.stderr)


def keep_results(app: Any, controller: RunController) -> Path | None:
    """After the app closed: whatever was gathered and not saved goes to disk, scored — to
    `--out` when given, else to the export folder, unless the user chose to drop it. Returns
    the path written."""
    from vvtui.runner.session import default_snapshot_path

    controller.stop_runner()
    target: Path | None = None
    if controller.out_path is not None and not controller.saved:
        target = controller.out_path
    elif controller.unsaved and not getattr(app, "discarded", False):
        target = default_snapshot_path(controller.export_dir)
    if target is None:
        return None
    print("vvtui: scoring and saving what was gathered…", file=sys.stderr)
    written = controller.save_after_exit(target)
    if written is not None:
        snap = controller.snapshot or (controller.session.snapshot if controller.session else None)
        n = len(snap.results) if snap is not None else 0
        state = "complete" if snap is not None and snap.run.complete else "incomplete"
        print(f"vvtui: snapshot: {written} ({n} results, {state})", file=sys.stderr)
    return written


def show_error(error: VvtuiError) -> int:
    """A full-screen explanation of `error` (a broken config or probe file); returns its exit
    code once the user leaves."""
    from vvtui.tui.screens.error import ErrorApp

    code = ErrorApp(error).run()
    return int(code if code is not None else error.exit_code)
