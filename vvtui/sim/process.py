"""The simulator in a child process.

`start_sim` runs the server on a thread: simple, but it shares the GIL with the client, so a busy
client (a TUI repainting, a runner parsing dozens of streams) delays the server's writes and
blurs the timing ground truth. `start_sim_process` gives the server its own interpreter. The
child exits when its stdin closes, so it cannot outlive the parent.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import threading
from collections.abc import Sequence
from typing import Any

from vvtui.model import Price
from vvtui.sim.profiles import Profile


def _encode(profile: Profile) -> dict[str, Any]:
    return dataclasses.asdict(profile)


def _decode(data: dict[str, Any]) -> Profile:
    price = data.pop("price", None)
    return Profile(**data, price=None if price is None else Price(**price))


class SimProcess:
    """A running child simulator: `.url` is the root, `.stop()` ends it."""

    def __init__(self, proc: subprocess.Popen[str], host: str, port: int) -> None:
        self.proc = proc
        self.host = host
        self.port = port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def requests(self, timeout: float = 10.0) -> list[dict[str, Any]]:
        """The child's `SimServer.requests` records (as dicts), cleared as they are read."""
        stdin, stdout = self.proc.stdin, self.proc.stdout
        assert stdin is not None and stdout is not None
        stdin.write("requests\n")
        stdin.flush()
        answer: list[str] = []
        reader = threading.Thread(target=lambda: answer.append(stdout.readline()))
        reader.start()
        reader.join(timeout)
        if not answer:
            raise RuntimeError("simulator process did not answer")
        return list(json.loads(answer[0]))

    def stop(self, timeout: float = 5.0) -> None:
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout)
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def __enter__(self) -> SimProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_sim_process(
    profiles: Sequence[Profile], host: str = "127.0.0.1", port: int = 0, timeout: float = 20.0
) -> SimProcess:
    """Start the simulator in a child interpreter and wait until it listens."""
    from vvtui.resources import child_env

    proc = subprocess.Popen(
        [sys.executable, "-m", "vvtui.sim.process"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=child_env(),
    )
    stdin, stdout = proc.stdin, proc.stdout
    assert stdin is not None and stdout is not None
    spec = {"host": host, "port": port, "profiles": [_encode(p) for p in profiles]}
    stdin.write(json.dumps(spec) + "\n")
    stdin.flush()
    answer: list[str] = []
    reader = threading.Thread(target=lambda: answer.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    line = answer[0].strip() if answer else ""
    if not line.isdigit():
        proc.kill()
        proc.wait(5)
        raise RuntimeError(f"simulator process did not start (said {line!r})")
    return SimProcess(proc, host, int(line))


def _child() -> None:
    import signal

    # A Ctrl-C in the terminal (or a service manager's SIGTERM) reaches the whole process group.
    # The parent stops us (by closing our stdin, which also happens if it dies) once it has
    # recorded what its requests gathered; dying first would turn its in-flight requests into
    # dropped connections instead of cleanly cancelled ones.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)

    from vvtui.sim.http import ServerThread
    from vvtui.sim.server import SimServer

    spec = json.loads(sys.stdin.readline())
    sim = SimServer([_decode(p) for p in spec["profiles"]])
    server = ServerThread(lambda: sim.handler, spec["host"], spec["port"]).start()
    print(server.port, flush=True)
    try:
        # Until the parent closes our stdin (or dies): "requests" asks for the served requests'
        # records, which are handed over and forgotten.
        for line in sys.stdin:
            if line.strip() == "requests":
                taken = []
                while sim.requests:
                    taken.append(sim.requests.popleft().to_dict())
                print(json.dumps(taken), flush=True)
    finally:
        server.stop()


if __name__ == "__main__":
    try:
        _child()
    except KeyboardInterrupt:
        pass
