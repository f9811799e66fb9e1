"""Synthetic results for tests, benchmarks and examples of the scoring core. Made without a
server (unlike the rest of the simulator), they live here rather than in the scoring core they
feed: no run ever needs them.

`TinyLM` is a deterministic toy language model: the next-token logits are a pure function of
(probe seed, the last two tokens). An endpoint decodes greedily from those logits plus Gaussian
noise of scale `noise` (drawn from the endpoint's own seed and the context, so an endpoint is
deterministic, like a quantized model): small noise flips near-ties late in an answer, large noise
derails it early, the way quantization damage shows in real models. `sample_temperature`
samples instead, for sampled probes.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence

import numpy as np

from vvtui.model import (
    Check,
    EndpointInfo,
    ErrorInfo,
    ErrorKind,
    Price,
    Probe,
    Result,
    RunInfo,
    Snapshot,
    Tokens,
    ToolCall,
)

_SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "ze", "po", "da", "fe", "gu", "hi"]


def _vocab(size: int = 400) -> list[str]:
    words = []
    for i in range(size):
        a, b, c = i % 14, (i // 14) % 14, (i // 196) % 14
        words.append(" " + _SYLLABLES[a] + _SYLLABLES[b] + ("" if c == 0 else _SYLLABLES[c]))
    words[:6] = [".", ",", " the", " of", " and", " is"]
    return words


VOCAB = _vocab()


def _seed(*parts: object) -> int:
    return zlib.crc32("\x1f".join(map(str, parts)).encode())


class TinyLM:
    """Deterministic toy LM over VOCAB (see module docstring)."""

    def __init__(self, probe_seed: int, top_k: int = 5, sharpness: float = 2.0) -> None:
        self.probe_seed = probe_seed
        self.top_k = top_k
        self.sharpness = sharpness
        self._cache: dict[tuple[int, int], np.ndarray] = {}

    def logits(self, prev2: int, prev1: int) -> np.ndarray:
        found = self._cache.get((prev2, prev1))
        if found is None:
            rng = np.random.default_rng(_seed(self.probe_seed, prev2, prev1))
            found = self._cache[(prev2, prev1)] = rng.normal(0.0, self.sharpness, len(VOCAB))
        return found

    def generate(
        self,
        n_tokens: int,
        *,
        noise: float = 0.0,
        noise_seed: int = 0,
        temperature: float = 0.0,
        sample_seed: int = 0,
    ) -> tuple[list[str], list[float], list[list[tuple[str, float]]]]:
        tokens: list[str] = []
        logprobs: list[float] = []
        tops: list[list[tuple[str, float]]] = []
        prev2, prev1 = -1, -2
        sampler = np.random.default_rng(_seed("sample", sample_seed, self.probe_seed))
        for step in range(n_tokens):
            z = self.logits(prev2, prev1)
            if noise > 0:
                z = z + np.random.default_rng(
                    _seed(noise_seed, self.probe_seed, prev2, prev1, step)
                ).normal(0.0, noise, size=len(z))
            lp = z - (z.max() + math.log(np.exp(z - z.max()).sum()))
            if temperature > 0:
                p = np.exp(lp / temperature)
                p /= p.sum()
                choice = int(sampler.choice(len(p), p=p))
            else:
                choice = int(np.argmax(lp))
            order = np.argsort(-lp)[: self.top_k]
            tokens.append(VOCAB[choice])
            logprobs.append(float(lp[choice]))
            tops.append([(VOCAB[int(k)], float(lp[k])) for k in order])
            prev2, prev1 = prev1, choice
        return tokens, logprobs, tops


def make_result(
    endpoint: str,
    probe_id: str,
    tokens: Sequence[str],
    *,
    logprobs: Sequence[float] | None = None,
    tops: Sequence[Sequence[tuple[str, float]]] | None = None,
    sample: int = 0,
    repeat: int = 0,
    with_bytes: bool = True,
    provider_tokens: bool = True,
    error: ErrorKind | None = None,
    finish_reason: str | None = "stop",
    tool_calls: list[ToolCall] | None = None,
    ttft_s: float | None = 0.2,
    tokens_per_s: float | None = 50.0,
    input_tokens: int | None = 20,
) -> Result:
    """A Result whose text is the concatenation of `tokens`, with Tokens columns when asked."""
    text = "".join(tokens)
    tok = None
    if provider_tokens:
        tok = Tokens(
            text=list(tokens),
            logprob=None if logprobs is None else list(logprobs),
            bytes=[list(t.encode()) for t in tokens] if with_bytes else None,
            top=None if tops is None else [list(row) for row in tops],
        )
    return Result(
        endpoint=endpoint,
        probe_id=probe_id,
        sample=sample,
        repeat=repeat,
        text="" if error else text,
        tokens=None if error else tok,
        tool_calls=list(tool_calls or []),
        finish_reason=None if error else finish_reason,
        ttft_s=None if error else ttft_s,
        total_s=None if error else 1.0,
        input_tokens=input_tokens,
        output_tokens=None if error else len(tokens),
        tokens_per_s=None if error else tokens_per_s,
        error=None if error is None else ErrorInfo(error, f"synthetic {error} error"),
    )


def corrupt(tokens: Sequence[str], k: int, seed: int = 0) -> list[str]:
    """Replace k positions with a token that appears nowhere in the answer. Positions come from
    one fixed permutation per seed, so corrupting more includes every earlier corruption."""
    out = list(tokens)
    order = np.random.default_rng(seed).permutation(len(out))
    for n, pos in enumerate(order[:k]):
        out[int(pos)] = f" ~x{n}~"
    return out


def ladder_snapshot(
    noises: dict[str, float],
    *,
    n_probes: int = 30,
    n_tokens: int = 60,
    top_k: int = 5,
    reference_repeat_noise: float = 0.0,
    repeats: int = 1,
    seed: int = 0,
    sampled_probes: int = 0,
    n_samples: int = 8,
) -> Snapshot:
    """A snapshot: the first key of `noises` is the reference, each endpoint decodes TinyLM with
    its noise. Each deterministic probe checks that the answer contains the reference answer's
    first three tokens (an early divergence fails it). Sampled probes sample at temperature 1 with
    the endpoint's noise on the logits."""
    names = list(noises)
    endpoints = [
        EndpointInfo(
            name=n,
            model="toy",
            base_url=f"http://sim/{n}/v1",
            reference=(i == 0),
            price=Price(0.5 + i, 1.0 + i, "sim"),
            simulated=True,
        )
        for i, n in enumerate(names)
    ]
    probes: list[Probe] = []
    results: list[Result] = []
    for p in range(n_probes + sampled_probes):
        pid = f"p{p:03d}"
        sampled = p >= n_probes
        # Sampled probes get peaked distributions (like "pick a number" prompts), so a handful
        # of samples per endpoint can tell two distributions apart.
        lm = TinyLM(_seed(seed, pid), top_k=top_k, sharpness=4.0 if sampled else 2.0)
        if sampled:
            probe = Probe(id=pid, kind="sampled", temperature=1.0, n_samples=n_samples)
            probes.append(probe)
            for i, name in enumerate(names):
                for s in range(n_samples):
                    toks, lps, tops = lm.generate(
                        max(8, n_tokens // 4),
                        noise=noises[name],
                        noise_seed=_seed(name),
                        temperature=1.0,
                        sample_seed=_seed(name, s, seed),
                    )
                    results.append(
                        make_result(
                            name,
                            pid,
                            toks,
                            logprobs=lps,
                            tops=tops,
                            sample=s,
                            ttft_s=0.1 + 0.05 * i,
                            tokens_per_s=80.0 - 5 * i,
                        )
                    )
            continue
        ref_tokens, _, _ = lm.generate(n_tokens)
        probe = Probe(
            id=pid,
            top_logprobs=top_k,
            answer="".join(ref_tokens),
            checks=[Check("contains", {"value": "".join(ref_tokens[:3])})],
        )
        probes.append(probe)
        for i, name in enumerate(names):
            toks, lps, tops = lm.generate(n_tokens, noise=noises[name], noise_seed=_seed(name))
            results.append(
                make_result(
                    name,
                    pid,
                    toks,
                    logprobs=lps,
                    tops=tops,
                    ttft_s=0.1 + 0.05 * i + 0.001 * p,
                    tokens_per_s=80.0 - 5 * i,
                )
            )
        for r in range(1, repeats + 1):
            toks, lps, tops = lm.generate(
                n_tokens, noise=reference_repeat_noise, noise_seed=_seed("repeat", r)
            )
            results.append(make_result(names[0], pid, toks, logprobs=lps, tops=tops, repeat=r))
    return Snapshot(
        vvtui_version="test",
        created_at="2025-01-01T00:00:00Z",
        run=RunInfo(seed=seed, reference_repeats=repeats, complete=True),
        endpoints=endpoints,
        probes=probes,
        results=results,
    )


def fast_ladder_snapshot(
    flip_rates: dict[str, float],
    *,
    n_probes: int = 1000,
    n_tokens: int = 60,
    top_k: int = 5,
    seed: int = 0,
) -> Snapshot:
    """A large snapshot without running TinyLM: the first key of `flip_rates` is the reference.
    Each endpoint copies the reference answer until a first divergence drawn with its per-token
    flip rate, then continues at random; its logprobs are the reference's plus noise that grows
    with the flip rate. Cheap enough for 1000 probes x 8 endpoints (benchmarks)."""
    rng = np.random.default_rng(seed)
    names = list(flip_rates)
    endpoints = [
        EndpointInfo(n, "toy", f"http://sim/{n}/v1", reference=(i == 0), price=Price(1.0, 2.0))
        for i, n in enumerate(names)
    ]
    vocab = np.array(VOCAB, dtype=object)
    probes: list[Probe] = []
    results: list[Result] = []
    for p in range(n_probes):
        pid = f"p{p:04d}"
        ids = rng.integers(0, len(VOCAB), size=n_tokens)
        alts = rng.integers(0, len(VOCAB), size=(n_tokens, top_k - 1))
        base = np.sort(rng.normal(-3.0, 1.0, size=(n_tokens, top_k - 1)), axis=1)[:, ::-1]
        chosen_lp = rng.uniform(-0.5, -0.01, size=n_tokens)
        ref_tokens = [VOCAB[int(i)] for i in ids]
        probes.append(
            Probe(
                id=pid,
                top_logprobs=top_k,
                checks=[Check("contains", {"value": "".join(ref_tokens[:3])})],
            )
        )
        for e, name in enumerate(names):
            rate = flip_rates[name]
            fd = n_tokens if rate <= 0 else min(n_tokens, int(rng.geometric(rate)) - 1)
            own = ids.copy()
            if fd < n_tokens:
                own[fd:] = rng.integers(0, len(VOCAB), size=n_tokens - fd)
            noise = rng.normal(0.0, 0.5 * rate, size=base.shape) if rate > 0 else 0.0
            lps = base + noise
            tokens = list(vocab[own])
            tops = [
                [(tokens[i], float(chosen_lp[i]))]
                + [(VOCAB[int(a)], float(lp)) for a, lp in zip(alts[i], lps[i], strict=True)]
                for i in range(n_tokens)
            ]
            results.append(
                make_result(
                    name,
                    pid,
                    tokens,
                    logprobs=[float(x) for x in chosen_lp],
                    tops=tops,
                    ttft_s=0.1 + 0.02 * e + 0.01 * rng.random(),
                    tokens_per_s=80.0 - 4 * e + rng.random(),
                )
            )
    return Snapshot(
        vvtui_version="bench",
        created_at="2025-01-01T00:00:00Z",
        run=RunInfo(seed=seed, complete=True),
        endpoints=endpoints,
        probes=probes,
        results=results,
    )
