"""Shared fixtures. The fake provider is vvtui's own simulator on loopback: real HTTP, real SSE."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import pytest
from pytest_textual_snapshot import SVGImageExtension

from tests.golden import text_differences
from vvtui.sim.http import ServerThread
from vvtui.sim.profiles import Profile, default_profiles
from vvtui.sim.server import start_sim

# Tests run the simulator this many times faster than the demo: a full ladder run takes seconds.
TEST_SPEED = 20.0


def _svg_matches(
    self: SVGImageExtension, *, serialized_data: object, snapshot_data: object
) -> bool:
    """The TUI's SVG snapshots are compared like every other golden (tests/golden.py): text and
    integers exact, decimals to a relative 1e-9. What the frames show is rounded for display, so
    this is exact in practice; tests/test_golden_tolerance.py checks the numbers under them."""
    if not isinstance(serialized_data, str) or not isinstance(snapshot_data, str):
        return serialized_data == snapshot_data
    return not text_differences(serialized_data, snapshot_data, limit=1)


SVGImageExtension.matches = _svg_matches


@pytest.fixture(scope="session")
def sim_server() -> Iterator[ServerThread]:
    """The default ladder (reference, noisy-kernel, fp8, int4, int2, substituted, slow, pricey)
    at speed 20. Base URL of a profile: f"{sim_server.url}/{name}/v1"."""
    server = start_sim(default_profiles(speed=TEST_SPEED))
    yield server
    server.stop()


@pytest.fixture
def sim_server_factory() -> Iterator[Callable[..., ServerThread]]:
    """`start(profiles=None, speed=20)` starts a simulator for one test; all stop at teardown."""
    started: list[ServerThread] = []

    def start(profiles: Sequence[Profile] | None = None, speed: float = TEST_SPEED) -> ServerThread:
        server = start_sim(list(profiles) if profiles is not None else default_profiles(speed))
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
