"""Tool calls: trigger, argument validation and the K2 Vendor Verifier (K2VV) metrics.

K2VV's definitions (github.com/MoonshotAI/K2-Vendor-Verifier), kept exactly so numbers compare:

- trigger: `finish_reason == "tool_calls"` (an errored request has no finish reason: not
  triggered);
- against the reference: TP both trigger, FP only the candidate triggers, FN only the reference
  triggers; precision TP/(TP+FP), recall TP/(TP+FN), F1 their harmonic mean;
- schema accuracy: among the candidate's responses with `finish_reason == "tool_calls"`, the share
  whose tool calls are non-empty and each name an offered tool whose `parameters` schema the
  JSON-parsed arguments satisfy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from vvtui.model import Probe, Result, ToolCall
from vvtui.scoring.validation import validate


def offered_tools(probe: Probe) -> dict[str, Any]:
    """Offered function name -> its parameters schema (None when the tool declares none)."""
    out: dict[str, Any] = {}
    for tool in probe.tools or []:
        if not isinstance(tool, dict):
            continue
        fn = f if isinstance(f := tool.get("function"), dict) else tool
        name = fn.get("name") if isinstance(fn, dict) else None
        if isinstance(name, str):
            out[name] = fn.get("parameters")
    return out


def triggered(result: Result) -> bool:
    """K2VV trigger: the response finished with `tool_calls`."""
    return result.error is None and result.finish_reason == "tool_calls"


def called(result: Result) -> bool:
    """Lenient trigger used by the checks: finish reason or tool calls present."""
    if result.error is not None:
        return False
    return result.finish_reason == "tool_calls" or bool(result.tool_calls)


def parse_arguments(call: ToolCall) -> tuple[Any, str | None]:
    raw = call.arguments.strip()
    if not raw:
        # Some servers send no argument text for a function without parameters.
        return {}, None
    try:
        return json.loads(raw), None
    except ValueError as exc:
        return None, f"arguments of {call.name or '?'} are not valid JSON ({exc})"


def call_problem(call: ToolCall, tools: dict[str, Any], schema: Any = None) -> str | None:
    """Why this call is not a valid call of an offered tool, or None. `schema` overrides the
    offered tool's parameters schema (a check's explicit schema)."""
    if tools and call.name not in tools:
        return f"called {call.name!r}, which was not offered ({', '.join(sorted(tools))})"
    args, problem = parse_arguments(call)
    if problem:
        return problem
    use = schema if schema is not None else tools.get(call.name)
    if use is None:
        if not isinstance(args, dict):
            return f"arguments of {call.name} are not a JSON object"
        return None
    problem = validate(args, use)
    return None if problem is None else f"arguments of {call.name}: {problem}"


def schema_valid(result: Result, tools: dict[str, Any]) -> bool:
    """K2VV success for a triggered response: calls present and every one valid."""
    if not result.tool_calls:
        return False
    if not tools:
        return False  # K2VV: no schema found for the tool -> invalid
    return all(call_problem(c, tools) is None for c in result.tool_calls)


def canonical_calls(result: Result) -> list[tuple[str, str]]:
    """(name, canonical JSON of the arguments) per call, for comparing two endpoints' calls."""
    out = []
    for call in sorted(result.tool_calls, key=lambda c: c.index):
        args, problem = parse_arguments(call)
        text = call.arguments if problem else json.dumps(args, sort_keys=True)
        out.append((call.name, text))
    return out


@dataclass(slots=True)
class ToolConfusion:
    """K2VV counts for one endpoint against the reference."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    triggered: int = 0  # count_finish_reason_tool_calls
    schema_ok: int = 0  # count_successful_tool_call

    def add(self, other: ToolConfusion, sign: int = 1) -> None:
        self.tp += sign * other.tp
        self.fp += sign * other.fp
        self.fn += sign * other.fn
        self.tn += sign * other.tn
        self.triggered += sign * other.triggered
        self.schema_ok += sign * other.schema_ok

    @property
    def compared(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None:
            return None
        return 0.0 if p + r == 0 else 2 * p * r / (p + r)

    @property
    def schema_accuracy(self) -> float | None:
        return self.schema_ok / self.triggered if self.triggered else None


def confusion(ref: Result | None, cand: Result, tools: dict[str, Any]) -> ToolConfusion:
    """K2VV counts for one request pair (ref None: only the schema counts are filled)."""
    out = ToolConfusion()
    c = triggered(cand)
    if c:
        out.triggered = 1
        out.schema_ok = int(schema_valid(cand, tools))
    if ref is not None:
        r = triggered(ref)
        if r and c:
            out.tp = 1
        elif c:
            out.fp = 1
        elif r:
            out.fn = 1
        else:
            out.tn = 1
    return out
