"""The run behind the screen: starts, cancels and re-runs runs, scores and saves their snapshots
off the event loop, and exports.

A run is a `RunSession` in a process of its own (`ChildSession`): the clients stamp tokens on a
loop that never draws, so the screen cannot delay the timings it shows. Its events arrive in
batches on the app's loop, where a Textual worker waits for the run; the callback feeds the model
and, for results, posts a merging `ResultsArrived` to the screen. `VVTUI_RUNNER=inline` runs the
session on the app's loop instead (as before the child existed; for comparison and debugging).
The session does not score: the final re-score takes seconds on a big run, so it happens in a
thread here, and the snapshot is written again with its scores.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vvtui.model import RunInfo, Snapshot
from vvtui.runner.child_session import ChildSession, RunnerDied, RunnerFailed, spawn_child
from vvtui.runner.events import ResultReady, RunEvent, RunFinished, RunStarted
from vvtui.runner.plan import RunPlan
from vvtui.runner.session import RunSession, default_snapshot_path
from vvtui.storage import save_snapshot, write_atomic
from vvtui.tui.messages import ResultsArrived, RunPhaseChanged
from vvtui.tui.state import RunModel

if TYPE_CHECKING:
    import subprocess

    from textual.dom import DOMNode
    from textual.worker import Worker

# Where runs run: "child" (a process of their own) or "inline" (the app's event loop).
RUNNER_ENV = "VVTUI_RUNNER"


def child_runner_wanted() -> bool:
    # The child's pipes are read with the event loop's add_reader and select(), which Windows'
    # loop does not offer for pipes: there the run stays on the app's loop.
    default = "inline" if sys.platform == "win32" else "child"
    return os.environ.get(RUNNER_ENV, default).strip().lower() != "inline"


@dataclass
class RunSpec:
    """A run to perform: the plan, its record, and a partial snapshot to continue."""

    plan: RunPlan
    info: RunInfo
    resume_from: Snapshot | None = None


def numbered(path: Path, n: int) -> Path:
    """`snap.json` for the first run, `snap-2.json` for the second..."""
    return path if n <= 1 else path.with_name(f"{path.stem}-{n}{path.suffix}")


def warm_up() -> None:
    """Load what the first scored result would otherwise load on the event loop (the tokenizer,
    jsonschema): seconds of imports, done in a thread while the first requests are in flight."""
    import jsonschema  # noqa: F401

    from vvtui.scoring import count_tokens

    count_tokens("warm up")


class RunController:
    def __init__(
        self,
        *,
        spec: RunSpec | None = None,
        snapshot: Snapshot | None = None,
        out: Path | None = None,
        export_dir: Path,
        child_runner: bool | None = None,
        report: Callable[[Snapshot], str] | None = None,
    ) -> None:
        if spec is None and snapshot is None:
            raise ValueError("a run spec or a snapshot is needed")
        self.spec = spec
        self.out = out
        self.export_dir = export_dir
        # The Markdown report written beside each export, handed in by the CLI: the TUI and the
        # reports are front ends side by side, and neither imports the other.
        self.report = report
        self.session: RunSession | ChildSession | None = None
        self.child_runner = child_runner_wanted() if child_runner is None else child_runner
        # A runner process started ahead of its run (`prepare_runner`).
        self._spare: subprocess.Popen[bytes] | None = None
        self.worker: Worker[None] | None = None
        self.runs = 0
        # The scored snapshot of the last finished run (or the replayed one).
        self.snapshot: Snapshot | None = snapshot
        # Where the current run's snapshot goes, and whether its scored version is on disk.
        self.out_path: Path | None = None
        self.saved = False
        self.target: DOMNode | None = None
        self.notes: list[str] = []
        if snapshot is not None:
            self.model = RunModel.from_snapshot(snapshot)
            self.saved = True
        else:
            assert spec is not None
            self.model = _model_for(spec.plan)

    @property
    def replay(self) -> bool:
        return self.spec is None

    @property
    def running(self) -> bool:
        return self.worker is not None and self.worker.is_running

    @property
    def unsaved(self) -> bool:
        """Gathered results that are in no file yet (quitting would lose them)."""
        return self.model.unsaved > 0 and not self.saved

    # ------------------------------------------------------------------ running

    def prepare_runner(self, process: subprocess.Popen[bytes] | None = None) -> None:
        """Start the runner process now (or adopt `process`, started earlier still), so its
        imports overlap the app's start-up."""
        if not self.child_runner or self.spec is None or self._spare is not None:
            if process is not None:
                process.kill()
                process.wait()
            return
        self._spare = process or spawn_child()

    def start(self, target: DOMNode) -> None:
        """Start a run (the first, or a re-run with the same plan) in a worker of `target`."""
        assert self.spec is not None
        self.target = target
        self.runs += 1
        spec = self.spec
        if self.runs > 1:
            # A re-run asks the same rendered probes again: same seed, same prompts.
            info = dataclasses.replace(spec.info, started_at=None, finished_at=None, complete=False)
            spec = RunSpec(spec.plan, info, None)
            self.model = _model_for(spec.plan)
        # The conformance checks go first (not on a re-run or a resume: the plan keeps them).
        plan = spec.plan
        self.model.checking = plan.conformance_options is not None and not plan.conformance
        self.out_path = None if self.out is None else numbered(self.out, self.runs)
        self.snapshot = None
        self.saved = False
        args = (spec.plan, spec.info, self.out_path, self._on_event, spec.resume_from)
        if self.child_runner:
            process, self._spare = self._spare, None
            self.session = ChildSession(*args, process=process)
        else:
            from vvtui.scoring import count_tokens

            self.session = RunSession(*args, count_tokens=count_tokens, score=False)
        if self.runs == 1:
            target.run_worker(warm_up, thread=True, group="warm-up", name="warm-up")
        self.worker = target.run_worker(
            self._run(self.session, self.model), group="run", exclusive=True, name="run"
        )

    def _on_event(self, event: RunEvent) -> None:
        self.model.on_event(event)
        target = self.target
        if target is None:
            return
        if isinstance(event, ResultReady):
            target.post_message(ResultsArrived(event.done, event.total))
        elif isinstance(event, RunStarted):
            target.post_message(RunPhaseChanged("running"))
        elif isinstance(event, RunFinished):
            target.post_message(RunPhaseChanged(self.model.phase))

    async def _run(self, session: RunSession | ChildSession, model: RunModel) -> None:
        from vvtui.redact import redact

        try:
            snapshot = await session.run()
        except RunnerDied as exc:
            # What arrived before the runner process died is kept: scored, and written to --out
            # like a cancelled run's (its write-ahead log stays beside it for --resume).
            if session.snapshot is not None and session.snapshot.results:
                await self._score_and_save(session.snapshot, model)
            self._fail(model, redact(str(exc)))
            return
        except RunnerFailed as exc:
            self._fail(model, redact(str(exc)))
            return
        except Exception as exc:  # a bug must not take the UI down with it
            self._fail(model, redact(f"{type(exc).__name__}: {exc}"))
            return
        cancelled = not snapshot.run.complete
        await self._score_and_save(snapshot, model)
        model.phase = "cancelled" if cancelled else "finished"
        if self.target is not None:
            self.target.post_message(RunPhaseChanged(model.phase, final=True))

    def _fail(self, model: RunModel, error: str) -> None:
        model.phase = "failed"
        model.error = error
        if self.target is not None:
            self.target.post_message(RunPhaseChanged("failed", final=True))

    async def _score_and_save(self, snapshot: Snapshot, model: RunModel) -> None:
        from vvtui.scoring import score_snapshot

        report = await asyncio.to_thread(score_snapshot, snapshot)
        snapshot.scores = report.to_dict()
        if model is self.model:
            self.snapshot = snapshot
        if self.out_path is not None:
            await asyncio.to_thread(save_snapshot, snapshot, self.out_path)
            self.saved = True
            model.unsaved = 0
        # Fold in results not yet scored live, so the live view agrees with the report.
        model.score_pending(budget_s=None)
        model.set_final(report)

    def cancel(self) -> bool:
        """Stop the run; answers in flight are kept as cancelled. True when a run was stopped."""
        if self.session is not None and self.running:
            self.session.cancel()
            return True
        return False

    async def wait(self) -> None:
        if self.worker is not None:
            await self.worker.wait()

    # ------------------------------------------------------------------ exports

    async def current_snapshot(self) -> Snapshot | None:
        """The scored snapshot of what is gathered now (mid-run: a partial one)."""
        if self.snapshot is not None and self.snapshot.scores:
            return self.snapshot
        if self.session is None:
            return self.snapshot
        from vvtui.scoring import score_snapshot

        snapshot = self.session.snapshot_now()
        if not snapshot.scores:
            report = await asyncio.to_thread(score_snapshot, snapshot)
            snapshot.scores = report.to_dict()
        return snapshot

    async def export(self) -> list[Path]:
        """Write the snapshot JSON, and its Markdown report when the controller was given a
        renderer, into the export dir; returns the paths written."""
        snapshot = await self.current_snapshot()
        if snapshot is None:
            return []
        json_path = default_snapshot_path(self.export_dir)
        written = [await asyncio.to_thread(save_snapshot, snapshot, json_path)]
        if self.report is not None:
            text = self.report(snapshot)
            md_path = json_path.with_suffix(".md")
            written.append(await asyncio.to_thread(write_atomic, md_path, text))
        if snapshot.run.complete or not self.running:
            self.saved = True
        self.model.unsaved = 0
        return written

    def save_after_exit(self, path: Path | None = None) -> Path | None:
        """After the app has closed: make sure what was gathered is on disk, scored. `path`
        names where (default: the run's --out). Returns the path written, if any."""
        self.stop_runner()
        snapshot = self.snapshot
        if snapshot is None and self.session is not None:
            snapshot = self.session.snapshot or self.session.snapshot_now()
        target = path or (self.out_path if not self.saved else None)
        if snapshot is None or target is None or not snapshot.results:
            return None
        if not snapshot.scores:
            from vvtui.scoring import score_snapshot

            snapshot.scores = score_snapshot(snapshot).to_dict()
        save_snapshot(snapshot, target)
        self.snapshot = snapshot
        self.saved = True
        return target

    def stop_runner(self) -> None:
        """Make sure no runner process outlives the app (it has had its chance to finish)."""
        spare, self._spare = self._spare, None
        if spare is not None:
            with contextlib.suppress(OSError):
                spare.kill()
            spare.wait()
        if isinstance(self.session, ChildSession):
            self.session.stop()


def _model_for(plan: Any) -> RunModel:
    stopping = None
    if plan.stopping is not None:
        from vvtui.scoring.decide import StoppingRecord

        stopping = StoppingRecord(rule=plan.stopping, order=list(plan.order or []))
    return RunModel(list(plan.probes), plan.endpoint_infos(), stopping)
