"""Failures counted per endpoint and cause, so fifty DNS errors read as one line with a count
("or-groq: DNS error ×50") in the headless output and the TUI alike.

Plain data, no I/O: front ends decide how to draw a line and when to redraw it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vvtui.model import ErrorInfo, Result
from vvtui.untrusted import shown

# What each error kind is called in a line a person reads (docs/clients.md has the kinds).
KIND_LABELS = {
    "connect": "connection failed",
    "dns": "DNS error",
    "timeout": "timeout",
    "stall": "stall",
    "http": "HTTP error",
    "rate_limited": "rate limited",
    "api": "API error",
    "protocol": "protocol error",
    "dropped": "connection dropped",
    "unsupported": "unsupported",
    "cancelled": "cancelled",
    "config": "missing key",
    "down": "not sent",
    "internal": "vvtui bug",
}


def cause_label(error: ErrorInfo) -> str:
    if error.kind == "down" and error.message.startswith("trial abandoned"):
        return "trial abandoned"  # sent, unlike the rest of its kind
    label = KIND_LABELS.get(error.kind, error.kind)
    if error.status is not None and error.kind in ("http", "api", "rate_limited"):
        label += f" {error.status}"
    return label


@dataclass(slots=True)
class Cause:
    endpoint: str
    label: str
    # The first message of this cause, one line, redacted and neutralised.
    message: str
    count: int = 0

    def line(self) -> str:
        times = f" ×{self.count}" if self.count > 1 else ""
        return f"{self.endpoint}: {self.label}{times}: {self.message}"


@dataclass
class FailureTally:
    causes: dict[tuple[str, str], Cause] = field(default_factory=dict)
    answered: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)
    # Endpoints whose breaker is open, with the reason ("3 consecutive stalls").
    down: dict[str, str] = field(default_factory=dict)

    def add(self, result: Result) -> Cause | None:
        """Count one result; returns its cause (new or with a higher count) when it failed."""
        name = result.endpoint
        error = result.error
        if error is None:
            self.answered[name] = self.answered.get(name, 0) + 1
            return None
        self.failed[name] = self.failed.get(name, 0) + 1
        label = cause_label(error)
        cause = self.causes.get((name, label))
        if cause is None:
            # "not sent: endpoint down after ..." reads "NAME: not sent ×9: endpoint down after".
            message = error.message.removeprefix(f"{label}: ")
            cause = self.causes[(name, label)] = Cause(name, label, shown(message))
        cause.count += 1
        return cause

    def set_down(self, endpoint: str, reason: str | None) -> None:
        if reason is None:
            self.down.pop(endpoint, None)
        else:
            self.down[endpoint] = reason

    def of(self, endpoint: str) -> list[Cause]:
        """An endpoint's causes, most frequent first."""
        mine = [c for c in self.causes.values() if c.endpoint == endpoint]
        return sorted(mine, key=lambda c: -c.count)

    def summary(self, endpoint: str, limit: int = 3) -> str:
        """ "DNS error ×50, timeout ×2" for one endpoint ("" when nothing failed)."""
        return ", ".join(
            f"{c.label}{f' ×{c.count}' if c.count > 1 else ''}" for c in self.of(endpoint)[:limit]
        )
