"""The vvtui config for a running ladder: one [[endpoint]] per llama.cpp server.

Every server claims the same model name, as real hosts of one open-weights model do; what tells
them apart is the `quant` label. The settings below follow what llama-cpp-python's server does
(see docs/providers.md): it applies repeat_penalty 1.1 even at temperature 0, so greedy decoding
needs `repeat_penalty = 1.0`; it serves one request at a time, so more than one in flight would
only queue at the server and inflate latency.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vvtui.local.prepare import MODEL_NAME, VARIANTS
from vvtui.local.state import ServerRecord
from vvtui.storage import write_atomic
from vvtui.toml_writer import format_comment, join_blocks, table_lines

ENGINE_LABEL = "llama-cpp-python"
HEADER = f"""\
vvtui config for the local llama.cpp quantization ladder of {MODEL_NAME}.
Written by `vvtui local up`; the ports change on every start, so regenerate it rather
than editing it. Stop the servers with `vvtui local down`."""


def endpoint_table(server: ServerRecord, *, reference: bool) -> dict[str, Any]:
    return {
        "name": server.variant,
        "base_url": server.base_url,
        "model": server.alias,
        "reference": True if reference else None,
        "price": {"input": 0, "output": 0},
        "logprobs": True,
        "extra_body": {"repeat_penalty": 1.0},
        "max_concurrency": 1,
        # Generous: a request may wait behind another at the server on a busy 2-core machine.
        "timeout_s": 300,
        "stall_timeout_s": 120,
        "labels": {"quant": server.variant, "engine": ENGINE_LABEL},
    }


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
    blocks = [
        format_comment(HEADER),
        table_lines("run", {"suites": list(suites), "reference_repeats": int(reference_repeats)}),
    ]
    for server in servers:
        variant = VARIANTS.get(server.variant)
        what = (
            [f"{server.variant}: {variant.bits:g} bits/weight, {variant.what}"] if variant else []
        )
        blocks.append(
            table_lines(
                "endpoint",
                endpoint_table(server, reference=server.variant == reference),
                array=True,
                comments=what,
            )
        )
    return join_blocks(blocks)


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
