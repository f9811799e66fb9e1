"""Frames between the TUI process and its runner child (`vvtui.runner.child`): a 4-byte length,
then a pickle of one `(kind, payload)` tuple.

Pickle, not JSON, because any runner event dataclass must cross — today's, and those a later
change adds — without a hand-kept list of types to encode, and because it runs in C. Both ends are
the same installed vvtui and the pipes are private to the two processes, so nothing from outside
is ever unpickled.
"""

from __future__ import annotations

import pickle
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vvtui.clients.events import TextDelta
from vvtui.runner.events import StreamEvent

if TYPE_CHECKING:
    from vvtui.model import EndpointInfo, RunInfo, Snapshot
    from vvtui.runner.events import JobKey, RunEvent
    from vvtui.runner.plan import RunPlan

_LENGTH = struct.Struct(">I")

# Parent -> child.
START = "start"  # payload: ChildJob
CANCEL = "cancel"  # payload: None
# Child -> parent.
EVENTS = "events"  # payload: (list of RunEvent, the child's CPU seconds so far)
ENDED = "ended"  # payload: ChildEnd
FAILED = "failed"  # payload: one line, redacted: why the run could not go on


@dataclass
class ChildJob:
    """What a START frame brings: the run to perform."""

    plan: RunPlan
    info: RunInfo
    out: Path | None = None
    resume_from: Snapshot | None = None


@dataclass
class ChildEnd:
    """What an ENDED frame brings: the run's record as the child closed it."""

    info: RunInfo
    cpu_s: float
    # The endpoints as the run recorded them (conformance included, or carried from a resume).
    endpoints: list[EndpointInfo] | None = None


@dataclass(slots=True)
class TextRun(TextDelta):
    """Several text deltas of one request, joined for the crossing: `t` is the first one's (the
    time stamp the numbers use), `count` how many tokens they brought. The screen shows text
    and a token count; the tokens' logprobs come with the finished result."""

    count: int = 1


def compact(events: list[RunEvent]) -> list[RunEvent]:
    """A batch with each request's consecutive text deltas joined into one `TextRun`: a frame
    of 16 streams at 300 tok/s carried ~100 events (with five logprob alternatives each) that
    both processes built, pickled and unpickled one by one; it now carries ~16. Any other
    event ends the runs (order across requests and events is kept)."""
    out: list[RunEvent] = []
    runs: dict[JobKey, tuple[TextRun, list[str]]] = {}
    for event in events:
        delta = event.event if isinstance(event, StreamEvent) else None
        if type(delta) is not TextDelta:
            for run, texts in runs.values():
                run.text = "".join(texts)
            runs.clear()
            out.append(event)
            continue
        assert isinstance(event, StreamEvent) and isinstance(delta, TextDelta)
        count = len(delta.tokens) if delta.tokens else 1
        open_run = runs.get(event.key)
        if open_run is None:
            run = TextRun(delta.t, delta.text, None, count)
            runs[event.key] = (run, [delta.text])
            out.append(StreamEvent(event.key, run))
        else:
            open_run[0].count += count
            open_run[1].append(delta.text)
    for run, texts in runs.values():
        run.text = "".join(texts)
    return out


def encode(kind: str, payload: Any = None) -> bytes:
    data = pickle.dumps((kind, payload), protocol=pickle.HIGHEST_PROTOCOL)
    return _LENGTH.pack(len(data)) + data


class FrameReader:
    """Reassembles frames from reads of any size."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[tuple[str, Any]]:
        buf = self._buf
        buf += data
        frames: list[tuple[str, Any]] = []
        pos, end = 0, len(buf)
        while end - pos >= _LENGTH.size:
            (size,) = _LENGTH.unpack_from(buf, pos)
            start = pos + _LENGTH.size
            if end - start < size:
                break
            frames.append(pickle.loads(buf[start : start + size]))
            pos = start + size
        if pos:
            del buf[:pos]
        return frames

    @property
    def pending(self) -> int:
        """Bytes of a frame not complete yet."""
        return len(self._buf)
