"""A synthetic language model whose damage behaves like quantization damage.

At each step the model's candidates are the next token of a *target* (the probe's expected answer
from the request's `vvtui_sim` hint, or a pseudo-answer hashed from the messages) and 19
distractors. The reference logits are a deterministic function of (model seed, prompt, prefix):
the target leads by a margin that is usually large and sometimes a near-tie. An endpoint perturbs
them with
- quantization noise: a *fixed* function of (quant seed, prompt, prefix), the same every time,
  because the same rounded weights make the same error;
- per-request noise (batching, kernel nondeterminism): fresh random numbers on every request;
and decodes greedily at temperature 0, or samples from softmax(logits / T).

When a distractor wins, the prefix changes, so all later logits and noise change too. The model
keeps following the target position by position but with margins shrunk for a few steps (it is
"unsure" after going off track), so one error makes the next more likely, as in real quantized
models. It can also stop early (end-of-sequence as a distractor after a divergence) or run on
(a distractor beating end-of-sequence).

Margins follow P(m < x) ~ x^0.85 near zero: over the ladder's noise scales the share of flipped
top-1 tokens then grows the way llama.cpp measures for q8 / q4 / q2 (PROVIDERS.md).

All randomness tied to the model or the quantization comes from counter-based hashes (splitmix64
over numpy uint64 arrays), so a whole segment of steps is drawn in one vectorised call.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vvtui.sim import vocab

K = 19  # distractors per step, so up to 20 alternatives can be reported
MARGIN_MAX = 12.0
MARGIN_MIN = 0.02  # exact ties are rare: bf16 batching noise seldom flips a token
MARGIN_ALPHA = 0.85
EOS_CONFIDENCE = 3.0  # a finished answer ends decisively
PUNCT_CONFIDENCE = 1.0  # so does syntax: JSON braces and quotes survive mild noise
GAP_STEP = 0.45  # mean logit step between successive distractors
TAIL_GAP = 5.0  # the rest of the vocabulary, as one lump below the runner-up
EOS_GAP = 4.0
DRIFT_DEPTH = 0.7  # right after a divergence, margins shrink to 30 % ...
DRIFT_TAU = 5.0  # ... and recover over about this many tokens
SEGMENT = 32
MAX_RUN_ONS = 2
MAX_STEPS = 8192

_EOS_COL = K + 1
_TAIL_COL = K + 2
_COLS = K + 3
_G = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_COL_IDS = np.arange(_COLS, dtype=np.uint64) * np.uint64(0xD1B54A32D192ED03)
_FILLERS = (*vocab.PUNCT, *vocab.WORDS)


class _Strides(dict[int, int]):
    """A step coprime with each pool size, so a walk through the pool never repeats an entry."""

    def __missing__(self, n: int) -> int:
        step = next(p for p in (7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47) if n % p)
        self[n] = step
        return step


_STRIDES = _Strides()
_CLASS_BOOST = {"eos": EOS_CONFIDENCE, "punct": PUNCT_CONFIDENCE}
_PREAMBLES = ("Sure! ", "Certainly. ", "Of course! Here you go: ", "Great question! ")


@dataclass(frozen=True, slots=True)
class Weights:
    """What sets one simulated endpoint's model apart: its weights and how they were rounded."""

    model_seed: int = 0
    quant_seed: int = 0
    quant_sigma: float = 0.0
    request_sigma: float = 0.0
    # < 1 flattens every distribution (a weaker model); digit positions get their own factor.
    quality: float = 1.0
    digit_quality: float = 1.0
    # Opens chat answers with a paraphrasing preamble ("Sure! "), as a different model would.
    preamble: bool = False


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

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Ask:
        hint = body.get("vvtui_sim") if isinstance(body.get("vvtui_sim"), dict) else {}
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
        )

    def prompt_key(self) -> int:
        """Identity of the prompt: every request with the same conversation sees the same model."""
        text = json.dumps(
            [self.messages, self.tools, self.json_mode], sort_keys=True, ensure_ascii=False
        )
        return vocab.stable_hash("prompt", text)

    def prompt_tokens(self) -> int:
        total = 2
        for message in self.messages:
            content = message.get("content") if isinstance(message, dict) else None
            if isinstance(content, list):
                content = " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
            total += 4 + len(vocab.tokenize(str(content or "")))
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


