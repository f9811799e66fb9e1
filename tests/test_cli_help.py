"""Every command's `--help` shows examples, and every example parses: the README promises both."""

from __future__ import annotations

import argparse
import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest

from vvtui.cli import build_parser, main


def _commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], bool]]:
    """(command path, is a leaf) for the top level and every subcommand, walked from argparse
    itself so a command added later is covered without editing this test."""
    groups = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    yield path, not groups
    for group in groups:
        for name, child in group.choices.items():
            yield from _commands(child, (*path, name))


COMMANDS = list(_commands(build_parser()))


def _help(path: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main([*path, "--help"])
    assert exit_info.value.code == 0
    return capsys.readouterr().out


def _examples(text: str) -> list[str]:
    """The command lines of the help's `examples:` section (descriptions and shell plumbing cut)."""
    _, found, rest = text.partition("\nexamples:\n")
    assert found, "no examples: section"
    commands = []
    for line in rest.splitlines():
        if not line.strip():
            break
        command = re.split(r" {2,}|\s[|>]\s", line.strip())[0].rstrip("\\ ")
        if command.startswith("vvtui"):
            commands.append(command)
    return commands


def test_the_walk_finds_every_command():
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"", "demo", "config locate", "local down", "probes import-k2vv"} <= names
    assert len(names) >= 25


@pytest.mark.parametrize("path,leaf", COMMANDS, ids=[" ".join(p) or "vvtui" for p, _ in COMMANDS])
def test_help_shows_an_example_of_the_command_itself(path, leaf, capsys):
    examples = _examples(_help(path, capsys))
    prefix = " ".join(("vvtui", *path))
    mine = [c for c in examples if c == prefix or c.startswith(prefix + " ")]
    assert mine, f"`{prefix} --help` shows no example of `{prefix}`"
    parser = build_parser()
    for command in examples:
        try:
            parser.parse_args(shlex.split(command)[1:])
        except SystemExit:
            pytest.fail(f"`{prefix} --help` shows an example that does not parse: {command}")


ROOT = Path(__file__).resolve().parents[1]


def test_files_the_code_sends_readers_to_are_in_the_repository():
    """Help texts and docstrings (which `pydoc` shows) may only point at files that ship with
    the repository: `vvtui sim --help` once sent readers to a docstring that named a file
    nobody had."""
    named = set()
    for source in (ROOT / "vvtui").rglob("*.py"):
        for match in re.finditer(r"[\w./-]+\.md\b", source.read_text(encoding="utf-8")):
            named.add((match.group(0), source.relative_to(ROOT)))
    assert named, "the scan found nothing: is the pattern right?"
    missing = [f"{source}: {name}" for name, source in sorted(named) if not (ROOT / name).is_file()]
    assert not missing, missing
