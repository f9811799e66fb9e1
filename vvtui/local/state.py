"""Which server processes are ours: a JSON state file, and the checks that keep `down` from ever
killing a stranger.

A PID alone proves nothing: after a reboot or a crash the number may belong to another program.
So every record keeps what the command line must contain (the llama_cpp.server module, the model
file and the port), and a process is only signalled when its live command line still says so.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from vvtui.storage import write_atomic

STATE_VERSION = 1
SERVER_MODULE = "llama_cpp.server"


@dataclass(slots=True)
class ServerRecord:
    variant: str
    pid: int
    port: int
    model_path: str
    log_path: str
    alias: str
    threads: int = 1
    size: int = 0
    started_at: float = 0.0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"


@dataclass(slots=True)
class LadderState:
    servers: list[ServerRecord] = field(default_factory=list)
    config_path: str | None = None
    created_at: float = 0.0
    version: int = STATE_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "created_at": self.created_at,
            "config_path": self.config_path,
            "servers": [asdict(s) for s in self.servers],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LadderState:
        return cls(
            version=int(data.get("version", 0)),
            created_at=float(data.get("created_at", 0.0)),
            config_path=data.get("config_path"),
            servers=[ServerRecord(**s) for s in data.get("servers") or []],
        )


def state_path(root: Path) -> Path:
    return root / "state.json"


def load_state(root: Path) -> LadderState:
    """The recorded ladder, or an empty one when there is none (or the file is unreadable: then
    there is nothing we can safely claim as ours)."""
    try:
        data = json.loads(state_path(root).read_text(encoding="utf-8"))
        return LadderState.from_dict(data)
    except (OSError, ValueError, TypeError, KeyError):
        return LadderState()


def save_state(root: Path, state: LadderState) -> Path:
    if not state.created_at:
        state.created_at = time.time()
    return write_atomic(state_path(root), json.dumps(state.to_dict(), indent=1) + "\n")


def clear_state(root: Path) -> None:
    state_path(root).unlink(missing_ok=True)


# --------------------------------------------------------------------------------------------
# Processes


def _reap(pid: int) -> None:
    """Collect an exited child of this process, so it stops showing as a zombie."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except (ChildProcessError, OSError):
        pass


def is_alive(pid: int) -> bool:
    """True while `pid` is a running (not zombie) process."""
    if pid <= 0:
        return False
    _reap(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, but not ours to signal
    stat = Path(f"/proc/{pid}/stat")
    if stat.exists():
        try:
            # Field 3, after the parenthesised command name (which may hold spaces).
            state = stat.read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return True
        return state not in ("Z", "X")
    return True


def process_cmdline(pid: int) -> list[str] | None:
    """The live command line of `pid`, or None when there is no such process."""
    proc = Path(f"/proc/{pid}/cmdline")
    if Path("/proc/self/cmdline").exists():
        try:
            raw = proc.read_bytes()
        except OSError:
            return None
        return [part.decode(errors="replace") for part in raw.split(b"\0") if part]
    if sys.platform == "win32":  # pragma: no cover - the ladder is POSIX-only
        return None
    try:  # macOS and the BSDs: no /proc
        out = subprocess.run(
            ["ps", "-o", "command=", "-p", str(pid)],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    text = out.stdout.strip()
    return text.split() if text else None


def cmdline_matches(record: ServerRecord, cmdline: list[str] | None) -> bool:
    """Does this command line belong to the server `record` describes?"""
    if not cmdline:
        return False
    if SERVER_MODULE not in cmdline:
        return False
    if record.model_path not in cmdline:
        return False
    try:
        return cmdline[cmdline.index("--port") + 1] == str(record.port)
    except (ValueError, IndexError):
        return False


def ours(record: ServerRecord) -> bool:
    """The process in `record` is alive and is still that server."""
    return is_alive(record.pid) and cmdline_matches(record, process_cmdline(record.pid))
