"""The headless progress line says which endpoints a run still waits for."""

from __future__ import annotations

import io

from vvtui.cli.headless import Progress
from vvtui.model import Result
from vvtui.runner.events import ResultReady, RunFinished, RunStarted


def _feed(progress: Progress, order: list[str], total: int) -> None:
    for done, endpoint in enumerate(order, start=progress.done + 1):
        result = Result(endpoint=endpoint, probe_id=f"p{done}")
        progress(ResultReady(result, done=done, total=total))


def test_the_line_names_the_endpoints_still_running_once_others_are_done():
    stream = io.StringIO()
    progress = Progress(stream=stream)
    progress(RunStarted(total=20, per_endpoint={"fast": 5, "int4": 5, "slow": 10}))
    _feed(progress, ["fast", "int4", "slow", "fast"], 20)  # every endpoint still has work
    assert "waiting" not in stream.getvalue()
    _feed(progress, ["fast", "fast", "fast", "int4", "int4", "int4", "int4"], 20)
    lines = stream.getvalue().splitlines()
    assert lines[-1].endswith("waiting on slow (9 left)"), lines
    # Once fast finished: the endpoint with the most requests left first.
    assert any(line.endswith("waiting on slow (9 left), int4 (4 left)") for line in lines)
    _feed(progress, ["slow"] * 9, 20)
    progress(RunFinished(cancelled=False, done=20, total=20))
    last = stream.getvalue().splitlines()[-1]
    assert last.startswith("[20/20] 100%") and "waiting" not in last


def test_many_pending_endpoints_are_counted_not_listed():
    progress = Progress(stream=io.StringIO())
    progress(RunStarted(total=7, per_endpoint={"a": 1, "b": 1, "c": 1, "d": 1, "e": 1, "f": 2}))
    _feed(progress, ["a"], 7)
    assert progress.waiting_on() == "  waiting on f (2 left), b (1 left), c (1 left) and 2 more"
