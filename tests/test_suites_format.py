"""The probe file format: what loads, and what each mistake says (file:line: probe 'id': ...)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from vvtui.errors import ProbeError
from vvtui.suites import available_suites, load_suites, validate_paths
from vvtui.suites import loader as loader_mod


@pytest.fixture(autouse=True)
def _no_user_dir(monkeypatch, tmp_path):
    monkeypatch.setattr(loader_mod, "user_dir", lambda: tmp_path / "no-user-probes")


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


GOOD = """
[suite]
name = "mine"
description = "test suite"

[tools.lookup]
description = "Look a thing up."
parameters = { type = "object", required = ["q"], properties = { q = { type = "string" } } }

[[probe]]
id = "p-chat"
description = "plain chat"
system = "Be brief."
prompt = "Say hi."
max_tokens = 8
answer = "hi"
checks = [{ type = "contains", value = "hi" }]

[[probe]]
id = "p-tool"
kind = "tool_call"
prompt = "Look up cats."
tools = ["lookup"]
answer_tool_calls = [{ name = "lookup", arguments = { q = "cats" } }]

[[probe.checks]]
type = "tool_call"
name = "lookup"

[[probe]]
id = "p-sampled"
kind = "sampled"
prompt = "Pick a fruit."

[[probe]]
id = "p-logprob"
kind = "logprob"
prompt = "Capital of France?"
answer = "Paris"
"""


def error_of(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, "bad.toml", text)
    with pytest.raises(ProbeError) as info:
        load_suites([str(path)], 0)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_good_file_loads_with_defaults_and_sources(tmp_path):
    path = write(tmp_path, "mine.toml", GOOD)
    probes = {p.id: p for p in load_suites([str(path)], 0)}
    chat = probes["p-chat"]
    assert chat.suite == "mine"
    assert chat.messages == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Say hi."},
    ]
    assert chat.temperature == 0.0 and chat.n_samples == 1 and chat.top_logprobs == 0
    assert chat.source == f"{path}:9"
    tool = probes["p-tool"]
    assert tool.tools == [
        {
            "type": "function",
            "function": {
                "name": "lookup",
                "description": "Look a thing up.",
                "parameters": {
                    "type": "object",
                    "required": ["q"],
                    "properties": {"q": {"type": "string"}},
                },
            },
        }
    ]
    assert tool.checks[0].type == "tool_call" and tool.checks[0].spec == {"name": "lookup"}
    assert tool.source == f"{path}:18"
    sampled = probes["p-sampled"]
    assert sampled.temperature == 1.0 and sampled.n_samples == 10 and not sampled.deterministic
    assert probes["p-logprob"].top_logprobs == 5


def test_unknown_key_names_file_line_probe_and_suggestion(tmp_path):
    message = error_of(
        tmp_path,
        """
        [[probe]]
        id = "a"
        prompt = "x"

        [[probe]]
        id = "b"
        prompt = "y"
        max_token = 5
        """,
    )
    assert message.startswith(f"{tmp_path / 'bad.toml'}:8: probe 'b':")
    assert "unknown key 'max_token'" in message and "did you mean 'max_tokens'" in message


def test_bad_check_specs(tmp_path):
    unknown_type = error_of(
        tmp_path,
        """
        [[probe]]
        id = "a"
        prompt = "x"

        [[probe.checks]]
        type = "regexp"
        pattern = "x"
        """,
    )
    assert ":6: probe 'a': unknown check type 'regexp'" in unknown_type
    assert "did you mean 'regex'" in unknown_type
    missing = error_of(
        tmp_path,
        """
        [[probe]]
        id = "a"
        prompt = "x"
        checks = [{ type = "number" }]
        """,
    )
    assert ":4: probe 'a': a number check needs 'value'" in missing
    bad_param = error_of(
        tmp_path,
        """
        [[probe]]
        id = "a"
        prompt = "x"
        checks = [{ type = "contains", value = "x", ignorecase = true }]
        """,
    )
    assert "unknown parameter 'ignorecase'" in bad_param and "'ignore_case'" in bad_param
    bad_regex = error_of(
        tmp_path,
        """
        [[probe]]
        id = "a"
        prompt = "x"

        [[probe.checks]]
        type = "contains"
        value = "x"

        [[probe.checks]]
        type = "regex"
        pattern = "(unclosed"
        """,
    )
    assert ":11: probe 'a': regex check: bad pattern" in bad_regex
    not_a_number = error_of(
        tmp_path,
        """
        [[probe]]
        id = "a"
        prompt = "x"
        params = { w = "word" }
        checks = [{ type = "number", value = "{{w}}" }]
        """,
    )
    assert "number check: value" in not_a_number and "is not a number" in not_a_number
    bad_choice = error_of(
        tmp_path,
        """
        [[probe]]
        id = "a"
        prompt = "x"
        checks = [{ type = "choice", options = ["a", "b"], value = "c" }]
        """,
    )
    assert "'c' is not one of the options" in bad_choice


def test_tool_consistency_errors(tmp_path):
    no_tools = error_of(tmp_path, '[[probe]]\nid = "a"\nkind = "tool_call"\nprompt = "x"\n')
    assert "a tool_call probe needs tools" in no_tools
    unknown_ref = error_of(
        tmp_path,
        """
        [tools.lookup]
        parameters = { type = "object" }

        [[probe]]
        id = "a"
        kind = "tool_call"
        prompt = "x"
        tools = ["lookpu"]
        """,
    )
    assert ":8: probe 'a': no [tools.lookpu] table" in unknown_ref
    assert "did you mean 'lookup'" in unknown_ref
    bad_args = error_of(
        tmp_path,
        """
        [tools.lookup]
        parameters = { type = "object", required = ["q"], properties = { q = { type = "string" } } }

        [[probe]]
        id = "a"
        kind = "tool_call"
        prompt = "x"
        tools = ["lookup"]
        answer_tool_calls = [{ name = "lookup", arguments = { q = 3 } }]
        """,
    )
    assert "does not fit the tool's schema" in bad_args and "q: 3 is not of type" in bad_args
    unresolvable = error_of(
        tmp_path,
        """
        [tools.lookup]
        parameters = { type = "object", properties = { q = { "$ref" = "#/nowhere" } } }

        [[probe]]
        id = "a"
        kind = "tool_call"
        prompt = "x"
        tools = ["lookup"]
        answer_tool_calls = [{ name = "lookup", arguments = { q = 3 } }]
        """,
    )
    assert "the schema cannot be applied" in unresolvable
    forced = error_of(
        tmp_path,
        """
        [tools.lookup]
        parameters = { type = "object" }

        [[probe]]
        id = "a"
        kind = "tool_call"
        prompt = "x"
        tools = ["lookup"]
        tool_choice = { type = "function", function = { name = "search" } }
        """,
    )
    assert "tool_choice names 'search', which is not offered" in forced


def test_message_and_kind_errors(tmp_path):
    assert "missing 'prompt' or 'messages'" in error_of(tmp_path, '[[probe]]\nid = "a"\n')
    both = error_of(
        tmp_path,
        '[[probe]]\nid = "a"\nprompt = "x"\nmessages = [{ role = "user", content = "y" }]\n',
    )
    assert "either prompt or messages" in both
    role = error_of(tmp_path, '[[probe]]\nid = "a"\nmessages = [{ role = "usr", content = "y" }]\n')
    assert "message role must be one of" in role and "did you mean 'user'" in role
    kind = error_of(tmp_path, '[[probe]]\nid = "a"\nkind = "tool"\nprompt = "x"\n')
    assert "unknown kind 'tool'" in kind
    samples = error_of(tmp_path, '[[probe]]\nid = "a"\nprompt = "x"\nn_samples = 5\n')
    assert "n_samples is for kind = 'sampled'" in samples
    cold = error_of(
        tmp_path, '[[probe]]\nid = "a"\nkind = "sampled"\nprompt = "x"\ntemperature = 0\n'
    )
    assert "needs temperature > 0" in cold
    newline_id = error_of(tmp_path, '[[probe]]\nid = "p\\n"\nprompt = "x"\n')
    assert "must use letters, digits" in newline_id
    no_id = error_of(tmp_path, '[[probe]]\nprompt = "x"\n')
    assert ":1: probe #1: missing 'id'" in no_id


def test_toml_syntax_error_names_line(tmp_path):
    message = error_of(tmp_path, '[[probe]]\nid = "a"\nprompt = "x\n')
    assert message.startswith(f"{tmp_path / 'bad.toml'}:3: not valid TOML")


def test_unknown_top_level_and_suite_keys(tmp_path):
    assert "did you mean 'probe'" in error_of(tmp_path, '[[probes]]\nid = "a"\n')
    message = error_of(tmp_path, '[suite]\nnmae = "x"\n')
    assert ":2: unknown key 'nmae' in [suite]" in message and "did you mean 'name'" in message


def test_duplicate_ids_in_one_file_and_across_suites(tmp_path):
    same_file = error_of(
        tmp_path, '[[probe]]\nid = "a"\nprompt = "x"\n\n[[probe]]\nid = "a"\nprompt = "y"\n'
    )
    assert ":5: probe 'a': duplicate id" in same_file and "bad.toml:1" in same_file
    one = write(tmp_path, "one.toml", '[[probe]]\nid = "shared"\nprompt = "x"\n')
    two = write(tmp_path, "two.toml", '# comment\n[[probe]]\nid = "shared"\nprompt = "y"\n')
    with pytest.raises(ProbeError) as info:
        load_suites([str(one), str(two)], 0)
    message = str(info.value)
    assert f"{two}:2: probe 'shared': duplicate id" in message and f"{one}:1" in message
    problems = validate_paths([one, two])
    assert len(problems) == 1 and "duplicate id" in problems[0] and f"{one}:1" in problems[0]


def test_validate_paths_reports_every_problem_one_line_each(tmp_path):
    write(
        tmp_path,
        "a.toml",
        """
        [[probe]]
        id = "ok"
        prompt = "x"

        [[probe]]
        id = "bad-key"
        prompt = "x"
        colour = "red"

        [[probe]]
        id = "bad-template"
        prompt = "{{nope + 1}}"
        """,
    )
    write(tmp_path, "b.toml", "[[probe]\n")
    problems = validate_paths([tmp_path, tmp_path / "missing.toml"])
    assert len(problems) == 4, problems
    assert all("\n" not in p for p in problems)
    joined = "\n".join(problems)
    assert "a.toml:8: probe 'bad-key': unknown key 'colour'" in joined
    assert "a.toml:12: probe 'bad-template': unknown name 'nope'" in joined
    assert "b.toml:1: not valid TOML" in joined
    assert "missing.toml: no such probe file or folder" in joined


def test_strict_validation_requires_answers_and_descriptions(tmp_path):
    path = write(tmp_path, "s.toml", '[[probe]]\nid = "a"\nprompt = "x"\n')
    assert validate_paths([path]) == []
    problems = validate_paths([path], strict=True)
    assert any("no description" in p for p in problems)
    assert any("no answer" in p for p in problems)
    assert any("no max_tokens" in p for p in problems)


def test_specs_resolve_names_files_folders_and_all(tmp_path, monkeypatch):
    folder = tmp_path / "mine"
    folder.mkdir()
    write(folder, "alpha.toml", '[[probe]]\nid = "alpha-1"\nprompt = "x"\n')
    write(folder, "beta.toml", '[[probe]]\nid = "beta-1"\nprompt = "x"\n')
    assert [p.id for p in load_suites([str(folder)], 0)] == ["alpha-1", "beta-1"]
    assert [p.id for p in load_suites(["alpha"], 0, extra_dirs=[folder])] == ["alpha-1"]
    everything = load_suites(["all"], 0, extra_dirs=[folder])
    assert {"alpha-1", "beta-1", "quant-arith-chain"} <= {p.id for p in everything}
    with pytest.raises(ProbeError) as info:
        load_suites(["quant", "qick"], 0)
    message = str(info.value)
    assert "unknown suite 'qick'" in message and "did you mean 'quick'" in message
    assert "available: " in message and "leakage" in message
    with pytest.raises(ProbeError, match="no such probe file"):
        load_suites([str(tmp_path / "nope.toml")], 0)
    # A bare suite name means the suite even when the working directory has a same-named folder.
    (tmp_path / "alpha").mkdir()
    monkeypatch.chdir(tmp_path)
    assert [p.id for p in load_suites(["alpha"], 0, extra_dirs=[folder])] == ["alpha-1"]
    assert load_suites(["./mine"], 0)[0].id == "alpha-1"


def test_user_and_extra_folders_override_shipped(tmp_path, monkeypatch):
    user = tmp_path / "user"
    user.mkdir()
    write(user, "quick.toml", '[[probe]]\nid = "mine"\nprompt = "x"\n')
    monkeypatch.setattr(loader_mod, "user_dir", lambda: user)
    assert available_suites()["quick"] == user / "quick.toml"
    assert [p.id for p in load_suites(["quick"], 0)] == ["mine"]


def test_include_errors(tmp_path):
    write(tmp_path, "base.toml", '[[probe]]\nid = "b1"\nprompt = "x"\n')
    good = write(tmp_path, "pick.toml", '[suite]\ninclude = ["base:b1"]\n')
    assert [p.id for p in load_suites([str(good)], 0)] == ["b1"]
    assert [p.suite for p in load_suites([str(good)], 0)] == ["base"]
    bad = write(tmp_path, "pick2.toml", '[suite]\ninclude = ["base:b2"]\n')
    with pytest.raises(ProbeError, match=r"pick2.toml:2: include base:b2: no probe 'b2'"):
        load_suites([str(bad)], 0)
    shape = write(tmp_path, "pick3.toml", '[suite]\ninclude = ["base"]\n')
    with pytest.raises(ProbeError, match="must be 'suite:probe-id'"):
        load_suites([str(shape)], 0)


def test_messages_keep_tool_turns(tmp_path):
    path = write(
        tmp_path,
        "t.toml",
        """
        [tools.f]
        parameters = { type = "object" }

        [[probe]]
        id = "turns"
        kind = "tool_call"
        tools = ["f"]
        messages = [
          { role = "user", content = "go" },
          { role = "assistant", tool_calls = [
            { id = "c1", type = "function", function = { name = "f", arguments = "{}" } },
          ] },
          { role = "tool", tool_call_id = "c1", content = "done" },
        ]
        """,
    )
    (probe,) = load_suites([str(path)], 0)
    assert probe.messages[1]["tool_calls"][0]["id"] == "c1"
    assert probe.messages[2] == {"role": "tool", "tool_call_id": "c1", "content": "done"}
    missing_id = error_of(
        tmp_path,
        '[[probe]]\nid = "a"\nmessages = [{ role = "tool", content = "x" }]\n',
    )
    assert "a tool message needs a tool_call_id" in missing_id


def test_lines_survive_multiline_strings_that_look_like_tables(tmp_path):
    path = write(
        tmp_path,
        "ml.toml",
        """
        [[probe]]
        id = "first"
        prompt = \"\"\"A prompt quoting a probe file:
        [[probe]]
        id = "fake"
        \"\"\"

        [[probe]]
        id = "second"
        prompt = "x"
        colour = 1
        """,
    )
    with pytest.raises(ProbeError) as info:
        load_suites([str(path)], 0)
    assert str(info.value).startswith(f"{path}:11: probe 'second': unknown key 'colour'")
    path.write_text(path.read_text().replace("colour = 1\n", ""), encoding="utf-8")
    first, second = load_suites([str(path)], 0)
    assert first.source == f"{path}:1" and second.source == f"{path}:8"
