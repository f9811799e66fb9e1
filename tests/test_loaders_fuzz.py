"""Fuzzing the config loader, the snapshot loader and the write-ahead log reader: any input is
either loaded or a one-line VvtuiError, never another exception. (The probe loader is fuzzed in
test_suites_fuzz.py and the SSE/JSON parsers in test_client_parsing.py.)

Bounded: small max_examples, no deadline (the machine is shared), each test a few seconds."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vvtui.config import parse_config
from vvtui.errors import ConfigError, SnapshotError
from vvtui.model import ErrorInfo, Probe, Result, RunInfo, Snapshot, Tokens, ToolCall
from vvtui.toml_writer import dumps as toml_dumps

FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PATH = Path("fuzz.toml")


def _one_line(exc: Exception) -> None:
    assert "\n" not in str(exc) and str(exc).strip()


# ---- config


def _config(text: str) -> None:
    try:
        config = parse_config(text, PATH)
    except ConfigError as exc:
        _one_line(exc)
        return
    # What loads must be usable: one reference, valid names, reprs that work.
    assert sum(e.reference for e in config.endpoints) == 1
    repr(config)
    for endpoint in config.endpoints:
        # It ends up in every snapshot: strict JSON, finite numbers.
        json.dumps(endpoint.info().to_dict(), allow_nan=False)
        for key in ("timeout_s", "stall_timeout_s", "request_timeout_s"):
            assert math.isfinite(getattr(endpoint, key)) and getattr(endpoint, key) > 0


CONFIG_LINES = [
    "[[endpoint]]",
    "[run]",
    "[ui]",
    "[keymap]",
    "[endpoint.price]",
    "[endpoint.headers]",
    'name = "a"',
    'name = "b"',
    'name = ""',
    "name = 3",
    'base_url = "http://127.0.0.1:1/v1"',
    'base_url = "ftp://x"',
    'base_url = "https://u:p@h/v1"',
    'model = "m"',
    "model = []",
    'api_key_env = "KEY"',
    'api_key_env = "sk-not-a-name"',
    "reference = true",
    'reference = "yes"',
    "price = { input = 1, output = 2 }",
    "price = { input = -1 }",
    "price = { input = 1, outptu = 2 }",
    "input = 0.5",
    'Authorization = "Bearer x"',
    'Authorization = "${KEY}"',
    'headers = { X-A = "${KEY}", X-B = 3 }',
    "extra_body = { provider = { order = ['x'] } }",
    "extra_body = 5",
    "max_concurrency = 0",
    "max_concurrency = 1e3",
    "timeout_s = -1",
    "timeout_s = inf",
    "timeout_s = nan",
    "request_timeout_s = 0.5",
    "price = { input = nan, output = 1 }",
    "price = { input = 1, output = inf }",
    "stall_timeout_s = 0.5",
    "max_retries = 99999999999999999999",
    'protocol = "anthropik"',
    "logprobs = 1",
    "labels = { a = 1, b = { c = 2 } }",
    "suites = 'quick'",
    "suites = [1]",
    "seed = -3",
    "reference_repeats = true",
    'theme = "x"',
    'rerun = "ctrl+r"',
    "endpoint = 5",
    "run = []",
    "refrence = true",
    "garbage ===",
    '"quoted key" = 1',
]


@FAST
@given(st.lists(st.sampled_from(CONFIG_LINES), max_size=16))
def test_config_toml_ish_text(lines):
    _config("\n".join(lines) + "\n")


@settings(max_examples=80, deadline=None)
@given(st.text(max_size=300))
def test_config_random_text(text):
    _config(text)


TOML_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
)
TOML_VALUES = st.recursive(
    TOML_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
ENDPOINT_KEYS = st.sampled_from(
    [
        "name",
        "base_url",
        "model",
        "api_key_env",
        "protocol",
        "reference",
        "price",
        "headers",
        "extra_body",
        "max_concurrency",
        "timeout_s",
        "stall_timeout_s",
        "max_retries",
        "max_output_bytes",
        "logprobs",
        "simulated",
        "labels",
        "bogus",
    ]
)
VALID_ENDPOINT = {"name": "a", "base_url": "http://127.0.0.1:1/v1", "model": "m"}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.dictionaries(ENDPOINT_KEYS, TOML_VALUES, max_size=6), min_size=1, max_size=3),
    st.dictionaries(
        st.sampled_from(["suites", "seed", "reference_repeats", "max_concurrency", "x"]),
        TOML_VALUES,
        max_size=3,
    ),
)
def test_config_random_structures(endpoints, run):
    """Well-formed TOML with values of every type in every slot (None dropped: TOML has none)."""
    tables = [{**VALID_ENDPOINT, **e} for e in endpoints]
    data: dict[str, Any] = {"endpoint": tables}
    if run:
        data["run"] = run
    try:
        text = toml_dumps(_drop_none(data))
    except (TypeError, ValueError):
        return  # a value TOML cannot hold (the writer refuses it): not the loader's input
    _config(text)


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value if v is not None]
    return value


# ---- snapshots


def _valid_snapshot() -> dict[str, Any]:
    from vvtui.config import EndpointConfig
    from vvtui.model import Check, Price

    ep = EndpointConfig("ref", "http://127.0.0.1:1/v1", "m", reference=True, price=Price(1, 2))
    probe = Probe(
        id="p1",
        messages=[{"role": "user", "content": "2+2?"}],
        checks=[Check("number", {"value": "4"})],
        answer="4",
    )
    result = Result(
        endpoint="ref",
        probe_id="p1",
        text="4",
        tokens=Tokens(["4"], [-0.01], [[52]], [[("4", -0.01), ("5", -4.0)]]),
        tool_calls=[ToolCall(0, "f", "{}", "call_1")],
        finish_reason="stop",
        ttfb_s=0.1,
        ttft_s=0.2,
        total_s=0.3,
        input_tokens=5,
        output_tokens=1,
        tokens_per_s=None,
        usage={"prompt_tokens": 5},
        error=ErrorInfo("stall", "no bytes", None),
        flags=["no_usage"],
    )
    snap = Snapshot("0.1", "2025-01-01T00:00:00+00:00", RunInfo(seed=1), [ep.info()], [probe])
    snap.results = [result]
    return snap.to_dict()


VALID = _valid_snapshot()
JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


PATHS = [p for p in _paths(VALID) if p]


def _set(data: Any, path: tuple[Any, ...], value: Any, delete: bool) -> None:
    for key in path[:-1]:
        data = data[key]
    if delete and isinstance(data, dict):
        del data[path[-1]]
    else:
        data[path[-1]] = value


def _snapshot(data: Any) -> None:
    try:
        snapshot = Snapshot.from_dict(data, source="fuzz.json")
    except SnapshotError as exc:
        _one_line(exc)
        return
    # What loads must be usable downstream without type surprises: it re-serialises to strict
    # JSON and numbers are numbers.
    json.dumps(snapshot.to_dict(), allow_nan=False)
    for r in snapshot.results:
        for name in ("ttfb_s", "ttft_s", "total_s", "tokens_per_s", "cost_usd"):
            value = getattr(r, name)
            assert value is None or (isinstance(value, float) and math.isfinite(value)), name
        for name in ("input_tokens", "output_tokens"):
            value = getattr(r, name)
            assert value is None or (isinstance(value, int) and not isinstance(value, bool))
        assert isinstance(r.text, str) and isinstance(r.flags, list)
        if r.tokens is not None:
            assert all(isinstance(t, str) for t in r.tokens.text)
            if r.tokens.logprob is not None:
                assert len(r.tokens.logprob) == len(r.tokens.text)
                assert all(isinstance(x, float) for x in r.tokens.logprob)


@FAST
@given(
    st.lists(st.tuples(st.sampled_from(PATHS), JSON_VALUES, st.booleans()), min_size=1, max_size=4)
)
def test_snapshot_mutations(mutations):
    data = copy.deepcopy(VALID)
    for path, value, delete in mutations:
        try:
            _set(data, path, value, delete)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed the parent
    _snapshot(data)


@settings(max_examples=60, deadline=None)
@given(JSON_VALUES)
def test_snapshot_random_documents(doc):
    _snapshot(doc)
    _snapshot({"schema_version": 1, "results": doc})
    _snapshot({"schema_version": 1, "endpoints": doc, "probes": doc, "run": doc, "scores": doc})


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=200))
def test_snapshot_files_of_random_bytes(tmp_path_factory, data):
    from vvtui.storage import load_snapshot

    path = tmp_path_factory.mktemp("snap") / "s.json"
    path.write_bytes(data)
    try:
        load_snapshot(path)
    except SnapshotError as exc:
        _one_line(exc)


def test_deeply_nested_snapshot_is_a_snapshot_error(tmp_path):
    from vvtui.storage import load_snapshot

    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    try:
        load_snapshot(path)
    except SnapshotError as exc:
        _one_line(exc)


# ---- write-ahead log


@settings(max_examples=60, deadline=None)
@given(st.lists(JSON_VALUES | st.text(max_size=20), max_size=5), st.booleans())
def test_wal_of_random_lines(tmp_path_factory, lines, good_header):
    from vvtui.runner.wal import read_wal

    header = {"type": "header", **{k: v for k, v in VALID.items() if k != "results"}}
    rendered = [json.dumps(header)] if good_header else []
    for line in lines:
        rendered.append(line if isinstance(line, str) else json.dumps(line))
    path = tmp_path_factory.mktemp("wal") / "s.json.wal.jsonl"
    path.write_text("\n".join(rendered))
    try:
        snapshot = read_wal(path)
    except SnapshotError as exc:
        _one_line(exc)
        return
    assert snapshot.run.complete is False
