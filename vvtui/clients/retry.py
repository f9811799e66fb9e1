"""When to retry a request and how long to wait: the official OpenAI client's policy, bounded.

Retried: HTTP 408, 409, 429 and >= 500 (a server's `x-should-retry: true|false` overrides), and
connections refused or reset before any response. Not retried: DNS failures, header timeouts
(the endpoint already had `timeout_s`), any other 4xx, and ANYTHING once a token has arrived
(a second answer would not be the same answer; the partial one is recorded as truncated).

Wait: `retry-after-ms`, then `retry-after` (seconds or an HTTP date), capped at
`retry_after_cap_s`; otherwise `base_s` doubling per retry up to `max_s`, minus up to 25 %
jitter. A wait that would end past the request's budget is not taken: the error is reported.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

RETRY_STATUSES = frozenset({408, 409, 429})


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds the server asked us to wait, or None. Negative or unparsable values are None."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms is not None:
        try:
            value = float(raw_ms) / 1000.0
        except ValueError:
            value = -1.0
        if value >= 0 and value == value:  # not NaN
            return value
    raw = headers.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        value = float(raw)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        value = when.timestamp() - (time.time() if now is None else now)
        return max(0.0, value)
    return value if value >= 0 and value == value else None


def status_is_retryable(status: int, headers: Mapping[str, str] | None = None) -> bool:
    should = (headers or {}).get("x-should-retry")
    if should == "true":
        return True
    if should == "false":
        return False
    return status in RETRY_STATUSES or status >= 500


@dataclass(slots=True)
class RetryPolicy:
    """Backoff parameters. Tests shrink them; production keeps the defaults."""

    base_s: float = 0.5
    max_s: float = 8.0
    retry_after_cap_s: float = 30.0
    # Total seconds from the first attempt within which a retry may still start.
    # None: the endpoint's timeout_s.
    budget_s: float | None = None
    jitter: float = 0.25
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, retry_number: int, retry_after: float | None) -> float:
        """Seconds to wait before retry `retry_number` (1 for the first retry)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.retry_after_cap_s)
        backoff = min(self.base_s * 2.0 ** (retry_number - 1), self.max_s)
        return backoff * (1.0 - self.jitter * self.rng.random())

    def allows(self, elapsed_s: float, delay_s: float, budget_s: float) -> bool:
        """Whether a retry after waiting `delay_s` still starts within the budget."""
        return elapsed_s + delay_s <= budget_s
