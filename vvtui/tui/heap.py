"""The cyclic garbage collector while answers stream: no full collections mid-run.

A full (generation 2) collection walks every container object the process holds. With the
app's widgets, Textual's line caches and the run's results that was a 50-170 ms stall of the
event loop every few seconds on the 2-core benchmark machine (benchmarks/README.md): long
enough to delay token timestamps and keypresses, and the worst of the loop's lag.

So, for front ends only (never library code or tests, which must not change process-wide GC
settings): `settle()` once the app is up freezes what start-up built (modules, widgets) out of
the collector's reach for good; `defer_full()` while a run streams lets the young generations be
collected as usual (short-lived cycles die there) but holds off full collections; `resume_full()`
when the run is over does the one full collection that was held off, at a moment when nothing
is timed, and restores the thresholds.
"""

from __future__ import annotations

import gc

# A generation-2 threshold no run reaches: full collections wait for `resume_full()`.
_NEVER = 1 << 30
_saved: tuple[int, int, int] | None = None


def settle() -> None:
    """Collect once, then freeze every object alive now out of the collector's reach."""
    gc.collect()
    gc.freeze()


def defer_full() -> None:
    """Hold off full collections (young generations are still collected)."""
    global _saved
    if _saved is None:
        _saved = gc.get_threshold()
        gc.set_threshold(_saved[0], _saved[1], _NEVER)


def resume_full() -> None:
    """Restore the thresholds and do the full collection that was held off."""
    global _saved
    if _saved is not None:
        gc.set_threshold(*_saved)
        _saved = None
        gc.collect()
