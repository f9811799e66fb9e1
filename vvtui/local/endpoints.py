"""The vvtui config for a running ladder: one [[endpoint]] per llama.cpp server.

Every server claims the same model name, as real hosts of one open-weights model do; what tells
them apart is the `quant` label. The settings below follow what llama-cpp-python's server does
(see PROVIDERS.md): it applies repeat_penalty 1.1 even at temperature 0, so greedy decoding needs
`repeat_penalty = 1.0`; it serves one request at a time, so more than one in flight would only
queue at the server and inflate latency.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from vvtui.local.prepare import MODEL_NAME, VARIANTS
from vvtui.local.state import ServerRecord
from vvtui.storage import write_atomic

ENGINE_LABEL = "llama-cpp-python"


def _toml_str(value: str) -> str:
    # A JSON string is a valid TOML basic string (same escapes, \uXXXX included).
    return json.dumps(value, ensure_ascii=False)


def ladder_config_text(
    servers: Sequence[ServerRecord],
    *,
    reference: str,
    suites: Sequence[str] = ("quant",),
    reference_repeats: int = 1,
) -> str:
    names = [s.variant for s in servers]
    if reference not in names:
        raise ValueError(f"reference {reference!r} is not one of {names}")
    lines = [
        f"# vvtui config for the local llama.cpp quantization ladder of {MODEL_NAME}.",
        "# Written by `vvtui local up`; the ports change on every start, so regenerate it rather",
        "# than editing it. Stop the servers with `vvtui local down`.",
        "",
        "[run]",
        f"suites = [{', '.join(_toml_str(s) for s in suites)}]",
        f"reference_repeats = {int(reference_repeats)}",
        "",
    ]
    for server in servers:
        variant = VARIANTS.get(server.variant)
        what = f" ({variant.bits:g} bits/weight: {variant.what})" if variant else ""
        lines += [
            f"# {server.variant}{what}",
            "[[endpoint]]",
            f"name = {_toml_str(server.variant)}",
            f"base_url = {_toml_str(server.base_url)}",
            f"model = {_toml_str(server.alias)}",
        ]
        if server.variant == reference:
            lines.append("reference = true")
        lines += [
            "price = { input = 0, output = 0 }",
            "logprobs = true",
            "extra_body = { repeat_penalty = 1.0 }",
            "max_concurrency = 1",
            # Generous: a request may wait behind another at the server on a busy 2-core machine.
            "timeout_s = 300",
            "stall_timeout_s = 120",
            f"labels = {{ quant = {_toml_str(server.variant)}, "
            f"engine = {_toml_str(ENGINE_LABEL)} }}",
            "",
        ]
    return "\n".join(lines)


def write_ladder_config(
    path: Path,
    servers: Sequence[ServerRecord],
    *,
    reference: str,
    suites: Sequence[str] = ("quant",),
    reference_repeats: int = 1,
) -> Path:
    text = ladder_config_text(
        servers, reference=reference, suites=suites, reference_repeats=reference_repeats
    )
    return write_atomic(path, text)
