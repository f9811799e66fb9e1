"""Runs where little or nothing worked: said once per endpoint and cause, rows marked "no
answers" (never 100 or 0), exit code 3; repeated failures counted on one updating line; demo
timings that follow --speed."""

from __future__ import annotations

import io
import json
import re
import socket
from pathlib import Path

from vvtui.cli import main
from vvtui.cli.headless import EXIT_NO_ANSWERS, Progress
from vvtui.model import EndpointInfo, ErrorInfo, Probe, Result, RunInfo, Snapshot
from vvtui.runner.events import EndpointState, ResultReady, RunFinished, RunStarted
from vvtui.scoring import score_snapshot
from vvtui.scoring.report import NO_ANSWERS
from vvtui.sim.ladder import ladder_config
from vvtui.sim.profiles import default_profiles
from vvtui.sim.synthetic import make_result

MINI = str(Path(__file__).parent / "data" / "tui" / "mini.toml")
DNS = ErrorInfo("dns", "cannot resolve api.example.invalid: [Errno -2] Name or service not known")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_run_where_nothing_answers_says_so_and_exits_3(tmp_path: Path, capsys):
    port = closed_port()
    config = tmp_path / "config.toml"
    config.write_text(
        "[[endpoint]]\n"
        f'name = "ref"\nbase_url = "http://127.0.0.1:{port}/v1"\nmodel = "m"\n'
        "reference = true\nmax_retries = 0\n\n"
        "[[endpoint]]\n"
        'name = "or-groq"\nbase_url = "http://vvtui-honest-test.invalid/v1"\nmodel = "m"\n',
        encoding="utf-8",
    )
    out = tmp_path / "snap.json"
    argv = ["run", "--config", str(config), "--suite", MINI, "--headless", "--out", str(out)]
    code = main([*argv, "--capabilities", "off"])
    captured = capsys.readouterr()
    assert code == EXIT_NO_ANSWERS == 3, captured.err
    err = captured.err.splitlines()
    [ref_line] = [ln for ln in err if ln.startswith("vvtui: the reference ref answered nothing")]
    assert re.search(r"connection failed ×\d+", ref_line) and "not sent ×" in ref_line, ref_line
    assert ref_line.endswith("no endpoint could be compared with it")
    assert any(line.startswith("vvtui: or-groq answered nothing (") for line in err)
    # One line per endpoint and cause, not one per request (7 probes, 8 with the repeat).
    assert sum("or-groq: DNS error" in line for line in err) <= 2, err
    # Per endpoint: its causes' first lines, their counts at the end, down, answered nothing.
    assert len([ln for ln in err if ln.startswith("vvtui:")]) <= 14, err
    scores = json.loads(out.read_text())["scores"]["endpoints"]
    for name in ("ref", "or-groq"):
        assert scores[name]["verdict"] == NO_ANSWERS
        assert scores[name]["fidelity"] is None and scores[name]["accuracy"] is None
    # The table shows the verdict, not 100.0 or 0.0.
    table = captured.out
    assert "no answers" in table and "100.0" not in table and " 0.0" not in table


def test_an_errored_reference_never_scores_100():
    eps = [EndpointInfo("ref", "m", "http://x", reference=True), EndpointInfo("b", "m", "http://y")]
    probes = [Probe(id=f"p{i}", messages=[{"role": "user", "content": "q"}]) for i in range(6)]
    results = []
    for p in probes:
        failed = make_result("ref", p.id, [], ttft_s=None, finish_reason=None)
        failed.error = ErrorInfo("timeout", "no response headers")
        results += [failed, make_result("b", p.id, ["fine"])]
    snap = Snapshot("0.1.0", "2025-01-01", RunInfo(seed=1, suites=["x"]), eps, probes, results)
    scores = score_snapshot(snap)
    ref = scores.endpoints["ref"]
    assert ref.verdict == NO_ANSWERS and ref.fidelity is None
    assert scores.endpoints["b"].fidelity is None  # nothing to compare with
    assert all(row["ref"]["mark"] == "error" for row in scores.probes.values())


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def fail(endpoint: str, i: int, error: ErrorInfo = DNS) -> Result:
    return Result(endpoint=endpoint, probe_id=f"p{i}", error=error)


def test_fifty_dns_errors_are_one_updating_line_on_a_terminal():
    term = Terminal()
    progress = Progress(stream=term)
    progress(RunStarted(total=50, per_endpoint={"or-groq": 50}))
    for i in range(50):
        progress(ResultReady(fail("or-groq", i), i + 1, 50))
    progress(RunFinished(cancelled=False, done=50, total=50))
    text = term.getvalue()
    # Printed once, then rewritten in place (cursor up, clear line, back down).
    assert text.count("or-groq: DNS error: cannot resolve") == 1
    assert "\x1b[1A\x1b[2Kvvtui: or-groq: DNS error ×50: cannot resolve" in text
    assert text.count("\n") == 3  # the header, the cause, the final progress line


