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


# `/v1/models` only proves the model file loaded. The first generation is what runs the compute
# kernels, and a server built for CPU features the machine cannot use (GGML_NATIVE on a cloud VM
# that advertises AVX-512/AMX its hypervisor then refuses) answers /v1/models and dies with a
# general protection fault on its first request. So `up` asks each server for a few greedy
# tokens before it calls the server ready.
CHECK_MESSAGES = [{"role": "user", "content": "Say OK."}]
CHECK_TOKENS = 4
CHECK_TIMEOUT = 30.0
REBUILD_HINT = (
    "a crash in a compute kernel usually means llama.cpp was built for CPU features this machine "
    "cannot use: reinstall llama-cpp-python with the portable CMAKE_ARGS of `make demo-real`"
)


def generate_once(record: ServerRecord, timeout: float = CHECK_TIMEOUT) -> str | None:
    """Ask the server for a few greedy tokens. None when it answered with a completion, else
    what went wrong in a few words."""
    body = {
        "model": record.alias,
        "messages": CHECK_MESSAGES,
        "max_tokens": CHECK_TOKENS,
        "temperature": 0.0,
    }
    request = urllib.request.Request(
        f"http://{HOST}:{record.port}/v1/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with _OPENER.open(request, timeout=timeout) as resp:
            data = json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code} {exc.reason}"
    except TimeoutError:
        return f"no answer to a {CHECK_TOKENS}-token generation within {timeout:.0f} s"
    except (OSError, urllib.error.URLError) as exc:
        reason = getattr(exc, "reason", None) or exc
        return f"the connection failed ({reason})"
    except ValueError:
        return "an answer that is not JSON"
    choices = data.get("choices") if isinstance(data, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return "an answer without choices"
    return None


def describe_exit(code: int | None) -> str:
    """`exited (code 3)` or `died (signal SIGSEGV)` for a process's return code; `is gone` for a
    process this one did not start (its return code cannot be read)."""
    if code is None:
        return "is gone"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = str(-code)
        return f"died (signal {name})"
    return f"exited (code {code})"


def _ended(
    proc: subprocess.Popen[bytes] | None, record: ServerRecord, wait: float = 0.0
) -> tuple[bool, int | None]:
    """(has the server ended, its return code when known), waiting up to `wait` s for it."""
    deadline = time.monotonic() + wait
    while True:
        if proc is not None:
            code = proc.poll()
            ended = code is not None
        else:
            code, ended = None, not is_alive(record.pid)
        if ended or time.monotonic() >= deadline:
            return ended, code
        time.sleep(0.05)


def check_server(
    proc: subprocess.Popen[bytes] | None, record: ServerRecord, timeout: float = CHECK_TIMEOUT
) -> None:
    """One real generation; a server that dies or fails it raises, naming the variant and log."""
    problem = generate_once(record, timeout)
    if problem is None:
        return
    # A crashing server may still be tearing down when the connection drops: give it a moment.
    ended, code = _ended(proc, record, wait=2.0)
    if ended:
        crashed = code is not None and -code in (signal.SIGSEGV, signal.SIGILL, signal.SIGBUS)
        raise LocalError(
            f"llama.cpp server for {record.variant} {describe_exit(code)} during its first "
            "generation",
            hint=f"see {record.log_path}" + (f"; {REBUILD_HINT}" if crashed else ""),
        )
    raise LocalError(
        f"llama.cpp server for {record.variant} failed its first generation: {problem}",
        hint=f"see {record.log_path}",
    )


def wait_ready(
    servers: Sequence[tuple[subprocess.Popen[bytes] | None, ServerRecord]],
    timeout: float,
    *,
    progress: Progress = lambda line: None,
    poll: float = 0.25,
) -> None:
    """Wait until every server answers /v1/models, then check each with one generation; fail
    naming the variant and its log."""
    deadline = time.monotonic() + timeout
    pending = list(servers)
    while pending:
        for proc, record in list(pending):
            ended, code = _ended(proc, record)
            if ended:
                raise LocalError(
                    f"llama.cpp server for {record.variant} {describe_exit(code)} before it "
                    f"answered on port {record.port}",
                    hint=f"see {record.log_path}",
                )
            if answers_models(record.port):
                check_server(proc, record, max(CHECK_TIMEOUT, deadline - time.monotonic()))
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
    """Prepare the files, start one server per variant, wait until each answers one generation,
    write the vvtui config."""
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
    """Start one server per model file (state, logs and config under `root`), wait until each
    answers one generation.

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
