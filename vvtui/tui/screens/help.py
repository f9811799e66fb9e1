"""F1 / `?`: the keys (as currently bound), what the marks and colours mean, what re-run, cancel
and quit do with your results, and where files go."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Markdown, Static

from vvtui.present.styles import MARKS


@dataclass(frozen=True, slots=True)
class KeyHelp:
    keys: str
    description: str
    tooltip: str


@dataclass(frozen=True, slots=True)
class HelpFacts:
    keys: list[KeyHelp]
    export_dir: str
    out: str | None
    state_path: str | None
    theme_dirs: list[str]
    replay: bool


def _legend() -> Content:
    marks = [
        ("pass", "checks pass, same answer as the reference"),
        ("diverged", "answer departs from the reference's"),
        ("fail", "a check fails"),
        ("error", "the request failed"),
        ("pending", "no answer yet"),
    ]
    parts: list[Content | tuple[str, str] | str] = [("Marks", "b"), "\n"]
    for name, what in marks:
        look = MARKS[name]
        parts += [(f" {look.glyph} ", f"b {look.style}"), (f"{name:<9}", look.style), what, "\n"]
    parts += [
        "\n",
        ("Highlights in the answers", "b"),
        "\n ",
        ("replaced", "on $vv-diff-replace"),
        "  tokens that differ from the reference's\n ",
        ("inserted", "on $vv-diff-insert"),
        "  tokens the reference does not have\n ",
        ("missing", "strike $vv-diff-missing"),
        "   reference text this endpoint left out\n ",
        ("x", "b $background on $vv-diff-diverge"),
        "         the first divergence (live while streaming: where the texts part so far)\n",
    ]
    return Content.assemble(*parts)


def _markdown(facts: HelpFacts) -> str:
    rows = "\n".join(
        f"| `{k.keys}` | {k.description} | {k.tooltip} |" for k in facts.keys if k.keys
    )
    out = facts.out or "not set (pass `--out SNAP.json`)"
    themes = ", ".join(f"`{d}`" for d in facts.theme_dirs)
    state = f"`{facts.state_path}`" if facts.state_path else "not remembered in this session"
    return f"""\
# vvtui

| key | action | |
|---|---|---|
{rows}

Rebind a key by its id (in brackets above) in the config's `[keymap]` section, e.g.
`rerun = "ctrl+r"`. `ctrl+p` opens the command palette (`run:`, `export:`, `view:`, `theme:`).

## Your results

- **Re-run** (`r`) asks the *same rendered probes* again (same seed, same prompts) against the
  same endpoints, so two runs compare like for like. With `--out`, the first run is written to
  `{facts.out or "SNAP.json"}` and re-runs to `SNAP-2.json`, `SNAP-3.json`…
- **Cancel** (`c`) stops the run; answers in flight are kept, marked cancelled, and the partial
  snapshot is scored (and written to `--out` when given). Resume it later with
  `vvtui run --resume SNAP.json`.
- **Quit** (`q`) cancels a running run the same way. With `--out` the snapshot is written there;
  without it, when results are not saved yet, vvtui asks whether to save them to the export
  folder first. Nothing gathered is dropped without asking.
- **Ctrl-C** does what it does headless: cancels the run, writes what was gathered (marked
  incomplete) to `--out` or the export folder, and exits with code 130. Whatever way you
  leave, the files the session wrote are listed on the terminal.
- **Export** (`e`) writes the snapshot JSON and the Markdown report (when this build has the
  report module) to the export folder; **screenshot** (`s`) saves an SVG there.

## Looking closely

Select a pane with its digit (or a click). **Inspect** (`i`) takes its answer apart against the
reference's: both sides' alternatives at the first divergence, the near-tie margin, KL along the
shared prefix, every check, the tool calls and the damage parts. **Maximize** (`m`) fills the
screen with it; **compare** (`x`) sets it beside the reference. On a small screen `]` pages
through the panes and `B` folds the scoreboard (remembered).

## Where files go

- export folder: `{facts.export_dir}` (`--export-dir`, or `[run] export_dir`)
- snapshot (`--out`): {out}
- theme files: {themes}; pick one with `t` (or `[ui] theme`); the pick is remembered in {state}
- timings shown are stamped by the network layer as bytes arrive, never by the screen.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar = [
        Binding(
            "escape,q,f1,question_mark",
            "dismiss",
            "Close",
            id="help-close",
            tooltip="Back to the run",
        ),
    ]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90%;
        max-width: 110;
        height: 90%;
        border: round $primary;
        background: $surface;
        padding: 0 1;
    }
    HelpScreen #legend { padding: 1 1 0 1; height: auto; }
    HelpScreen Markdown { background: $surface; }
    """

    def __init__(self, facts: HelpFacts) -> None:
        super().__init__()
        self.facts = facts

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = "help · esc to close"
            yield Markdown(_markdown(self.facts))
            yield Static(_legend(), id="legend")


def key_rows(bindings: Iterable[tuple[Binding, str]]) -> list[KeyHelp]:
    """Help rows from (binding, keys as displayed) pairs, one per binding id."""
    rows: list[KeyHelp] = []
    seen: set[str] = set()
    for binding, keys in bindings:
        ident = binding.id or binding.action
        if ident in seen:
            continue
        seen.add(ident)
        rows.append(KeyHelp(keys, f"{binding.description} (`{ident}`)", binding.tooltip))
    return rows
