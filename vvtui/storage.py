"""Files on disk: atomic writes and reading/writing snapshots.

Every file vvtui writes goes through `write_atomic`: a temporary file in the same directory,
flushed and fsynced, then renamed over the target, so a crash or Ctrl-C never leaves half a
report or snapshot behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from vvtui.errors import SnapshotError
from vvtui.model import Snapshot
from vvtui.redact import redact


def write_atomic(path: str | Path, data: str | bytes | Iterable[str]) -> Path:
    """Write `data` (or the pieces it yields, written as they come) to `path` atomically and
    return the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    pieces = [data] if isinstance(data, str | bytes) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            for piece in pieces:
                fh.write(piece.encode("utf-8") if isinstance(piece, str) else piece)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return target


def dumps_json(data: Any) -> str:
    """JSON text with every known secret value scrubbed (belt and braces: none should be there)."""
    return redact(json.dumps(data, ensure_ascii=False, indent=1, allow_nan=False))


def save_snapshot(snapshot: Snapshot, path: str | Path) -> Path:
    return write_atomic(path, snapshot_json(snapshot))


def snapshot_json(snapshot: Snapshot) -> Iterator[str]:
    """The snapshot file, piece by piece: the same JSON document as `dumps_json(to_dict())`,
    except that each result is written on one line, and one result at a time.

    Why: a 1000-probe x 8-endpoint run with logprobs is millions of values; building the whole
    dict, then an indented JSON string (Python's slow encoder), then a redacted copy, then its
    bytes took gigabytes and tens of seconds. Each result line goes through the C encoder and
    is redacted alone: nothing `redact` matches can span a newline (JSON escapes them inside
    strings), so redacting line by line removes exactly what redacting the whole text would.
    """
    head = dumps_json(replace(snapshot, results=[]).to_dict())
    marker = '\n "results": [],\n'
    cut = head.index(marker)  # top level, one-space indent: unique (strings escape newlines)
    yield head[:cut] + '\n "results": ['
    for i, result in enumerate(snapshot.results):
        line = json.dumps(result.to_dict(), ensure_ascii=False, allow_nan=False)
        yield ("\n  " if i == 0 else ",\n  ") + redact(line)
    yield ("\n ]" if snapshot.results else "]") + ",\n" + head[cut + len(marker) :] + "\n"


def load_snapshot(path: str | Path) -> Snapshot:
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SnapshotError(f"{source}: no such snapshot file") from None
    except IsADirectoryError:
        raise SnapshotError(
            f"{source}: cannot read snapshot: it is a directory", hint="give the .json file"
        ) from None
    except UnicodeDecodeError as exc:
        raise SnapshotError(
            f"{source}: not UTF-8 text at byte {exc.start}",
            hint="is it a vvtui snapshot? they are JSON files written by `vvtui run --out`",
        ) from None
    except OSError as exc:
        raise SnapshotError(
            f"{source}: cannot read snapshot: {exc.strerror or exc}",
            hint="check the path and its permissions",
        ) from None
    try:
        data = json.loads(text)
    except RecursionError:
        raise SnapshotError(f"{source}: not a vvtui snapshot (JSON nested too deeply)") from None
    except json.JSONDecodeError as exc:
        raise SnapshotError(
            f"{source}:{exc.lineno}: not valid JSON ({exc.msg})",
            hint="a run that was interrupted leaves its results in the .wal.jsonl beside it",
        ) from None
    return Snapshot.from_dict(data, source=source)
