"""Every ```toml block in docs/providers.md is a whole config vvtui accepts."""

import re
from pathlib import Path

import pytest

from vvtui.config import parse_config
from vvtui.providers.openrouter import is_openrouter
from vvtui.providers.routing import pinned_provider

DOC = Path(__file__).resolve().parent.parent / "docs" / "providers.md"
BLOCK = re.compile(r"^```toml\n(.*?)^```", re.MULTILINE | re.DOTALL)


def toml_blocks() -> list[tuple[int, str]]:
    text = DOC.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start()) + 2, m.group(1)) for m in BLOCK.finditer(text)]


def test_the_doc_has_an_example_per_family():
    assert len(toml_blocks()) >= 15


@pytest.mark.parametrize(("line", "block"), toml_blocks(), ids=lambda v: str(v)[:12])
def test_block_is_a_valid_config(line, block):
    config = parse_config(block, Path(f"docs/providers.md:{line}"))
    assert config.endpoints
    assert sum(e.reference for e in config.endpoints) == 1


def test_every_family_has_a_parsed_example():
    urls = {e.base_url for _, block in toml_blocks() for e in parse_config(block).endpoints}
    for expected in [
        "https://api.openai.com/v1",
        "https://openrouter.ai/api/v1",
        "https://api.together.xyz/v1",
        "https://api.fireworks.ai/inference/v1",
        "https://api.deepinfra.com/v1/openai",
        "https://api.groq.com/openai/v1",
        "https://api.moonshot.ai/v1",
        "https://api.deepseek.com/v1",
        "https://api.anthropic.com/v1",
        "http://127.0.0.1:8000/v1",  # vLLM, llama-cpp-python
        "http://127.0.0.1:30000/v1",  # SGLang
        "http://127.0.0.1:8080/v1",  # llama-server
        "http://127.0.0.1:11434/v1",  # Ollama
        "http://127.0.0.1:1234/v1",  # LM Studio
    ]:
        assert expected in urls, expected


def test_examples_follow_the_documented_rules():
    endpoints = [e for _, block in toml_blocks() for e in parse_config(block).endpoints]
    for e in endpoints:
        # Servers the doc says reject or lack logprobs are configured without them.
        if "groq.com" in e.base_url or e.protocol == "anthropic" or ":1234/" in e.base_url:
            assert e.logprobs is False, e.name
        if e.model == "deepseek-reasoner":
            assert e.logprobs is False
        # Pinned OpenRouter hosts never fall back silently.
        if is_openrouter(e.base_url) and pinned_provider(e) is not None:
            routing = e.extra_body["provider"]
            assert routing["allow_fallbacks"] is False and routing["require_parameters"] is True
    anthropic = [e for e in endpoints if e.base_url.startswith("https://api.anthropic.com")]
    assert anthropic and all(e.protocol == "anthropic" for e in anthropic)
    llama_cpp_python = [e for e in endpoints if e.labels.get("engine") == "llama-cpp-python"]
    assert llama_cpp_python
    for e in llama_cpp_python:
        assert e.max_concurrency == 1 and e.extra_body == {"repeat_penalty": 1.0}
