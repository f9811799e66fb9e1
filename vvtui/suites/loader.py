"""Finding, reading, rendering and validating probe suites.

A suite is one TOML file. Reading a file validates every probe as written and keeps it as a
`ProbeTemplate`; rendering draws the templates for a run seed and validates the result. Errors
are `ProbeError`s whose one-line message starts with `file:line: probe 'id':`.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vvtui.errors import ProbeError, located, suggest
from vvtui.model import Check, ExpectedToolCall, Probe
from vvtui.suites import spec as S
from vvtui.suites.template import Renderer, TemplateError, draw_params, format_value, probe_rng
from vvtui.toml_reader import Locator, parse_toml

ALL = "all"
# Seeds `validate_paths` renders every probe with: templates that only break for some draws
# (an int range that can reach a division by zero...) are likely caught.
VALIDATION_SEEDS = (0, 1, 2, 3)


@dataclass(slots=True)
class ProbeTemplate:
    """One probe as written, already checked structurally, waiting for a seed."""

    raw: dict[str, Any]
    suite: str
    path: Path
    index: int  # position among the file's [[probe]] tables
    line: int | None
    locator: Locator
    suite_tools: dict[str, dict[str, Any]]
    suite_tags: list[str]

    @property
    def id(self) -> str:
        return str(self.raw["id"])

    @property
    def source(self) -> str:
        return f"{self.path}:{self.line}" if self.line else str(self.path)

    def error(self, exc: S.SpecError) -> ProbeError:
        line = self.locator.find("probe", self.index, exc.path) if exc.path else self.line
        return ProbeError(
            located(self.path, line or self.line, f"probe {self.id!r}: {exc.message}"),
            hint=exc.hint,
        )


@dataclass(slots=True)
class SuiteFile:
    name: str
    path: Path
    description: str = ""
    probes: list[ProbeTemplate] = field(default_factory=list)
    # (suite, probe id, line) borrowed from other suites
    include: list[tuple[str, str, int | None]] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# Where suites live


def shipped_dir() -> Path:
    from vvtui.resources import data_dir

    return data_dir("probes")


def user_dir() -> Path:
    from platformdirs import user_config_path

    return user_config_path("vvtui", appauthor=False) / "probes"


def available_suites(extra_dirs: Sequence[Path] = ()) -> dict[str, Path]:
    """Suite name (file stem) -> file. Later folders win: shipped, then the user's, then extra."""
    found: dict[str, Path] = {}
    for folder in (shipped_dir(), user_dir(), *map(Path, extra_dirs)):
        if folder.is_dir():
            for path in sorted(folder.glob("*.toml")):
                found[path.stem] = path
    return dict(sorted(found.items()))


