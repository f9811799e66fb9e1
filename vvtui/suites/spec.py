"""What a probe file may say, and the checks on it.

Two passes. `check_raw` runs on the table as written (unknown keys, types, structure) before any
template is drawn; `check_rendered` runs on the rendered `Probe` (check parameters after their
placeholders became values, tool and schema consistency). Both raise `SpecError` carrying the key
path inside the probe, which the loader turns into `file:line: probe 'id': message`.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Sequence
from typing import Any

from vvtui.errors import suggest, suggest_or_list, type_name
from vvtui.model import PROBE_KINDS, Probe

Path_ = tuple[str | int, ...]

TOP_KEYS = ("suite", "probe", "tools")
SUITE_KEYS = {
    "name": "the suite's name (defaults to the file name)",
    "description": "what the suite is for",
    "tags": "tags added to every probe of the suite",
    "include": 'probes borrowed from other suites, as "suite:probe-id"',
}
SUITE_TOOL_KEYS = ("description", "parameters", "strict")

PROBE_KEYS = {
    "id": "a unique id (letters, digits, - _ . :)",
    "kind": f"one of {', '.join(PROBE_KINDS)}",
    "description": "why this probe is here: what it detects",
    "messages": "a list of {role, content} tables",
    "system": "shorthand: a system message put first",
    "prompt": "shorthand: a single user message",
    "temperature": "sampling temperature (default 0; 1.0 for sampled probes)",
    "max_tokens": "cap on the answer's tokens",
    "seed": "the request's seed (best effort on most servers)",
    "top_logprobs": "alternatives per position to ask for (0-20)",
    "n_samples": "samples per endpoint for sampled probes",
    "tools": "OpenAI function tools, or names of [tools.NAME] tables of this file",
    "tool_choice": '"auto", "none", "required" or {type="function", function={name=...}}',
    "response_format": '{type="json_object"} or {type="json_schema", json_schema={...}}',
    "extra_body": "fields merged into the request body",
    "checks": "expectations on the answer: [[probe.checks]] with a type",
    "tags": "free-form tags",
    "answer": "the answer a faithful model gives",
    "answer_tool_calls": "the tool calls a faithful model makes: [{name, arguments}]",
    "language": "the script the answer is written in (latin, cjk, cyrillic...)",
    "params": 'named template parameters, e.g. a = "int 100 999"',
    "template": "false to send every string as written (no {{...}} rendering)",
}
MESSAGE_ROLES = ("system", "developer", "user", "assistant", "tool")
# reasoning_content: thinking models (Kimi K2 thinking, DeepSeek) are sent their earlier
# reasoning back on multi-turn requests; K2VV's set does so.
MESSAGE_KEYS = ("role", "content", "name", "tool_calls", "tool_call_id", "reasoning_content")
TOOL_CHOICES = ("auto", "none", "required")
RESPONSE_FORMATS = ("text", "json_object", "json_schema")

# The check types and their parameters: (required, allowed). The contract with vvtui.scoring.
CHECK_PARAMS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "exact": (("value",), ("value", "ignore_case", "strip")),
    "contains": (("value",), ("value", "ignore_case")),
    "not_contains": (("value",), ("value", "ignore_case")),
    "regex": (("pattern",), ("pattern", "flags", "fullmatch")),
    "number": (("value",), ("value", "tolerance", "rel_tolerance", "position")),
    "choice": (("options", "value"), ("options", "value")),
    "json": ((), ("allow_fences",)),
    "json_schema": ((), ("schema",)),  # schema defaults to response_format's
    "tool_call": ((), ("name", "arguments", "schema")),
    "no_tool_call": ((), ()),
    "script": ((), ("expected", "max_foreign_ratio")),
}
NUMBER_POSITIONS = ("last", "any", "only")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}\Z")
_TOOL_NAME = re.compile(r"^[A-Za-z0-9_\-]{1,64}\Z")
_SCRIPT = re.compile(r"^[a-z][a-z_]{1,31}\Z")


class SpecError(ValueError):
    """A problem in one probe, at `path` (a key path inside the probe table)."""

    def __init__(self, message: str, path: Path_ = (), hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.hint = hint


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _want(raw: dict[str, Any], key: str, types: tuple[type, ...], what: str) -> Any:
    value = raw[key]
    if isinstance(value, bool) and bool not in types:
        raise SpecError(f"{key} must be {what}, not true/false", (key,))
    if not isinstance(value, types):
        raise SpecError(f"{key} must be {what}, not {type_name(value)}", (key,))
    return value


def _unknown(key: str, known: Sequence[str], where: str, path: Path_) -> SpecError:
    return SpecError(f"unknown key {key!r} in {where}", path, suggest(key, known))


def str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


# --------------------------------------------------------------------------------------------
# Raw pass


def probe_id_of(raw: Any) -> str | None:
    if isinstance(raw, dict) and isinstance(raw.get("id"), str):
        return raw["id"]
    return None


def check_raw(raw: Any, suite_tools: dict[str, dict[str, Any]]) -> None:
    """Validate one `[[probe]]` table as written. Raises SpecError."""
    if not isinstance(raw, dict):
        raise SpecError("each [[probe]] must be a table")
    for key in raw:
        if key not in PROBE_KEYS:
            raise _unknown(key, list(PROBE_KEYS), "probe", (key,))
    if "id" not in raw:
        raise SpecError("missing 'id'", hint=PROBE_KEYS["id"])
    pid = _want(raw, "id", (str,), "a string")
    if not _ID.match(pid):
        raise SpecError(f"id {pid!r} must use letters, digits and - _ . : only", ("id",))
    kind = raw.get("kind", "chat")
    if kind not in PROBE_KINDS:
        raise SpecError(f"unknown kind {kind!r}", ("kind",), suggest(str(kind), PROBE_KINDS))
    for key in ("description", "system", "prompt", "answer", "language"):
        if key in raw:
            _want(raw, key, (str,), "a string")
    if "language" in raw and not _SCRIPT.match(raw["language"]):
        raise SpecError("language must be a lowercase script name like 'latin'", ("language",))
    _check_sampling(raw, kind)
    _check_messages(raw)
    _check_tools(raw, suite_tools)
    if "response_format" in raw:
        _check_response_format(raw["response_format"])
    if "extra_body" in raw:
        _want(raw, "extra_body", (dict,), "a table")
    if "tags" in raw and not str_list(raw["tags"]):
        raise SpecError("tags must be an array of strings", ("tags",))
    if "params" in raw:
        params = _want(raw, "params", (dict,), "a table")
        for name, spec in params.items():
            if not isinstance(spec, str):
                raise SpecError(
                    f'parameter {name!r} must be a string like "int 1 9"', ("params", name)
                )
    if "template" in raw:
        _want(raw, "template", (bool,), "true or false")
    if "answer_tool_calls" in raw:
        calls = raw["answer_tool_calls"]
        if not isinstance(calls, list):
            raise SpecError("answer_tool_calls must be an array of {name, arguments}")
        for i, call in enumerate(calls):
            path: Path_ = ("answer_tool_calls", i)
            if not isinstance(call, dict):
                raise SpecError("each answer_tool_calls entry must be a table", path)
            for key in call:
                if key not in ("name", "arguments"):
                    raise _unknown(key, ("name", "arguments"), "answer_tool_calls", (*path, key))
            if not isinstance(call.get("name"), str):
                raise SpecError("answer_tool_calls entries need a string 'name'", path)
            if not isinstance(call.get("arguments", {}), dict):
                raise SpecError("answer_tool_calls arguments must be a table", (*path, "arguments"))
    if "checks" in raw:
        checks = raw["checks"]
        if not isinstance(checks, list):
            raise SpecError("checks must be an array of tables ([[probe.checks]])", ("checks",))
        for i, check in enumerate(checks):
            _check_check_raw(check, i)


def _check_sampling(raw: dict[str, Any], kind: str) -> None:
    if "temperature" in raw:
        t = _want(raw, "temperature", (int, float), "a number")
        if not 0 <= t <= 2:
            raise SpecError("temperature must be between 0 and 2", ("temperature",))
        if kind == "sampled" and t == 0:
            raise SpecError("a sampled probe needs temperature > 0", ("temperature",))
    if "max_tokens" in raw:
        n = _want(raw, "max_tokens", (int,), "an integer")
        if not 1 <= n <= 1_000_000:
            raise SpecError("max_tokens must be at least 1", ("max_tokens",))
    if "seed" in raw:
        _want(raw, "seed", (int,), "an integer")
    if "top_logprobs" in raw:
        n = _want(raw, "top_logprobs", (int,), "an integer")
        if not 0 <= n <= 20:
            raise SpecError("top_logprobs must be between 0 and 20", ("top_logprobs",))
    if kind == "logprob" and raw.get("top_logprobs", 5) < 1:
        raise SpecError("a logprob probe needs top_logprobs >= 1", ("top_logprobs",))
    if "n_samples" in raw:
        n = _want(raw, "n_samples", (int,), "an integer")
        if kind != "sampled" and n != 1:
            raise SpecError("n_samples is for kind = 'sampled'", ("n_samples",))
        if kind == "sampled" and not 2 <= n <= 200:
            raise SpecError("a sampled probe needs n_samples between 2 and 200", ("n_samples",))


def _check_messages(raw: dict[str, Any]) -> None:
    has_messages = "messages" in raw
    if has_messages and "prompt" in raw:
        raise SpecError("give either prompt or messages, not both", ("prompt",))
    if not has_messages and "prompt" not in raw:
        raise SpecError("missing 'prompt' or 'messages'", hint="prompt = '...' is the short form")
    if not has_messages:
        return
    messages = raw["messages"]
    if not isinstance(messages, list) or not messages:
        raise SpecError("messages must be a non-empty array of {role, content}", ("messages",))
    for i, msg in enumerate(messages):
        path: Path_ = ("messages", i)
        if not isinstance(msg, dict):
            raise SpecError("each message must be a table {role, content}", path)
        for key in msg:
            if key not in MESSAGE_KEYS:
                raise _unknown(key, MESSAGE_KEYS, "message", (*path, key))
        role = msg.get("role")
        if role not in MESSAGE_ROLES:
            raise SpecError(
                f"message role must be one of {', '.join(MESSAGE_ROLES)}, not {role!r}",
                (*path, "role"),
                suggest(str(role), MESSAGE_ROLES),
            )
        content = msg.get("content")
        if content is None and not (role == "assistant" and msg.get("tool_calls")):
            raise SpecError("message has no content", path)
        if content is not None and not isinstance(content, str | list):
            raise SpecError("message content must be a string or an array of parts", path)
        if role == "system" and "system" in raw:
            raise SpecError("give the system prompt once: `system` or a system message", path)
        if "tool_calls" in msg and not isinstance(msg["tool_calls"], list):
            raise SpecError("tool_calls must be an array", (*path, "tool_calls"))
        if role == "tool" and not isinstance(msg.get("tool_call_id"), str):
            raise SpecError("a tool message needs a tool_call_id", path)


def _check_function_tool(tool: Any, path: Path_) -> str:
    if not isinstance(tool, dict) or tool.get("type") != "function":
        raise SpecError('each tool must be {type = "function", function = {...}}', path)
    fn = tool.get("function")
    if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
        raise SpecError("a tool's function needs a string name", path)
    if not _TOOL_NAME.match(fn["name"]):
        raise SpecError(f"tool name {fn['name']!r} must match [A-Za-z0-9_-]{{1,64}}", path)
    if "parameters" in fn and not isinstance(fn["parameters"], dict):
        raise SpecError("a tool's parameters must be a JSON Schema table", path)
    return fn["name"]


def _check_tools(raw: dict[str, Any], suite_tools: dict[str, dict[str, Any]]) -> None:
    kind = raw.get("kind", "chat")
    names: list[str] = []
    if "tools" in raw:
        tools = raw["tools"]
        if not isinstance(tools, list) or not tools:
            raise SpecError("tools must be a non-empty array", ("tools",))
        for i, tool in enumerate(tools):
            if isinstance(tool, str):
                if tool not in suite_tools:
                    raise SpecError(
                        f"no [tools.{tool}] table in this file",
                        ("tools",),
                        suggest(tool, suite_tools) or "define it or give the full tool",
                    )
                names.append(tool)
            else:
                names.append(_check_function_tool(tool, ("tools", i)))
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise SpecError(f"tool {sorted(dupes)[0]!r} is offered twice", ("tools",))
    elif kind == "tool_call":
        raise SpecError("a tool_call probe needs tools", ("kind",))
    if "tool_choice" in raw:
        choice = raw["tool_choice"]
        if not names:
            raise SpecError("tool_choice without tools", ("tool_choice",))
        if isinstance(choice, str):
            if choice not in TOOL_CHOICES:
                raise SpecError(
                    f"tool_choice must be one of {', '.join(TOOL_CHOICES)} or a function",
                    ("tool_choice",),
                    suggest(choice, TOOL_CHOICES),
                )
        elif isinstance(choice, dict):
            fn = choice.get("function")
            if (
                choice.get("type") != "function"
                or not isinstance(fn, dict)
                or not isinstance(fn.get("name"), str)
            ):
                raise SpecError(
                    'tool_choice must be {type = "function", function = {name = "..."}}',
                    ("tool_choice",),
                )
            if fn["name"] not in names:
                raise SpecError(
                    f"tool_choice names {fn['name']!r}, which is not offered",
                    ("tool_choice",),
                    suggest(fn["name"], names),
                )
        else:
            raise SpecError("tool_choice must be a string or a table", ("tool_choice",))
    for i, call in enumerate(raw.get("answer_tool_calls") or []):
        name = call.get("name") if isinstance(call, dict) else None
        if isinstance(name, str) and name not in names:
            raise SpecError(
                f"answer_tool_calls names {name!r}, which is not offered",
                ("answer_tool_calls", i),
                suggest(name, names),
            )


def _check_response_format(fmt: Any) -> None:
    path: Path_ = ("response_format",)
    if not isinstance(fmt, dict) or fmt.get("type") not in RESPONSE_FORMATS:
        raise SpecError(
            f"response_format needs type = one of {', '.join(RESPONSE_FORMATS)}",
            path,
            suggest(str(fmt.get("type")), RESPONSE_FORMATS) if isinstance(fmt, dict) else None,
        )
    for key in fmt:
        if key not in ("type", "json_schema"):
            raise _unknown(key, ("type", "json_schema"), "response_format", (*path, key))
    if fmt["type"] == "json_schema":
        js = fmt.get("json_schema")
        if not isinstance(js, dict):
            raise SpecError("json_schema response_format needs a json_schema table", path)
        allowed = ("name", "schema", "strict", "description")
        for key in js:
            if key not in allowed:
                raise _unknown(key, allowed, "response_format.json_schema", (*path, key))
        if not isinstance(js.get("name"), str) or not isinstance(js.get("schema"), dict):
            raise SpecError("response_format.json_schema needs a name and a schema table", path)
    elif "json_schema" in fmt:
        raise SpecError("json_schema is only for type = 'json_schema'", path)


def _check_check_raw(check: Any, i: int) -> None:
    path: Path_ = ("checks", i)
    if not isinstance(check, dict):
        raise SpecError("each check must be a table with a type", path)
    ctype = check.get("type")
    if not isinstance(ctype, str) or ctype not in CHECK_PARAMS:
        raise SpecError(
            f"unknown check type {ctype!r}",
            (*path, "type"),
            suggest_or_list(str(ctype), CHECK_PARAMS),
        )
    required, allowed = CHECK_PARAMS[ctype]
    for key in check:
        if key != "type" and key not in allowed:
            raise SpecError(
                f"unknown parameter {key!r} for a {ctype} check",
                (*path, key),
                suggest(key, allowed) or (f"it takes {', '.join(allowed)}" if allowed else None),
            )
    for key in required:
        if key not in check:
            raise SpecError(f"a {ctype} check needs {key!r}", path)


# --------------------------------------------------------------------------------------------
# Rendered pass


def _numeric(value: Any) -> bool:
    if _is_number(value):
        return True
    if isinstance(value, str):
        try:
            return math.isfinite(float(value.replace(",", "")))
        except ValueError:
            return False
    return False


def tool_schemas(probe: Probe) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for tool in probe.tools or []:
        fn = tool.get("function") or {}
        out[str(fn.get("name"))] = fn.get("parameters") or {"type": "object"}
    return out


@functools.lru_cache(maxsize=512)
def _schema_problem(canonical: str) -> str | None:
    # Checking a schema against the 2020-12 metaschema costs ~10 ms; the same tool schemas
    # recur across probes and runs, so each distinct schema is checked once.
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    try:
        Draft202012Validator.check_schema(json.loads(canonical))
    except SchemaError as exc:
        return exc.message
    return None


def _schema_ok(schema: Any, path: Path_) -> None:
    if not isinstance(schema, dict):
        raise SpecError("a schema must be a table", path)
    problem = _schema_problem(json.dumps(schema, sort_keys=True))
    if problem is not None:
        raise SpecError(f"invalid JSON Schema: {problem}", path)


def _validate(instance: Any, schema: dict[str, Any]) -> str | None:
    from jsonschema import Draft202012Validator

    try:
        errors = list(Draft202012Validator(schema).iter_errors(instance))
    except Exception as exc:  # unresolvable $ref and friends: jsonschema has many error types
        return f"the schema cannot be applied ({type(exc).__name__}: {exc})"
    if not errors:
        return None
    where = "/".join(str(p) for p in errors[0].path) or "(top level)"
    return f"{where}: {errors[0].message}"


def check_rendered(probe: Probe) -> None:
    """Validate a rendered probe: check parameters as values, tool and schema consistency."""
    for i, msg in enumerate(probe.messages):
        if msg.get("content") is not None and not isinstance(msg["content"], str | list):
            raise SpecError("message content must render to text", ("messages", i))
    schemas = tool_schemas(probe)
    for name, schema in schemas.items():
        _schema_ok(schema, ("tools",))
        if schema.get("type", "object") != "object":
            raise SpecError(f"tool {name!r}: parameters must be an object schema", ("tools",))
    if probe.response_format and probe.response_format.get("type") == "json_schema":
        _schema_ok(probe.response_format["json_schema"]["schema"], ("response_format",))
    for i, call in enumerate(probe.answer_tool_calls or []):
        problem = _validate(call.arguments, schemas.get(call.name, {}))
        if problem:
            raise SpecError(
                f"answer_tool_calls[{i}] ({call.name}) does not fit the tool's schema: {problem}",
                ("answer_tool_calls", i),
            )
    for i, check in enumerate(probe.checks):
        _check_check_rendered(probe, check.type, check.spec, ("checks", i), schemas)


def _check_check_rendered(
    probe: Probe, ctype: str, spec: dict[str, Any], path: Path_, schemas: dict[str, Any]
) -> None:
    def bool_param(key: str) -> None:
        if key in spec and not isinstance(spec[key], bool):
            raise SpecError(f"{ctype} check: {key} must be true or false", (*path, key))

    def nonneg(key: str) -> None:
        if key in spec and (not _is_number(spec[key]) or spec[key] < 0):
            raise SpecError(f"{ctype} check: {key} must be a number >= 0", (*path, key))

    if ctype == "exact":
        if not isinstance(spec["value"], str):
            raise SpecError("exact check: value must be a string", (*path, "value"))
        bool_param("ignore_case")
        bool_param("strip")
    elif ctype in ("contains", "not_contains"):
        value = spec["value"]
        if not (isinstance(value, str) or (str_list(value) and value)):
            raise SpecError(f"{ctype} check: value must be a string or strings", (*path, "value"))
        if value == "" or (isinstance(value, list) and "" in value):
            raise SpecError(f"{ctype} check: an empty string matches everything", (*path, "value"))
        bool_param("ignore_case")
    elif ctype == "regex":
        flags = spec.get("flags", "")
        if not isinstance(flags, str) or set(flags) - set("ims"):
            raise SpecError("regex check: flags is a string of i, m, s", (*path, "flags"))
        if not isinstance(spec["pattern"], str):
            raise SpecError("regex check: pattern must be a string", (*path, "pattern"))
        try:
            re.compile(spec["pattern"])
        except re.error as exc:
            raise SpecError(f"regex check: bad pattern: {exc}", (*path, "pattern")) from None
        bool_param("fullmatch")
    elif ctype == "number":
        if not _numeric(spec["value"]):
            raise SpecError(
                f"number check: value {spec['value']!r} is not a number", (*path, "value")
            )
        nonneg("tolerance")
        nonneg("rel_tolerance")
        if spec.get("position", "last") not in NUMBER_POSITIONS:
            raise SpecError(
                f"number check: position is one of {', '.join(NUMBER_POSITIONS)}",
                (*path, "position"),
            )
    elif ctype == "choice":
        options = spec["options"]
        if not str_list(options) or len(options) < 2:
            raise SpecError("choice check: options must be two or more strings", (*path, "options"))
        if spec["value"] not in options:
            raise SpecError(
                f"choice check: value {spec['value']!r} is not one of the options",
                (*path, "value"),
            )
    elif ctype == "json":
        bool_param("allow_fences")
    elif ctype == "json_schema":
        _schema_ok(spec.get("schema"), (*path, "schema"))
    elif ctype == "tool_call":
        if not probe.tools:
            raise SpecError("a tool_call check needs tools on the probe", path)
        name = spec.get("name")
        if name is not None and not isinstance(name, str):
            raise SpecError("tool_call check: name must be a string", (*path, "name"))
        if name is not None and name not in schemas:
            raise SpecError(
                f"tool_call check names {name!r}, which is not offered",
                (*path, "name"),
                suggest(str(name), schemas),
            )
        if "arguments" in spec and not isinstance(spec["arguments"], dict):
            raise SpecError("tool_call check: arguments must be a table", (*path, "arguments"))
        if "schema" in spec:
            _schema_ok(spec["schema"], (*path, "schema"))
    elif ctype == "script":
        expected = spec.get("expected", "latin")
        if not isinstance(expected, str) or not _SCRIPT.match(expected):
            raise SpecError("script check: expected is a script name", (*path, "expected"))
        ratio = spec.get("max_foreign_ratio", 0.0)
        if not _is_number(ratio) or not 0 <= ratio <= 1:
            raise SpecError(
                "script check: max_foreign_ratio is between 0 and 1", (*path, "max_foreign_ratio")
            )
