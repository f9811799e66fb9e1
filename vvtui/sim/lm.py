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
top-1 tokens then grows the way llama.cpp measures for q8 / q4 / q2 (docs/sim.md).

All randomness tied to the model or the quantization comes from counter-based hashes (splitmix64
over numpy uint64 arrays), so a whole segment of steps is drawn in one vectorised call.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

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
class Step:
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


class Context(Protocol):
    """What decoding needs from the request it serves (vvtui.sim.answer.Generation)."""

    weights: Weights
    temperature: float
    top_logprobs: int

    @property
    def noise_rng(self) -> np.random.Generator: ...

    @property
    def sample_rng(self) -> np.random.Generator: ...


class Decoder:
    """Decodes one token sequence (the content, or one tool call's arguments) toward a target."""

    def __init__(self, gen: Context, target: list[str], key: int) -> None:
        self.gen = gen
        self.w = gen.weights
        self.target: list[str | None] = [*target, None]
        self.key = key

    def steps(self) -> Iterator[Step]:
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
        t = self.gen.temperature
        if t <= 0:
            return np.argmax(noisy[:, :_TAIL_COL], axis=1)
        gumbel = -np.log(-np.log(self.gen.sample_rng.random(noisy.shape)))
        return np.argmax(noisy / t + gumbel, axis=1)

    def _emit(self, keys: np.ndarray, target: str | None, logprobs: np.ndarray, col: int) -> Step:
        logprob = round(float(logprobs[col]), 6)
        if col == _EOS_COL or (col == 0 and target is None):
            return Step(None, logprob, [])
        want = self.gen.top_logprobs
        if col == 0 and not want:
            return Step(target, logprob, [])
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
        return Step(text, logprob, top)

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


def decide(gen: Context, key: int, n: int, target: int, boost: float) -> int:
    """Pick one of n options (call a tool or not, which function) the way a token is picked:
    the target leads by a drawn margin plus `boost`, the endpoint's noise may overturn it."""
    if n <= 1:
        return target
    w = gen.weights
    u = _uniform(_grid(vocab.stable_hash("m", w.model_seed, key), 0, 1)[0])
    logits = np.concatenate([[0.0], -(margin_of(u[0:1]) * w.quality + boost + np.cumsum(u[1:n]))])
    order = [target, *[i for i in range(n) if i != target]]
    if w.quant_sigma > 0:
        qkeys = _grid(vocab.stable_hash("q", w.quant_seed, key), 0, 1)[0]
        logits = logits + w.quant_sigma * _normal(qkeys[:n])
    if w.request_sigma > 0:
        logits = logits + w.request_sigma * gen.noise_rng.standard_normal(n)
    if gen.temperature > 0:
        logits = logits / gen.temperature - np.log(-np.log(gen.sample_rng.random(n)))
    return order[int(np.argmax(logits))]
