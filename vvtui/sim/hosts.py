"""Hosts that serve the right weights but short-change the request: the simulator's model of
what conformance checks (vvtui.scoring.conformance) exist to catch.

Each is a fault (vvtui.sim.faults) that rewrites the request before the model sees it, or the
bill after:
    cap_max_tokens:n      max_tokens lowered to n (the answer ends with finish_reason "length")
    inject_system:n       a system prompt of about n tokens prepended: prompt_tokens grow by its
                          size and, because the model reads it, the answers shift too
    ignore_temperature    every request sampled at temperature 1, whatever it asked
    force_greedy          every request decoded greedily (temperature 0), whatever it asked
    pad_prompt_tokens:n   n tokens more prompt_tokens billed than the prompt holds
    truncate_context:n    only the last n prompt tokens kept: the start of a long prompt is lost
    drop_stop             `stop` sequences removed from the request
"""

from __future__ import annotations

import copy
import math
from dataclasses import replace
from typing import Any

from vvtui.sim import vocab
from vvtui.sim.answer import INJECTED
from vvtui.sim.faults import Fault
from vvtui.sim.lm import Weights

# Their default n lives with every other fault's, in vvtui.sim.faults.FAULTS.
HOST_FAULTS = (
    "cap_max_tokens",
    "inject_system",
    "ignore_temperature",
    "force_greedy",
    "pad_prompt_tokens",
    "truncate_context",
    "drop_stop",
)
# How far an injected system prompt moves the model's logits: a fixed perturbation, like a
# quantization's, keyed by the injected text (the same prompt shifts the same way every time).
# Just below the ladder's fp8 (0.28): a real injected prompt changes some wording but leaves most
# tokens alone (issue #15 measured 84.6, inconclusive, on llama.cpp).
STEER_SIGMA = 0.25


def injected_prompt(n: int) -> str:
    """A host's own system prompt of about n tokens (deterministic)."""
    head = "You are a helpful assistant served by ExampleHost. Be concise and friendly."
    words = [w for w in vocab.WORDS if w.isalpha()]
    text = head
    for i in range(10_000):  # bounded: each word adds at least one token
        if len(vocab.tokenize(text)) >= n:
            break
        text += " " + words[(i * 7) % len(words)]
    return text


def _content_tokens(message: dict[str, Any]) -> list[str]:
    content = message.get("content")
    return vocab.tokenize(content) if isinstance(content, str) else []


def truncate_messages(messages: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """Keep only the last `limit` content tokens: whole messages from the end, the one that
    overflows cut from its start, earlier ones dropped (what a host with a shorter window that
    trims instead of refusing does)."""
    kept: list[dict[str, Any]] = []
    room = max(0, limit)
    for message in reversed(messages):
        tokens = _content_tokens(message)
        if len(tokens) <= room:
            kept.append(message)
            room -= len(tokens)
            continue
        if room > 0 and isinstance(message.get("content"), str):
            kept.append({**message, "content": "".join(tokens[len(tokens) - room :])})
        break
    return list(reversed(kept)) or messages[-1:]


def tamper(fault: Fault | None, body: dict[str, Any]) -> dict[str, Any]:
    """The request as the host forwards it to its model (a copy; `body` is left alone)."""
    if fault is None or fault.name not in HOST_FAULTS:
        return body
    out = copy.copy(body)
    name, n = fault.name, fault.n
    if name == "cap_max_tokens":
        asked = out.get("max_completion_tokens", out.get("max_tokens"))
        capped = n if asked is None else min(int(asked), n)
        out.pop("max_completion_tokens", None)
        out["max_tokens"] = max(1, capped)
    elif name == "inject_system":
        system = {"role": "system", "content": injected_prompt(n), INJECTED: True}
        out["messages"] = [system, *list(out.get("messages") or [])]
    elif name == "ignore_temperature":
        out["temperature"] = 1.0
    elif name == "force_greedy":
        out["temperature"] = 0.0
    elif name == "truncate_context":
        out["messages"] = truncate_messages(list(out.get("messages") or []), n)
    elif name == "drop_stop":
        out.pop("stop", None)
    return out


def host_weights(fault: Fault | None, weights: Weights) -> Weights:
    """The weights as the request experiences them: an injected system prompt steers the model."""
    if fault is None or fault.name != "inject_system":
        return weights
    seed = vocab.stable_hash("steer", weights.quant_seed, fault.n)
    return replace(
        weights, quant_sigma=math.hypot(weights.quant_sigma, STEER_SIGMA), quant_seed=seed
    )


def prompt_padding(fault: Fault | None) -> int:
    """Extra prompt tokens the host bills."""
    return fault.n if fault is not None and fault.name == "pad_prompt_tokens" else 0