def test_in_a_log_the_first_line_then_the_counts():
    log = io.StringIO()
    progress = Progress(stream=log)
    progress(RunStarted(total=23, per_endpoint={"or-groq": 20, "dead": 3}))
    for i in range(20):
        progress(ResultReady(fail("or-groq", i), i + 1, 23))
    progress(EndpointState("dead", down=True, reason="3 consecutive stalls"))
    progress(RunFinished(cancelled=False, done=20, total=23))
    lines = log.getvalue().splitlines()
    assert sum("or-groq: DNS error" in line for line in lines) == 2
    assert (
        "vvtui: or-groq: DNS error ×20: cannot resolve api.example.invalid: [Errno -2] "
        in (lines[-1])
    )
    assert any(
        line.startswith("vvtui: dead: down after 3 consecutive stalls; its 3 remaining")
        for line in lines
    )
    assert any("down: dead (3 consecutive stalls)" in line for line in lines)


def test_the_tui_model_counts_causes_and_knows_who_is_down():
    from vvtui.tui.state import RunModel

    model = RunModel(
        [Probe(id=f"p{i}") for i in range(3)],
        [EndpointInfo("ref", "m", "http://x", reference=True), EndpointInfo("b", "m", "http://y")],
    )
    model.on_event(RunStarted(total=6, per_endpoint={"ref": 3, "b": 3}))
    for i in range(3):
        model.on_event(ResultReady(fail("b", i), i + 1, 6))
    assert model.trouble("b") == ("DNS error ×3", False)
    model.on_event(EndpointState("b", down=True, reason="3 consecutive DNS failures"))
    assert model.trouble("b") == ("down after 3 consecutive DNS failures · DNS error ×3", True)
    model.on_event(EndpointState("b", down=False, reason="3 consecutive DNS failures"))
    assert model.trouble("b") == ("DNS error ×3", False)
    assert model.trouble("ref") is None


def test_demo_timeouts_follow_speed():
    slow = ladder_config("http://127.0.0.1:1", default_profiles(1.0)).endpoints[0]
    fast = ladder_config("http://127.0.0.1:1", default_profiles(10.0), speed=10.0).endpoints[0]
    assert (slow.stall_timeout_s, slow.timeout_s, slow.down_retry_s) == (3.0, 10.0, 30.0)
    # Scaled, down to floors a loaded machine can live with.
    assert (fast.stall_timeout_s, fast.timeout_s, fast.down_retry_s) == (1.0, 5.0, 3.0)


def test_cause_labels():
    from vvtui.runner.tally import FailureTally, cause_label

    assert cause_label(ErrorInfo("http", "x", 502)) == "HTTP error 502"
    assert cause_label(DNS) == "DNS error"
    down = ErrorInfo("down", "not sent: endpoint down after 3 consecutive stalls")
    abandoned = ErrorInfo("down", "trial abandoned: endpoint down after 3 consecutive stalls, …")
    assert cause_label(down) == "not sent" and cause_label(abandoned) == "trial abandoned"
    tally = FailureTally()
    for _ in range(2):
        tally.add(Result("e", "p", error=down))
    [cause] = tally.of("e")
    assert cause.line() == "e: not sent ×2: endpoint down after 3 consecutive stalls"


def test_reports_say_down_and_why():
    from vvtui.reports.html import render_html
    from vvtui.reports.markdown import render_markdown

    eps = [EndpointInfo("ref", "m", "http://x", reference=True), EndpointInfo("b", "m", "http://y")]
    probes = [Probe(id=f"p{i}", messages=[{"role": "user", "content": "q"}]) for i in range(6)]
    results = []
    for i, p in enumerate(probes):
        results.append(make_result("ref", p.id, ["fine"]))
        if i < 3:
            results.append(Result("b", p.id, error=ErrorInfo("stall", "no bytes for 30 s")))
        else:
            down = ErrorInfo("down", "not sent: endpoint down after 3 consecutive stalls")
            results.append(Result("b", p.id, error=down))
    snap = Snapshot("0.1.0", "2025-01-01", RunInfo(seed=1, suites=["x"]), eps, probes, results)
    snap.scores = score_snapshot(snap).to_dict()
    for text in (render_markdown(snap), render_html(snap)):
        assert "marked down: endpoint down after 3 consecutive stalls" in text
