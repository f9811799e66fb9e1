"""Endpoint configs for a running simulator: what `vvtui demo` runs against."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vvtui.config import Config, EndpointConfig
from vvtui.sim.profiles import SIM_MODEL, Profile
from vvtui.toml_writer import format_comment, join_blocks, table_lines


def _base_url(root: str, profile: Profile) -> str:
    return f"{root.rstrip('/')}/{profile.name}/v1"


def _label(profile: Profile) -> str:
    return profile.label or profile.description


# A simulated endpoint's longest silence is its time to first token; four times that (never less
# than STALL_FLOOR_S, for a busy machine) is a stall. Real endpoints keep the 30 s default, but a
# demo with `--fault int4=stall` should not wait 30 s per request. The floors, the header timeout
# and the breaker's wait scale with `--speed` like the simulated delays, down to the MIN_ values
# (a loaded machine can pause a healthy simulator for a moment).
STALL_FLOOR_S = 3.0
MIN_STALL_S = 1.0
HEADERS_TIMEOUT_S = 10.0
MIN_HEADERS_TIMEOUT_S = 5.0
DOWN_RETRY_S = 30.0


def stall_timeout(profile: Profile, speed: float = 1.0) -> float:
    gap = profile.ttft_s * (1.0 + profile.jitter) + 1.0 / profile.tokens_per_s
    floor = max(MIN_STALL_S, STALL_FLOOR_S / speed)
    return round(max(floor, 4.0 * gap), 2)


def ladder_config(base_url_root: str, profiles: Sequence[Profile], speed: float = 1.0) -> Config:
    """One simulated endpoint per profile; `reference` (or else the first) is the reference.
    `speed`: what the profiles' delays were divided by (`vvtui demo --speed`)."""
    names = [p.name for p in profiles]
    ref = "reference" if "reference" in names else names[0]
    endpoints = [
        EndpointConfig(
            name=p.name,
            base_url=_base_url(base_url_root, p),
            model=SIM_MODEL,
            reference=p.name == ref,
            price=p.price,
            max_concurrency=4,
            timeout_s=max(MIN_HEADERS_TIMEOUT_S, HEADERS_TIMEOUT_S / speed),
            stall_timeout_s=stall_timeout(p, speed),
            down_retry_s=DOWN_RETRY_S / speed,
            simulated=True,
            labels={"simulated": _label(p)},
        )
        for p in profiles
    ]
    return Config(endpoints=endpoints)


def sim_config_toml(base_url_root: str, profiles: Sequence[Profile]) -> str:
    """The same ladder as a config file a user can save, edit and pass with --config."""
    config = ladder_config(base_url_root, profiles)
    blocks = [
        format_comment(
            "vvtui config for the simulated quantization ladder (`vvtui sim`).\n"
            "Every endpoint is simulated: no keys, no network. Point base_url at real servers to\n"
            "compare real providers instead; see `vvtui config init` for a commented example."
        ),
        table_lines("run", {"suites": ["quick"]}),
    ]
    for profile, e in zip(profiles, config.endpoints, strict=True):
        values: dict[str, Any] = {
            "name": e.name,
            "base_url": e.base_url,
            "model": e.model,
            "reference": True if e.reference else None,
            "price": None
            if e.price is None
            else {"input": e.price.input, "output": e.price.output},
            "max_concurrency": e.max_concurrency,
            "timeout_s": e.timeout_s,
            "stall_timeout_s": e.stall_timeout_s,
            "simulated": True,
            "labels": {"simulated": e.labels["simulated"]},
        }
        blocks.append(table_lines("endpoint", values, array=True, comments=[profile.description]))
    return join_blocks(blocks)
