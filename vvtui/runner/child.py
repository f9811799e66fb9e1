"""The runner's own process, for the TUI: `python -m vvtui.runner.child`.

The TUI draws on its event loop; a token whose bytes land while a frame is drawn would be stamped
when the frame ends if the clients shared that loop. Here they have an interpreter to themselves:
clients, timing, retries, the write-ahead log and the unscored snapshot all live in this process,
exactly as in a headless run (`RunSession`), and the TUI gets the run's events in batches.

Protocol (`vvtui.runner.wire` frames): stdin brings one START (a `ChildJob`), then CANCEL at any
time; its end (the TUI closed it, or died) cancels too. File descriptor 1 carries EVENTS batches
(every `FLUSH_S`), then ENDED or FAILED; anything else that prints goes to stderr. Writes never
block the loop: when the TUI is slow to read, frames queue in memory here, not in the clients'
way. API keys are read from this process's environment at the request site, as everywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
import sys
import time
from typing import Any, cast

from vvtui.runner import wire
from vvtui.runner.events import RunEvent
from vvtui.runner.wire import ChildEnd, ChildJob

# Events wait at most this long to cross; their time stamps were taken when the bytes arrived, so
# the wait costs the screen a few ms of freshness and the numbers nothing. Fewer, larger frames
# are cheaper for both processes than one per token.
FLUSH_S = 0.02
# How long the end of a run waits for the TUI to take the last frames.
DRAIN_S = 10.0


class _Sender(asyncio.Protocol):
    """Non-blocking frames to the parent; a parent that went away is not an error here (the
    write-ahead log and the snapshot still get written)."""

    def __init__(self) -> None:
        self.transport: asyncio.WriteTransport | None = None
        self.gone = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # connect_write_pipe's transport: a WriteTransport, which the base signature does not say.
        self.transport = cast(asyncio.WriteTransport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.gone = True

    def send(self, kind: str, payload: Any = None) -> None:
        if self.transport is not None and not self.gone and not self.transport.is_closing():
            self.transport.write(wire.encode(kind, payload))

    async def close(self, timeout: float) -> None:
        transport = self.transport
        if transport is None:
            return
        deadline = time.monotonic() + timeout
        while not self.gone and transport.get_write_buffer_size() and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        transport.close()


async def serve(job: ChildJob, out_fd: int, commands: wire.FrameReader) -> int:
    from vvtui.redact import redact
    from vvtui.runner.session import RunSession
    from vvtui.scoring import count_tokens

    loop = asyncio.get_running_loop()
    sender = _Sender()
    await loop.connect_write_pipe(lambda: sender, os.fdopen(out_fd, "wb", buffering=0))
    batch: list[RunEvent] = []
    timer: asyncio.TimerHandle | None = None

    def flush() -> None:
        nonlocal timer, batch
        timer = None
        if batch:
            sender.send(wire.EVENTS, (wire.compact(batch), time.process_time()))
            batch = []

    def on_event(event: RunEvent) -> None:
        nonlocal timer
        batch.append(event)
        if timer is None:
            timer = loop.call_later(FLUSH_S, flush)

    session = RunSession(
        job.plan,
        job.info,
        out=job.out,
        on_event=on_event,
        resume_from=job.resume_from,
        count_tokens=count_tokens,
        score=False,  # the TUI scores: that is drawing-side work
    )

    def readable() -> None:
        try:
            data = os.read(0, 65536)
        except OSError:
            data = b""
        if not data:  # the TUI closed our stdin, or died: stop, keep what was gathered
            loop.remove_reader(0)
            session.cancel()
            return
        for kind, _ in commands.feed(data):
            if kind == wire.CANCEL:
                session.cancel()

    loop.add_reader(0, readable)
    code = 0
    try:
        snapshot = await session.run()
        flush()
        sender.send(wire.ENDED, ChildEnd(snapshot.run, time.process_time(), snapshot.endpoints))
    except Exception as exc:  # the TUI shows it; the results are in the log and in its hands
        flush()
        message = " ".join(redact(f"{type(exc).__name__}: {exc}").split())
        sender.send(wire.FAILED, message)
        code = 1
    finally:
        loop.remove_reader(0)
        if timer is not None:
            timer.cancel()
        await sender.close(DRAIN_S)
    return code


def _read_job(commands: wire.FrameReader) -> ChildJob:
    """The START frame (blocking: nothing else to do before it)."""
    while True:
        data = os.read(0, 65536)
        if not data:
            raise SystemExit(0)  # the parent gave up before starting us
        frames = commands.feed(data)
        if frames:
            kind, job = frames[0]
            if kind != wire.START or not isinstance(job, ChildJob):
                raise SystemExit(f"vvtui runner: expected a start frame, got {kind!r}")
            for later, _ in frames[1:]:
                if later == wire.CANCEL:
                    raise SystemExit(0)
            return job


def main() -> int:
    # Frames own file descriptor 1: a stray print (a library's warning) must not land inside one.
    out_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    # The TUI decides when the run stops (it sends CANCEL, or closes our stdin). While the run
    # goes, SIGINT and SIGTERM sent to this process alone still stop it cleanly (RunSession).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Imported before the job arrives: a child started ahead of its run is ready when it comes.
    import vvtui.clients.accumulate
    import vvtui.runner.session
    import vvtui.scoring  # noqa: F401
    from vvtui.clients import preload

    preload()

    commands = wire.FrameReader()
    job = _read_job(commands)
    # Everything imported so far lives for the whole run: keep it out of the collector's full
    # passes, which would otherwise pause the clients' reads.
    gc.collect()
    gc.freeze()
    # A token's objects (its parsed chunk, its events, the frame batch holding them) live until
    # the next frame leaves, up to FLUSH_S later: at the default young-generation threshold (700
    # new containers) the collector walked the same live objects several times per frame.
    # Nearly all of it is freed by reference counting anyway, so a larger threshold costs a few
    # MB at most; it saved 5-8% of the clients' CPU per token replaying the overhead scenario.
    gc.set_threshold(10_000, *gc.get_threshold()[1:])
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(serve(job, out_fd, commands))
    return 130


if __name__ == "__main__":
    sys.exit(main())
