"""The simulated ladder `vvtui demo` runs against: profiles, injected faults, a running server."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Protocol

from vvtui.config import Config
from vvtui.errors import UsageError, suggest_or_list
from vvtui.sim.faults import FAULTS, parse_fault
from vvtui.sim.ladder import ladder_config
from vvtui.sim.profiles import Profile, default_profiles


class Stoppable(Protocol):
    @property
    def url(self) -> str: ...

    def stop(self) -> None: ...


def apply_faults(profiles: list[Profile], specs: Sequence[str]) -> list[Profile]:
    """`["int4=stall", "fp8=rate_limit:2"]` → the same profiles with those faults set."""
    by_name = {p.name: p for p in profiles}
    for spec in specs:
        name, sep, fault = spec.partition("=")
        if not sep or not fault:
            raise UsageError(f"--fault {spec!r}: expected PROFILE=FAULT, e.g. int4=stall")
        if name not in by_name:
            raise UsageError(
                f"--fault {spec!r}: no simulated endpoint {name!r}",
                hint=suggest_or_list(name, by_name),
            )
        try:
            parse_fault(fault)
        except ValueError:
            fault_name = fault.split(":")[0]
            raise UsageError(
                f"--fault {spec!r}: unknown fault {fault_name!r}",
                hint=suggest_or_list(fault_name, FAULTS),
            ) from None
        by_name[name] = dataclasses.replace(by_name[name], fault=fault)
    return [by_name[p.name] for p in profiles]


def demo_setup(
    speed: float = 1.0, faults: Sequence[str] = (), *, in_process: bool = False
) -> tuple[Stoppable, Config]:
    """Start the simulator and return it with a config pointing at it.

    By default the simulator runs in a child process: in a thread it would share the GIL with the
    TUI, and a repaint would delay its writes and blur the timing ground truth it stands for.
    """
    if speed <= 0:
        raise UsageError(f"--speed {speed:g}: must be positive")
    profiles = apply_faults(default_profiles(speed), faults)
    server: Stoppable
    if in_process:
        from vvtui.sim.server import start_sim

        server = start_sim(profiles)
    else:
        from vvtui.sim.process import start_sim_process

        server = start_sim_process(profiles)
    return server, ladder_config(server.url, profiles, speed)