@dataclass(slots=True)
class _Step:
    text: str | None  # None is end-of-sequence
    logprob: float
    top: list[tuple[str, float]]


def _mix(x: np.ndarray) -> np.ndarray:
    z = x + _G
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def _uniform(keys: np.ndarray) -> np.ndarray:
    """Uniform (0, 1) from already-mixed keys: their top 53 bits."""
    return ((keys >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53


def _normal(keys: np.ndarray) -> np.ndarray:
    u1 = _uniform(keys)
    u2 = _uniform(keys * _M1)  # an odd multiplier reshuffles the high bits: a second stream
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


def _grid(base: int, j0: int, rows: int) -> np.ndarray:
    """Mixed hash keys for (row, column): row j0+r of the stretch that starts at prefix `base`."""
    rows_ids = np.arange(j0, j0 + rows, dtype=np.uint64)[:, None] * _G
    return _mix(rows_ids + _COL_IDS[None, :] + np.uint64(base))


def margin_of(u: np.ndarray) -> np.ndarray:
    """Target-vs-runner-up margin from a uniform draw: mostly confident, some near-ties."""
    return MARGIN_MIN + MARGIN_MAX * u ** (1.0 / MARGIN_ALPHA)


class _Decoder:
    """Decodes one token sequence (the content, or one tool call's arguments) toward a target."""

    def __init__(self, gen: Generation, target: list[str], key: int) -> None:
        self.gen = gen
        self.w = gen.weights
        self.target: list[str | None] = [*target, None]
        self.key = key

    def steps(self) -> Iterator[_Step]:
        pos, prefix, j0, drifting, run_ons = 0, self.key, 0, False, 0
        span = SEGMENT
        for _ in range(MAX_STEPS):  # bounded: each pass emits at least one token
            # Rows are keyed by (prefix, j), not by how they are batched, so the batch size only
            # trades wasted draws (rows past a divergence) against numpy call overhead.
            rows = min(span, len(self.target) - pos)
            targets = self.target[pos : pos + rows]
            mkeys, _clean, noisy = self.draw(prefix, j0, targets, drifting, run_ons >= MAX_RUN_ONS)
            choice = self._choose(noisy)
            logprobs = noisy - np.logaddexp.reduce(noisy, axis=1)[:, None]
            off = np.nonzero(choice != 0)[0]
            stop_at = int(off[0]) if off.size else rows
            for r in range(stop_at):
                step = self._emit(mkeys[r], targets[r], logprobs[r], 0)
                yield step
                if step.text is None:
                    return
            if stop_at == rows:
                pos, j0, span = pos + rows, j0 + rows, min(2 * span, SEGMENT)
                continue
            col = int(choice[stop_at])
            step = self._emit(mkeys[stop_at], targets[stop_at], logprobs[stop_at], col)
            yield step
            if step.text is None:
                return
            if targets[stop_at] is None:  # beat end-of-sequence: the model runs on
                run_ons += 1
                more = vocab.tokenize(" " + vocab.pseudo_answer(int(mkeys[stop_at, 0]), (1, 1)))
                self.target = [*self.target[: pos + stop_at + 1], *more, None]
            prefix = vocab.stable_hash(prefix, j0 + stop_at, step.text)
            pos, j0, drifting, span = pos + stop_at + 1, 0, True, 4

    def draw(
        self, prefix: int, j0: int, targets: list[str | None], drifting: bool, force_eos: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Hash keys, clean logits and this endpoint's noisy logits for a stretch of steps."""
        w, rows = self.w, len(targets)
        mkeys = _grid(vocab.stable_hash("m", w.model_seed, prefix), j0, rows)
        logits = self._logits(mkeys, targets, j0, drifting, force_eos)
        noisy = logits.copy()
        if w.quant_sigma > 0:
            qkeys = _grid(vocab.stable_hash("q", w.quant_seed, prefix), j0, rows)
            noisy[:, :_TAIL_COL] += w.quant_sigma * _normal(qkeys[:, :_TAIL_COL])
        if w.request_sigma > 0:
            shape = (rows, _TAIL_COL)
            noisy[:, :_TAIL_COL] += w.request_sigma * self.gen.noise_rng.standard_normal(shape)
        return mkeys, logits, noisy

    def _logits(
        self,
        mkeys: np.ndarray,
        targets: list[str | None],
        j0: int,
        drifting: bool,
        force_eos: bool,
    ) -> np.ndarray:
        w = self.w
        rows = len(targets)
        u = _uniform(mkeys)
        classes = [vocab.token_class(t) if t is not None else "eos" for t in targets]
        margin = margin_of(u[:, 0])
        margin += np.array([_CLASS_BOOST.get(c, 0.0) for c in classes])
        margin *= np.array([w.digit_quality if c == "digit" else w.quality for c in classes])
        gaps = np.empty((rows, _COLS))
        gaps[:, 0] = 0.0
        gaps[:, 1] = margin
        steps = -np.log(u[:, 2 : K + 1]) * GAP_STEP * max(w.quality, 0.3)
        gaps[:, 2 : K + 1] = margin[:, None] + np.cumsum(steps, axis=1)
        eos_gap = margin + EOS_GAP * (0.5 + u[:, _EOS_COL])
        if drifting:
            # Off track, end-of-sequence is a live option: damaged answers sometimes stop short.
            eos_gap = margin + 0.4 + 2.0 * u[:, _EOS_COL]
        gaps[:, _EOS_COL] = eos_gap
        gaps[:, _TAIL_COL] = margin + TAIL_GAP
        if drifting:
            shrink = 1.0 - DRIFT_DEPTH * np.exp(-np.arange(j0, j0 + rows) / DRIFT_TAU)
            gaps *= shrink[:, None]
        logits = -gaps
        for r, t in enumerate(targets):
            if t is None:  # the target *is* end-of-sequence
                logits[r, _EOS_COL] = -np.inf
                if force_eos:
                    logits[r, 1:] = -np.inf
        return logits

    def _choose(self, noisy: np.ndarray) -> np.ndarray:
        t = self.gen.ask.temperature
        if t <= 0:
            return np.argmax(noisy[:, :_TAIL_COL], axis=1)
        gumbel = -np.log(-np.log(self.gen.sample_rng.random(noisy.shape)))
        return np.argmax(noisy / t + gumbel, axis=1)

    def _emit(self, keys: np.ndarray, target: str | None, logprobs: np.ndarray, col: int) -> _Step:
        logprob = round(float(logprobs[col]), 6)
        if col == _EOS_COL or (col == 0 and target is None):
            return _Step(None, logprob, [])
        want = self.gen.ask.top_logprobs
        if col == 0 and not want:
            return _Step(target, logprob, [])
        # At end-of-sequence the visible alternatives are words that would carry on the answer.
        names = self._distractors(keys, target if target is not None else " and")
        if col == 0:
            text = target
        elif col == _TAIL_COL:
            text = vocab.WORDS[int(keys[_TAIL_COL]) % len(vocab.WORDS)]
            text = " " + text if target is None or target.startswith(" ") else text
        else:
            text = names[col - 1]
        top: list[tuple[str, float]] = []
        if want:
            cands = [target, *names]
            for i in np.argsort(-logprobs[: K + 1], kind="stable")[: want + 1].tolist():
                if cands[i] is not None and len(top) < want:
                    top.append((cands[i], round(float(logprobs[i]), 6)))
        assert text is not None
        return _Step(text, logprob, top)

    def _distractors(self, keys: np.ndarray, target: str) -> list[str]:
        """The 19 alternatives at this position, runner-up first. Deterministic from the keys."""
        cls = vocab.token_class(target)
        pool = vocab.pool(cls, target)
        seed = int(keys[1])
        n = len(pool)
        stride = _STRIDES[n]
        out: list[str] = []
        if cls == "digit":
            out.append(vocab.digit_neighbour(target, (seed % 10007) / 10007))
        seen = {target, *out}
        i = seed % n
        for _ in range(n):  # a stride coprime with n visits every pool entry once
            cand = pool[i]
            if cand not in seen:
                out.append(cand)
                seen.add(cand)
                if len(out) == K:
                    break
            i = (i + stride) % n
        if len(out) < K:  # small pools (spaces, CJK) run out: fill with punctuation and words
            for extra in _FILLERS:
                if extra not in seen:
                    out.append(extra)
                    seen.add(extra)
                    if len(out) == K:
                        break
        if cls != "cjk" and (seed >> 20) % 100 < 35:
            # A CJK token a few ranks down: heavy noise lets it through (script leakage).
            cjk = vocab.CJK[(seed >> 12) % len(vocab.CJK)]
            if cjk not in seen:
                out[3 + (seed >> 8) % 5] = cjk
        return out


class Generation:
    """One request's answer, decoded lazily: iterate for `Piece`s, then read `finish_reason`."""

    def __init__(self, weights: Weights, ask: Ask) -> None:
        self.weights = weights
        self.ask = ask
        self.prompt = ask.prompt_key()
        self._noise_rng: np.random.Generator | None = None
        self._sample_rng: np.random.Generator | None = None
        self._prompt_tokens: int | None = None
        self.finish_reason: str | None = None
        self.completion_tokens = 0

    @property
    def prompt_tokens(self) -> int:
        if self._prompt_tokens is None:
            self._prompt_tokens = self.ask.prompt_tokens()
        return self._prompt_tokens

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
        if calls and self._decide(vocab.stable_hash(self.prompt, "call?"), 2, 0, 1.0) == 0:
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

    def _decide(self, key: int, n: int, target: int, boost: float) -> int:
        """Pick one of n options (call or not, which function) the way a token is picked."""
        if n <= 1 or (n == 2 and self._forced() and target == 0):
            return target
        w = self.weights
        keys = _grid(vocab.stable_hash("m", w.model_seed, key), 0, 1)[0]
        u = _uniform(keys)
        logits = -(margin_of(u[0:1]) * w.quality + boost + np.cumsum(u[1:n]))
        logits = np.concatenate([[0.0], logits])
        order = [target, *[i for i in range(n) if i != target]]
        if w.quant_sigma > 0:
            qkeys = _grid(vocab.stable_hash("q", w.quant_seed, key), 0, 1)[0]
            logits = logits + w.quant_sigma * _normal(qkeys[:n])
        if w.request_sigma > 0:
            logits = logits + w.request_sigma * self.noise_rng.standard_normal(n)
        if self.ask.temperature > 0:
            logits = logits / self.ask.temperature - np.log(-np.log(self.sample_rng.random(n)))
        return order[int(np.argmax(logits))]

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
                chosen = names[self._decide(key, len(names), names.index(name), 2.0)]
            yield Piece("call", chosen, index=index, call_id=f"call_{uuid.uuid4().hex[:24]}")
            args = json.dumps(call.get("arguments") or {}, separators=(",", ":"))
            key = vocab.stable_hash(self.prompt, "args", index)
            for step in _Decoder(self, vocab.tokenize(args), key).steps():
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
        if ask.answer is not None:
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
        for step in _Decoder(self, vocab.tokenize(self._text_target()), key).steps():
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
    dec = _Decoder(gen, vocab.tokenize(gen._text_target()), key)
    _keys, clean, noisy = dec.draw(key, 0, dec.target, False, False)
    return clean, noisy
