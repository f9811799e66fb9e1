"""The headless front end: progress on stderr, the endpoint table on stdout, the snapshot on disk,
gates as the exit code."""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import time
from pathlib import Path
from typing import TextIO

from vvtui.model import RunInfo, Snapshot
from vvtui.reports.fmt import clip
from vvtui.runner.events import (
    ConformanceReady,
    EndpointState,
    EndpointStopped,
    ResultReady,
    RunEvent,
    RunFinished,
    RunStarted,
    StreamEvent,
)
from vvtui.runner.plan import RunPlan
from vvtui.runner.tally import Cause, FailureTally
from vvtui.untrusted import shown

# Exit codes beside 0 (ok), 1 (a gate failed), 2 (usage or input error) and 130 (cancelled).
EXIT_NO_ANSWERS = 3


class Progress:
    """One updating line on a terminal; a line every ~10% (or 5 s) when stderr is a file or a
    CI log, so logs stay short but a stuck run is visible.

    Failures print one line per endpoint and cause (vvtui.runner.tally), not one per request: on
    a terminal that line's count updates in place ("or-groq: DNS error ×50"); in a log the
    first one is printed as it happens and the counts once the run ends. An endpoint marked
    down (vvtui.runner.breaker) gets a line saying why, and the progress line lists it."""

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
        self.tally = FailureTally()
        self._last_draw = 0.0
        self._last_pct = -1
        self._drawn_done = -1
        self._drawn_waiting = ""
        self._drawn_down = ""
        self._per_endpoint: dict[str, list[int]] = {}
        # Terminal only: lines printed so far, and the line each cause was printed on.
        self._lines = 0
        self._cause_line: dict[tuple[str, str], int] = {}

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
            cause = self.tally.add(r)
            if cause is not None:
                self.errors += 1
                if not self.quiet:
                    self._show_cause(cause)
            self._draw()
        elif isinstance(event, EndpointState):
            self.tally.set_down(event.endpoint, event.reason if event.down else None)
            if not self.quiet:
                name = shown(event.endpoint)
                if event.down:
                    left = self._left(event.endpoint)
                    self._print(
                        f"vvtui: {name}: down after {event.reason}; its {left} remaining "
                        "requests are not sent (unless a trial request later brings it back)"
                    )
                else:
                    self._print(f"vvtui: {name}: back up (a trial request was answered)")
            self._draw()
        elif isinstance(event, EndpointStopped):
            if not self.quiet:
                self._print(f"vvtui: {event.endpoint}: {stopped_line(event)}")
        elif isinstance(event, StreamEvent) and type(event.event).__name__ == "Retrying":
            self.retries += 1
        elif isinstance(event, RunFinished):
            self._draw(final=True)
            if not self.quiet and not self.tty:
                # The log got each cause's first line as it happened; now the counts.
                for cause in self.tally.causes.values():
                    if cause.count > 1:
                        self._print(f"vvtui: {cause.line()}")

        elif isinstance(event, ConformanceReady) and not self.quiet:
            for line in conformance_summary(event):
                self._print(line)

    def waiting_on(self) -> str:
        """Which endpoints the run still waits for, once some have finished, most requests left
        first: a run that sits at 87% for half its time is waiting on its slowest endpoint, and
        should say which."""
        left = {name: total - done for name, (done, total) in self._per_endpoint.items()}
        pending = sorted((n for n in left if left[n] > 0), key=lambda n: -left[n])
        if not pending or len(pending) == len(self._per_endpoint):
            return ""
        names = ", ".join(f"{n} ({left[n]} left)" for n in pending[:3])
        more = f" and {len(pending) - 3} more" if len(pending) > 3 else ""
        return f"  waiting on {names}{more}"

    def _left(self, endpoint: str) -> int:
        done, total = self._per_endpoint.get(endpoint, [0, 0])
        return max(0, total - done)

    def _show_cause(self, cause: Cause) -> None:
        key = (cause.endpoint, cause.label)
        text = f"vvtui: {cause.line()}"
        if cause.count == 1:
            self._print(text)
            self._cause_line[key] = self._lines - 1
        elif self.tty:
            self._rewrite(self._cause_line.get(key), text)

    def _width(self) -> int:
        return max(20, shutil.get_terminal_size((100, 24)).columns - 1)

    def _print(self, text: str) -> None:
        if self.tty:
            # One terminal row per line, so a cause line can be found again to update it.
            text = clip(text, self._width())
            self.stream.write("\r\x1b[2K")
        self.stream.write(text + "\n")
        self.stream.flush()
        self._lines += 1

    def _rewrite(self, line: int | None, text: str) -> None:
        """Update a line printed earlier, in place, if it is still on screen."""
        if line is None:
            return
        up = self._lines - line
        if up >= shutil.get_terminal_size((100, 24)).lines - 1:
            return  # scrolled away: the final table and the snapshot hold the counts
        text = clip(text, self._width())
        self.stream.write(f"\r\x1b[{up}A\x1b[2K{text}\x1b[{up}B\r")
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
        waiting = "" if final else self.waiting_on()
        text += waiting
        down = ""
        if self.tally.down:
            down = "  down: " + ", ".join(
                f"{shown(name)} ({why})" for name, why in self.tally.down.items()
            )
        text += down
        if self.tty:
            if final or now - self._last_draw > 0.1:
                text = clip(text, self._width())
                self.stream.write("\r\x1b[2K" + text + ("\n" if final else ""))
                self.stream.flush()
                self._last_draw = now
        elif (final and (self._drawn_done != self.done or down != self._drawn_down)) or (
            not final
            and (
                pct // 10 > self._last_pct // 10
                or now - self._last_draw > 5
                or waiting != self._drawn_waiting  # an endpoint finished: say who is left
            )
        ):
            self.stream.write(text + "\n")
            self.stream.flush()
            self._last_draw = now
            self._last_pct = pct
            self._drawn_done = self.done
            self._drawn_waiting = waiting
            self._drawn_down = down


