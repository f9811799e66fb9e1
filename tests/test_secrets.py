"""No key in any output: `vvtui --debug run --headless` over the whole fault matrix
(tests/faultmatrix.py: two healthy endpoints, one per fault) whose endpoints send keys from
`api_key_env` and from `${VAR}` headers, two of them echoing every request header back (in a
401 error body, and streamed as the answer). Then every output that exists: stdout, stderr, the
snapshot, the write-ahead log caught mid-run, the JUnit file, and whatever the export commands
of this branch write (`EXPORTS`: adding an output format is one line there). All are searched
for the key values and for distinctive pieces of them.

Also: repr() of configs, clients, events, results and errors never holds a key.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.faultmatrix import SUITE_TOML, UNSET_ENV, FaultEndpoint, config_toml, profiles
from vvtui.cli import build_parser, main
from vvtui.redact import forget_all
from vvtui.runner.wal import wal_path_for
from vvtui.sim.http import ServerThread
from vvtui.sim.profiles import Profile
from vvtui.sim.server import SimServer

ROOT = Path(__file__).resolve().parents[1]
_TAG = secrets.token_hex(6)
# Three shapes: an OpenAI-like key (also caught by key-shape rules), a token only value-based
# redaction can catch, and a bare string.
KEYS = {
    "VVTUI_SECRET_TEST_A": f"sk-vvtuiA{_TAG}0123456789abcdef",
    "VVTUI_SECRET_TEST_B": f"tok.vvtuiB.{_TAG}.team",
    "VVTUI_SECRET_TEST_C": f"plainvvtuiC{_TAG}zz",
}
PROFILE = {"ttft_s": 0.02, "tokens_per_s": 400.0, "jitter": 0.0}
A, B, C = KEYS


def keys_for(ep: FaultEndpoint) -> dict[str, object]:
    """Keys on every endpoint of the matrix, through both routes vvtui has for them."""
    if ep.name == "missing-key":
        return {}
    team = {"X-Team-Token": f"${{{B}}}"}
    if ep.name == "healthy-b":
        return {"headers": {**team, "Authorization": f"Bearer ${{{C}}}"}}
    if ep.name == "echo-stream":
        return {"api_key_env": C, "headers": team}
    return {"api_key_env": A, "headers": team}


@dataclass
class Export:
    """A command run on the finished snapshot; its stdout/stderr and any file it writes are
    searched. `{snap}` and `{dir}` are filled in; rows whose command is missing are skipped."""

    command: str
    argv: list[str] = field(default_factory=list)


EXPORTS = [
    Export("score", ["score", "{snap}", "--probes"]),
    Export("score", ["score", "{snap}", "--json"]),
    Export("report", ["report", "{snap}", "-o", "{dir}/report.md", "--worst", "40"]),
    Export("report", ["report", "{snap}", "--format", "md"]),  # to stdout
    Export("report", ["report", "{snap}", "-o", "{dir}/report.html"]),  # with its SVG charts
    Export("report", ["report", "{snap}", "-o", "{dir}/results.csv"]),
    Export("report", ["report", "{snap}", "-o", "{dir}/endpoints.csv", "--level", "endpoints"]),
    Export("diff", ["diff", "{snap}", "{snap}"]),
    Export("diff", ["diff", "{snap}", "{snap}", "--json"]),
    # The TUI's SVG screenshot, once a command writes one: add its row here.
]


def _commands() -> dict[str, object]:
    for action in build_parser()._actions:
        if hasattr(action, "choices") and isinstance(action.choices, dict):
            return action.choices
    return {}


@dataclass
class Outputs:
    texts: dict[str, str] = field(default_factory=dict)
    received: dict[str, list[dict[str, str]]] = field(default_factory=dict)


def _needles() -> list[str]:
    out = []
    for value in KEYS.values():
        # The whole key and distinctive pieces of it: a half-cut key is still a leak.
        out += [value, value[: len(value) // 2], value[len(value) // 2 :], _TAG]
    return out


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> Iterator[Outputs]:
    tmp = tmp_path_factory.mktemp("secrets")
    received: dict[str, list[dict[str, str]]] = {}
    sim = SimServer(profiles())

    async def recording(req, resp):
        received.setdefault(req.path.split("/")[1], []).append(dict(req.headers))
        await sim.handler(req, resp)

    server = ServerThread(lambda: recording).start()
    result = Outputs(received=received)
    try:
        config = tmp / "config.toml"
        config.write_text(config_toml(server.url, keys_for))
        suite = tmp / "faults.toml"
        suite.write_text(SUITE_TOML)
        snap = tmp / "snap.json"
        env = {**os.environ, **KEYS, "PYTHONPATH": str(ROOT), "VVTUI_CONFIG": str(config)}
        env.pop(UNSET_ENV, None)
        argv = [sys.executable, "-m", "vvtui", "--debug", "run", "--headless", "--config",
                str(config), "--out", str(snap), "--suite", str(suite), "--seed", "3",
                "--junit", str(tmp / "junit.xml")]  # fmt: skip
        proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp
        )
        wal = wal_path_for(snap)
        wal_copies = []
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                wal_copies.append(wal.read_text(encoding="utf-8", errors="replace"))
            except FileNotFoundError:
                pass
            time.sleep(0.01)
        try:
            stdout, stderr = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, stderr = proc.communicate()
            pytest.fail(f"vvtui run did not finish:\n{stderr.decode(errors='replace')}")
        result.texts["run stdout"] = stdout.decode(errors="replace")
        result.texts["run stderr"] = stderr.decode(errors="replace")
        result.texts["run exit code"] = str(proc.returncode)
        result.texts["wal mid-run"] = max(wal_copies, key=len, default="")
    finally:
        server.stop()

    # Exports run in this process after forgetting every key: files must already be clean, not
    # merely scrubbed on the way out by a process that happens to know the keys.
    forget_all()
    commands = _commands()
    with pytest.MonkeyPatch.context() as mp:
        for name in KEYS:
            mp.delenv(name, raising=False)
        capture = _Capture()
        for i, export in enumerate(EXPORTS):
            if export.command not in commands:
                continue
            args = [a.replace("{snap}", str(snap)).replace("{dir}", str(tmp)) for a in export.argv]
            with capture as (out, err):
                code = main(args)
            result.texts[f"export {i} {' '.join(export.argv[:1])} exit {code}"] = (
                out.getvalue() + err.getvalue()
            )
    for path in sorted(tmp.rglob("*")):
        if path.is_file():
            result.texts[f"file {path.name}"] = path.read_bytes().decode("utf-8", "replace")
    yield result


class _Capture:
    def __enter__(self):
        import io

        self._saved = (sys.stdout, sys.stderr)
        sys.stdout, sys.stderr = io.StringIO(), io.StringIO()
        return sys.stdout, sys.stderr

    def __exit__(self, *exc):
        sys.stdout, sys.stderr = self._saved


def test_the_run_really_sent_and_echoed_the_keys(outputs: Outputs):
    a, b, c = KEYS.values()
    # 3: some endpoints of the fault matrix answered nothing (each named on stderr).
    assert outputs.texts["run exit code"] == "3", outputs.texts["run stderr"]
    got = outputs.received
    assert any(h.get("authorization") == f"Bearer {a}" for h in got["echo-auth"])
    assert any(h.get("x-team-token") == b for h in got["echo-auth"])
    assert any(h.get("authorization") == f"Bearer {c}" for h in got["healthy-b"])
    assert any(h.get("authorization") == f"Bearer {c}" for h in got["echo-stream"])
    assert "missing-key" not in got  # never sent
    assert f"missing-key (${UNSET_ENV})" in outputs.texts["run stderr"]
    assert outputs.texts["wal mid-run"].count('"type": "result"') >= 1
    assert "[REDACTED]" in outputs.texts["file snap.json"]


def test_the_cli_run_over_every_fault_completes_and_its_snapshot_loads(outputs: Outputs):
    from tests.faultmatrix import MATRIX, PROBES
    from vvtui.model import Snapshot

    data = json.loads(outputs.texts["file snap.json"])
    snapshot = Snapshot.from_dict(data)
    assert snapshot.run.complete is True
    assert [e.name for e in snapshot.endpoints] == [ep.name for ep in MATRIX]
    for name in ("healthy-a", "healthy-b"):
        mine = [r for r in snapshot.results if r.endpoint == name and r.repeat == 0]
        assert sorted(r.probe_id for r in mine) == sorted(PROBES)
        assert all(r.error is None and not r.truncated for r in mine)
    for ep in MATRIX:
        assert {r.probe_id for r in snapshot.results if r.endpoint == ep.name} == set(PROBES)
    assert set(snapshot.scores["endpoints"]) == {ep.name for ep in MATRIX}


def test_no_output_holds_a_key(outputs: Outputs):
    assert len([k for k in outputs.texts if k.startswith("file ")]) >= 2  # snapshot and junit
    commands = _commands()
    ran = [k for k in outputs.texts if k.startswith("export ")]
    assert len(ran) == len([e for e in EXPORTS if e.command in commands])
    for name in ran:  # every export worked, so its output is worth searching
        assert name.endswith(("exit 0", "exit 1")), (name, outputs.texts[name][-500:])
    for name, text in outputs.texts.items():
        for needle in _needles():
            assert needle not in text, f"{needle!r} leaked into {name}"


def test_no_result_holds_a_key_split_across_tokens(outputs: Outputs):
    snapshot = json.loads(outputs.texts["file snap.json"])
    for r in snapshot["results"]:
        joined = "".join((r.get("tokens") or {}).get("text") or [])
        for needle in _needles():
            assert needle not in joined
    echoed = [r for r in snapshot["results"] if r["endpoint"] == "echo-stream"]
    assert echoed and all("secret_redacted" in r["flags"] for r in echoed)
    auth = [r for r in snapshot["results"] if r["endpoint"] == "echo-auth"]
    assert auth and all(r["error"]["status"] == 401 for r in auth)
    assert all("[REDACTED]" in r["error"]["message"] for r in auth)


async def test_reprs_never_hold_a_key(monkeypatch, sim_server_factory, tmp_path):
    from contextlib import aclosing

    from vvtui.clients import make_client, new_http_client
    from vvtui.clients.accumulate import Accumulator
    from vvtui.config import load_config
    from vvtui.model import Probe

    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)
    server = sim_server_factory([Profile("echo-auth", "echo", fault="echo_auth", **PROFILE)])
    path = tmp_path / "config.toml"
    path.write_text(config_toml(server.url, keys_for))
    config = load_config(path)
    endpoint = config.endpoint("echo-auth")
    probe = Probe(id="p", messages=[{"role": "user", "content": "hi"}])
    shown = [repr(config), repr(endpoint), str(endpoint.info().to_dict())]
    async with new_http_client() as http:
        client = make_client(endpoint, http)
        shown += [repr(client), repr(vars(client))]
        acc = Accumulator(endpoint, probe)
        async with aclosing(client.stream(probe)) as events:
            async for event in events:
                acc.feed(event)
                shown.append(repr(event))
        result = acc.result()
        shown += [repr(result), repr(result.error), str(result.error), repr(result.to_dict())]
        headers, _ = client.request_headers()  # the one place keys exist, briefly
        assert headers["Authorization"] == f"Bearer {KEYS['VVTUI_SECRET_TEST_A']}"
    assert result.error is not None and result.error.status == 401
    for text in shown:
        for needle in _needles():
            assert needle not in text, (needle, text)
    forget_all()
