"""Latency, throughput, errors and price per endpoint, kept incrementally.

Percentiles interpolate linearly between order statistics (numpy's default), over values kept
sorted as they arrive, so an update is O(log n) search plus a list insert and the answer does not
depend on arrival order. Sums are re-done with `math.fsum` when reporting, which is exact and
therefore order-independent too (a re-scored snapshot gives the same cents).
"""

from __future__ import annotations

import math
from bisect import insort
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from vvtui.content import content_text
from vvtui.model import Price, Probe, Result


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """The q-quantile (0..1) of already sorted values (`quantile`); None when there are none."""
    return quantile(sorted_values, q) if sorted_values else None


def quantile(sorted_values: Sequence[float], q: float) -> float:
    """The q-quantile (0..1) of already sorted, non-empty values: linear interpolation between
    order statistics (numpy's default). The scores' p50/p90 and the reports' charts use it."""
    n = len(sorted_values)
    pos = q * (n - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, n - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def _messages_text(probe: Probe) -> str:
    contents = [m.get("content") if isinstance(m, dict) else None for m in probe.messages]
    # Each text part on a line of its own; messages without text add nothing.
    return "\n".join(
        content_text(c, "\n") for c in contents if isinstance(c, str) or (isinstance(c, list) and c)
    )


def result_cost(
    result: Result, price: Price | None, probe: Probe | None
) -> tuple[float | None, bool]:
    """(USD cost of one request, whether token counts were estimated).

    A provider-reported cost (OpenRouter's `usage.cost`, recorded as `cost_usd`) wins. Otherwise
    price x usage, estimating missing counts: output from the provider's token count or the
    default tiktoken encoding, input from the probe's message text (+4 tokens per message for
    the chat template). A request that failed before any token was generated costs nothing.
    """
    if result.cost_usd is not None:
        return float(result.cost_usd), result.usage_estimated
    if price is None:
        return None, False
    estimated = result.usage_estimated
    out_tokens = result.output_tokens
    in_tokens = result.input_tokens
    if result.error is not None and not result.text and out_tokens is None:
        return 0.0, estimated
    if out_tokens is None:
        estimated = True
        if result.tokens is not None and len(result.tokens):
            out_tokens = len(result.tokens)
        else:
            from vvtui.scoring.tokenize import tiktoken_tokens

            out_tokens = len(tiktoken_tokens(result.text + result.reasoning)) if result.text else 0
    if in_tokens is None:
        estimated = True
        if probe is not None:
            from vvtui.scoring.tokenize import tiktoken_tokens

            in_tokens = len(tiktoken_tokens(_messages_text(probe))) + 4 * len(probe.messages)
        else:
            in_tokens = 0
    return price.cost(in_tokens, out_tokens), estimated


@dataclass(slots=True)
class PerfAgg:
    """Per-endpoint request statistics, updated per result."""

    ttft: list[float] = field(default_factory=list)
    tps: list[float] = field(default_factory=list)
    costs: dict[tuple[str, int, int], float] = field(default_factory=dict)
    estimated: set[tuple[str, int, int]] = field(default_factory=set)
    errors: Counter[str] = field(default_factory=Counter)
    results: int = 0
    priced: bool = False

    def add(self, result: Result, price: Price | None, probe: Probe | None) -> None:
        self.results += 1
        key = (result.probe_id, result.sample, result.repeat)
        if result.error is not None:
            self.errors[result.error.kind] += 1
        else:
            if result.ttft_s is not None and math.isfinite(result.ttft_s):
                insort(self.ttft, float(result.ttft_s))
            if result.tokens_per_s is not None and math.isfinite(result.tokens_per_s):
                insort(self.tps, float(result.tokens_per_s))
        cost, estimated = result_cost(result, price, probe)
        if cost is not None:
            self.priced = True
            self.costs[key] = cost
            if estimated:
                self.estimated.add(key)

    def remove(self, result: Result) -> None:
        """Forget a result that is being replaced (same key arriving again)."""
        self.results -= 1
        key = (result.probe_id, result.sample, result.repeat)
        if result.error is not None:
            self.errors[result.error.kind] -= 1
            if self.errors[result.error.kind] <= 0:
                del self.errors[result.error.kind]
        else:
            for values, value in ((self.ttft, result.ttft_s), (self.tps, result.tokens_per_s)):
                if value is not None and math.isfinite(value):
                    try:
                        values.remove(float(value))
                    except ValueError:
                        pass
        self.costs.pop(key, None)
        self.estimated.discard(key)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def total_cost(self) -> float | None:
        if not self.priced:
            return None
        # fsum is exactly rounded, hence independent of the order results arrived in.
        return math.fsum(self.costs.values())
