"""The per-endpoint circuit breaker: a host that keeps failing the same way is marked down, so
its remaining probes cost nothing instead of a timeout each.

Pure state, no clock and no I/O (the runner passes `now`), so the rules can be tested on their
own and stated in docs/reliability.md:

- Only transport failures count (`TRANSPORT_KINDS`, plus `http`/`api` answers with a 5xx status,
  which the client already retried): a host that answers with a 4xx or a bad answer is alive.
- `down_after` consecutive failures *of one kind* open the breaker (0: never, and none of the
  rules here apply). Any other outcome
  breaks the streak: an answer, a non-transport error, a transport failure of another kind.
- While down, nothing is sent. After `retry_s` one trial request may go (half-open); an answer
  (or any non-transport outcome) closes the breaker, a transport failure opens it again for
  another `retry_s`.
- An answer that arrives while down (a request already in flight) closes it too.
- While a streak is running (one transport failure or more, breaker still closed), one request
  at a time is in flight: a dead host then costs `down_after` waits one after another at worst,
  not a fresh round of `max_concurrency` requests started just before the streak was complete.
"""

from __future__ import annotations

from dataclasses import dataclass

from vvtui.model import TRANSPORT_KINDS, ErrorInfo

# How each kind reads in "endpoint down after 3 consecutive ...".
KIND_PLURALS = {
    "timeout": "timeouts",
    "stall": "stalls",
    "connect": "failed connections",
    "dropped": "dropped connections",
    "dns": "DNS failures",
    "5xx": "server errors (5xx)",
}
DEFAULT_DOWN_AFTER = 3
DEFAULT_RETRY_S = 30.0


def transport_kind(error: ErrorInfo | None) -> str | None:
    """The breaker's name for this failure, or None when it says nothing about the transport."""
    if error is None:
        return None
    if error.kind in TRANSPORT_KINDS:
        return error.kind
    if error.kind in ("http", "api") and error.status is not None and error.status >= 500:
        return "5xx"
    return None


def down_reason(kind: str, count: int) -> str:
    return f"{count} consecutive {KIND_PLURALS.get(kind, kind)}"


@dataclass(slots=True)
class Breaker:
    down_after: int = DEFAULT_DOWN_AFTER
    retry_s: float = DEFAULT_RETRY_S

    state: str = "closed"  # closed | down | trial
    streak_kind: str | None = None
    streak: int = 0
    # Why it is down ("3 consecutive stalls"), kept after it recovers for the record.
    reason: str = ""
    retry_at: float = 0.0
    times_down: int = 0
    in_flight: int = 0

    @property
    def down(self) -> bool:
        return self.state != "closed"

    def admit(self, now: float) -> str:
        """What the next request may do: "send", "trial" (the one half-open request) or "wait"."""
        if self.state == "closed":
            if self.streak and self.in_flight and self.down_after > 0:
                return "wait"
            self.in_flight += 1
            return "send"
        if self.state == "down" and now >= self.retry_at:
            self.state = "trial"
            self.in_flight += 1
            return "trial"
        return "wait"

    def release(self, *, trial: bool = False, now: float | None = None) -> None:
        """An admitted request that brought no verdict: not sent after all (declared
        unsupported), or a trial abandoned when the run ended (`now`: wait again from then)."""
        self.in_flight = max(0, self.in_flight - 1)
        if trial and self.state == "trial":
            self.state = "down"
            if now is not None:
                self.retry_at = now + self.retry_s

    def record(self, error: ErrorInfo | None, now: float, *, trial: bool = False) -> str | None:
        """Take one finished request's outcome. Returns "down" when this outcome opened the
        breaker, "up" when it closed it, else None. Each admitted request is recorded (or
        released) once."""
        self.in_flight = max(0, self.in_flight - 1)
        kind = transport_kind(error)
        if kind is None:
            self.streak_kind, self.streak = None, 0
            if self.state != "closed" and (trial or error is None):
                self.state = "closed"
                return "up"
            return None
        if trial:
            # The trial failed: down again, for another wait.
            self.state = "down"
            self.retry_at = now + self.retry_s
            return None
        if kind == self.streak_kind:
            self.streak += 1
        else:
            self.streak_kind, self.streak = kind, 1
        if self.state == "closed" and self.down_after > 0 and self.streak >= self.down_after:
            self.state = "down"
            self.reason = down_reason(kind, self.streak)
            self.retry_at = now + self.retry_s
            self.times_down += 1
            return "down"
        return None

    def not_sent_error(self) -> ErrorInfo:
        return ErrorInfo("down", f"not sent: endpoint down after {self.reason}")
