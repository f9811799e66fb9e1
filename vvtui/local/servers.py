"""Starting, checking and stopping one `llama_cpp.server` per variant on loopback ports.

Servers run in their own session (so a Ctrl-C in the terminal reaches vvtui, which then stops
them in order, rather than killing them mid-request), write to log files in the cache folder
(never to the terminal), and are recorded in the state file as soon as each one starts, so even a
`vvtui local up` interrupted half-way leaves nothing that `vvtui local down` cannot find.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from vvtui.local import LocalError, require_extra
from vvtui.local.prepare import MODEL_NAME, REFERENCE_VARIANT, Quantizer, prepare
from vvtui.local.state import (
    SERVER_MODULE,
    LadderState,
    ServerRecord,
    clear_state,
    cmdline_matches,
    is_alive,
    load_state,
    ours,
    process_cmdline,
    save_state,
)

HOST = "127.0.0.1"
# The server's default (2048) is too small for the shipped needle probes (~2,300 tokens with the
# chat template): llama-cpp-python then ends the stream without a finish_reason. SmolLM2 was
# trained to 8k; 4096 keeps the logits buffer that logprobs need (n_ctx x 49,152 floats per
# server) under a gigabyte each.
N_CTX = 4096
Progress = Callable[[str], None]


def free_ports(count: int, host: str = HOST) -> list[int]:
    """`count` distinct ports free on `host` right now.

    All sockets stay bound until every port is picked, so the kernel cannot hand out one twice.
    (Another program could still take a port before a server binds it; that server then exits and
    `up` reports its log.)
    """
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((host, 0))
            sockets.append(sock)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for sock in sockets:
            sock.close()


def server_command(
    model_path: Path, alias: str, port: int, threads: int, python: str = sys.executable
) -> list[str]:
    return [
        python,
        "-m",
        SERVER_MODULE,
        "--model",
        str(model_path),
        "--model_alias",
        alias,
        "--host",
        HOST,
        "--port",
        str(port),
        "--n_threads",
        str(threads),
        "--n_threads_batch",
        str(threads),
        "--n_ctx",
        str(N_CTX),
        # The default (True) cuts an in-flight stream as soon as a second request arrives.
        "--interrupt_requests",
        "False",
    ]


def start_server(
    variant: str, model_path: Path, port: int, threads: int, log_dir: Path
) -> tuple[subprocess.Popen[bytes], ServerRecord]:
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"server-{variant}.log"
    command = server_command(model_path, MODEL_NAME, port, threads)
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    record = ServerRecord(
        variant=variant,
        pid=proc.pid,
        port=port,
        model_path=str(model_path),
        log_path=str(log_path),
        alias=MODEL_NAME,
        threads=threads,
        size=model_path.stat().st_size,
        started_at=time.time(),
    )
    return proc, record


# Loopback checks must not go through an HTTP proxy configured in the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def answers_models(port: int, timeout: float = 2.0) -> bool:
    """The server on `port` answers GET /v1/models with a JSON model list."""
    try:
        with _OPENER.open(f"http://{HOST}:{port}/v1/models", timeout=timeout) as resp:
            if resp.status != 200:
                return False
            return isinstance(json.loads(resp.read()).get("data"), list)
    except (OSError, ValueError, urllib.error.URLError):
        return False


def wait_ready(
    servers: Sequence[tuple[subprocess.Popen[bytes] | None, ServerRecord]],
    timeout: float,
    *,
    progress: Progress = lambda line: None,
    poll: float = 0.25,
) -> None:
    """Wait until every server answers /v1/models; fail naming the variant and its log."""
    deadline = time.monotonic() + timeout
    pending = list(servers)
    while pending:
        for proc, record in list(pending):
            code = proc.poll() if proc is not None else (None if is_alive(record.pid) else -1)
            if code is not None:
                raise LocalError(
                    f"llama.cpp server for {record.variant} exited (code {code}) before it "
                    f"answered on port {record.port}",
                    hint=f"see {record.log_path}",
                )
            if answers_models(record.port):
                progress(f"ready   {record.variant:<7} {record.base_url}")
                pending.remove((proc, record))
        if pending and time.monotonic() > deadline:
            record = pending[0][1]
            raise LocalError(
                f"llama.cpp server for {record.variant} did not answer /v1/models on port "
                f"{record.port} within {timeout:.0f} s",
                hint=f"see {record.log_path}; a busy machine may need a longer --timeout",
            )
        if pending:
            time.sleep(poll)


@dataclass(slots=True)
class StopOutcome:
    record: ServerRecord
    outcome: str  # stopped | killed | not running | refused | failed
    detail: str = ""


def stop_server(record: ServerRecord, grace: float = 5.0, poll: float = 0.05) -> StopOutcome:
    """SIGTERM, then SIGKILL after `grace` seconds; only if the PID is still that server."""
    if not is_alive(record.pid):
        return StopOutcome(record, "not running")
    cmdline = process_cmdline(record.pid)
    if not cmdline_matches(record, cmdline):
        shown = " ".join(cmdline or ["?"])
        return StopOutcome(
            record,
            "refused",
            f"PID {record.pid} is now another program ({shown[:80]}); not signalling it",
        )
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.kill(record.pid, sig)
        except ProcessLookupError:
            return StopOutcome(record, "stopped")
        except PermissionError as exc:
            return StopOutcome(record, "failed", str(exc))
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not is_alive(record.pid):
                return StopOutcome(record, "stopped" if sig == signal.SIGTERM else "killed")
            time.sleep(poll)
    return StopOutcome(record, "failed", f"PID {record.pid} survived SIGKILL")


# --------------------------------------------------------------------------------------------
# The ladder as a whole


def up(
    variants: Sequence[str],
    root: Path,
    *,
    threads: int = 1,
    config_out: Path | None = None,
    timeout: float = 180.0,
    progress: Progress = lambda line: None,
    quantize: Quantizer | None = None,
) -> LadderState:
    """Prepare the files, start one server per variant, wait for all, write the vvtui config."""
    require_extra()
    if threads < 1:
        raise LocalError(f"--threads must be at least 1, not {threads}")
    _refuse_if_up(root)
    paths = prepare(variants, root, progress=progress, quantize=quantize)
    return start_ladder(
        paths, root, threads=threads, config_out=config_out, timeout=timeout, progress=progress
    )


def _refuse_if_up(root: Path) -> None:
    live = [s for s in load_state(root).servers if ours(s)]
    if live:
        raise LocalError(
            f"a local ladder is already up ({', '.join(s.variant for s in live)})",
            hint="stop it with `vvtui local down`, or see it with `vvtui local status`",
        )


def start_ladder(
    paths: dict[str, Path],
    root: Path,
    *,
    threads: int = 1,
    config_out: Path | None = None,
    timeout: float = 180.0,
    progress: Progress = lambda line: None,
) -> LadderState:
    """Start one server per model file (state, logs and config under `root`), wait for all.

    On any failure, Ctrl-C included, the servers started so far are stopped before it re-raises.
    """
    from vvtui.local.endpoints import write_ladder_config

    _refuse_if_up(root)
    ports = free_ports(len(paths))
    state = LadderState(created_at=time.time())
    started: list[tuple[subprocess.Popen[bytes] | None, ServerRecord]] = []
    try:
        for (variant, path), port in zip(paths.items(), ports, strict=True):
            proc, record = start_server(variant, path, port, threads, root / "logs")
            started.append((proc, record))
            state.servers.append(record)
            save_state(root, state)
            progress(f"start   {variant:<7} pid {record.pid} port {port} log {record.log_path}")
        wait_ready(started, timeout, progress=progress)
        reference = REFERENCE_VARIANT if REFERENCE_VARIANT in paths else next(iter(paths))
        config_path = config_out if config_out is not None else root / "ladder.toml"
        write_ladder_config(config_path, state.servers, reference=reference)
        state.config_path = str(config_path)
        save_state(root, state)
    except BaseException:
        for _, record in started:
            stop_server(record, grace=2.0)
        clear_state(root)
        raise
    return state


def down(root: Path, *, grace: float = 5.0) -> list[StopOutcome]:
    """Stop every recorded server that is still ours; forget the ladder."""
    state = load_state(root)
    outcomes = [stop_server(record, grace=grace) for record in state.servers]
    failed = [o for o in outcomes if o.outcome == "failed"]
    if failed:
        # Keep the records of servers still running, so a second `down` can try again.
        state.servers = [o.record for o in failed]
        save_state(root, state)
    else:
        clear_state(root)
    return outcomes
