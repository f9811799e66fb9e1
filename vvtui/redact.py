"""Keeping secrets out of everything that prints or is written.

Keys are read from the environment only at the request site (`read_secret`), and every value read
that way is remembered here so any text about to be shown or written can be scrubbed with
`redact()`, even when an endpoint echoes a key back in an error body.
"""

from __future__ import annotations

import os
import re
import threading
import traceback
from collections.abc import Mapping

REDACTED = "[REDACTED]"

# Header names whose values are credentials wherever they appear.
_SECRET_HEADER = re.compile(
    r"(authorization|api[-_]?key|x-api-key|cookie|set-cookie|token|secret|password|session)",
    re.IGNORECASE,
)
# Bearer tokens and common key shapes, for text that never passed through read_secret().
_KEY_SHAPES = re.compile(
    r"(?i)\b(bearer\s+)[A-Za-z0-9._\-+/=]{8,}|\b(sk-(?:or-|ant-|proj-)?[A-Za-z0-9_\-]{16,})"
)
# Secrets shorter than this are not scrubbed by value: they would blank out ordinary words.
_MIN_SECRET_LEN = 6

_lock = threading.Lock()
_known: set[str] = set()


def remember(secret: str | None) -> None:
    """Register a secret value so `redact()` removes it from any text."""
    if secret and len(secret) >= _MIN_SECRET_LEN:
        with _lock:
            _known.add(secret)


def read_secret(env_name: str | None) -> str | None:
    """Read a key from the environment (at request time) and remember it for redaction."""
    if not env_name:
        return None
    raw = os.environ.get(env_name)
    remember(raw)
    if raw is None:
        return None
    # A key pasted with a trailing newline or space is never meant that way, and would make the
    # HTTP library reject the header with an error quoting it.
    value = raw.strip()
    remember(value)
    return value or None


def redact(text: str) -> str:
    """Remove known secret values and key-shaped strings from `text`."""
    if not text:
        return text
    with _lock:
        known = sorted(_known, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return _KEY_SHAPES.sub(lambda m: (m.group(1) or "") + REDACTED, text)


def redacted_traceback(exc: BaseException) -> str:
    """The full traceback of `exc` (causes included) with known secrets and key shapes removed.
    Both front ends print one when things go wrong (the CLI's hooks, the TUI's crash screen)."""
    return redact("".join(traceback.format_exception(exc)))


def holds_secret(text: str) -> bool:
    """Whether `text` contains a secret value read through `read_secret` (not mere key shapes:
    an answer may legitimately show an example key, and writers redact those anyway)."""
    if not text:
        return False
    with _lock:
        known = list(_known)
    return any(secret in text for secret in known)


def is_secret_header(name: str) -> bool:
    return bool(_SECRET_HEADER.search(name))


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A copy of `headers` fit for display: credential-like values replaced."""
    return {k: (REDACTED if is_secret_header(k) else redact(str(v))) for k, v in headers.items()}


def forget_all() -> None:
    """Tests only: drop every remembered secret."""
    with _lock:
        _known.clear()
