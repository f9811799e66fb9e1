"""A chat message's `content` as plain text: a string, or a list of parts (OpenAI's content
parts, Anthropic's content blocks), each a dict with an optional "text"."""

from __future__ import annotations


def content_text(content: object, sep: str = " ") -> str:
    """The text of `content`: a string as it is; a list of parts, their texts joined by `sep`
    (parts that are not dicts are skipped, a part without text counts as ""); None, ""."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return sep.join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return "" if content is None else str(content)
