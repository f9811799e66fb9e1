"""Every shipped probe loads, renders for several seeds, and its own answer passes its checks.

`oracle` below is a deliberately small test oracle for the check types (not the scoring core's
implementation): it exists so a probe whose `answer` contradicts its checks is caught here,
where the probe is written, rather than as a mysteriously failing reference in a run.
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import jsonschema
import pytest

from vvtui.model import PROBE_KINDS, Check, Probe
from vvtui.suites import available_suites, load_suites, shipped_dir, validate_paths
from vvtui.suites import loader as loader_mod

SEEDS = (0, 1, 7, 2024, 99991)
SHIPPED = ("quick", "quant", "tools", "json", "logprob", "sampled", "leakage")


@pytest.fixture(autouse=True)
def _no_user_dir(monkeypatch, tmp_path):
    # The user's own probe folder must not leak into tests of the shipped suites.
    monkeypatch.setattr(loader_mod, "user_dir", lambda: tmp_path / "no-user-probes")


# --------------------------------------------------------------------------------------------
# Test oracle


_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+)?")


def _numbers(text: str) -> list[float]:
    return [float(m.replace(",", "")) for m in _NUMBER.findall(text)]


def _letter_script(ch: str) -> str:
    name = unicodedata.name(ch, "")
    if name.startswith("LATIN"):
        return "latin"
    if name.startswith("CYRILLIC"):
        return "cyrillic"
    if name.startswith(("CJK", "HIRAGANA", "KATAKANA")):
        return "cjk"
    return name.split(" ")[0].lower()


def oracle(probe: Probe, check: Check) -> bool:
    spec = check.spec
    text = probe.answer or ""
    calls = probe.answer_tool_calls or []
    if check.type == "exact":
        a, b = text, spec["value"]
        if spec.get("strip", True):
            a, b = a.strip(), b.strip()
        if spec.get("ignore_case"):
            a, b = a.lower(), b.lower()
        return a == b
    if check.type in ("contains", "not_contains"):
        values = [spec["value"]] if isinstance(spec["value"], str) else spec["value"]
        hay = text.lower() if spec.get("ignore_case") else text
        found = [(v.lower() if spec.get("ignore_case") else v) in hay for v in values]
        return all(found) if check.type == "contains" else not any(found)
    if check.type == "regex":
        flags = 0
        for f in spec.get("flags", ""):
            flags |= {"i": re.I, "m": re.M, "s": re.S}[f]
        fn = re.fullmatch if spec.get("fullmatch") else re.search
        return fn(spec["pattern"], text, flags) is not None
    if check.type == "number":
        want = float(str(spec["value"]).replace(",", ""))
        tol = max(spec.get("tolerance", 0), spec.get("rel_tolerance", 0) * abs(want))
        got = _numbers(text)
        position = spec.get("position", "last")
        if not got or (position == "only" and len(got) != 1):
            return False
        pool = got if position == "any" else got[-1:]
        return any(abs(g - want) <= tol for g in pool)
    if check.type == "choice":
        named = [o for o in spec["options"] if re.search(rf"\b{re.escape(o)}\b", text, re.I)]
        return named == [spec["value"]]
    if check.type in ("json", "json_schema"):
        body = text.strip()
        if spec.get("allow_fences"):
            body = re.sub(r"^```\w*\n|\n?```$", "", body)
        try:
            data = json.loads(body)
        except json.JSONDecodeError:
            return False
        if check.type == "json_schema":
            return jsonschema.Draft202012Validator(spec["schema"]).is_valid(data)
        return True
    if check.type == "tool_call":
        tools = {t["function"]["name"]: t["function"].get("parameters", {}) for t in probe.tools}
        for call in calls:
            if call.name not in tools or spec.get("name", call.name) != call.name:
                continue
            schema = spec.get("schema", tools[call.name])
            if not jsonschema.Draft202012Validator(schema).is_valid(call.arguments):
                continue
            if all(call.arguments.get(k) == v for k, v in spec.get("arguments", {}).items()):
                return True
        return False
    if check.type == "no_tool_call":
        return not calls
    if check.type == "script":
        letters = [c for c in text if c.isalpha()]
        expected = spec.get("expected", "latin")
        foreign = [c for c in letters if _letter_script(c) != expected]
        ratio = len(foreign) / len(letters) if letters else 0.0
        return ratio <= spec.get("max_foreign_ratio", 0.0)
    raise AssertionError(f"oracle does not know check type {check.type!r}")


# --------------------------------------------------------------------------------------------
# The suites


def test_shipped_suites_are_available():
    suites = available_suites()
    assert set(SHIPPED) <= set(suites)
    assert all(path.parent == shipped_dir() for path in suites.values())


def test_shipped_files_pass_strict_validation():
    assert validate_paths([shipped_dir()], strict=True) == []


@pytest.mark.parametrize("seed", SEEDS)
def test_every_probe_renders_and_its_answer_passes_its_checks(seed):
    probes = load_suites(["all"], seed)
    assert len(probes) >= 60
    failures = []
    for probe in probes:
        assert probe.source and re.search(r"\.toml:\d+$", probe.source), probe.id
        assert probe.description.strip(), probe.id
        assert "{{" not in json.dumps(probe.messages), probe.id
        if probe.answer is None and not probe.answer_tool_calls:
            assert probe.kind == "sampled", f"{probe.id}: deterministic probe without an answer"
            continue
        for check in probe.checks:
            if not oracle(probe, check):
                failures.append(f"{probe.id} [seed {seed}]: {check.to_dict()} vs {probe.answer!r}")
    assert failures == []


def test_suites_cover_every_kind_and_stay_small():
    probes = load_suites(["all"], 0)
    ids = [p.id for p in probes]
    assert len(ids) == len(set(ids))
    assert {p.kind for p in probes} == set(PROBE_KINDS)
    long = [p for p in probes if p.max_tokens is not None and p.max_tokens > 128]
    assert 2 <= len(long) <= 4, "a few long answers, so a capped max_tokens shows"
    for probe in probes:
        assert probe.max_tokens is not None, probe.id
        assert probe.max_tokens <= (1024 if probe in long else 128), probe.id
        if probe.kind == "logprob":
            assert 5 <= probe.top_logprobs <= 20, probe.id
        if probe.kind == "sampled":
            assert probe.temperature == 1.0 and probe.n_samples >= 10, probe.id
        else:
            assert probe.deterministic, probe.id
        if probe.kind == "tool_call":
            assert probe.tools and probe.checks, probe.id
    short = [p for p in probes if p.max_tokens <= 64]
    assert len(short) >= 0.9 * len(probes)


def test_each_suite_has_what_its_brief_promises():
    def kinds(suite):
        return {p.kind for p in load_suites([suite], 0)}

    quick = load_suites(["quick"], 0)
    assert len(quick) <= 12
    assert {p.kind for p in quick} == set(PROBE_KINDS)
    assert kinds("tools") == {"tool_call"}
    assert kinds("json") == {"json"}
    assert kinds("logprob") == {"logprob"}
    assert kinds("sampled") == {"sampled"}
    tools = load_suites(["tools"], 0)
    check_types = {c.type for p in tools for c in p.checks}
    assert {"tool_call", "no_tool_call"} <= check_types
    assert any(len(p.answer_tool_calls or []) == 2 for p in tools), "a parallel-call probe"
    named = {p.tool_choice for p in tools if isinstance(p.tool_choice, str)}
    assert {"auto", "none", "required"} <= named
    assert any(isinstance(p.tool_choice, dict) for p in tools), "a forced tool_choice"
    formats = {p.response_format["type"] for p in load_suites(["json"], 0)}
    assert formats == {"json_object", "json_schema"}
    leakage = load_suites(["leakage"], 0)
    assert all(any(c.type == "script" for c in p.checks) for p in leakage)
    quant = load_suites(["quant"], 0)
    assert sum(1 for p in quant if p.params) >= 12, "most quant probes are templated"
    assert any(len(p.messages[-1]["content"]) > 8000 for p in quant), "a long-context probe"


@pytest.mark.parametrize("seed", SEEDS)
def test_long_answers_are_long_and_leave_headroom(seed):
    """The long-answer probes exist so a host that lowers max_tokens cuts them: the reference's
    answer must be several hundred tokens, and well inside max_tokens so a faithful endpoint
    that runs a little longer is not cut by the probe's own limit."""
    from vvtui.scoring.tokenize import default_encoding_name, tiktoken_tokens

    encoding = default_encoding_name(None)
    long = [p for p in load_suites(["all"], seed) if (p.max_tokens or 0) > 128]
    assert long
    for probe in long:
        n = len(tiktoken_tokens(probe.answer or "", encoding).tokens)
        assert 250 <= n <= 0.6 * (probe.max_tokens or 0), (probe.id, n)
    quick = {p.id for p in load_suites(["quick"], seed)}
    assert quick & {p.id for p in long}, "quick carries a long answer too"


