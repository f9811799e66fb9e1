"""Text from providers (answers, error bodies, router names), made safe to leave vvtui.

A hostile or broken host can answer with terminal escape sequences: `ESC ]0;…BEL` retitles the
window, `ESC ]52;c;…BEL` writes the clipboard, `ESC [2J` clears the screen. Written raw into a
report, they run when someone `cat`s the file or pages it with `less -R`. Every writer that puts
provider text in front of a person (Markdown, HTML, CSV, JUnit, SVG, the headless output, the
TUI) passes it through `neutralise()` (or `shown()`, which also redacts keys) before its own
format's escaping. The snapshot JSON keeps the exact text: it is data, and JSON escapes it.

Rules: C0 control characters other than newline and tab, DEL, and the C1 range (U+0080–U+009F,
which includes the single-character CSI U+009B) become a visible `\\xNN` escape. That disarms
every ESC, CSI and OSC sequence, since none starts without one of them; what follows the escape
stays as inert text, so a reader still sees what the host sent.
"""

from __future__ import annotations

import re

from vvtui.redact import redact

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _visible(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


def neutralise(text: str) -> str:
    """`text` with every control character but newline and tab shown as `\\xNN`."""
    if not text:
        return text
    return _CONTROL.sub(_visible, text)


def shown(text: str) -> str:
    """Redacted, then neutralised: what any output may print of untrusted text."""
    return neutralise(redact(text))


def is_neutral(text: str) -> bool:
    """Whether `text` holds no live control character (tests and assertions)."""
    return _CONTROL.search(text) is None
