"""JSON parsing of answers and cached JSON Schema validators (jsonschema imported lazily)."""

from __future__ import annotations

import json
import re
from typing import Any

_FENCE = re.compile(r"^\s*```[A-Za-z0-9_+-]*[ \t]*\r?\n(.*?)\r?\n?```\s*$", re.DOTALL)
_validators: dict[str, Any] = {}


def strip_fence(text: str) -> str:
    """The body of one ``` fence around the whole answer (```json ... ```), else the text."""
    match = _FENCE.match(text)
    return match.group(1) if match else text


def parse_json(text: str, *, allow_fences: bool = False) -> tuple[Any, str | None]:
    """(value, None) when the answer is JSON, else (None, a one-line reason)."""
    body = strip_fence(text) if allow_fences else text
    try:
        return json.loads(body), None
    except (ValueError, RecursionError) as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else type(exc).__name__
        where = f" at char {exc.pos}" if isinstance(exc, json.JSONDecodeError) else ""
        return None, f"not valid JSON ({reason}{where})"


def schema_problem(schema: Any) -> str | None:
    """Why `schema` is not a usable JSON Schema, or None."""
    if not isinstance(schema, (dict, bool)):
        return f"schema must be an object, got {type(schema).__name__}"
    try:
        _validator(schema)
    except Exception as exc:
        return f"invalid JSON Schema: {_first_line(exc)}"
    return None


def validate(instance: Any, schema: Any) -> str | None:
    """None when `instance` validates against `schema`, else a one-line reason."""
    try:
        validator = _validator(schema)
    except Exception as exc:
        return f"invalid JSON Schema: {_first_line(exc)}"
    try:
        error = next(iter(validator.iter_errors(instance)), None)
    except Exception as exc:  # e.g. a $ref that cannot be resolved
        return f"schema could not be applied: {_first_line(exc)}"
    if error is None:
        return None
    path = "/".join(str(p) for p in error.absolute_path)
    return f"{'at ' + path + ': ' if path else ''}{_first_line(error.message)}"


def _validator(schema: Any) -> Any:
    key = json.dumps(schema, sort_keys=True, default=str)
    found = _validators.get(key)
    if found is None:
        from jsonschema.validators import validator_for

        cls = validator_for(schema)
        cls.check_schema(schema)
        found = cls(schema)
        _validators[key] = found
    return found


def _first_line(exc: object) -> str:
    text = getattr(exc, "message", None) or str(exc)
    line = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return line[:200]
