"""Regenerate the TUI test fixtures: a finished run of the `quick` suite against the simulated
ladder (8 endpoints, seed 7), scored. Snapshot tests replay it, so their frames never depend on
timing or on the simulator's per-request noise.

    PYTHONPATH=. python tests/data/tui/make_fixtures.py [NAME.json]

`quick-ladder.json` predates top-k logprobs in the simulator (its answers list no alternatives);
`quick-ladder-logprobs.json`, made the same way since, has them: the divergence inspector's
tests and the README's screenshot read that one.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from vvtui.runner.plan import build_plan
from vvtui.runner.session import RunSession
from vvtui.scoring import count_tokens
from vvtui.sim.ladder import ladder_config
from vvtui.sim.profiles import default_profiles
from vvtui.sim.server import start_sim

HERE = Path(__file__).resolve().parent


def main(name: str = "quick-ladder.json") -> None:
    profiles = default_profiles(speed=20)
    server = start_sim(profiles)
    try:
        config = ladder_config(server.url, profiles)
        plan, info = build_plan(config, suites=["quick"], seed=7, command="demo")
        out = HERE / name
        session = RunSession(plan, info, out=out, count_tokens=count_tokens)
        snapshot = asyncio.run(session.run())
        print(f"{out}: {len(snapshot.results)} results")
    finally:
        server.stop()


if __name__ == "__main__":
    import sys

    main(*sys.argv[1:2])
