"""Optional request features a probe can depend on, by the names `vvtui endpoints check`, the
config's `unsupported` key and the scoring's conformance gaps use.

Plain functions over `Probe`: the capability checks (clients), the runner and the scoring core
all need them, so they live below all three.
"""

from __future__ import annotations

from vvtui.model import Probe

FEATURES = ("stream_usage", "logprobs", "tools", "json_object", "json_schema", "seed")


def probe_features(probe: Probe) -> set[str]:
    """The features a probe's verdict depends on (stream usage never: counts can be estimated)."""
    needs: set[str] = set()
    if probe.kind == "logprob" or probe.top_logprobs > 0:
        needs.add("logprobs")
    if probe.tools:
        needs.add("tools")
    fmt = (probe.response_format or {}).get("type")
    if fmt in ("json_object", "json_schema"):
        needs.add(fmt)
    if probe.kind == "sampled" and probe.seed is not None:
        needs.add("seed")
    return needs