# --------------------------------------------------------------------------------------------
# Reading one file


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProbeError(f"{path}: no such probe file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProbeError(f"{path}: cannot read probe file: {exc}") from None


def parse_suite(text: str, path: Path, problems: list[ProbeError] | None = None) -> SuiteFile:
    """Parse and check a suite file. With `problems`, bad probes are reported there and left
    out (so every problem of a file is found in one go); without, the first one raises."""
    data = parse_toml(text, path, ProbeError)
    loc = Locator(text)

    def fail(line: int | None, message: str, hint: str | None = None) -> ProbeError:
        return ProbeError(located(path, line, message), hint=hint)

    for key in data:
        if key not in S.TOP_KEYS:
            raise fail(
                loc.find(key, None, ()) or _first_key_line(loc, key),
                f"unknown top-level key {key!r}",
                suggest(key, S.TOP_KEYS) or "a suite file holds [suite], [tools.NAME], [[probe]]",
            )
    meta = data.get("suite", {})
    if not isinstance(meta, dict):
        raise fail(_first_key_line(loc, "suite"), "suite must be a table: [suite]")
    for key in meta:
        if key not in S.SUITE_KEYS:
            raise fail(
                loc.find("suite", None, (key,)),
                f"unknown key {key!r} in [suite]",
                suggest(key, S.SUITE_KEYS),
            )
    for key in ("name", "description"):
        if key in meta and not isinstance(meta[key], str):
            raise fail(loc.find("suite", None, (key,)), f"suite {key} must be a string")
    for key in ("tags", "include"):
        if key in meta and not S.str_list(meta[key]):
            raise fail(loc.find("suite", None, (key,)), f"suite {key} must be an array of strings")
    name = meta.get("name") or path.stem
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*\Z", name):
        raise fail(loc.find("suite", None, ("name",)), f"suite name {name!r} is not a plain name")
    suite = SuiteFile(name=name, path=path, description=meta.get("description", ""))
    for item in meta.get("include", []):
        sname, sep, pid = item.partition(":")
        if not sep or not sname or not pid:
            raise fail(
                loc.find("suite", None, ("include",)),
                f"include entry {item!r} must be 'suite:probe-id'",
            )
        suite.include.append((sname, pid, loc.find("suite", None, ("include",))))

    tools = _suite_tools(data.get("tools", {}), path, loc)
    raw_probes = data.get("probe", [])
    if not isinstance(raw_probes, list):
        raise fail(_first_key_line(loc, "probe"), "probes are [[probe]] tables (an array)")
    lines = loc.probe_lines()
    if len(lines) != len(raw_probes):
        lines = []  # written some other way (inline array): fall back to the file
    seen: dict[str, ProbeTemplate] = {}
    for index, raw in enumerate(raw_probes):
        line = lines[index] if lines else None
        template = ProbeTemplate(
            raw=raw if isinstance(raw, dict) else {},
            suite=name,
            path=path,
            index=index,
            line=line,
            locator=loc,
            suite_tools=tools,
            suite_tags=list(meta.get("tags", [])),
        )
        try:
            S.check_raw(raw, tools)
        except S.SpecError as exc:
            pid = S.probe_id_of(raw)
            if pid is None:
                err = fail(line, f"probe #{index + 1}: {exc.message}", exc.hint)
            else:
                err = template.error(exc)
            if problems is None:
                raise err from None
            problems.append(err)
            continue
        if template.id in seen:
            err = fail(
                line,
                f"probe {template.id!r}: duplicate id",
                f"first defined at {seen[template.id].source}",
            )
            if problems is None:
                raise err
            problems.append(err)
            continue
        seen[template.id] = template
        suite.probes.append(template)
    return suite


def _first_key_line(loc: Locator, key: str) -> int | None:
    pattern = re.compile(rf"^\s*\[*\s*{re.escape(key)}\b")
    for i, line in enumerate(loc.lines):
        if pattern.match(line):
            return i + 1
    return None


def _suite_tools(raw: Any, path: Path, loc: Locator) -> dict[str, dict[str, Any]]:
    if not isinstance(raw, dict):
        raise ProbeError(located(path, _first_key_line(loc, "tools"), "tools must be [tools.NAME]"))
    tools: dict[str, dict[str, Any]] = {}
    for name, body in raw.items():
        where = loc.table_line(f"tools.{name}") or _first_key_line(loc, "tools")
        if not isinstance(body, dict):
            raise ProbeError(located(path, where, f"[tools.{name}] must be a table"))
        for key in body:
            if key not in S.SUITE_TOOL_KEYS:
                raise ProbeError(
                    located(path, where, f"unknown key {key!r} in [tools.{name}]"),
                    hint=suggest(key, S.SUITE_TOOL_KEYS),
                )
        if not re.match(r"^[A-Za-z0-9_\-]{1,64}\Z", name):
            raise ProbeError(located(path, where, f"tool name {name!r} must match [A-Za-z0-9_-]"))
        if "parameters" in body and not isinstance(body["parameters"], dict):
            raise ProbeError(located(path, where, f"[tools.{name}] parameters must be a table"))
        if "description" in body and not isinstance(body["description"], str):
            raise ProbeError(located(path, where, f"[tools.{name}] description must be a string"))
        function: dict[str, Any] = {"name": name}
        for key in S.SUITE_TOOL_KEYS:
            if key in body:
                function[key] = body[key]
        tools[name] = {"type": "function", "function": function}
    return tools


def read_suite(path: Path) -> SuiteFile:
    return parse_suite(read_text(path), path)


# --------------------------------------------------------------------------------------------
# Rendering


def _as_text(value: Any) -> Any:
    if isinstance(value, list):
        return [_as_text(v) for v in value]
    return value if isinstance(value, str) else format_value(value)


# Check parameters that are text whatever the placeholder drew (a whole `{{a + b}}` keeps its
# number type elsewhere, e.g. in tool arguments and JSON Schema consts).
_TEXT_PARAMS = {
    "exact": ("value",),
    "contains": ("value",),
    "not_contains": ("value",),
    "regex": ("pattern",),
    "choice": ("options", "value"),
}


def check_probe_table(raw: dict[str, Any], suite: str, path: Path, seed: int = 0) -> Probe:
    """Check and render one probe table outside any file (for generated probes, e.g. imports).
    Raises SpecError."""
    S.check_raw(raw, {})
    t = ProbeTemplate(raw, suite, path, 0, None, Locator(""), {}, [])
    probe = _render(t, seed)
    S.check_rendered(probe)
    return probe


def render(template: ProbeTemplate, seed: int) -> Probe:
    """Draw the probe's templates for `seed` and return the validated, ready-to-send Probe."""
    try:
        probe = _render(template, seed)
        S.check_rendered(probe)
    except S.SpecError as exc:
        raise template.error(exc) from None
    return probe


def _render(t: ProbeTemplate, seed: int) -> Probe:
    raw = t.raw
    kind = raw.get("kind", "chat")
    templating = raw.get("template", True)
    rng = probe_rng(seed, t.suite, t.id)
    if not templating and raw.get("params"):
        raise S.SpecError("params need templating (remove template = false)", ("params",))
    try:
        params = draw_params(raw.get("params", {}), rng) if templating else {}
    except TemplateError as exc:
        raise S.SpecError(str(exc), ("params",)) from None
    renderer = Renderer(rng, params)

    def rendered(key: str, value: Any, path: S.Path_ | None = None) -> Any:
        if not templating:
            return copy.deepcopy(value)
        try:
            return renderer.value(copy.deepcopy(value))
        except TemplateError as exc:
            raise S.SpecError(str(exc), path or (key,)) from None

    messages: list[dict[str, Any]] = []
    if "system" in raw:
        messages.append({"role": "system", "content": _as_text(rendered("system", raw["system"]))})
    if "prompt" in raw:
        messages.append({"role": "user", "content": _as_text(rendered("prompt", raw["prompt"]))})
    for i, msg in enumerate(raw.get("messages", [])):
        out = rendered("messages", msg, ("messages", i))
        if isinstance(out.get("content"), int | float):
            out["content"] = format_value(out["content"])
        messages.append(out)

    tools = None
    if "tools" in raw:
        full = [t.suite_tools[x] if isinstance(x, str) else x for x in raw["tools"]]
        tools = rendered("tools", full)
    tool_choice = rendered("tool_choice", raw["tool_choice"]) if "tool_choice" in raw else None
    response_format = (
        rendered("response_format", raw["response_format"]) if "response_format" in raw else None
    )
    extra_body = rendered("extra_body", raw.get("extra_body", {}))
    answer = raw.get("answer")
    if answer is not None:
        answer = _as_text(rendered("answer", answer))
    calls = None
    if "answer_tool_calls" in raw:
        calls = []
        for i, call in enumerate(raw["answer_tool_calls"]):
            path = ("answer_tool_calls", i)
            args = rendered("answer_tool_calls", call.get("arguments", {}), path)
            calls.append(ExpectedToolCall(name=call["name"], arguments=args))
    checks: list[Check] = []
    for i, raw_check in enumerate(raw.get("checks", [])):
        spec = rendered("checks", raw_check, ("checks", i))
        ctype = spec.pop("type")
        for key in _TEXT_PARAMS.get(ctype, ()):
            if key in spec:
                spec[key] = _as_text(spec[key])
        if ctype == "json_schema" and "schema" not in spec:
            if not response_format or response_format.get("type") != "json_schema":
                raise S.SpecError(
                    "json_schema check without a schema needs a json_schema response_format",
                    ("checks", i),
                )
            spec["schema"] = copy.deepcopy(response_format["json_schema"]["schema"])
        checks.append(Check(type=ctype, spec=spec))

    tags = list(dict.fromkeys([*t.suite_tags, *raw.get("tags", [])]))
    sampled = kind == "sampled"
    return Probe(
        id=t.id,
        kind=kind,
        messages=messages,
        suite=t.suite,
        temperature=float(raw.get("temperature", 1.0 if sampled else 0.0)),
        max_tokens=raw.get("max_tokens"),
        seed=raw.get("seed"),
        top_logprobs=int(raw.get("top_logprobs", 5 if kind == "logprob" else 0)),
        n_samples=int(raw.get("n_samples", 10 if sampled else 1)),
        tools=tools,
        tool_choice=tool_choice,
        response_format=response_format,
        extra_body=extra_body,
        checks=checks,
        tags=tags,
        answer=answer,
        answer_tool_calls=calls,
        language=raw.get("language", "latin"),
        description=raw.get("description", ""),
        params=params,
        source=t.source,
    )


# --------------------------------------------------------------------------------------------
# Loading suites for a run


def _looks_like_path(spec: str) -> bool:
    return spec.endswith(".toml") or os.sep in spec or "/" in spec or spec.startswith(".")


def _expand(spec: str, available: dict[str, Path]) -> list[Path]:
    if spec == ALL:
        return list(available.values())
    if spec in available and not _looks_like_path(spec):
        return [available[spec]]  # a suite name wins over a same-named folder in the cwd
    path = Path(spec).expanduser()
    if path.is_dir():
        files = sorted(path.glob("*.toml"))
        if not files:
            raise ProbeError(f"{path}: no .toml probe files in this folder")
        return files
    if path.is_file():
        return [path]
    if _looks_like_path(spec):
        raise ProbeError(f"{spec}: no such probe file or folder")
    names = ", ".join([*available, ALL])
    raise ProbeError(
        f"unknown suite {spec!r} (available: {names})",
        hint=suggest(spec, [*available, ALL]) or "or give a .toml file or a folder of them",
    )


class _Files:
    """Parsed suite files of one load, each read once; includes resolved against siblings
    first, then the available suites."""

    def __init__(self, available: dict[str, Path]) -> None:
        self.available = available
        self.parsed: dict[Path, SuiteFile] = {}

    def get(self, path: Path, problems: list[ProbeError] | None = None) -> SuiteFile:
        key = path.resolve()
        if key not in self.parsed:
            self.parsed[key] = parse_suite(read_text(path), path, problems)
        return self.parsed[key]

    def included(self, suite: SuiteFile) -> list[ProbeTemplate]:
        out = []
        for sname, pid, line in suite.include:
            sibling = suite.path.parent / f"{sname}.toml"
            target = sibling if sibling.is_file() else self.available.get(sname)
            if target is None:
                raise ProbeError(
                    located(suite.path, line, f"include {sname}:{pid}: no suite {sname!r}"),
                    hint=suggest(sname, self.available),
                )
            other = self.get(target)
            if other.include:
                raise ProbeError(
                    located(
                        suite.path,
                        line,
                        f"include {sname}:{pid}: suite {sname!r} includes others itself",
                    ),
                    hint="include only from suites that define their own probes",
                )
            by_id = {p.id: p for p in other.probes}
            if pid not in by_id:
                raise ProbeError(
                    located(suite.path, line, f"include {sname}:{pid}: no probe {pid!r}"),
                    hint=suggest(pid, by_id),
                )
            out.append(by_id[pid])
        return out


def _collect(specs: Iterable[str], files: _Files) -> list[ProbeTemplate]:
    paths: list[Path] = []
    for spec in specs:
        for path in _expand(spec, files.available):
            if path.resolve() not in {p.resolve() for p in paths}:
                paths.append(path)
    templates: list[ProbeTemplate] = []
    seen: dict[str, ProbeTemplate] = {}
    for path in paths:
        suite = files.get(path)
        for t in [*files.included(suite), *suite.probes]:
            first = seen.get(t.id)
            if first is not None:
                if first is t:
                    continue  # the same probe reached twice (a suite and one that includes it)
                raise ProbeError(
                    located(t.path, t.line, f"probe {t.id!r}: duplicate id"),
                    hint=f"also defined at {first.source}; ids must be unique across a run",
                )
            seen[t.id] = t
            templates.append(t)
    return templates


def load_templates(specs: Sequence[str], extra_dirs: Sequence[Path] = ()) -> list[ProbeTemplate]:
    if isinstance(specs, str):
        specs = [specs]
    return _collect(specs, _Files(available_suites(extra_dirs)))


def load_suites(specs: Sequence[str], seed: int, extra_dirs: Sequence[Path] = ()) -> list[Probe]:
    """Render the probes of `specs` (suite names, .toml files, folders, or "all") for `seed`."""
    return [render(t, seed) for t in load_templates(specs, extra_dirs)]


# --------------------------------------------------------------------------------------------
# Validation for `vvtui probes validate`


def strict_problems(probe: Probe) -> list[str]:
    """The extra rules shipped suites follow: a description, a max_tokens, and an answer for
    every deterministic probe (the simulated reference follows it)."""
    out = []
    if not probe.description.strip():
        out.append("has no description (say what it detects)")
    if probe.max_tokens is None:
        out.append("has no max_tokens")
    if probe.deterministic and probe.answer is None and not probe.answer_tool_calls:
        out.append("is deterministic but has no answer (or answer_tool_calls)")
    return out


def validate_paths(paths: Sequence[str | Path], *, strict: bool = False) -> list[str]:
    """Every problem in the probe files under `paths` (files or folders), one line each."""
    return validate_report(paths, strict=strict)[0]


def validate_report(
    paths: Sequence[str | Path], *, strict: bool = False, seeds: Sequence[int] = VALIDATION_SEEDS
) -> tuple[list[str], int]:
    """`validate_paths` plus the number of probes read."""
    problems: list[str] = []
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(p.glob("*.toml"))
            if not found:
                problems.append(f"{p}: no .toml probe files in this folder")
            files.extend(found)
        elif p.is_file():
            files.append(p)
        else:
            problems.append(f"{p}: no such probe file or folder")
    extra = sorted({f.parent for f in files})
    loader = _Files(available_suites(extra))
    seen: dict[str, ProbeTemplate] = {}
    count = 0
    for path in files:
        errors: list[ProbeError] = []
        try:
            suite = loader.get(path, errors)
        except ProbeError as exc:
            problems.append(str(exc))
            continue
        problems.extend(str(e) for e in errors)
        try:
            loader.included(suite)
        except ProbeError as exc:
            problems.append(str(exc))
        for t in suite.probes:
            count += 1
            first = seen.get(t.id)
            if first is not None:
                problems.append(
                    str(
                        ProbeError(
                            located(t.path, t.line, f"probe {t.id!r}: duplicate id"),
                            hint=f"also defined at {first.source}",
                        )
                    )
                )
            else:
                seen[t.id] = t
            for seed in seeds:
                try:
                    probe = render(t, seed)
                except ProbeError as exc:
                    problems.append(f"{exc} [seed {seed}]" if seed != seeds[0] else str(exc))
                    break
            else:
                if strict:
                    problems.extend(
                        located(t.path, t.line, f"probe {t.id!r} {p}")
                        for p in strict_problems(probe)
                    )
    return problems, count
