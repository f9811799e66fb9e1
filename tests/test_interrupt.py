"""Nothing lost: a real `vvtui run --headless` process, interrupted (SIGTERM, Ctrl-C) or killed
(kill -9) mid-run, then resumed with `--resume`.

The simulator runs in this process behind a handler that counts requests per (endpoint, probe,
sample), so "finished pairs are not asked again" is checked on the server side. Every wait is
bounded; the CLI subprocesses talk to 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from vvtui.runner.wal import wal_path_for
from vvtui.sim.http import ServerThread
from vvtui.sim.profiles import Profile
from vvtui.sim.server import SimServer
from vvtui.storage import load_snapshot

ROOT = Path(__file__).resolve().parents[1]
# Slow enough that a signal lands mid-run, fast enough that the whole file takes seconds.
PROFILE = {"ttft_s": 0.05, "tokens_per_s": 200.0, "jitter": 0.0}
SUITES = ["--suite", "json"]


@dataclass
class Sim:
    url: str
    counts: Counter[tuple[str, str, int]]


@pytest.fixture
def sim() -> Iterator[Sim]:
    server = SimServer([Profile("ref", "reference", **PROFILE), Profile("alt", "alt", **PROFILE)])
    counts: Counter[tuple[str, str, int]] = Counter()

    async def counting(req, resp):
        if req.method == "POST":
            try:
                hint = json.loads(req.body)["vvtui_sim"]
                counts[(req.path.split("/")[1], hint["probe_id"], hint["sample"])] += 1
            except (ValueError, KeyError, TypeError, IndexError):
                pass
        await server.handler(req, resp)

    thread = ServerThread(lambda: counting).start()
    yield Sim(thread.url, counts)
    thread.stop()


def write_config(path: Path, sim: Sim) -> Path:
    lines = []
    for name in ("ref", "alt"):
        lines += [
            "[[endpoint]]",
            f'name = "{name}"',
            f'base_url = "{sim.url}/{name}/v1"',
            'model = "vv-sim-8b"',
            "simulated = true",
            "max_concurrency = 1",
            "timeout_s = 10",
            "",
        ]
    path.write_text("\n".join(lines))
    return path


def vvtui(*args: str, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "VVTUI_CONFIG": "/nonexistent/vvtui.toml"}
    with open(log, "wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "vvtui", *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=log.parent,
        )


def wal_results(path: Path) -> int:
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except (FileNotFoundError, UnicodeDecodeError):
        return 0
    return sum(1 for line in lines[1:] if line.startswith('{"type": "result"'))


def wait_for_results(proc: subprocess.Popen[bytes], wal: Path, n: int, log: Path) -> None:
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        if wal_results(wal) >= n:
            return
        if proc.poll() is not None:
            pytest.fail(f"vvtui exited early ({proc.returncode}):\n{log.read_text()}")
        time.sleep(0.02)
    proc.kill()
    pytest.fail(f"no {n} results in the write-ahead log within 40 s:\n{log.read_text()}")


def finish(proc: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> int:
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
        pytest.fail(f"vvtui did not exit within {timeout} s:\n{log.read_text()}")


def start_run(tmp_path: Path, sim: Sim) -> tuple[subprocess.Popen[bytes], Path, Path, Path]:
    config = write_config(tmp_path / "sim.toml", sim)
    out = tmp_path / "snap.json"
    log = tmp_path / "first.log"
    proc = vvtui("run", "--headless", "--config", str(config), "--out", str(out), *SUITES,
                 "--seed", "5", "--reference-repeats", "0", log=log)  # fmt: skip
    return proc, config, out, log


def resume(config: Path, out: Path, tmp_path: Path, sim: Sim) -> tuple[Counter, str]:
    before = Counter(sim.counts)
    log = tmp_path / "resume.log"
    proc = vvtui("run", "--headless", "--config", str(config), "--resume", str(out), log=log)
    code = finish(proc, log)
    text = log.read_text()
    assert code == 0, text
    return sim.counts - before, text


def assert_resumed_without_asking_again(partial_keys: set, asked: Counter, out: Path) -> None:
    final = load_snapshot(out)
    assert final.run.complete is True
    assert not wal_path_for(out).exists()
    keys = [r.key for r in final.results]
    assert len(keys) == len(set(keys))
    assert all(r.error is None for r in final.results)
    n_jobs = len(final.probes) * 2  # two endpoints, no samples beyond 1, no repeats
    assert len(keys) == n_jobs + sum((p.n_samples - 1) * 2 for p in final.probes if p.n_samples > 1)
    done_before = {(e, p, s) for e, p, s, _ in partial_keys}
    for key in done_before:
        assert asked[key] == 0, f"{key} was asked again"
    for e, p, s, _ in keys:
        if (e, p, s) not in done_before:
            assert asked[(e, p, s)] >= 1, f"{(e, p, s)} was never asked"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_writes_what_was_gathered_then_resume_completes(tmp_path: Path, sim: Sim, sig):
    proc, config, out, log = start_run(tmp_path, sim)
    wal = wal_path_for(out)
    wait_for_results(proc, wal, 4, log)
    logged = wal_results(wal)
    proc.send_signal(sig)
    code = finish(proc, log, timeout=30)
    text = log.read_text()
    assert code == 130, text
    assert "Traceback" not in text and "INCOMPLETE" in text

    assert not wal_path_for(out).exists()
    data = json.loads(out.read_text())
    assert data["run"]["complete"] is False
    partial = load_snapshot(out)
    assert len(partial.results) >= logged  # everything logged before the signal, and more
    finished = {r.key for r in partial.results if r.error is None and not r.truncated}
    assert len(finished) >= 4
    # Requests in flight when the signal came are recorded, marked cancelled, not dropped.
    for r in partial.results:
        assert r.error is None or r.error.kind == "cancelled"
    # (A request cancelled before it left may never have reached the server: only finished
    # results are known to have been asked.)
    assert all(sim.counts[(e, p, s)] >= 1 for e, p, s, _ in finished)

    asked, _ = resume(config, out, tmp_path, sim)
    assert_resumed_without_asking_again(finished, asked, out)
    kept = {r.key: r for r in partial.results if r.key in finished}
    for r in load_snapshot(out).results:
        if r.key in kept:
            assert r.to_dict() == kept[r.key].to_dict()  # carried over, not re-measured


def test_kill_9_leaves_the_log_and_resume_recovers_from_it(tmp_path: Path, sim: Sim):
    proc, config, out, log = start_run(tmp_path, sim)
    wal = wal_path_for(out)
    wait_for_results(proc, wal, 4, log)
    proc.kill()
    finish(proc, log, timeout=10)
    assert not out.exists()  # the snapshot is only written at the end
    logged = wal_results(wal)
    assert logged >= 4
    with open(wal, "a", encoding="utf-8") as fh:
        fh.write('{"type": "result", "endpoint": "ref", "probe_id": "js')  # a torn last line

    from vvtui.runner.plan import load_partial

    partial = load_partial(out)
    assert partial.run.complete is False and len(partial.results) == logged
    finished = {r.key for r in partial.results if r.error is None and not r.truncated}

    asked, _ = resume(config, out, tmp_path, sim)
    assert_resumed_without_asking_again(finished, asked, out)


def test_log_records_holding_line_separators_read_back(tmp_path: Path):
    # An answer may carry U+2028/U+2029/U+0085 raw (the simulator's u2028 fault does): the log
    # must split records on "\n" only.
    from vvtui.model import Result, RunInfo, Snapshot
    from vvtui.runner.wal import WriteAheadLog, read_wal

    path = tmp_path / "s.json.wal.jsonl"
    wal = WriteAheadLog(path)
    wal.open(Snapshot("0", "now", RunInfo(seed=1), [], []).to_dict())
    texts = ["a\u2028b", "c\u2029d\x85e", "plain"]
    for i, text in enumerate(texts):
        wal.append(Result(endpoint="e", probe_id=f"p{i}", text=text))
    wal.close()
    assert [r.text for r in read_wal(path).results] == texts


def test_resume_uses_the_log_when_the_snapshot_is_damaged(tmp_path: Path):
    from vvtui.model import Result, RunInfo, Snapshot
    from vvtui.runner.plan import load_partial
    from vvtui.runner.wal import WriteAheadLog

    out = tmp_path / "snap.json"
    out.write_text('{"schema_version": 1, "results": [')  # cut short (disk full, hand edit)
    wal = WriteAheadLog(wal_path_for(out))
    wal.open(Snapshot("0", "now", RunInfo(seed=1), [], []).to_dict())
    wal.append(Result(endpoint="e", probe_id="p0", text="kept"))
    wal.close()
    assert [r.text for r in load_partial(out).results] == ["kept"]
    wal_path_for(out).unlink()
    with pytest.raises(Exception, match="not valid JSON"):
        load_partial(out)


def test_ctrl_c_to_the_process_group_stops_the_demo_cleanly(tmp_path: Path):
    # A terminal's Ctrl-C reaches vvtui and its simulator child alike: the demo still writes what
    # it gathered, with in-flight requests recorded as cancelled, not as dropped.
    out = tmp_path / "demo.json"
    log = tmp_path / "demo.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "VVTUI_CONFIG": "/nonexistent/vvtui.toml"}
    with open(log, "wb") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "vvtui", "demo", "--headless", "--out", str(out),
             "--speed", "4", "--suite", "quick", "--reference-repeats", "0"],
            stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
            cwd=tmp_path, start_new_session=True,
        )  # fmt: skip
    try:
        wait_for_results(proc, wal_path_for(out), 6, log)
        os.killpg(proc.pid, signal.SIGINT)
        code = finish(proc, log, timeout=30)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # the simulator child, if anything went wrong
    text = log.read_text()
    assert code == 130, text
    snapshot = load_snapshot(out)
    assert snapshot.run.complete is False and len(snapshot.results) >= 6
    assert not wal_path_for(out).exists()
    kinds = {r.error.kind for r in snapshot.results if r.error is not None}
    assert kinds <= {"cancelled"}, text

    # A fresh simulator finishes the demo: what finished is kept, only the rest is asked.
    kept = {(r.endpoint, r.probe_id, r.sample): r.started_at for r in snapshot.results if r.ok}
    log = tmp_path / "resume.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "vvtui", "demo", "--headless", "--resume", str(out), "--speed", "4"],
        stdout=log.open("wb"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
        cwd=tmp_path,
    )  # fmt: skip
    assert finish(proc, log) == 0, log.read_text()
    done = load_snapshot(out)
    assert done.run.complete and done.run.command == "demo"
    assert all(r.error is None for r in done.results)
    assert len(done.results) > len(kept) and "resumed" in log.read_text()
    again = {(r.endpoint, r.probe_id, r.sample): r.started_at for r in done.results}
    assert all(again[key] == started for key, started in kept.items())


def test_simulator_child_ignores_group_signals_and_stops_when_told():
    import httpx

    from vvtui.sim.process import start_sim_process

    sim = start_sim_process([Profile("ref", "reference", **PROFILE)])
    try:
        sim.proc.send_signal(signal.SIGINT)
        sim.proc.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        assert sim.proc.poll() is None  # still serving the parent's in-flight requests
        assert httpx.get(sim.url + "/", timeout=5).status_code == 200
    finally:
        sim.stop()
    assert sim.proc.returncode == 0
