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

if TYPE_CHECKING:
    from vvtui.model import EndpointInfo, RunInfo, Snapshot
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
