"""Importing the K2 Vendor Verifier JSONL set as a probe suite."""

from __future__ import annotations

import json

import pytest

from vvtui.errors import ProbeError
from vvtui.suites import load_suites
from vvtui.suites import loader as loader_mod
from vvtui.suites.k2vv import import_k2vv

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather {{not a template}}",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "note": {"type": "string", "default": None}},
            "required": ["city"],
        },
    },
}


@pytest.fixture(autouse=True)
def _no_user_dir(monkeypatch, tmp_path):
    monkeypatch.setattr(loader_mod, "user_dir", lambda: tmp_path / "no-user-probes")


def jsonl(tmp_path, lines):
    path = tmp_path / "samples.jsonl"
    path.write_text(
        "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n",
        encoding="utf-8",
    )
    return path


def test_request_lines_become_tool_call_probes_that_load_back(tmp_path):
    path = jsonl(
        tmp_path,
        [
            {
                "model": "kimi-k2",
                "messages": [
                    {"role": "_input", "content": "You are an agent. Use {{braces}} freely."},
                    {"role": "user", "content": "Weather in Oslo?\nThanks"},
                ],
                "tools": [WEATHER],
                "tool_choice": "auto",
                "stream": True,
                "temperature": 0.6,
                "max_tokens": 512,
                "top_p": 0.95,
                "parallel_tool_calls": False,
            },
            "",
            {
                "messages": [
                    {"role": "user", "content": "Weather?"},
                    {
                        "role": "assistant",
                        "content": None,
                        "reasoning_content": "The user wants Rome.",
                        "vendor_field": 1,
                        "tool_calls": [
                            {
                                "id": "functions.get_weather:0",
                                "type": "function",
                                "function": {"name": "get_weather", "arguments": '{"city":"Rome"}'},
                            }
                        ],
                    },
                    {
                        "role": "tool",
                        "tool_call_id": "functions.get_weather:0",
                        "content": "sunny",
                    },
                ],
                "tools": [WEATHER],
                "tool_choice": "none",
                "stream": False,
            },
        ],
    )
    result = import_k2vv(path, "k2")
    assert result.problems == [] and result.probes == 2
    out = tmp_path / "k2.toml"
    out.write_text(result.toml, encoding="utf-8")
    first, second = load_suites([str(out)], 0)

    assert first.id == "k2-00001" and first.suite == "k2" and first.kind == "tool_call"
    assert first.messages[0] == {
        "role": "system",
        "content": "You are an agent. Use {{braces}} freely.",
    }
    assert first.messages[1]["content"] == "Weather in Oslo?\nThanks"
    assert first.tools[0]["function"]["description"] == "Weather {{not a template}}"
    assert first.tool_choice == "auto"
    assert first.temperature == 0.6 and first.max_tokens == 512
    assert first.extra_body == {"top_p": 0.95, "parallel_tool_calls": False}
    assert "stream" in first.tags and "k2vv" in first.tags
    assert [(c.type, c.spec) for c in first.checks] == [("tool_call", {})]

    assert second.tool_choice == "none"
    assert "no-stream" in second.tags
    assert [c.type for c in second.checks] == ["no_tool_call"]
    assert second.messages[1]["tool_calls"][0]["function"]["name"] == "get_weather"
    assert "content" not in second.messages[1] and "vendor_field" not in second.messages[1]
    assert second.messages[1]["reasoning_content"] == "The user wants Rome."


def test_results_records_carry_the_official_answer(tmp_path):
    request = {"messages": [{"role": "user", "content": "Weather in Oslo?"}], "tools": [WEATHER]}
    called = {
        "data_index": 1,
        "request": request,
        "finish_reason": "tool_calls",
        "response": {
            "choices": [
                {
                    "finish_reason": "tool_calls",
                    "message": {
                        "content": "",
                        "tool_calls": [
                            {"function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}}
                        ],
                    },
                }
            ]
        },
    }
    stopped = {
        "request": request,
        "response": {"choices": [{"finish_reason": "stop", "message": {"content": "Sunny."}}]},
    }
    result = import_k2vv(jsonl(tmp_path, [called, stopped]))
    assert result.problems == []
    out = tmp_path / "r.toml"
    out.write_text(result.toml, encoding="utf-8")
    first, second = load_suites([str(out)], 0)
    assert first.id == "samples-00001"
    assert [(c.type, c.spec) for c in first.checks] == [("tool_call", {"name": "get_weather"})]
    assert first.answer_tool_calls[0].arguments == {"city": "Oslo"}
    assert [c.type for c in second.checks] == ["no_tool_call"] and second.answer == "Sunny."


def test_bad_lines_are_reported_one_per_line(tmp_path):
    good = {"messages": [{"role": "user", "content": "hi"}], "tools": [WEATHER]}
    path = jsonl(
        tmp_path,
        [
            good,
            "{not json",
            json.dumps({"messages": []}),
            json.dumps({"messages": [{"role": "robot", "content": "x"}]}),
            json.dumps({"messages": [{"role": "user", "content": "x"}], "tools": "nope"}),
            json.dumps({"messages": [{"role": "user", "content": "x"}], "temperature": "hot"}),
            json.dumps([1, 2]),
            json.dumps({"messages": [{"role": "user", "content": "x"}], "extra": [None]}),
        ],
    )
    result = import_k2vv(path)
    assert result.probes == 1
    lines = [p.split(": ", 1)[0] for p in result.problems]
    assert lines == [f"{path}:{n}" for n in range(2, 9)]
    assert "not valid JSON" in result.problems[0]
    assert "unknown role 'robot'" in result.problems[2]
    assert "no null" in result.problems[6]


def test_tool_schema_problems_are_caught_before_writing(tmp_path):
    bad_tool = {
        "type": "function",
        "function": {"name": "has space", "parameters": {"type": "object"}},
    }
    path = jsonl(tmp_path, [{"messages": [{"role": "user", "content": "x"}], "tools": [bad_tool]}])
    result = import_k2vv(path)
    assert result.probes == 0 and len(result.problems) == 1
    assert result.problems[0].startswith(f"{path}:1: ") and "tool name" in result.problems[0]


def test_missing_file(tmp_path):
    with pytest.raises(ProbeError, match="no such file"):
        import_k2vv(tmp_path / "nope.jsonl")
