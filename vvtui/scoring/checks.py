"""Checks of an answer against a probe's expectation (the contract in the team brief).

`run_checks(probe, result)` never raises: a bad spec, an errored request or an unparsable answer
is a failed `CheckOutcome` whose `detail` says why. `validate_check_spec(check)` lets probe
loaders reject a bad spec when the file is read.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from vvtui.model import Check, Probe, Result
from vvtui.scoring import tools as toolcalls
from vvtui.scoring.script import foreign_ratio, unknown_scripts
from vvtui.scoring.validation import parse_json, schema_problem, validate


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    type: str
    passed: bool
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "passed": self.passed, "detail": self.detail}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckOutcome:
        return cls(str(data["type"]), bool(data["passed"]), str(data.get("detail", "")))


class SpecError(ValueError):
    """A check spec that cannot be applied."""


# --------------------------------------------------------------------------------------------
# Spec helpers


def _flag(spec: dict[str, Any], key: str, default: bool) -> bool:
    value = spec.get(key, default)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise SpecError(f"{key} must be true or false, got {value!r}")


def _number(value: Any, key: str) -> float:
    if isinstance(value, bool):
        raise SpecError(f"{key} must be a number, got {value!r}")
    if isinstance(value, (int, float)):
        out = float(value)
    elif isinstance(value, str):
        try:
            out = float(value.strip().replace(",", "").replace("\u2212", "-"))
        except ValueError:
            raise SpecError(f"{key} must be a number, got {value!r}") from None
    else:
        raise SpecError(f"{key} must be a number, got {type(value).__name__}")
    if not math.isfinite(out):
        raise SpecError(f"{key} must be finite, got {value!r}")
    return out


def _strings(spec: dict[str, Any], key: str) -> list[str]:
    if key not in spec:
        raise SpecError(f"missing {key!r}")
    value = spec[key]
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return list(value)
    raise SpecError(f"{key} must be a string or a non-empty list of strings")


def _string(spec: dict[str, Any], key: str) -> str:
    if key not in spec:
        raise SpecError(f"missing {key!r}")
    value = spec[key]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise SpecError(f"{key} must be a string, got {type(value).__name__}")
    return value


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------------------------
# Checkers: (spec, probe, result) -> (passed, detail)

Checker = Callable[[dict[str, Any], Probe, Result], tuple[bool, str]]


def _exact(spec: dict[str, Any], probe: Probe, result: Result) -> tuple[bool, str]:
    value = _string(spec, "value")
    answer = result.text
    if _flag(spec, "strip", True):
        answer, value = answer.strip(), value.strip()
    if _flag(spec, "ignore_case", False):
        ok = answer.casefold() == value.casefold()
    else:
        ok = answer == value
    return ok, "" if ok else f"expected {_short(value)!r}, got {_short(answer)!r}"


def _contains(spec: dict[str, Any], probe: Probe, result: Result) -> tuple[bool, str]:
    values = _strings(spec, "value")
    fold = _flag(spec, "ignore_case", False)
    answer = result.text.casefold() if fold else result.text
    missing = [v for v in values if (v.casefold() if fold else v) not in answer]
    return not missing, "" if not missing else f"missing {_short(missing[0])!r}"


def _not_contains(spec: dict[str, Any], probe: Probe, result: Result) -> tuple[bool, str]:
    values = _strings(spec, "value")
    fold = _flag(spec, "ignore_case", False)
    answer = result.text.casefold() if fold else result.text
    found = [v for v in values if (v.casefold() if fold else v) in answer]
    return not found, "" if not found else f"contains {_short(found[0])!r}"


@lru_cache(maxsize=256)
def _compile(pattern: str, flags: str) -> re.Pattern[str]:
    bits = 0
    for ch in flags:
        if ch not in "ims":
            raise SpecError(f"flags may hold only i, m, s; got {flags!r}")
        bits |= {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL}[ch]
    try:
        return re.compile(pattern, bits)
    except re.error as exc:
        raise SpecError(f"invalid regex {pattern!r}: {exc}") from None


def _regex(spec: dict[str, Any], probe: Probe, result: Result) -> tuple[bool, str]:
    pattern = _string(spec, "pattern")
    flags = spec.get("flags", "")
    if not isinstance(flags, str):
        raise SpecError("flags must be a string of i/m/s")
    compiled = _compile(pattern, flags)
    full = _flag(spec, "fullmatch", False)
    found = compiled.fullmatch(result.text) if full else compiled.search(result.text)
    if found:
        return True, ""
    return False, f"{'no full match' if full else 'no match'} for /{_short(pattern, 40)}/"


_NUMBER = re.compile(
    r"(?<![\w.])[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?(?:[eE][-+]?\d+)?(?![\w])"
    r"|(?<![\w.])[-+]?\.\d+(?:[eE][-+]?\d+)?(?![\w])"
)


def extract_numbers(text: str) -> list[float]:
    """Numbers in an answer: "42", "42.0", "1,234", "-3.5e2" (thousands commas removed)."""
    out = []
    for match in _NUMBER.finditer(text.replace("\u2212", "-")):
        try:
            value = float(match.group(0).replace(",", ""))
        except ValueError:
            continue
        if math.isfinite(value):
            out.append(value)
    return out


def _number_check(spec: dict[str, Any], probe: Probe, result: Result) -> tuple[bool, str]:
    if "value" not in spec:
        raise SpecError("missing 'value'")
    want = _number(spec["value"], "value")
    tol = _number(spec.get("tolerance", 0), "tolerance")
    rel = _number(spec.get("rel_tolerance", 0), "rel_tolerance")
    if tol < 0 or rel < 0:
        raise SpecError("tolerances must not be negative")
    position = spec.get("position", "last")
    if position not in ("last", "any", "only"):
        raise SpecError(f"position must be last, any or only; got {position!r}")
    allowed = max(tol, rel * abs(want))
    numbers = extract_numbers(result.text)
    if not numbers:
        return False, f"no number in the answer (expected {want:g})"

    def close(x: float) -> bool:
        return abs(x - want) <= allowed + 1e-12 * max(1.0, abs(want))

    if position == "only":
        if len(numbers) != 1:
            return False, f"expected one number, found {len(numbers)}"
        ok = close(numbers[0])
    elif position == "any":
        ok = any(close(x) for x in numbers)
    else:
        ok = close(numbers[-1])
    if ok:
        return True, ""
    got = numbers[-1] if position != "any" else numbers[0]
    return False, f"expected {want:g}, got {got:g}"


def _choice(spec: dict[str, Any], probe: Probe, result: Result) -> tuple[bool, str]:
    options = _strings(spec, "options")
    value = _string(spec, "value")
    if value.casefold() not in {o.casefold() for o in options}:
        raise SpecError(f"value {value!r} is not one of the options")
    named = [
        o
        for o in options
        if re.search(rf"(?<!\w){re.escape(o)}(?!\w)", result.text, re.IGNORECASE) is not None
    ]
    if len(named) == 1 and named[0].casefold() == value.casefold():
        return True, ""
    if not named:
        return False, "names none of the options"
    if len(named) > 1:
        return False, f"names {len(named)} options ({', '.join(named[:4])})"
    return False, f"chose {named[0]!r}, expected {value!r}"


def _json(spec: dict[str, Any], probe: Probe, result: Result) -> tuple[bool, str]:
    _, problem = parse_json(result.text, allow_fences=_flag(spec, "allow_fences", False))
    return problem is None, problem or ""


def _json_schema(spec: dict[str, Any], probe: Probe, result: Result) -> tuple[bool, str]:
    if "schema" not in spec:
        raise SpecError("missing 'schema'")
    problem = schema_problem(spec["schema"])
    if problem:
        raise SpecError(problem)
    value, problem = parse_json(result.text, allow_fences=_flag(spec, "allow_fences", False))
    if problem:
        return False, problem
    problem = validate(value, spec["schema"])
    return problem is None, problem or ""


def values_match(expected: Any, actual: Any) -> bool:
    """Lenient equality for expected tool arguments: templated values may arrive as strings
    ("391281" matches 391281), numbers compare numerically, dicts match on the expected keys."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and values_match(v, actual[k]) for k, v in expected.items()
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(values_match(e, a) for e, a in zip(expected, actual, strict=True))
        )
    if isinstance(expected, bool) or isinstance(actual, bool):
        if isinstance(expected, str) and isinstance(actual, bool):
            return expected.strip().lower() == str(actual).lower()
        return expected == actual
    if isinstance(expected, (int, float, str)) and isinstance(actual, (int, float, str)):
        if isinstance(expected, str) and isinstance(actual, str):
            return expected.strip() == actual.strip()
        try:
            return float(str(expected).replace(",", "")) == float(str(actual).replace(",", ""))
        except ValueError:
            return str(expected).strip() == str(actual).strip()
    return bool(expected == actual)


