"""How closely two score reports must agree: bit for bit on one machine, to 1e-9 across machines.

numpy picks its SIMD kernels (and OpenBLAS its BLAS kernels) for the CPU it runs on, so sums,
products and transcendental functions can round differently in the last bits from one machine
to the next. The scorer is deterministic on one machine (the same snapshot gives the same report,
bit for bit, in any process), but another CPU may move a float by an ulp or two. Two reports
therefore *agree* when every non-float (strings, ints, booleans, None, keys, list lengths) is
identical and every float is within a relative `REL_TOL` of the other, or within `ABS_TOL` of it
when both are that close to zero: a quantity that is zero up to rounding (an MMD statistic of
4e-16 here, 0.0 there) has no meaningful relative difference.

Used by `vvtui score` (stored scores versus a re-score), the golden tests and the scoring
benchmark, so the promise is stated and checked in one place.
"""

from __future__ import annotations

import math
from typing import Any

REL_TOL = 1e-9
ABS_TOL = 1e-12


def floats_close(a: float, b: float, rel: float = REL_TOL, abs_tol: float = ABS_TOL) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_tol)


def _is_float(value: Any) -> bool:
    return isinstance(value, float)


def differences(
    got: Any,
    want: Any,
    *,
    rel: float = REL_TOL,
    abs_tol: float = ABS_TOL,
    limit: int = 5,
    path: str = "",
) -> list[str]:
    """Where `got` and `want` (plain JSON-like data) disagree, as "path: got != want" lines,
    at most `limit` of them, in document order. Empty when they agree."""
    out: list[str] = []
    _walk(got, want, path, rel, abs_tol, limit, out)
    return out


def _walk(got: Any, want: Any, path: str, rel: float, abs_tol: float, limit: int, out: list[str]):
    if len(out) >= limit:
        return
    where = path or "/"
    if _is_float(got) and _is_float(want):
        if not floats_close(got, want, rel, abs_tol):
            scale = max(abs(got), abs(want))
            ratio = abs(got - want) / scale if scale else 0.0
            out.append(f"{where}: {got!r} != {want!r} (relative difference {ratio:.1e})")
        return
    if type(got) is not type(want):
        out.append(f"{where}: {got!r} != {want!r} ({type(got).__name__} vs {type(want).__name__})")
        return
    if isinstance(got, dict):
        if set(got) != set(want):
            extra = sorted(map(str, set(got) - set(want)))
            missing = sorted(map(str, set(want) - set(got)))
            out.append(f"{where}: keys differ (extra {extra}, missing {missing})")
            return
        for key in want:
            _walk(got[key], want[key], f"{path}/{key}", rel, abs_tol, limit, out)
        return
    if isinstance(got, list | tuple):
        if len(got) != len(want):
            out.append(f"{where}: {len(got)} items != {len(want)} items")
            return
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            _walk(g, w, f"{path}/{i}", rel, abs_tol, limit, out)
        return
    if got != want:
        out.append(f"{where}: {got!r} != {want!r}")


def agree(got: Any, want: Any, *, rel: float = REL_TOL, abs_tol: float = ABS_TOL) -> bool:
    """True when the two reports agree as the module docstring defines it."""
    return not differences(got, want, rel=rel, abs_tol=abs_tol, limit=1)
