"""Simulated endpoint profiles: one synthetic model, served as many "providers" would serve it.

The default ladder is the demo's cast: the bf16 reference, a noisy-kernel host, fp8 / int4 / int2
quantizations, a host that quietly substitutes a weaker model, a slow one, an expensive one, and
two hosts serving the right weights that short-change the request (one caps max_tokens, one
prepends its own system prompt), which only the conformance checks catch.
Noise scales are calibrated (benchmarks/sim_ladder.py) so the share of tokens whose top-1 flips
against the reference lands near llama.cpp's measurements: ~97.7 % same top-1 for q8, ~92 % for
q4, ~71 % for q2 (docs/sim.md).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from vvtui.model import Price
from vvtui.sim.lm import Weights

SIM_MODEL = "vv-sim-8b"
USAGE_MODES = ("final_chunk", "every_chunk", "none")


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    description: str
    quant_sigma: float = 0.0
    request_sigma: float = 0.0
    model_seed: int = 0
    quant_seed: int = 0
    substituted: bool = False
    ttft_s: float = 0.3
    tokens_per_s: float = 60.0
    # Relative spread of each request's TTFT and decode speed around the configured values.
    jitter: float = 0.1
    price: Price | None = None
    # A fault spec ("name" or "name:n", see vvtui.sim.faults); None serves normally.
    fault: str | None = None
    # The model name the endpoint answers with; all profiles claim the same model.
    model: str = SIM_MODEL
    # Where streamed usage goes: "final_chunk" (OpenAI), "every_chunk" (vLLM
    # continuous_usage_stats) or "none" (llama-cpp-python ignores include_usage).
    usage_mode: str = "final_chunk"
    # Wait the rate_limit fault asks for, in milliseconds.
    retry_after_ms: int = 100
    # The short label the UI shows next to the endpoint name.
    label: str = ""

    def __post_init__(self) -> None:
        if self.usage_mode not in USAGE_MODES:
            raise ValueError(f"usage_mode must be one of {USAGE_MODES}, not {self.usage_mode!r}")
        if self.tokens_per_s <= 0 or self.ttft_s < 0:
            raise ValueError("tokens_per_s must be positive and ttft_s non-negative")

    @property
    def weights(self) -> Weights:
        if self.substituted:
            # A smaller model: flatter distributions, shakier arithmetic, its own wording.
            return Weights(
                model_seed=self.model_seed,
                quant_seed=self.quant_seed,
                quant_sigma=self.quant_sigma,
                request_sigma=self.request_sigma,
                quality=0.45,
                digit_quality=0.05,
                preamble=True,
            )
        return Weights(
            model_seed=self.model_seed,
            quant_seed=self.quant_seed,
            quant_sigma=self.quant_sigma,
            request_sigma=self.request_sigma,
        )

    @property
    def fingerprint(self) -> str:
        return f"fp_sim_{self.name.replace('-', '_')}"

    def scaled(self, speed: float) -> Profile:
        """The same profile with every delay divided by `speed`."""
        return replace(
            self,
            ttft_s=self.ttft_s / speed,
            tokens_per_s=self.tokens_per_s * speed,
            retry_after_ms=max(1, round(self.retry_after_ms / speed)),
        )


def _price(inp: float, out: float) -> Price:
    return Price(inp, out, "sim")


def default_profiles(speed: float = 1.0) -> list[Profile]:
    """The demo ladder. `speed` divides every delay (tests use >= 20)."""
    if speed <= 0:
        raise ValueError("speed must be positive")
    ladder = [
        Profile(
            "reference",
            "bf16 weights, the reference (tiny batching noise)",
            request_sigma=0.008,
            ttft_s=0.35,
            tokens_per_s=70,
            price=_price(0.60, 2.50),
            label="bf16 reference",
        ),
        Profile(
            "noisy-kernel",
            "bf16 weights on nondeterministic kernels (run-to-run noise)",
            quant_sigma=0.01,
            request_sigma=0.05,
            quant_seed=101,
            ttft_s=0.25,
            tokens_per_s=90,
            price=_price(0.50, 2.00),
            label="bf16, noisy kernels",
        ),
        Profile(
            "fp8",
            "fp8 quantization (small, fixed rounding error)",
            quant_sigma=0.28,
            quant_seed=108,
            ttft_s=0.22,
            tokens_per_s=110,
            price=_price(0.40, 1.60),
            label="fp8 quantized",
        ),
        Profile(
            "int4",
            "int4 quantization (noticeable damage)",
            quant_sigma=0.95,
            quant_seed=104,
            ttft_s=0.18,
            tokens_per_s=140,
            price=_price(0.20, 0.80),
            label="int4 quantized",
        ),
        Profile(
            "int2",
            "int2 quantization (heavy damage)",
            quant_sigma=2.9,
            quant_seed=102,
            ttft_s=0.15,
            tokens_per_s=170,
            price=_price(0.08, 0.30),
            label="int2 quantized",
        ),
        Profile(
            "substituted",
            "claims the model, serves a smaller one",
            quant_sigma=0.1,
            model_seed=7,
            quant_seed=107,
            substituted=True,
            ttft_s=0.2,
            tokens_per_s=150,
            price=_price(0.15, 0.60),
            label="substituted model",
        ),
        Profile(
            "slow",
            "bf16 weights on an overloaded host (high TTFT, slow decode)",
            request_sigma=0.008,
            ttft_s=1.2,
            tokens_per_s=25,
            jitter=0.25,
            price=_price(0.30, 1.20),
            label="bf16, slow host",
        ),
        Profile(
            "pricey",
            "bf16 weights at a premium price",
            request_sigma=0.008,
            ttft_s=0.3,
            tokens_per_s=80,
            price=_price(1.50, 6.00),
            label="bf16, premium price",
        ),
        # Right weights, short-changed requests: only conformance checks catch these two.
        Profile(
            "capped",
            "bf16 weights, but the host silently lowers max_tokens to 100",
            request_sigma=0.008,
            ttft_s=0.3,
            tokens_per_s=75,
            price=_price(0.35, 1.40),
            fault="cap_max_tokens:100",
            label="bf16, capped output",
        ),
        Profile(
            "injected",
            "bf16 weights, but the host prepends its own system prompt",
            request_sigma=0.008,
            ttft_s=0.3,
            tokens_per_s=75,
            price=_price(0.30, 1.30),
            fault="inject_system:40",
            label="bf16, injected prompt",
        ),
    ]
    return [p.scaled(speed) for p in ladder] if speed != 1.0 else ladder
