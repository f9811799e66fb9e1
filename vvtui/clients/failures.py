"""Turning what went wrong into one-line, redacted `ErrorInfo`s with the right kind.

Everything here is pure (no I/O, no httpx import) so the classification can be tested on its own
and reused by both protocol clients. Messages are redacted *before* they are shortened: cutting
first could leave half a key that no longer matches the redactor.
"""

from __future__ import annotations

import html
import json
import re
import socket
from typing import Any

from vvtui.model import ErrorInfo, ErrorKind
from vvtui.redact import redact

MAX_MESSAGE = 240
EXCERPT = 160

# A 4xx that says a parameter is not available is "unsupported", not a failure: scoring must not
# punish an endpoint for a feature it declares missing (DeepSeek reasoner rejects logprobs this
# way: "deepseek-reasoner does not support the parameter `logprobs`").
_UNSUPPORTED = re.compile(
    r"(not\s+supported|unsupported|does\s*n[o']t\s+support|do\s+not\s+support|"
    r"not\s+support|is\s+not\s+available\s+for|not\s+implemented)",
    re.IGNORECASE,
)
_UNSUPPORTED_STATUSES = frozenset({400, 404, 405, 422, 501})

_DNS_WORDS = re.compile(
    r"(name or service not known|nodename nor servname|name resolution|getaddrinfo|"
    r"no address associated|failed to resolve|could not resolve|no such host)",
    re.IGNORECASE,
)
_SCRIPT_STYLE = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def one_line(text: str, limit: int = MAX_MESSAGE) -> str:
    """Redacted, whitespace-collapsed, control characters removed, at most `limit` characters."""
    text = " ".join(_CONTROL.sub(" ", redact(str(text))).split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def make_error(kind: ErrorKind, message: str, status: int | None = None) -> ErrorInfo:
    return ErrorInfo(kind=kind, message=one_line(message), status=status)


def strip_markup(text: str) -> str:
    """Readable text from an HTML error page (title first: gateways put the gist there)."""
    title_match = _TITLE.search(text)
    title = html.unescape(_TAG.sub(" ", title_match.group(1))) if title_match else ""
    body = _SCRIPT_STYLE.sub(" ", _TITLE.sub(" ", text))
    body = html.unescape(_TAG.sub(" ", body))
    body = " ".join(body.split())
    title = " ".join(title.split())
    if title and body.startswith(title):
        body = body[len(title) :].strip()
    return f"{title}: {body}" if title and body else (title or body)


def error_object_message(obj: Any) -> str | None:
    """The human message inside an error JSON, whatever shape the server chose.

    Shapes seen: OpenAI/OpenRouter/DeepSeek `{"error": {"message", "type", "code"}}`, Ollama
    `{"error": "text"}`, vLLM `{"object": "error", "message"}`, FastAPI `{"detail": ...}`,
    Anthropic `{"type": "error", "error": {"type", "message"}}`.
    """
    if not isinstance(obj, dict):
        return None
    err = obj.get("error")
    if isinstance(err, str) and err:
        return err
    if isinstance(err, dict):
        message = err.get("message")
        message = message if isinstance(message, str) and message else None
        label = err.get("code") or err.get("type")
        parts = [message or json.dumps(err, ensure_ascii=False)[:EXCERPT]]
        if isinstance(label, str | int) and not isinstance(label, bool) and str(label) != message:
            parts.append(f"[{label}]")
        meta = err.get("metadata")
        if isinstance(meta, dict) and isinstance(meta.get("provider_name"), str):
            parts.append(f"(provider {meta['provider_name']})")
        return " ".join(parts)
    if obj.get("object") == "error" and isinstance(obj.get("message"), str):
        return obj["message"]
    detail = obj.get("detail")
    if isinstance(detail, str) and detail:
        return detail
    if detail is not None:
        return json.dumps(detail, ensure_ascii=False)[:EXCERPT]
    return None


def body_excerpt(body: bytes, content_type: str = "") -> tuple[str, bool]:
    """(message, came_from_json) for an error response body."""
    text = body.decode("utf-8", "replace").strip()
    if not text:
        return "", False
    if "json" in content_type or text[:1] in "{[":
        try:
            obj = json.loads(text)
        except ValueError:
            obj = None
        message = error_object_message(obj)
        if message is not None:
            return message, True
    if "html" in content_type or re.match(r"\s*<(!doctype|html|head|body|title)\b", text, re.I):
        text = strip_markup(text)
    # Redact before cutting so a key is never left half-visible.
    text = " ".join(redact(text).split())
    return (text[:EXCERPT] + "…" if len(text) > EXCERPT else text), False


def is_unsupported(status: int | None, message: str) -> bool:
    return (status is None or status in _UNSUPPORTED_STATUSES) and bool(
        _UNSUPPORTED.search(message)
    )


def http_error(status: int, reason: str, body: bytes, content_type: str = "") -> ErrorInfo:
    """An error status with its body: `api` for a JSON error object, `http` for anything else
    (HTML gateway pages, plain text), `unsupported` when the server says a parameter is not
    supported, `rate_limited` for 429."""
    message, from_json = body_excerpt(body, content_type)
    head = f"HTTP {status}" + (f" {reason}" if reason else "")
    kind: ErrorKind
    if status == 429:
        kind = "rate_limited"
    elif is_unsupported(status, message):
        kind = "unsupported"
    else:
        kind = "api" if from_json else "http"
    return make_error(kind, f"{head}: {message}" if message else head, status)


def stream_error(obj: Any, status: int | None = None) -> ErrorInfo:
    """An `error` object that arrived inside a 200 stream (OpenRouter, vLLM, Anthropic): `api`."""
    message = error_object_message(obj) or "error chunk without a message"
    return make_error("api", f"stream error: {message}", status)


def _exception_chain(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and len(chain) < 10 and cur not in chain:
        chain.append(cur)
        cur = cur.__cause__ or cur.__context__
    return chain


def is_dns_failure(exc: BaseException) -> bool:
    for cur in _exception_chain(exc):
        if isinstance(cur, socket.gaierror):
            return True
        if _DNS_WORDS.search(str(cur)):
            return True
    return False


# What a refused connection says: nothing listens on that port, which for a local endpoint almost
# always means its server is not running (never started, or crashed; a llama.cpp server whose
# build does not fit the CPU dies on its first request and leaves exactly this behind).
REFUSED = "connection refused — is the server running?"


def _refused(exc: BaseException) -> bool:
    if isinstance(exc, ConnectionRefusedError):
        return True
    if isinstance(exc, BaseExceptionGroup):  # every address tried (localhost: ::1 and 127.0.0.1)
        return bool(exc.exceptions) and all(is_connection_refused(e) for e in exc.exceptions)
    return False


def is_connection_refused(exc: BaseException) -> bool:
    """Was the connection refused (ECONNREFUSED), on every address tried?"""
    return any(_refused(cur) for cur in _exception_chain(exc))


def connect_failure(where: str, exc: BaseException) -> ErrorInfo:
    """A connection that could not be made (kind `connect`): a refused one says so plainly, any
    other keeps the exception's own words."""
    if is_connection_refused(exc):
        return make_error("connect", f"cannot connect to {where}: {REFUSED}")
    return make_error("connect", f"cannot connect to {where}: {describe_exception(exc)}")


def describe_exception(exc: BaseException) -> str:
    """`TypeName: message` for the deepest exception that says something."""
    for cur in reversed(_exception_chain(exc)):
        text = str(cur).strip()
        if text:
            return f"{type(cur).__name__}: {text}"
    return type(exc).__name__
