"""One request's answer: what to aim for (text, tool calls, JSON), and the limits around it.

`Generation` turns an OpenAI request body (with or without the `vvtui_sim` hint) into a lazy
stream of `Piece`s decoded by vvtui.sim.lm: the content tokens, or tool calls whose arguments
are decoded token by token like text, so damage can break their JSON or change a value.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vvtui.content import content_text
from vvtui.sim import vocab
from vvtui.sim.lm import Decoder, Weights, decide

# Marks a message a simulated host injected (vvtui.sim.hosts): billed and read like any other,
# but it does not make the conversation another prompt (the model keys its distributions by the
# user's conversation; the host nudges it through its weights instead), so the shift stays a
# shift.
INJECTED = "_vvtui_injected"
# A substituted model's own way of opening an answer.
_PREAMBLES = ("Sure! ", "Certainly. ", "Of course! Here you go: ", "Great question! ")


@dataclass(slots=True)
class Ask:
    """What a request asks of the model, distilled from the body (already validated)."""

    messages: list[dict[str, Any]]
    answer: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: Any = None
    json_mode: bool = False
    temperature: float = 1.0
    seed: int | None = None
    max_tokens: int | None = None
    stop: list[str] = field(default_factory=list)
    top_logprobs: int = 0
    # The hint's `needs`: text the prompt must still hold for the model to know the answer (a
    # retrieval question whose fact a host that truncates the context has cut away).
    needs: str | None = None

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Ask:
        hint = h if isinstance(h := body.get("vvtui_sim"), dict) else {}
        fmt = body.get("response_format") or {}
        stop = body.get("stop") or []
        max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
        temperature = body.get("temperature")
        return cls(
            messages=list(body.get("messages") or []),
            answer=hint.get("answer"),
            tool_calls=hint.get("tool_calls") or None,
            tools=body.get("tools") or None,
            tool_choice=body.get("tool_choice"),
            json_mode=isinstance(fmt, dict) and fmt.get("type") in ("json_object", "json_schema"),
            temperature=1.0 if temperature is None else float(temperature),
            seed=body.get("seed"),
            max_tokens=max_tokens,
            stop=[stop] if isinstance(stop, str) else list(stop),
            top_logprobs=int(body.get("top_logprobs") or 0),
            needs=hint.get("needs") if isinstance(hint.get("needs"), str) else None,
        )

    def knows(self, text: str) -> bool:
        """Whether `text` is anywhere in the conversation the model was given."""
        for message in self.messages:
            content = message.get("content") if isinstance(message, dict) else None
            if isinstance(content, str | list) and text in content_text(content):
                return True
        return False

    def prompt_key(self) -> int:
        """Identity of the prompt: every request with the same conversation sees the same model."""
        # A message a simulated host injected (vvtui.sim.hosts) nudges the model, it does not
        # make this another prompt.
        own = [m for m in self.messages if not (isinstance(m, dict) and m.get(INJECTED))]
        text = json.dumps([own, self.tools, self.json_mode], sort_keys=True, ensure_ascii=False)
        return vocab.stable_hash("prompt", text)

    def prompt_tokens(self) -> int:
        total = 2
        for message in self.messages:
            content = message.get("content") if isinstance(message, dict) else None
            total += 4 + len(vocab.tokenize(content_text(content or "")))
        if self.tools:
            total += len(vocab.tokenize(json.dumps(self.tools)))
        return total


@dataclass(slots=True)
class Piece:
    """One unit of output: a content token, the start of a tool call, or an arguments token."""

    kind: str  # "text" | "call" | "args"
    text: str  # the token; for "call" the function name
    logprob: float | None = None
    top: list[tuple[str, float]] = field(default_factory=list)
    index: int = 0  # tool-call index, for "call" and "args"
    call_id: str | None = None


class Generation:
    """One request's answer, decoded lazily: iterate for `Piece`s, then read `finish_reason`."""

    def __init__(self, weights: Weights, ask: Ask) -> None:
        self.weights = weights
        self.ask = ask
        self.temperature = ask.temperature
        self.top_logprobs = ask.top_logprobs
        self.prompt = ask.prompt_key()
        self._noise_rng: np.random.Generator | None = None
        self._sample_rng: np.random.Generator | None = None
        self._prompt_tokens: int | None = None
        # Prompt tokens a host bills beyond the prompt (vvtui.sim.hosts pad_prompt_tokens).
        self.extra_prompt_tokens = 0
        self.finish_reason: str | None = None
        self.completion_tokens = 0

    @property
    def prompt_tokens(self) -> int:
        if self._prompt_tokens is None:
            self._prompt_tokens = self.ask.prompt_tokens()
        return self._prompt_tokens + self.extra_prompt_tokens

    @property
    def noise_rng(self) -> np.random.Generator:
        """Fresh entropy per request: batching and kernel nondeterminism are not reproducible."""
        if self._noise_rng is None:
            self._noise_rng = np.random.default_rng()
        return self._noise_rng

    @property
    def sample_rng(self) -> np.random.Generator:
        """Sampling randomness: pinned by the request's `seed` when it sends one."""
        if self._sample_rng is None:
            seed, w = self.ask.seed, self.weights
            if seed is None:
                self._sample_rng = np.random.default_rng()
            else:
                parts = [int(seed) & (2**63 - 1), self.prompt, w.model_seed, w.quant_seed]
                self._sample_rng = np.random.default_rng(parts)
        return self._sample_rng

    def __iter__(self) -> Iterator[Piece]:
        calls = self._planned_calls()
        call_key = vocab.stable_hash(self.prompt, "call?")
        if calls and (self._forced() or decide(self, call_key, 2, 0, 1.0) == 0):
            yield from self._calls(calls)
        else:
            yield from self._text()

    # -- tool calls ------------------------------------------------------------------------

    def _planned_calls(self) -> list[dict[str, Any]] | None:
        ask = self.ask
        if not ask.tool_calls or not ask.tools or ask.tool_choice == "none":
            return None
        return [c for c in ask.tool_calls if isinstance(c, dict) and c.get("name")] or None

    def _forced(self) -> bool:
        return self.ask.tool_choice == "required" or isinstance(self.ask.tool_choice, dict)

    def _calls(self, calls: list[dict[str, Any]]) -> Iterator[Piece]:
        offered = [
            str((t.get("function") or {}).get("name"))
            for t in self.ask.tools or []
            if isinstance(t, dict)
        ]
        for index, call in enumerate(calls):
            name = str(call["name"])
            names = offered if name in offered else [name, *offered]
            if self._forced() and isinstance(self.ask.tool_choice, dict):
                chosen = name
            else:
                key = vocab.stable_hash(self.prompt, "name", index)
                chosen = names[decide(self, key, len(names), names.index(name), 2.0)]
            yield Piece("call", chosen, index=index, call_id=f"call_{uuid.uuid4().hex[:24]}")
            args = json.dumps(call.get("arguments") or {}, separators=(",", ":"))
            key = vocab.stable_hash(self.prompt, "args", index)
            for step in Decoder(self, vocab.tokenize(args), key).steps():
                if step.text is None:
                    break
                if self._at_limit():
                    return
                self.completion_tokens += 1
                yield Piece("args", step.text, step.logprob, step.top, index=index)
        self.finish_reason = "tool_calls"

    # -- text ------------------------------------------------------------------------------

    def _text_target(self) -> str:
        ask = self.ask
        if ask.answer is not None and (ask.needs is None or ask.knows(ask.needs)):
            text = str(ask.answer)
        elif ask.json_mode:
            text = json.dumps({"answer": vocab.pseudo_answer(self.prompt, (1, 2))})
        else:
            text = vocab.pseudo_answer(self.prompt)
        if self.weights.preamble and not ask.json_mode:
            text = _PREAMBLES[self.prompt % len(_PREAMBLES)] + text
        return text

    def _text(self) -> Iterator[Piece]:
        stops = [s for s in self.ask.stop if s]
        sofar = ""
        key = vocab.stable_hash(self.prompt, "text")
        for step in Decoder(self, vocab.tokenize(self._text_target()), key).steps():
            if step.text is None:
                break
            if self._at_limit():
                return
            if stops:
                joined = sofar + step.text
                hits = [i for i in (joined.find(s, max(0, len(sofar) - len(s) + 1)) for s in stops)]
                hits = [i for i in hits if i >= 0]
                if hits:
                    cut = joined[len(sofar) : min(hits)]
                    if cut:
                        self.completion_tokens += 1
                        yield Piece("text", cut, step.logprob, step.top)
                    break
                sofar = joined
            self.completion_tokens += 1
            yield Piece("text", step.text, step.logprob, step.top)
        self.finish_reason = "stop"

    def _at_limit(self) -> bool:
        limit = self.ask.max_tokens
        if limit is not None and self.completion_tokens >= limit:
            self.finish_reason = "length"
            return True
        return False


def generate(weights: Weights, body: dict[str, Any]) -> tuple[Generation, list[Piece]]:
    """Decode a whole answer at once (tests, calibration, non-streaming responses)."""
    gen = Generation(weights, Ask.from_body(body))
    return gen, list(gen)


def teacher_forced(weights: Weights, body: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Clean and noisy logits at every position of the text target, fed the target's own prefix.

    This is how llama.cpp's perplexity tool measures same-top-1 and KL against fp16, so the
    calibration benchmark and the tests measure the ladder this way too. Column 0 is the target.
    """
    gen = Generation(weights, Ask.from_body(body))
    key = vocab.stable_hash(gen.prompt, "text")
    dec = Decoder(gen, vocab.tokenize(gen._text_target()), key)
    _keys, clean, noisy = dec.draw(key, 0, dec.target, False, False)
    return clean, noisy