def conformance_summary(event: ConformanceReady) -> list[str]:
    """What the conformance checks found, for the progress log: a count, then one line per check
    an endpoint fails that the reference passes."""
    from vvtui.scoring.conformance import statuses

    if event.note:
        return [f"vvtui: {event.note}"]
    records = event.records
    if not records:
        return []
    requests = sum(int(r.get("requests", 0)) for r in records.values())
    lines = [
        f"vvtui: conformance checked on {len(records)} endpoints ({requests} requests, "
        "cached a week for real endpoints; --no-conformance skips)"
    ]
    ref_name = event.reference
    ref_status = statuses(records.get(ref_name))
    for name, rec in records.items():
        if name == ref_name:
            continue
        for check, outcome in (rec.get("checks") or {}).items():
            if outcome.get("status") == "fail" and ref_status.get(check, "pass") == "pass":
                lines.append(f"vvtui: {name} fails {check}: {shown(outcome.get('reason', ''))}")
    return lines


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
    snapshot: Snapshot | None
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
    silent = answered_nothing(snapshot)
    for line in silent:
        print(f"vvtui: {line}", file=sys.stderr)
    if cancelled or not snapshot.run.complete:
        return 130
    if silent:
        return EXIT_NO_ANSWERS
    return 1 if failed else 0


def answered_nothing(snapshot: Snapshot) -> list[str]:
    """One line per endpoint that answered nothing (verdict "no answers"), saying why, the
    reference first: without its answers no endpoint could be compared."""
    from vvtui.runner.tally import KIND_LABELS
    from vvtui.scoring.report import NO_ANSWERS

    scores = (snapshot.scores or {}).get("endpoints", {})
    lines = []
    for e in sorted(snapshot.endpoints, key=lambda e: not e.reference):
        s = scores.get(e.name) or {}
        if s.get("verdict") != NO_ANSWERS:
            continue
        kinds = sorted((s.get("errors_by_kind") or {}).items(), key=lambda kv: -kv[1])
        why = ", ".join(f"{KIND_LABELS.get(k, k)} ×{n}" for k, n in kinds)
        who = f"the reference {shown(e.name)}" if e.reference else shown(e.name)
        line = f"{who} answered nothing ({why})"
        if e.reference:
            line += ": no endpoint could be compared with it"
        lines.append(line)
    return lines