def test_quick_borrows_probes_identically():
    quick = {p.id: p for p in load_suites(["quick"], 5)}
    quant = {p.id: p for p in load_suites(["quant"], 5)}
    both = load_suites(["quick", "quant"], 5)
    assert len(both) == len({p.id for p in both})  # borrowed probes are not run twice
    for pid in set(quick) & set(quant):
        assert quick[pid].to_dict() == quant[pid].to_dict()


def test_templated_probes_change_with_the_seed():
    a = {p.id: p for p in load_suites(["quant"], 1)}
    b = {p.id: p for p in load_suites(["quant"], 2)}
    templated = [pid for pid, p in a.items() if p.params]
    changed = [pid for pid in templated if a[pid].messages != b[pid].messages]
    assert len(changed) >= len(templated) - 1  # a small range may repeat by chance


def test_shipped_files_are_where_the_wheel_expects_them():
    root = Path(__file__).resolve().parent.parent
    assert (root / "probes").is_dir()
    assert sorted(p.stem for p in (root / "probes").glob("*.toml")) == sorted(SHIPPED)
    assert (root / "probes" / "README.md").is_file()


def test_the_oracle_rejects_wrong_answers():
    # The consistency test above is only worth something if a wrong answer fails it.
    text_checks = {"exact", "contains", "regex", "number", "json", "json_schema", "choice"}
    for probe in load_suites(["all"], 3):
        if probe.kind == "sampled":
            continue  # format-only checks a wrong answer may well pass
        if probe.answer is not None and any(c.type in text_checks for c in probe.checks):
            probe.answer = "I do not know."
            assert not all(oracle(probe, c) for c in probe.checks), probe.id
        if probe.answer_tool_calls and any(c.type == "tool_call" for c in probe.checks):
            probe.answer_tool_calls = []
            assert not all(oracle(probe, c) for c in probe.checks), probe.id
