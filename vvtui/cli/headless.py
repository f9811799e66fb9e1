"""The headless front end: progress on stderr, the endpoint table on stdout, the snapshot on disk,
gates as the exit code."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import TextIO

from vvtui.model import RunInfo, Snapshot
from vvtui.redact import redact
from vvtui.runner.core import RunPlan
from vvtui.runner.events import (
    EndpointStopped,
    ResultReady,
    RunEvent,
    RunFinished,
    RunStarted,
    StreamEvent,
)


class Progress:
    """One updating line on a terminal; a line every ~10% (or 5 s) when stderr is a file or a
    CI log, so logs stay short but a stuck run is visible."""

    def __init__(self, stream: TextIO | None = None, quiet: bool = False) -> None:
        # sys.stderr as it is now, not as it was at import (tests and callers may redirect it).
        self.stream = stream if stream is not None else sys.stderr
        self.quiet = quiet
        self.tty = self.stream.isatty()
        self.total = 0
        self.done = 0
        self.errors = 0
        self.retries = 0
        self.started = time.monotonic()
        self._last_draw = 0.0
        self._last_pct = -1
        self._drawn_done = -1
        self._per_endpoint: dict[str, list[int]] = {}

    def __call__(self, event: RunEvent) -> None:
        if isinstance(event, RunStarted):
            self.total = event.total
            self._per_endpoint = {k: [0, v] for k, v in event.per_endpoint.items()}
            if not self.quiet:
                resumed = f", {len(event.resumed)} resumed" if event.resumed else ""
                n = len(event.per_endpoint)
                self._print(f"vvtui: {self.total} requests to {n} endpoints{resumed}")
        elif isinstance(event, ResultReady):
            self.done = event.done
            # --until-decided drops the requests no endpoint needs any more.
            self.total = event.total
            r = event.result
            self._per_endpoint.setdefault(r.endpoint, [0, 0])[0] += 1
            if r.error is not None:
                self.errors += 1
                if not self.quiet:
                    self._print(f"vvtui: {r.endpoint} / {r.probe_id}: {redact(r.error.message)}")
            self._draw()
        elif isinstance(event, EndpointStopped):
            if not self.quiet:
                self._print(f"vvtui: {event.endpoint}: {stopped_line(event)}")
        elif isinstance(event, StreamEvent) and type(event.event).__name__ == "Retrying":
            self.retries += 1
        elif isinstance(event, RunFinished):
            self._draw(final=True)

    def _print(self, text: str) -> None:
        if self.tty:
            self.stream.write("\r\x1b[2K")
        self.stream.write(text + "\n")
        self.stream.flush()

    def _draw(self, final: bool = False) -> None:
        if self.quiet or not self.total:
            return
        now = time.monotonic()
        pct = int(100 * self.done / self.total)
        elapsed = now - self.started
        text = f"[{self.done}/{self.total}] {pct:3d}%  {elapsed:5.1f}s  errors {self.errors}" + (
            f"  retries {self.retries}" if self.retries else ""
        )
        if self.tty:
            if final or now - self._last_draw > 0.1:
                self.stream.write("\r\x1b[2K" + text + ("\n" if final else ""))
                self.stream.flush()
                self._last_draw = now
        elif (final and self._drawn_done != self.done) or (
            not final and (pct // 10 > self._last_pct // 10 or now - self._last_draw > 5)
        ):
            self.stream.write(text + "\n")
            self.stream.flush()
            self._last_draw = now
            self._last_pct = pct
            self._drawn_done = self.done


def stopped_line(event: EndpointStopped) -> str:
    """Why an --until-decided endpoint gets no more probes, in one line."""
    cost = "" if event.cost_usd is None else f", ${event.cost_usd:.4g}"
    what = f"{event.after_probes} probes, {event.requests} requests{cost}"
    if event.reason == "decided":
        return f"{event.verdict} (decided after {what})"
    if event.reason == "futile":
        return f"no more probes: its budget cannot decide it ({what})"
    return f"no more probes: {event.reason.replace('_', ' ')} ({what})"


def run_headless(
    args: argparse.Namespace,
    plan: RunPlan,
    info: RunInfo,
    out: Path,
    resume_from: Snapshot | None = None,
) -> int:
    from vvtui.reports.gates import Gates, evaluate_gates
    from vvtui.reports.table import endpoint_table
    from vvtui.runner.session import RunSession
    from vvtui.scoring import count_tokens

    session = RunSession(
        plan,
        info,
        out=out,
        on_event=Progress(quiet=args.quiet),
        resume_from=resume_from,
        count_tokens=count_tokens,
    )
    cancelled = False
    try:
        snapshot = asyncio.run(session.run())
    except (asyncio.CancelledError, KeyboardInterrupt):
        cancelled = True
        snapshot = session.snapshot
    if snapshot is None:  # cancelled before anything was built
        print("vvtui: cancelled before the run started", file=sys.stderr)
        return 130
    print(endpoint_table(snapshot))
    state = "complete" if snapshot.run.complete else "INCOMPLETE (resume with --resume)"
    n = len(snapshot.results)
    print(f"\nsnapshot: {out} ({n} results, {state})", file=sys.stderr)
    gates = Gates(args.min_fidelity, args.max_ttft_ms, args.max_cost_usd)
    results = evaluate_gates(snapshot, gates) if gates.any else []
    failed = [g for g in results if not g.passed]
    for g in failed:
        print(f"gate failed: {g.message}", file=sys.stderr)
    if results and not failed:
        print(f"gates: all {len(results)} passed", file=sys.stderr)
    if args.junit:
        from vvtui.reports.junit import junit_xml
        from vvtui.storage import write_atomic

        write_atomic(args.junit, junit_xml(snapshot, results))
        print(f"junit: {args.junit}", file=sys.stderr)
    if cancelled or not snapshot.run.complete:
        return 130
    return 1 if failed else 0
