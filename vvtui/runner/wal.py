"""The write-ahead log: every result is appended to `<snapshot>.wal.jsonl` the moment it
completes, so a crash, a kill -9 or a power cut loses at most the request in flight.

Line 1 is a header (run info, endpoints, probes); every other line is one result. A torn last line
(the process died mid-write) is ignored on reading. When the run ends, the snapshot is written
atomically and the log removed.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import IO, Any

from vvtui.errors import SnapshotError
from vvtui.model import Result, Snapshot
from vvtui.redact import redact

WAL_SUFFIX = ".wal.jsonl"
# fsync at most this often: per-line fsync would cost more than the requests on fast local servers.
_FSYNC_INTERVAL_S = 0.5


def wal_path_for(snapshot_path: str | Path) -> Path:
    path = Path(snapshot_path)
    return path.with_name(path.name + WAL_SUFFIX)


class WriteAheadLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: IO[str] | None = None
        self._last_sync = 0.0
        # The first write error (a full disk): later appends are skipped, the run goes on in
        # memory and its snapshot is still written at the end.
        self.error: OSError | None = None

    def open(self, header: dict[str, Any]) -> None:
        """Start a new log (truncating any old one) with `header` as its first line."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = _open_private(self.path, os.O_TRUNC)
        self._write({"type": "header", **header})
        self._sync(force=True)

    def reopen(self) -> None:
        """Continue an existing log (a resumed run)."""
        self._fh = _open_private(self.path, os.O_APPEND)

    def append(self, result: Result) -> None:
        if self.error is not None:
            return
        try:
            self._write({"type": "result", **result.to_dict()})
            self._sync()
        except OSError as exc:
            self.error = exc

    def _write(self, record: dict[str, Any]) -> None:
        assert self._fh is not None, "write-ahead log not open"
        self._fh.write(redact(json.dumps(record, ensure_ascii=False, allow_nan=False)) + "\n")
        self._fh.flush()

    def _sync(self, force: bool = False) -> None:
        now = time.monotonic()
        if self._fh is not None and (force or now - self._last_sync >= _FSYNC_INTERVAL_S):
            os.fsync(self._fh.fileno())
            self._last_sync = now

    def close(self, remove: bool = False) -> None:
        if self._fh is not None:
            try:
                self._sync(force=True)
                self._fh.close()
            except OSError as exc:
                self.error = self.error or exc
            self._fh = None
        if remove:
            try:
                self.path.unlink()
            except FileNotFoundError:
                pass


def _open_private(path: Path, flag: int) -> IO[str]:
    """The log for writing, readable by its owner only: it holds the same answers as the
    snapshot, which `write_atomic` creates with mode 0600. A log left by an older version with
    wider permissions is narrowed too."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | flag, 0o600)
    try:
        if hasattr(os, "fchmod"):  # not on Windows, where the mode bits mean little anyway
            os.fchmod(fd, 0o600)
        return os.fdopen(fd, "w", encoding="utf-8")
    except BaseException:
        os.close(fd)
        raise


def read_wal(path: Path) -> Snapshot:
    """Rebuild a (partial) snapshot from a write-ahead log."""
    try:
        # Split on newlines only: JSON lines may hold raw U+2028 and friends, which splitlines()
        # would cut a record at.
        lines = path.read_text(encoding="utf-8").split("\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise SnapshotError(f"{path}: cannot read write-ahead log: {exc}") from None
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise SnapshotError(f"{path}: empty write-ahead log")
    try:
        header = json.loads(lines[0])
    except (json.JSONDecodeError, RecursionError):
        raise SnapshotError(f"{path}:1: write-ahead log header is not valid JSON") from None
    if not isinstance(header, dict) or header.get("type") != "header":
        raise SnapshotError(f"{path}:1: not a vvtui write-ahead log")
    header.pop("type")
    results: list[dict[str, Any]] = []
    for number, line in enumerate(lines[1:], start=2):
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, RecursionError):
            if number == len(lines):
                break  # torn last line: the process died while writing it
            raise SnapshotError(f"{path}:{number}: corrupt write-ahead log line") from None
        if not isinstance(record, dict):
            raise SnapshotError(f"{path}:{number}: not a write-ahead log record")
        if record.pop("type", None) == "result":
            results.append(record)
    header["results"] = results
    snapshot = Snapshot.from_dict(header, source=str(path))
    snapshot.run.complete = False
    return snapshot
