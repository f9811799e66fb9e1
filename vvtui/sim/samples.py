"""A mixed set of hinted request bodies, for calibrating the simulator and testing it.

Not the product's probe suites (those live in probes/*.toml): just enough variety, in the shape
the request builder sends to simulated endpoints, to measure how the ladder damages arithmetic,
facts, prose, JSON, tool calls, multiple choice and non-Latin answers.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from vvtui.sim import vocab

_CAPITALS = [
    ("France", "Paris"), ("Japan", "Tokyo"), ("Canada", "Ottawa"), ("Kenya", "Nairobi"),
    ("Peru", "Lima"), ("Norway", "Oslo"), ("Egypt", "Cairo"), ("Chile", "Santiago"),
    ("Vietnam", "Hanoi"), ("Poland", "Warsaw"), ("Ghana", "Accra"), ("Austria", "Vienna"),
]  # fmt: skip

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city", "unit"],
        },
    },
}
TIME_TOOL = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "Local time in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


def _body(
    probe_id: str,
    kind: str,
    prompt: str,
    answer: str | None,
    *,
    tool_calls: list[dict[str, Any]] | None = None,
    language: str = "latin",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "model": "vv-sim-8b",
        "messages": [{"role": "user", "content": prompt}],
        "temperature": 0,
        "max_tokens": 256,
        **extra,
        "vvtui_sim": {
            "probe_id": probe_id,
            "kind": kind,
            "answer": answer,
            "tool_calls": tool_calls,
            "language": language,
            "sample": 0,
        },
    }


def sample_bodies(n: int = 60, seed: int = 0) -> list[dict[str, Any]]:
    """`n` request bodies cycling through seven probe shapes, deterministic for a seed."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        shape = i % 7
        pid = f"s{i:03d}"
        if shape == 0:
            a, b = (int(x) for x in rng.integers(100, 999, 2))
            out.append(
                _body(pid, "chat", f"What is {a} * {b}? Answer briefly.", f"{a} * {b} = {a * b}.")
            )
        elif shape == 1:
            country, city = _CAPITALS[int(rng.integers(len(_CAPITALS)))]
            prompt = f"What is the capital of {country}?"
            out.append(_body(pid, "chat", prompt, f"The capital of {country} is {city}."))
        elif shape == 2:
            text = vocab.pseudo_answer(int(rng.integers(2**31)), (2, 3))
            out.append(_body(pid, "logprob", f"Write a short note #{i}.", text, top_logprobs=5))
        elif shape == 3:
            country, city = _CAPITALS[int(rng.integers(len(_CAPITALS)))]
            answer = json.dumps(
                {"country": country, "capital": city, "id": int(rng.integers(10**5))}
            )
            out.append(
                _body(
                    pid,
                    "json",
                    f"Give {country}'s capital as JSON.",
                    answer,
                    response_format={"type": "json_object"},
                )
            )
        elif shape == 4:
            _country, city = _CAPITALS[int(rng.integers(len(_CAPITALS)))]
            unit = "celsius" if rng.random() < 0.5 else "fahrenheit"
            out.append(
                _body(
                    pid,
                    "tool_call",
                    f"What's the weather in {city} in {unit}?",
                    None,
                    tools=[WEATHER_TOOL, TIME_TOOL],
                    tool_calls=[{"name": "get_weather", "arguments": {"city": city, "unit": unit}}],
                )
            )
        elif shape == 5:
            letter = "ABCD"[int(rng.integers(4))]
            prompt = f"Question {i}: pick A, B, C or D. Reply with the letter."
            out.append(_body(pid, "chat", prompt, letter))
        else:
            text = "我们可以在这个城市进行工作。答案是" + str(int(rng.integers(10, 99))) + "。"
            out.append(_body(pid, "chat", f"用中文回答 #{i}", text, language="cjk"))
    return out


def answer_of(body: dict[str, Any]) -> str:
    """The text (or compact tool call) a perfectly faithful endpoint returns for a body."""
    hint = body["vvtui_sim"]
    calls = hint.get("tool_calls")
    if calls and body.get("tools"):
        compact = (",", ":")
        return "|".join(c["name"] + json.dumps(c["arguments"], separators=compact) for c in calls)
    return str(hint["answer"])
