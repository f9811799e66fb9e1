"""The config's `[keymap]` (binding id -> keys), checked against the bindings that exist."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from textual.binding import Binding

from vvtui.errors import suggest


def binding_ids(binding_lists: Iterable[Iterable[object]]) -> list[str]:
    ids: list[str] = []
    for bindings in binding_lists:
        for b in bindings:
            if isinstance(b, Binding) and b.id and b.id not in ids:
                ids.append(b.id)
    return ids


def check_keymap(
    keymap: Mapping[str, str], known: Iterable[str]
) -> tuple[dict[str, str], list[str]]:
    """(the usable part of `keymap`, one problem line per unusable entry)."""
    names = list(known)
    good: dict[str, str] = {}
    problems: list[str] = []
    for ident, keys in keymap.items():
        if ident not in names:
            hint = suggest(ident, names)
            problems.append(f"[keymap] {ident!r}: no such binding" + (f" ({hint})" if hint else ""))
            continue
        if not keys.strip():
            problems.append(f"[keymap] {ident!r}: empty key")
            continue
        good[ident] = keys
    return good, problems


def keys_for(binding: Binding, keymap: Mapping[str, str]) -> str:
    """The keys a binding answers to once the keymap is applied, as the help shows them."""
    keys = keymap.get(binding.id or "", binding.key) if binding.id else binding.key
    display = {"question_mark": "?", "escape": "esc"}
    return " / ".join(display.get(k.strip(), k.strip()) for k in keys.split(","))


def pane_digit_bindings(
    action: str, description: str, id_prefix: str, tooltip: str
) -> list[Binding]:
    """`1`-`9` calling `action(i)` with the pane's index (0-8): the digits of the panes' titles."""
    return [
        Binding(
            str(k),
            f"{action}({k - 1})",
            f"{description} {k}",
            id=f"{id_prefix}-{k}",
            show=False,
            tooltip=tooltip,
        )
        for k in range(1, 10)
    ]
