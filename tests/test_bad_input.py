"""Every bad input a user can hand the CLI: exit code 2, exactly one line on stderr naming the
place and the fix, no traceback; `--debug` (anywhere on the line) adds the traceback, redacted.

The table is the contract: a new kind of input gets a row, a new command its rows."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from vvtui.cli import build_parser, main
from vvtui.model import SCHEMA_VERSION
from vvtui.redact import forget_all

ENDPOINT = '[[endpoint]]\nname = "ref"\nbase_url = "http://127.0.0.1:9/v1"\nmodel = "m"\n'


def _commands() -> set[str]:
    for action in build_parser()._actions:
        if hasattr(action, "choices") and isinstance(action.choices, dict):
            return set(action.choices)
    return set()


COMMANDS = _commands()


def _partial(command: str, endpoint: str, config: str | None = None) -> dict[str, object]:
    """A snapshot an interrupted `vvtui <command>` left, with one endpoint."""
    return {
        "schema_version": SCHEMA_VERSION,
        "run": {"seed": 1, "command": command, "config_path": config},
        "endpoints": [{"name": endpoint, "model": "m", "reference": True}],
    }


@dataclass
class Case:
    id: str
    files: dict[str, str | bytes]
    argv: list[str]
    # Every one of these must be in the single stderr line (the place and the fix).
    expect: tuple[str, ...]
    needs: str = "run"  # the command that must exist for the row to apply


CASES = [
    Case(
        "broken-toml",
        {"c.toml": '[[endpoint]]\nname = "ref\n'},
        ["run", "--headless", "--config", "{c.toml}"],
        ("c.toml:2", "not valid TOML"),
    ),
    Case(
        "wrong-type",
        {"c.toml": ENDPOINT + 'max_concurrency = "four"\n'},
        ["run", "--headless", "--config", "{c.toml}"],
        ("c.toml:5", "max_concurrency must be an integer"),
    ),
    Case(
        "unknown-key",
        {"c.toml": ENDPOINT + "refrence = true\n"},
        ["run", "--headless", "--config", "{c.toml}"],
        ("c.toml:5", "'refrence'", "did you mean 'reference'"),
    ),
    Case(
        "no-endpoints",
        {"c.toml": "[run]\nseed = 3\n"},
        ["run", "--headless", "--config", "{c.toml}"],
        ("c.toml", "no endpoints", "vvtui config init"),
    ),
    Case(
        "key-in-base-url",
        {"c.toml": ENDPOINT.replace("127.0.0.1:9/v1", "127.0.0.1:9/v1?api_key=abc")},
        ["run", "--headless", "--config", "{c.toml}"],
        ("c.toml:3", "base_url holds a credential", "api_key_env"),
    ),
    Case(
        "key-in-extra-body",
        {"c.toml": ENDPOINT + 'extra_body = { provider = { api_key = "sk-oops" } }\n'},
        ["run", "--headless", "--config", "{c.toml}"],
        ("c.toml:5", "extra_body.provider.api_key looks like a credential", "api_key_env"),
    ),
    Case(
        "missing-config",
        {},
        ["run", "--headless", "--config", "{dir}/nowhere.toml"],
        ("nowhere.toml", "vvtui config init"),
    ),
    Case(
        "reference-key-unset",
        {"c.toml": ENDPOINT + 'api_key_env = "VVTUI_TEST_UNSET_REF_KEY"\n'},
        ["run", "--headless", "--config", "{c.toml}", "--suite", "quick"],
        ("c.toml", "reference endpoint ref", "$VVTUI_TEST_UNSET_REF_KEY", "export"),
    ),
    Case(
        "unknown-endpoint",
        {"c.toml": ENDPOINT},
        ["run", "--headless", "--config", "{c.toml}", "--endpoint", "rfe"],
        ("--endpoint 'rfe'", "did you mean 'ref'"),
    ),
    Case(
        "unknown-endpoint-lists-the-names",
        {"c.toml": ENDPOINT + ENDPOINT.replace('"ref"', '"alt"')},
        ["run", "--headless", "--config", "{c.toml}", "--endpoint", "nope"],
        ("--endpoint 'nope'", "one of ref, alt"),
    ),
    Case(
        "endpoints-check-unknown-endpoint",
        {"c.toml": ENDPOINT + ENDPOINT.replace('"ref"', '"alt"')},
        ["endpoints", "check", "--config", "{c.toml}", "--endpoint", "nope"],
        ("no endpoint named 'nope'", "one of ref, alt"),
        needs="endpoints",
    ),
    Case(
        "unknown-suite",
        {"c.toml": ENDPOINT},
        ["run", "--headless", "--config", "{c.toml}", "--suite", "quik"],
        ("unknown suite 'quik'", "did you mean 'quick'"),
    ),
    Case(
        "bad-probe-file",
        {"c.toml": ENDPOINT, "p.toml": "[[probe]]\nid = 3\n"},
        ["run", "--headless", "--config", "{c.toml}", "--suite", "{p.toml}"],
        ("p.toml:1", "id must be a string"),
    ),
    Case(
        "probe-file-not-toml",
        {"c.toml": ENDPOINT, "p.toml": "[[probe]\nid = 'x'\n"},
        ["run", "--headless", "--config", "{c.toml}", "--suite", "{p.toml}"],
        ("p.toml", "TOML"),
    ),
    Case(
        "garbage-snapshot",
        {"c.toml": ENDPOINT, "s.json": "{garbage"},
        ["run", "--headless", "--config", "{c.toml}", "--resume", "{s.json}"],
        ("s.json:1", "not valid JSON"),
    ),
    Case(
        "binary-snapshot",
        {"c.toml": ENDPOINT, "s.json": b"\xff\xfe\x00junk"},
        ["run", "--headless", "--config", "{c.toml}", "--resume", "{s.json}"],
        ("s.json", "not UTF-8", "vvtui snapshot"),
    ),
    Case(
        "newer-snapshot",
        {"c.toml": ENDPOINT, "s.json": json.dumps({"schema_version": SCHEMA_VERSION + 1})},
        ["run", "--headless", "--config", "{c.toml}", "--resume", "{s.json}"],
        ("s.json", f"schema_version {SCHEMA_VERSION + 1}", "upgrade vvtui"),
    ),
    Case(
        "not-a-snapshot",
        {"c.toml": ENDPOINT, "s.json": "[1, 2, 3]"},
        ["run", "--headless", "--config", "{c.toml}", "--resume", "{s.json}"],
        ("s.json", "not a vvtui snapshot"),
    ),
    Case(
        "mistyped-snapshot",
        {"c.toml": ENDPOINT, "s.json": json.dumps({"schema_version": 1, "results": [{"x": 1}]})},
        ["run", "--headless", "--config", "{c.toml}", "--resume", "{s.json}"],
        ("s.json", "results[0]"),
    ),
    Case(
        "snapshot-is-a-directory",
        {"c.toml": ENDPOINT, "s.json/keep": ""},
        ["run", "--headless", "--config", "{c.toml}", "--resume", "{s.json}"],
        ("s.json", "cannot read snapshot"),
    ),
    Case(
        "nothing-to-resume",
        {"c.toml": ENDPOINT},
        ["run", "--headless", "--config", "{c.toml}", "--resume", "{dir}/none.json"],
        ("none.json", "nothing to resume"),
    ),
    Case(
        "resume-a-demo-with-run",
        {"s.json": json.dumps(_partial("demo", "reference"))},
        ["run", "--headless", "--resume", "{s.json}"],
        ("s.json", "written by `vvtui demo`", "vvtui demo --resume"),
    ),
    Case(
        "resume-a-run-with-demo",
        {"s.json": json.dumps(_partial("run", "ref"))},
        ["demo", "--headless", "--resume", "{s.json}"],
        ("s.json", "written by `vvtui run`", "vvtui run --resume"),
        needs="demo",
    ),
    Case(
        "resume-without-its-config",
        {"c.toml": ENDPOINT, "s.json": json.dumps(_partial("run", "gone", "ci/kimi.toml"))},
        ["run", "--headless", "--config", "{c.toml}", "--resume", "{s.json}"],
        ("endpoint(s) gone", "c.toml", "--config ci/kimi.toml"),
    ),
    Case(
        "out-is-a-directory",
        {"c.toml": ENDPOINT, "o.json/keep": ""},
        ["run", "--headless", "--config", "{c.toml}", "--suite", "json", "--out", "{o.json}"],
        ("o.json", "is a directory", "--out"),
    ),
    Case(
        "out-not-writable",
        {"c.toml": ENDPOINT, "f": "a file, not a folder"},
        ["run", "--headless", "--config", "{c.toml}", "--suite", "json", "--out", "{f}/s.json"],
        ("cannot write there", "is a file, not a folder", "--out"),
    ),
    Case(
        "bad-fault-spec",
        {},
        ["demo", "--headless", "--fault", "int4=explode"],
        ("--fault 'int4=explode'", "unknown fault"),
        needs="demo",
    ),
    Case(
        "bad-speed",
        {},
        ["demo", "--headless", "--speed", "0"],
        ("--speed", "positive"),
        needs="demo",
    ),
    Case(
        "score-garbage",
        {"s.json": "{garbage"},
        ["score", "{s.json}"],
        ("s.json:1", "not valid JSON"),
        needs="score",
    ),
    Case(
        "report-mistyped",
        {"s.json": json.dumps({"schema_version": 1, "results": [{"endpoint": "a"}]})},
        ["report", "{s.json}", "--format", "html"],
        ("s.json", "results[0]", "probe_id"),
        needs="report",
    ),
    Case(
        "diff-garbage",
        {"old.json": "{}", "new.json": "not json"},
        ["diff", "{old.json}", "{new.json}"],
        ("old.json", "not a vvtui snapshot"),
        needs="diff",
    ),
    Case(
        "report-newer",
        {"s.json": json.dumps({"schema_version": SCHEMA_VERSION + 1})},
        ["report", "{s.json}", "--format", "md"],
        ("s.json", "upgrade vvtui"),
        needs="report",
    ),
]


def _materialise(case: Case, root: Path) -> list[str]:
    names: dict[str, str] = {"dir": str(root)}
    for name, content in case.files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        top = name.split("/")[0]
        names[top] = str(root / top)
    out = []
    for arg in case.argv:
        for name, value in names.items():
            arg = arg.replace("{" + name + "}", value)
        out.append(arg)
    return out


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch, tmp_path):
    monkeypatch.delenv("VVTUI_DEBUG", raising=False)
    monkeypatch.delenv("VVTUI_TEST_UNSET_REF_KEY", raising=False)
    monkeypatch.setenv("VVTUI_CONFIG", str(tmp_path / "no-user-config.toml"))
    yield
    forget_all()


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    return code, capsys.readouterr().err


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_one_line_and_exit_2(case: Case, tmp_path: Path, capsys):
    if case.needs not in COMMANDS:
        pytest.skip(f"no `vvtui {case.needs}` command on this branch yet")
    argv = _materialise(case, tmp_path)
    code, err = _run(argv, capsys)
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1, err
    assert lines[0].startswith("vvtui: error: ")
    assert "Traceback" not in err
    for part in case.expect:
        assert part in lines[0], (part, lines[0])


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_shows_the_traceback_wherever_the_flag_goes(where, tmp_path: Path, capsys):
    case = next(c for c in CASES if c.id == "unknown-key")
    argv = _materialise(case, tmp_path)
    argv = ["--debug", *argv] if where == "before" else [*argv, "--debug"]
    code, err = _run(argv, capsys)
    assert code == 2
    assert "Traceback (most recent call last)" in err and "ConfigError" in err
    assert err.strip().splitlines()[-1].startswith("vvtui: error: ")


def test_debug_traceback_is_redacted(tmp_path: Path, capsys, monkeypatch):
    # A message that quotes a key (as a server's reply can) is redacted in the one-line error and
    # in the --debug traceback alike.
    from vvtui.errors import ConfigError
    from vvtui.redact import read_secret

    secret = "sk-debug-traceback-0123456789abcdef"
    monkeypatch.setenv("VVTUI_TEST_DEBUG_KEY", secret)
    read_secret("VVTUI_TEST_DEBUG_KEY")

    def boom(args):
        raise ConfigError(f"server said: your key {secret} is wrong")

    def crash(args):
        raise RuntimeError(f"unexpected reply quoting {secret}")

    for func, code in ((boom, 2), (crash, 3)):
        monkeypatch.setattr("vvtui.cli.run_cmd.cmd_run", func)
        for argv in (["run"], ["--debug", "run"]):
            assert main(argv) == code
            err = capsys.readouterr().err
            assert secret not in err and "[REDACTED]" in err
            assert ("Traceback" in err) == ("--debug" in argv)


def test_uncaught_exceptions_in_threads_and_logs_are_redacted(capsys, monkeypatch):
    import logging
    import threading

    from vvtui.cli.redacting import redacting_hooks
    from vvtui.redact import read_secret

    secret = "sk-thread-and-log-0123456789abcdef"
    monkeypatch.setenv("VVTUI_TEST_THREAD_KEY", secret)
    read_secret("VVTUI_TEST_THREAD_KEY")
    before = (threading.excepthook, logging.getLogRecordFactory())

    def die() -> None:
        raise RuntimeError(f"worker saw {secret}")

    with redacting_hooks():
        thread = threading.Thread(target=die, name="leaky")
        thread.start()
        thread.join()
        record = logging.getLogger("vvtui.test").makeRecord(
            "vvtui.test", logging.ERROR, __file__, 1, "reply was %s", (secret,), None
        )
        try:
            raise ValueError(secret)
        except ValueError as exc:
            with_exc = logging.getLogger("vvtui.test").makeRecord(
                "vvtui.test", logging.ERROR, __file__, 1, "boom", (), (ValueError, exc, None)
            )
    err = capsys.readouterr().err
    assert "leaky" in err and secret not in err and "[REDACTED]" in err
    assert secret not in logging.Formatter().format(record)
    formatted = logging.Formatter().format(with_exc)
    assert secret not in formatted and "ValueError" in formatted
    assert (threading.excepthook, logging.getLogRecordFactory()) == before


def test_other_endpoints_without_keys_are_warned_about_not_refused(capsys, monkeypatch):
    from vvtui.cli.run_cmd import _check_keys
    from vvtui.config import parse_config

    monkeypatch.delenv("VVTUI_TEST_UNSET_B", raising=False)
    monkeypatch.delenv("VVTUI_TEST_UNSET_C", raising=False)
    text = (
        ENDPOINT
        + ENDPOINT.replace('"ref"', '"b"')
        + 'api_key_env = "VVTUI_TEST_UNSET_B"\n'
        + ENDPOINT.replace('"ref"', '"c"')
        + 'headers = { X-Team = "${VVTUI_TEST_UNSET_C}" }\n'
    )
    _check_keys(parse_config(text), "ref")
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("vvtui: warning:")
    assert "b ($VVTUI_TEST_UNSET_B)" in err[0] and "c ($VVTUI_TEST_UNSET_C)" in err[0]


def test_whitespace_only_key_counts_as_unset(monkeypatch):
    from vvtui.config import missing_keys, parse_config
    from vvtui.redact import read_secret

    monkeypatch.setenv("VVTUI_TEST_BLANK_KEY", "  \n")
    config = parse_config(ENDPOINT + 'api_key_env = "VVTUI_TEST_BLANK_KEY"\n')
    assert missing_keys(config) == [("ref", "VVTUI_TEST_BLANK_KEY")]
    assert read_secret("VVTUI_TEST_BLANK_KEY") is None
    monkeypatch.setenv("VVTUI_TEST_BLANK_KEY", "sk-pasted-with-newline-123\n")
    assert read_secret("VVTUI_TEST_BLANK_KEY") == "sk-pasted-with-newline-123"


def test_checker_for_callables_is_exported():
    # The table's needs= column relies on the parser listing commands; keep that honest.
    assert {"run", "demo", "sim", "config"} <= COMMANDS
    assert isinstance(main, Callable)
