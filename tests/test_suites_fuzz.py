"""Fuzzing the probe loader: any input is either a suite or a ProbeError, never a crash."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vvtui.errors import ProbeError
from vvtui.suites import parse_suite, render
from vvtui.suites.spec import CHECK_PARAMS
from vvtui.toml_writer import dumps

PATH = Path("fuzz.toml")


def _load(text: str) -> None:
    try:
        suite = parse_suite(text, PATH)
        for template in suite.probes:
            render(template, 0)
    except ProbeError as exc:
        assert "\n" not in str(exc)


# Lines drawn from the shapes probe files really contain, shuffled and mangled.
FRAGMENTS = [
    "[[probe]]",
    "[suite]",
    "[tools.f]",
    "[[probe.checks]]",
    "[probe.params]",
    'id = "p"',
    'id = "q"',
    'kind = "tool_call"',
    'kind = "sampled"',
    'prompt = "x {{a}} {{int 1 9}}"',
    'prompt = "{{len(w)}}"',
    'messages = [{ role = "user", content = "{{a * 2}}" }]',
    'tools = ["f"]',
    'parameters = { type = "object", properties = { q = { type = "string" } } }',
    'parameters = { type = "object", properties = { q = { "$ref" = "#/nope" } } }',
    'answer_tool_calls = [{ name = "f", arguments = { q = 1 } }]',
    'type = "number"',
    'type = "regex"',
    'value = "{{a}}"',
    'pattern = "("',
    'a = "int 1 5"',
    'w = "word"',
    'answer = "{{a + 1}}"',
    "temperature = 0",
    "n_samples = 3",
    'checks = [{ type = "json_schema", schema = { type = 3 } }]',
    'tool_choice = { type = "function", function = { name = "g" } }',
    'response_format = { type = "json_schema", json_schema = { name = "n", schema = {} } }',
    'include = ["quant:nope"]',
    "garbage ===",
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=14))
def test_toml_ish_text(lines):
    _load("\n".join(lines) + "\n")


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_random_text(text):
    _load(text)


toml_values = st.recursive(
    st.text(max_size=20)
    | st.integers(min_value=-(10**6), max_value=10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.booleans()
    | st.sampled_from(["{{a}}", "{{int 1 3}}", "{{a +}}", "user", "function", "object"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)


def maybe(plausible):
    """Mostly a plausible value (so the fuzz reaches rendering), now and then anything at all."""
    return st.integers(0, 19).flatmap(lambda i: toml_values if i == 0 else plausible)


check_tables = st.fixed_dictionaries(
    {"type": maybe(st.sampled_from(sorted(CHECK_PARAMS)))},
    optional={
        "value": maybe(st.sampled_from(["{{a}}", "x", 3, ["x", "y"], ""])),
        "pattern": maybe(st.sampled_from(["x", "(", "{{a}}"])),
        "options": maybe(st.sampled_from([["a", "b"], ["a"]])),
        "schema": maybe(st.sampled_from([{"type": "object"}, {"type": 3}, {"$ref": "#/x"}])),
        "name": maybe(st.sampled_from(["f", "g"])),
        "arguments": maybe(st.just({"q": "{{a}}"})),
        "position": maybe(st.sampled_from(["last", "first"])),
        "expected": maybe(st.sampled_from(["latin", "Latin"])),
    },
)
tool_tables = st.fixed_dictionaries(
    {"type": maybe(st.just("function"))},
    optional={
        "function": maybe(
            st.fixed_dictionaries(
                {"name": maybe(st.sampled_from(["f", "g", "bad name"]))},
                optional={"parameters": maybe(st.just({"type": "object"}))},
            )
        )
    },
)
call_tables = st.fixed_dictionaries(
    {"name": maybe(st.sampled_from(["f", "g"]))},
    optional={"arguments": maybe(st.just({"q": "{{a}}"}))},
)
param_specs = st.sampled_from(["int 1 5", "word", "= a + 1", "float 0 1 2", "bogus", "digits 3"])
probe_tables = st.fixed_dictionaries(
    {
        "id": maybe(st.sampled_from(["p", "q", "r"])),
        "prompt": maybe(st.sampled_from(["hi {{a}}", "x", "{{int 1 3}}", "{{a +}}"])),
    },
    optional={
        "kind": maybe(st.sampled_from(["chat", "tool_call", "json", "logprob", "sampled", "x"])),
        "description": maybe(st.text(max_size=10)),
        "system": maybe(st.text(max_size=10)),
        "answer": maybe(st.sampled_from(["{{a}}", "x", "{{a * 2}}"])),
        "temperature": maybe(st.floats(0, 2)),
        "max_tokens": maybe(st.integers(0, 100)),
        "top_logprobs": maybe(st.integers(0, 21)),
        "n_samples": maybe(st.integers(1, 20)),
        "tools": maybe(st.lists(tool_tables | st.sampled_from(["f", "g"]), max_size=2)),
        "tool_choice": maybe(
            st.sampled_from(["auto", "none", "x", {"type": "function", "function": {"name": "f"}}])
        ),
        "response_format": maybe(
            st.sampled_from(
                [
                    {"type": "json_object"},
                    {"type": "json_schema", "json_schema": {"name": "n", "schema": {}}},
                    {"type": "json_schema"},
                ]
            )
        ),
        "params": st.dictionaries(st.sampled_from(["a", "b", "int"]), maybe(param_specs)),
        "checks": maybe(st.lists(check_tables, max_size=3)),
        "answer_tool_calls": maybe(st.lists(call_tables, max_size=2)),
        "tags": maybe(st.lists(st.text(max_size=5), max_size=2)),
        "extra_body": maybe(st.dictionaries(st.text(max_size=4), toml_values, max_size=2)),
        "template": maybe(st.booleans()),
        "language": maybe(st.sampled_from(["latin", "cjk", "Latin"])),
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(probe_tables, max_size=3))
def test_random_probe_tables(probes):
    tools = {"f": {"parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}}
    _load(dumps({"tools": tools, "probe": probes}))
