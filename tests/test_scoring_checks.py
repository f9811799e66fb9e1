import pytest

from vvtui.model import Check, ErrorInfo, Probe, Result, ToolCall
from vvtui.scoring import CHECK_TYPES, run_checks, validate_check_spec
from vvtui.scoring.checks import extract_numbers

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
            "required": ["city"],
        },
    },
}


def outcome(check: Check, text: str = "", **result_fields):
    probe = Probe(id="p", checks=[check], tools=[WEATHER])
    result = Result("e", "p", text=text, **result_fields)
    [out] = run_checks(probe, result)
    return out


def call(name="get_weather", arguments='{"city": "Paris"}'):
    return ToolCall(0, name, arguments)


# (check, passing answer or result fields, failing answer or result fields)
CASES = [
    (Check("exact", {"value": "Paris"}), "  Paris\n", "Paris."),
    (Check("exact", {"value": "paris", "ignore_case": True}), "PARIS", "Lyon"),
    (Check("contains", {"value": ["Paris", "France"]}), "Paris is in France", "Paris only"),
    (Check("contains", {"value": "paris", "ignore_case": True}), "PARIS!", "Lyon"),
    (Check("not_contains", {"value": ["sorry", "cannot"]}), "Here it is", "Sorry, I cannot"),
    (Check("not_contains", {"value": "SORRY", "ignore_case": True}), "ok", "sorry"),
    (Check("regex", {"pattern": r"^\d{3}-\d{4}$", "fullmatch": True}), "555-1234", "x555-1234"),
    (Check("regex", {"pattern": "paris", "flags": "i"}), "PARIS", "Lyon"),
    (Check("number", {"value": "391281"}), "The answer is 391,281.", "The answer is 391,280."),
    (Check("number", {"value": 3.14, "tolerance": 0.01}), "about 3.141", "about 3.2"),
    (Check("number", {"value": 100, "rel_tolerance": 0.05}), "roughly 104", "roughly 106"),
    (Check("number", {"value": -350}), "it is -3.5e2", "it is 350"),
    (Check("number", {"value": 7, "position": "any"}), "7 then 9", "8 then 9"),
    (Check("number", {"value": 7, "position": "only"}), "just 7", "7 and 7"),
    (Check("choice", {"options": ["A", "B", "C"], "value": "B"}), "Answer: B", "Answer: A or B"),
    (Check("json", {}), '{"a": 1}', "{'a': 1}"),
    (Check("json", {"allow_fences": True}), '```json\n{"a": [1, 2]}\n```', "```json\n{a}\n```"),
    (
        Check("json_schema", {"schema": {"type": "object", "required": ["name"]}}),
        '{"name": "x"}',
        '{"nom": "x"}',
    ),
    (
        Check("tool_call", {"name": "get_weather", "arguments": {"city": "Paris"}}),
        {"tool_calls": [call()], "finish_reason": "tool_calls"},
        {"tool_calls": [call(arguments='{"city": "Lyon"}')], "finish_reason": "tool_calls"},
    ),
    (
        Check("tool_call", {"name": "get_weather"}),
        {"tool_calls": [call(arguments='{"city": "Paris", "days": 3}')]},
        {"tool_calls": [call(arguments='{"city": "Paris", "days": "three"}')]},
    ),
    (
        Check("tool_call", {}),
        {"tool_calls": [call()], "finish_reason": "tool_calls"},
        {"tool_calls": [call(arguments='{"city": ')], "finish_reason": "tool_calls"},
    ),
    (
        Check("tool_call", {"name": "get_weather"}),
        {"tool_calls": [call()]},
        {"tool_calls": [call(name="get_time", arguments="{}")]},
    ),
    (Check("no_tool_call", {}), "It is sunny.", {"tool_calls": [call()]}),
    (Check("script", {}), "Hello, world — café", "Hello 世界"),
    (Check("script", {"expected": "cjk"}), "你好，世界", "你好 world"),
    (Check("script", {"max_foreign_ratio": 0.2}), "Hello wörld 世", "Hello 世界世界"),
]


@pytest.mark.parametrize(("check", "good", "bad"), CASES, ids=[c[0].type for c in CASES])
def test_each_check_passes_and_fails(check, good, bad):
    def fields(v):
        return {"text": v} if isinstance(v, str) else {"text": "", **v}

    passed = outcome(check, **fields(good))
    failed = outcome(check, **fields(bad))
    assert passed.passed, passed.detail
    assert not failed.passed
    assert failed.detail  # a failure always says why


def test_every_type_is_covered():
    assert {c[0].type for c in CASES} == set(CHECK_TYPES)


def test_number_extraction():
    assert extract_numbers("42, 42.0, 1,234 and -3.5e2; x2 no") == [42.0, 42.0, 1234.0, -350.0]
    assert extract_numbers("1,2,3") == [1.0, 2.0, 3.0]
    assert extract_numbers("\u22125") == [-5.0]


@pytest.mark.parametrize(
    ("check", "message"),
    [
        (Check("regex", {"pattern": "("}), "invalid regex"),
        (Check("number", {"value": "lots"}), "value must be a number"),
        (Check("choice", {"options": ["A"], "value": "B"}), "not one of the options"),
        (Check("json_schema", {"schema": {"type": "nonsense"}}), "invalid JSON Schema"),
        (Check("script", {"expected": "klingon"}), "unknown script"),
        (Check("contains", {}), "missing 'value'"),
        (Check("exact", {"value": "x", "strpi": True}), "did you mean 'strip'"),
        (Check("containz", {"value": "x"}), "did you mean 'contains'"),
    ],
)
def test_bad_specs_are_reported_early_and_fail_without_raising(check, message):
    error = validate_check_spec(check)
    assert error is not None and message in error
    assert "\n" not in error
    out = outcome(check, "anything")
    assert not out.passed and out.detail


def test_good_specs_validate():
    for check, _, _ in CASES:
        assert validate_check_spec(check) is None, check


def test_errored_request_fails_every_check_with_the_error_kind():
    probe = Probe(id="p", checks=[Check("contains", {"value": "x"}), Check("no_tool_call")])
    result = Result("e", "p", error=ErrorInfo("timeout", "no headers in 60 s"))
    outcomes = run_checks(probe, result)
    assert [o.passed for o in outcomes] == [False, False]
    assert all("timeout" in o.detail for o in outcomes)
