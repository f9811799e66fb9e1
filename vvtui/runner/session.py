"""One run from start to snapshot: the runner, the write-ahead log, cancellation on signals, the
final scored snapshot written atomically. Shared by the headless CLI and the TUI so both write
the same files the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vvtui import __version__
from vvtui.errors import SnapshotError
from vvtui.model import EndpointInfo, Result, RunInfo, Snapshot
from vvtui.runner.core import Runner
from vvtui.runner.events import ConformanceReady, RunEvent
from vvtui.runner.plan import RunPlan
from vvtui.runner.wal import WriteAheadLog, wal_path_for
from vvtui.storage import save_snapshot


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def default_snapshot_path(export_dir: str | Path | None = None) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path(export_dir or ".") / f"vvtui-{stamp}.json"


@dataclass
class RunSession:
    plan: RunPlan
    info: RunInfo
    out: Path | None = None
    on_event: Callable[[RunEvent], None] | None = None
    # A partial snapshot to continue: its results are kept and its finished jobs not re-asked.
    resume_from: Snapshot | None = None
    count_tokens: Callable[[str], int] | None = None
    client_factory: Any = None
    http_factory: Any = None
    # Score the final snapshot (tests of the runner alone may turn it off).
    score: bool = True

    runner: Runner | None = field(default=None, init=False)
    snapshot: Snapshot | None = field(default=None, init=False)
    _kept: list[Result] = field(default_factory=list, init=False)

    def _skip_keys(self) -> set[tuple[str, str, int, int]]:
        """Finished jobs of a resumed run. Errored ones are asked again: the endpoint may have
        recovered, and a transient failure is not an answer."""
        if self.resume_from is None:
            return set()
        names = {e.name for e in self.plan.endpoints}
        self._kept = [
            r
            for r in self.resume_from.results
            if r.endpoint in names and r.error is None and not r.truncated
        ]
        return {r.key for r in self._kept}

    def _header(self) -> dict[str, Any]:
        return self._build(results=[]).to_dict()

    def _build(self, results: list[Result]) -> Snapshot:
        return snapshot_of(self.plan, self.info, results, self._infos())

    @property
    def results(self) -> list[Result]:
        """Every result gathered so far: the resumed ones, then this run's."""
        return self._kept + (self.runner.results if self.runner is not None else [])

    def _infos(self) -> list[EndpointInfo]:
        infos = self.plan.endpoint_infos()
        if self.resume_from is not None:
            # A resumed run keeps the conformance its first part measured.
            old = {e.name: e for e in self.resume_from.endpoints}
            for info in infos:
                if not info.conformance and info.name in old:
                    info.conformance = dict(old[info.name].conformance)
        return infos

    async def run(self) -> Snapshot:
        skip = self._skip_keys()
        # The snapshot must describe the plan that ran, whatever RunInfo the caller built.
        self.info.reference_repeats = self.plan.reference_repeats
        if self.info.started_at is None:
            self.info.started_at = now_iso()
        wal: WriteAheadLog | None = None
        if self.out is not None:
            wal = self._open_log(self.out)
            for result in self._kept:
                wal.append(result)
        await self._conformance()
        gate = None
        if self.plan.stopping is not None:
            from vvtui.runner.until_decided import UntilDecided

            gate = UntilDecided(self.plan, self.plan.stopping)
            gate.preload(self._kept)
            self.info.stopping = gate.record.to_dict()
        self.runner = Runner(
            self.plan,
            gate=gate,
            on_event=self.on_event,
            client_factory=self.client_factory,
            http_factory=self.http_factory,
            count_tokens=self.count_tokens,
            skip=skip,
            on_result=wal.append if wal is not None else None,
        )
        cancelled = failed = False
        with _cancel_on_signals(self.runner.cancel):
            try:
                await self.runner.run(resumed=self._kept)
            except asyncio.CancelledError:
                cancelled = True
            except BaseException:
                failed = True  # a bug: still write what was gathered, marked incomplete
                raise
            finally:
                results = self._kept + self.runner.results
                complete = not (cancelled or failed or self.runner.cancelled)
                if gate is not None:
                    self.info.stopping = gate.finish().to_dict()
                self._finish(results, complete, wal)
        if cancelled:
            raise asyncio.CancelledError
        assert self.snapshot is not None
        return self.snapshot

    async def _conformance(self) -> None:
        """The conformance checks, before the first probe (once: a resumed or repeated run keeps
        what it has). A failure here costs the checks, never the run."""
        options = self.plan.conformance_options
        if options is None or self.plan.conformance:
            return
        from vvtui.clients.conformance import conformance_for_run, settings_for

        seed = int(options.get("seed", 0))
        settings = settings_for(
            context_tokens=int(options.get("context_tokens", 6000)),
            usage_slack=int(options.get("usage_slack", 2)),
            seed=seed,
        )
        note = ""
        try:
            records = await conformance_for_run(
                self.plan.endpoints,
                settings,
                seed=seed,
                use_cache=bool(options.get("use_cache", True)),
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug in the checks must not cost the run
            from vvtui.redact import redact

            records = {}
            note = redact(f"conformance checks failed: {type(exc).__name__}: {exc}")
        self.plan.conformance = records
        if self.on_event is not None:
            self.on_event(ConformanceReady(records, self.plan.reference.name, note))

    def _open_log(self, out: Path) -> WriteAheadLog:
        """Fail before the first request, not after the last, when the results cannot be kept."""
        if out.is_dir():
            raise SnapshotError(
                f"{out}: is a directory, not a snapshot file", hint=f"e.g. --out {out / 'run.json'}"
            )
        wal = WriteAheadLog(wal_path_for(out))
        try:
            wal.open(self._header())
        except OSError as exc:
            blocked = next((p for p in out.parents if p.exists() and not p.is_dir()), None)
            why = f"{blocked} is a file, not a folder" if blocked else exc.strerror or str(exc)
            raise SnapshotError(
                f"{wal.path}: cannot write there: {why}",
                hint="choose another --out or --export-dir",
            ) from None
        return wal

    def _finish(self, results: list[Result], complete: bool, wal: WriteAheadLog | None) -> None:
        """Score and write the snapshot, then drop the log. Neither a scoring bug nor a full disk
        may cost the results: unscored, the snapshot is still written (`vvtui score` can score it
        later); unwritable, the log stays and the error says where the results are."""
        self.info.complete = complete
        self.info.finished_at = now_iso()
        snapshot = self._build(_ordered(results, self.plan))
        scoring_error: Exception | None = None
        if self.score:
            from vvtui.scoring import score_snapshot

            try:
                snapshot.scores = score_snapshot(snapshot).to_dict()
            except Exception as exc:
                scoring_error = exc
        self.snapshot = snapshot
        if self.out is not None:
            try:
                save_snapshot(snapshot, self.out)
            except OSError as exc:
                if wal is not None:
                    wal.close(remove=False)
                raise SnapshotError(
                    f"{self.out}: cannot write the snapshot: {exc.strerror or exc}; the results "
                    f"are safe in {wal_path_for(self.out)}",
                    hint=f"free space or fix permissions, then `vvtui run --resume {self.out}`",
                ) from None
        if wal is not None:
            # The log goes only once the snapshot is safely on disk.
            wal.close(remove=self.out is not None)
        if scoring_error is not None:
            raise scoring_error

    def cancel(self) -> None:
        if self.runner is not None:
            self.runner.cancel()

    def snapshot_now(self) -> Snapshot:
        """A scored snapshot of what has been gathered so far (for exports mid-run). Once the run
        has ended this is the final snapshot."""
        if self.snapshot is not None:
            return self.snapshot
        snapshot = partial_snapshot(self.plan, self.info, self.results)
        if self.score:
            from vvtui.scoring import score_snapshot

            snapshot.scores = score_snapshot(snapshot).to_dict()
        return snapshot


def snapshot_of(
    plan: RunPlan,
    info: RunInfo,
    results: list[Result],
    endpoints: list[EndpointInfo] | None = None,
) -> Snapshot:
    """The run's snapshot; `endpoints` as the run recorded them (default: the plan's, with the
    conformance it holds)."""
    return Snapshot(
        vvtui_version=__version__,
        created_at=now_iso(),
        run=info,
        endpoints=endpoints if endpoints is not None else plan.endpoint_infos(),
        probes=list(plan.probes),
        results=results,
    )


def partial_snapshot(plan: RunPlan, info: RunInfo, results: list[Result]) -> Snapshot:
    """An unscored snapshot of a run still going: what was gathered, marked incomplete."""
    snapshot = snapshot_of(plan, info, _ordered(list(results), plan))
    snapshot.run = dataclasses.replace(info, complete=False, finished_at=None)
    return snapshot


def _ordered(results: list[Result], plan: RunPlan) -> list[Result]:
    """Results in plan order (probe, sample, endpoint, repeat), whatever order they finished in,
    so two snapshots of the same run diff cleanly."""
    probe_index = {p.id: i for i, p in enumerate(plan.probes)}
    endpoint_index = {e.name: i for i, e in enumerate(plan.endpoints)}
    return sorted(
        results,
        key=lambda r: (
            r.repeat,
            probe_index.get(r.probe_id, len(probe_index)),
            r.sample,
            endpoint_index.get(r.endpoint, len(endpoint_index)),
        ),
    )


@contextlib.contextmanager
def _cancel_on_signals(cancel: Callable[[], None]) -> Any:
    """SIGTERM (and SIGINT, when we own the main thread's loop) cancel the run gracefully, so the
    snapshot of what was gathered is still written. A second Ctrl-C falls through to Python's
    default and exits at once."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        yield
        return
    installed: list[signal.Signals] = []
    hits = {"n": 0}

    def handler(sig: signal.Signals) -> None:
        hits["n"] += 1
        if hits["n"] > 1:
            loop.remove_signal_handler(sig)
            signal.raise_signal(sig)
            return
        cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, handler, sig)
            installed.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):
            pass  # not the main thread (the TUI's worker) or not supported here
    try:
        yield
    finally:
        for sig in installed:
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(sig)
