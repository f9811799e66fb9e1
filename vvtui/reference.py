"""Which endpoint is the reference: the one marked `reference = true`, else the first listed.
One rule for the config, the run plan, the snapshot and the scorer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar


class _Endpoint(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def reference(self) -> bool: ...


E = TypeVar("E", bound=_Endpoint)


def reference_of(endpoints: Sequence[E]) -> E:
    """The reference among `endpoints` (ValueError when there are none)."""
    for e in endpoints:
        if e.reference:
            return e
    if not endpoints:
        raise ValueError("no endpoints, so no reference")
    return endpoints[0]