def _tool_call(spec: dict[str, Any], probe: Probe, result: Result) -> tuple[bool, str]:
    name = spec.get("name")
    if name is not None and not isinstance(name, str):
        raise SpecError("name must be a string")
    expected_args = spec.get("arguments")
    if expected_args is not None and not isinstance(expected_args, dict):
        raise SpecError("arguments must be a table of expected values")
    schema = spec.get("schema")
    if schema is not None and (problem := schema_problem(schema)):
        raise SpecError(problem)
    if not toolcalls.called(result):
        return False, "no tool call"
    if not result.tool_calls:
        return False, "finish_reason is tool_calls but no call arrived"
    offered = toolcalls.offered_tools(probe)
    for call in result.tool_calls:
        override = schema if (schema is not None and call.name == name) else None
        problem = toolcalls.call_problem(call, offered, override)
        if problem:
            return False, problem
    if name is None:
        targets = list(result.tool_calls)
    else:
        targets = [c for c in result.tool_calls if c.name == name]
        if not targets:
            got = ", ".join(c.name for c in result.tool_calls)
            return False, f"called {got}, expected {name}"
    if expected_args:
        for call in targets:
            args, _ = toolcalls.parse_arguments(call)
            if values_match(expected_args, args):
                return True, ""
        args, _ = toolcalls.parse_arguments(targets[0])
        for key, want in expected_args.items():
            if not isinstance(args, dict) or key not in args:
                return False, f"argument {key!r} missing"
            if not values_match(want, args[key]):
                return False, f"argument {key}={_short(repr(args[key]), 40)}, expected {want!r}"
        return False, "arguments differ"
    return True, ""


