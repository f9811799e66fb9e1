"""Script leakage: the share of an answer's letters written outside the expected script.

Letters are what `str.isalpha` calls letters; a letter's script is decided by code-point block
(fast compiled character classes, no per-character `unicodedata` lookups). Digits, punctuation,
symbols and emoji are not letters and never count.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Code-point ranges per script. "cjk" covers Han, kana, Hangul and Bopomofo (answers in any of
# them count as East Asian script); the finer names are available for stricter probes.
_RANGES: dict[str, str] = {
    "latin": "A-Za-z\u00c0-\u024f\u1e00-\u1eff\u2c60-\u2c7f\ua720-\ua7ff\uff21-\uff3a\uff41-\uff5a"
    "\u0250-\u02af\u1d00-\u1dbf",
    "han": "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f\u3005-\u3007",
    "kana": "\u3040-\u309f\u30a0-\u30ff\u31f0-\u31ff\uff66-\uff9f",
    "hangul": "\uac00-\ud7af\u1100-\u11ff\u3130-\u318f\ua960-\ua97f\ud7b0-\ud7ff",
    "bopomofo": "\u3100-\u312f\u31a0-\u31bf",
    "cyrillic": "\u0400-\u052f\u1c80-\u1c8f\u2de0-\u2dff\ua640-\ua69f",
    "greek": "\u0370-\u03ff\u1f00-\u1fff",
    "arabic": "\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff",
    "hebrew": "\u0590-\u05ff\ufb1d-\ufb4f",
    "devanagari": "\u0900-\u097f\ua8e0-\ua8ff",
    "thai": "\u0e00-\u0e7f",
    "armenian": "\u0530-\u058f",
    "georgian": "\u10a0-\u10ff\u2d00-\u2d2f",
}
_ALIASES: dict[str, tuple[str, ...]] = {
    "cjk": ("han", "kana", "hangul", "bopomofo"),
    "chinese": ("han", "bopomofo"),
    "japanese": ("han", "kana"),
    "korean": ("hangul", "han"),
    "english": ("latin",),
    "russian": ("cyrillic",),
}
SCRIPTS = tuple(sorted({*_RANGES, *_ALIASES, "any"}))
_NON_LETTERS = re.compile(r"[\W\d_]+")


def _expand(names: tuple[str, ...]) -> tuple[str, ...]:
    out: list[str] = []
    for name in names:
        key = name.strip().lower()
        out.extend(_ALIASES.get(key, (key,)))
    return tuple(sorted(set(out)))


def unknown_scripts(expected: str | list[str] | tuple[str, ...]) -> list[str]:
    names = (expected,) if isinstance(expected, str) else tuple(expected)
    return [n for n in names if str(n).strip().lower() not in SCRIPTS]


@lru_cache(maxsize=64)
def _in_scripts(names: tuple[str, ...]) -> re.Pattern[str]:
    ranges = "".join(_RANGES[n] for n in names if n in _RANGES)
    return re.compile(f"[{ranges}]+")


@lru_cache(maxsize=64)
def _expected_scripts(names: tuple[str, ...]) -> tuple[str, ...] | None:
    """The scripts `names` stand for; None when any script will do."""
    if any(str(n).strip().lower() == "any" for n in names):
        return None
    return _expand(names)


def foreign_ratio(text: str, expected: str | list[str] | tuple[str, ...] = "latin") -> float:
    """Share of letters in `text` outside the expected script(s); 0.0 with no letters or "any"."""
    names = (expected,) if isinstance(expected, str) else tuple(map(str, expected))
    expanded = _expected_scripts(names)
    if expanded is None:
        return 0.0
    if "latin" in expanded and text.isascii():
        return 0.0  # every ASCII letter is Latin
    letters = _NON_LETTERS.sub("", text)
    if not letters:
        return 0.0
    foreign = _in_scripts(expanded).sub("", letters)
    return len(foreign) / len(letters)
