"""`ChildSession`: a `RunSession` run in its own process (`vvtui.runner.child`), seen from the
process that draws.

It has the surface the TUI's controller uses of a `RunSession` — `run()`, `cancel()`, `results`,
`snapshot`, `snapshot_now()` — and calls `on_event` with the same `RunEvent` objects, a batch at a
time, on the caller's event loop. Their time stamps were taken in the child as the bytes arrived,
so whatever the caller's loop is busy with can no longer move them.

If the child dies, `run()` raises `RunnerDied` after handing `on_event` a `RunFinished` (so a
front end stops showing answers in flight); every result that arrived stays in `results` and in
`snapshot`. Its write-ahead log, when it had one, stays on disk for `vvtui run --resume`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from vvtui.model import Result, RunInfo, Snapshot
from vvtui.runner import wire
from vvtui.runner.events import ConformanceReady, ResultReady, RunEvent, RunFinished, RunStarted
from vvtui.runner.plan import RunPlan
from vvtui.runner.session import (
    _cancel_on_signals,
    _ordered,
    partial_snapshot,
    snapshot_of,
)
from vvtui.runner.wire import ChildJob

# After a cancel, how long the child may take to record its answers in flight and write its files.
STOP_WAIT_S = 15.0


class RunnerFailed(Exception):
    """The run could not go on (the child said why: an unwritable --out, say)."""


class RunnerDied(RunnerFailed):
    """The runner process ended without finishing its run (killed, crashed)."""


class RunnerProcess(subprocess.Popen[bytes]):
    """The runner process, with the temporary file its stderr goes to (read if it dies)."""

    stderr_file: IO[bytes] | None = None


def spawn_child() -> RunnerProcess:
    """Start `python -m vvtui.runner.child`, which imports what a run needs and then waits for
    its job: started early, it is ready when the plan is."""
    from vvtui.resources import child_env

    stderr = tempfile.TemporaryFile(prefix="vvtui-runner-")  # noqa: SIM115 - read if it dies
    proc = RunnerProcess(
        [sys.executable, "-m", "vvtui.runner.child"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr,
        env=child_env(),
        # Its own session: the terminal's signals are the TUI's to handle; it stops the run.
        start_new_session=True,
    )
    proc.stderr_file = stderr
    return proc


@dataclass
class ChildSession:
    plan: RunPlan
    info: RunInfo
    out: Path | None = None
    on_event: Callable[[RunEvent], None] | None = None
    resume_from: Snapshot | None = None
    # A child started ahead of time (`spawn_child`); None starts one in `run()`.
    process: subprocess.Popen[bytes] | None = None

    snapshot: Snapshot | None = field(default=None, init=False)
    # CPU seconds the child had used at its last frame (benchmarks add it to their own).
    child_cpu_s: float = field(default=0.0, init=False)
    # Why the run stopped short (the child died or failed), one line.
    error: str | None = field(default=None, init=False)
    _results: list[Result] = field(default_factory=list, init=False)
    _frames: wire.FrameReader = field(default_factory=wire.FrameReader, init=False)
    _end: Any = field(default=None, init=False)
    _failed: str | None = field(default=None, init=False)
    _callback_error: BaseException | None = field(default=None, init=False)
    _cancel_sent: bool = field(default=False, init=False)
    _cancel_delivered: bool = field(default=False, init=False)
    _send_lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _counts: tuple[int, int] = field(default=(0, 0), init=False)
    _finished_seen: bool = field(default=False, init=False)

    @property
    def results(self) -> list[Result]:
        """Every result that arrived: the resumed ones first."""
        return self._results

    # ------------------------------------------------------------------ running

    async def run(self) -> Snapshot:
        loop = asyncio.get_running_loop()
        proc = self.process = self.process or spawn_child()
        assert proc.stdin is not None and proc.stdout is not None
        fd = proc.stdout.fileno()
        os.set_blocking(fd, False)
        closed: asyncio.Future[None] = loop.create_future()
        job = ChildJob(self.plan, self.info, self.out, self.resume_from)
        loop.add_reader(fd, self._readable, fd, closed)
        try:
            # In a thread: a big plan (or a resumed snapshot) fills the pipe, and a child still
            # importing reads it only when it gets there; the screen must not wait for that.
            await asyncio.to_thread(self._send_start, job)
        except OSError:
            pass  # it is already gone: reading finds out why
        try:
            with _cancel_on_signals(self.cancel):
                try:
                    await asyncio.shield(closed)
                except asyncio.CancelledError:
                    # Our caller is going away (the app closes): stop the run, and take what
                    # the child still sends while it records its answers in flight.
                    self.cancel()
                    with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                        await asyncio.wait_for(asyncio.shield(closed), STOP_WAIT_S)
                    with contextlib.suppress(Exception):  # being cancelled is the news here
                        self._conclude(await self._exit_status(proc))
                    raise
        finally:
            with contextlib.suppress(Exception):
                loop.remove_reader(fd)
        return self._conclude(await self._exit_status(proc))

    def _readable(self, fd: int, closed: asyncio.Future[None]) -> None:
        try:
            data = os.read(fd, 1 << 20)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            asyncio.get_running_loop().remove_reader(fd)
            if not closed.done():
                closed.set_result(None)
            return
        self._take(data)

    def _take(self, data: bytes) -> None:
        for kind, payload in self._frames.feed(data):
            if kind == wire.EVENTS:
                events, self.child_cpu_s = payload
                for event in events:
                    self._dispatch(event)
            elif kind == wire.ENDED:
                self._end = payload
                self.child_cpu_s = payload.cpu_s
            elif kind == wire.FAILED:
                self._failed = str(payload)

    def _dispatch(self, event: RunEvent) -> None:
        if isinstance(event, ResultReady):
            self._results.append(event.result)
            self._counts = (event.done, event.total)
        elif isinstance(event, RunStarted):
            self._results[:0] = event.resumed
            self._counts = (0, event.total)
        elif isinstance(event, RunFinished):
            self._finished_seen = True
        elif isinstance(event, ConformanceReady):
            # As RunSession does: a snapshot written from what arrived keeps the checks.
            self.plan.conformance = dict(event.records)
        if self.on_event is None or self._callback_error is not None:
            return
        try:
            self.on_event(event)
        except Exception as exc:  # a front end's bug: stop the run, report it from run()
            self._callback_error = exc
            self.cancel()

    async def _exit_status(self, proc: subprocess.Popen[bytes]) -> int | None:
        """The child's exit code once it has gone (it closes its output just before)."""
        deadline = time.monotonic() + STOP_WAIT_S
        while proc.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        if proc.poll() is None:
            proc.kill()
            await asyncio.sleep(0.05)
        return proc.poll()

    def _conclude(self, code: int | None) -> Snapshot:
        """The run's snapshot from what arrived; raises when the child did not end its run."""
        if self._end is not None:
            # Everything the child's session recorded (the stopping record of --until-decided
            # too), into the RunInfo the controller holds.
            info = self._end.info
            for f in dataclasses.fields(info):
                setattr(self.info, f.name, getattr(info, f.name))
            self.snapshot = snapshot_of(self.plan, self.info, self._sorted(), self._end.endpoints)
        else:
            self.snapshot = partial_snapshot(self.plan, self.info, self._results)
        # Ended without a word (a cancel that came with the job ends it that way too, cleanly).
        died = self._end is None and self._failed is None and not (self._cancel_sent and code == 0)
        if died:
            # Reads its stderr, so before the pipes close (and once: this may run twice).
            self.error = self.error or self._death(code)
        self._close_pipes()
        if self._callback_error is not None:
            raise self._callback_error
        if self._failed is not None:
            self.error = self._failed
            raise RunnerFailed(self._failed)
        if died:
            assert self.error is not None
            if not self._finished_seen and self.on_event is not None:
                self._finished_seen = True
                done, total = self._counts
                with contextlib.suppress(Exception):
                    self.on_event(RunFinished(cancelled=True, done=done, total=total))
            raise RunnerDied(self.error)
        return self.snapshot

    def _sorted(self) -> list[Result]:
        return _ordered(list(self._results), self.plan)

    def _death(self, code: int | None) -> str:
        if code is not None and code < 0:
            try:
                how = f"killed by {signal.Signals(-code).name}"
            except ValueError:
                how = f"killed by signal {-code}"
        else:
            how = f"exit code {code}" if code is not None else "still running; stopped"
        why = self._stderr_tail()
        kept = f"{len(self._results)} answers that arrived are kept"
        return f"the runner process died ({how}){': ' + why if why else ''}; {kept}"

    def _stderr_tail(self) -> str:
        from vvtui.redact import redact

        err: IO[bytes] | None = getattr(self.process, "stderr_file", None)
        if err is None:
            return ""
        try:
            err.seek(0)
            lines = err.read()[-4096:].decode("utf-8", "replace").strip().splitlines()
        except (OSError, ValueError):
            return ""
        last = lines[-1] if lines else ""
        return " ".join(redact(last).split())[:200]

    def _close_pipes(self) -> None:
        proc = self.process
        if proc is None:
            return
        for pipe in (proc.stdin, proc.stdout, getattr(proc, "stderr_file", None)):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()

    # ------------------------------------------------------------------ control

    def _send(self, kind: str, payload: Any = None) -> None:
        proc = self.process
        if proc is None or proc.stdin is None or proc.stdin.closed:
            return
        proc.stdin.write(wire.encode(kind, payload))
        proc.stdin.flush()

    def _send_start(self, job: ChildJob) -> None:
        with self._send_lock:
            self._send(wire.START, job)
        # A cancel asked while the job was on its way could not write (frames must not
        # interleave): it is delivered now.
        self._deliver_cancel()

    def _deliver_cancel(self) -> None:
        if not self._cancel_sent or self._cancel_delivered:
            return
        if not self._send_lock.acquire(blocking=False):
            return  # the job is still being written; `_send_start` delivers it after
        try:
            if not self._cancel_delivered:
                self._cancel_delivered = True
                with contextlib.suppress(OSError, ValueError):
                    self._send(wire.CANCEL)
        finally:
            self._send_lock.release()

    def cancel(self) -> None:
        """Stop the run; the child records answers in flight as cancelled and ends it."""
        self._cancel_sent = True
        self._deliver_cancel()

    def snapshot_now(self) -> Snapshot:
        """An (unscored) snapshot of what has arrived; once the run ended, its final one."""
        if self.snapshot is not None:
            return self.snapshot
        return partial_snapshot(self.plan, self.info, self._results)

    def stop(self) -> None:
        """Make sure the child is gone, taking what it still sends (after the app closed: no
        event loop reads for us any more). Idempotent."""
        proc = self.process
        if proc is None:
            return
        if proc.poll() is None:
            self.cancel()
        deadline = time.monotonic() + STOP_WAIT_S
        out = proc.stdout
        while out is not None and not out.closed:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([out], [], [], left)[0]:
                break
            try:
                data = os.read(out.fileno(), 1 << 20)
            except BlockingIOError:
                continue
            except OSError:
                break
            if not data:
                break
            self._take(data)
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        if self.snapshot is None or self._end is not None:
            with contextlib.suppress(Exception):  # how it ended is for run() to report
                self._conclude(proc.returncode)
        self._close_pipes()