def _no_tool_call(spec: dict[str, Any], probe: Probe, result: Result) -> tuple[bool, str]:
    if toolcalls.called(result):
        names = ", ".join(c.name for c in result.tool_calls) or "finish_reason tool_calls"
        return False, f"called a tool ({names})"
    return True, ""


def script_expected(spec: dict[str, Any], probe: Probe) -> str | list[str]:
    expected = spec.get("expected", "latin")
    if isinstance(expected, str) or (
        isinstance(expected, list) and expected and all(isinstance(e, str) for e in expected)
    ):
        unknown = unknown_scripts(expected)
        if unknown:
            raise SpecError(f"unknown script {unknown[0]!r}")
        return expected
    raise SpecError("expected must be a script name or a list of names")


def _script(spec: dict[str, Any], probe: Probe, result: Result) -> tuple[bool, str]:
    expected = script_expected(spec, probe)
    limit = _number(spec.get("max_foreign_ratio", 0.0), "max_foreign_ratio")
    if not 0 <= limit <= 1:
        raise SpecError("max_foreign_ratio must be between 0 and 1")
    ratio = foreign_ratio(result.text, expected)
    if ratio <= limit:
        return True, ""
    return False, f"{ratio:.1%} of letters outside {expected} (max {limit:.1%})"


CHECKERS: dict[str, Checker] = {
    "exact": _exact,
    "contains": _contains,
    "not_contains": _not_contains,
    "regex": _regex,
    "number": _number_check,
    "choice": _choice,
    "json": _json,
    "json_schema": _json_schema,
    "tool_call": _tool_call,
    "no_tool_call": _no_tool_call,
    "script": _script,
}
CHECK_TYPES = tuple(CHECKERS)

_KNOWN_KEYS: dict[str, set[str]] = {
    "exact": {"value", "ignore_case", "strip"},
    "contains": {"value", "ignore_case"},
    "not_contains": {"value", "ignore_case"},
    "regex": {"pattern", "flags", "fullmatch"},
    "number": {"value", "tolerance", "rel_tolerance", "position"},
    "choice": {"options", "value"},
    "json": {"allow_fences"},
    "json_schema": {"schema", "allow_fences"},
    "tool_call": {"name", "arguments", "schema"},
    "no_tool_call": set(),
    "script": {"expected", "max_foreign_ratio"},
}
# A result that could not be scored against the spec; validation runs every checker on it.
_PROBE_FOR_VALIDATION = Probe(id="validate")
_RESULT_FOR_VALIDATION = Result(endpoint="validate", probe_id="validate", text="")


def validate_check_spec(check: Check) -> str | None:
    """An error message for a check spec that cannot work, or None. One line, naming the key."""
    checker = CHECKERS.get(check.type)
    if checker is None:
        from vvtui.errors import suggest

        hint = suggest(check.type, CHECKERS)
        return f"unknown check type {check.type!r}" + (f" ({hint})" if hint else "")
    unknown = sorted(set(check.spec) - _KNOWN_KEYS[check.type])
    if unknown:
        from vvtui.errors import suggest

        hint = suggest(unknown[0], _KNOWN_KEYS[check.type])
        return f"{check.type} check: unknown key {unknown[0]!r}" + (f" ({hint})" if hint else "")
    try:
        checker(check.spec, _PROBE_FOR_VALIDATION, _RESULT_FOR_VALIDATION)
    except SpecError as exc:
        return f"{check.type} check: {exc}"
    except Exception as exc:  # a spec shape the checker did not foresee
        return f"{check.type} check: unusable spec ({type(exc).__name__}: {exc})"
    return None


def run_check(check: Check, probe: Probe, result: Result) -> CheckOutcome:
    checker = CHECKERS.get(check.type)
    if checker is None:
        return CheckOutcome(check.type, False, f"unknown check type {check.type!r}")
    if result.error is not None:
        return CheckOutcome(check.type, False, f"no answer ({result.error.kind})")
    try:
        passed, detail = checker(check.spec, probe, result)
    except SpecError as exc:
        return CheckOutcome(check.type, False, f"bad check spec: {exc}")
    except Exception as exc:  # never let one odd answer or spec stop scoring
        return CheckOutcome(check.type, False, f"check failed to run: {type(exc).__name__}: {exc}")
    return CheckOutcome(check.type, bool(passed), detail)


def run_checks(probe: Probe, result: Result) -> list[CheckOutcome]:
    """Every check of `probe` applied to `result`, in order."""
    return [run_check(check, probe, result) for check in probe.checks]
