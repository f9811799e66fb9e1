"""--until-decided against the full suite: candidate requests to a verdict, and how often the
verdict is wrong, over seeded runs of the simulated ladder (and the real llama.cpp ladder when
`vvtui local up` has it running).

Per seed: one full run of the `all` suite (`vvtui demo --headless --seed S`), then the stopping
rule played back over its answers in that seed's order (`vvtui.scoring.decide.replay`: no
requests in flight, so a lower bound on overshoot), plus a few live --until-decided runs for
the overshoot a real run adds. Ground truth on the simulated ladder: noisy-kernel, slow and
pricey serve the reference's weights (a "degraded" call is a false alarm); int4, int2 and
substituted do not, and capped and injected short-change the request, which the conformance
checks (run first, as `vvtui demo` does) catch (a "faithful" call is a miss); fp8 sits at the
threshold (either is fine).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter, defaultdict
from typing import Any

FAITHFUL = ("noisy-kernel", "slow", "pricey")
# capped and injected serve the reference's weights but short-change the request: conformance
# (run first, as `vvtui demo` does) makes them degraded, so "faithful" for them is a miss too.
DEGRADED = ("int4", "int2", "substituted", "capped", "injected")
SPEED = 50.0


def _run(seed: int, rule: Any = None) -> Any:
    from vvtui.runner.plan import build_plan
    from vvtui.runner.session import RunSession
    from vvtui.scoring import count_tokens
    from vvtui.sim.demo import demo_setup

    server, config = demo_setup(speed=SPEED)
    try:
        plan, info = build_plan(
            config, suites=["all"], seed=seed, command="demo", until_decided=rule
        )
        # As `vvtui demo` runs: the conformance checks first (docs/scoring.md, Conformance).
        plan.conformance_options = {"context_tokens": 6000, "usage_slack": 2, "seed": seed}
        session = RunSession(plan, info, count_tokens=count_tokens)
        return asyncio.run(session.run())
    finally:
        server.stop()


def _candidate_requests(snapshot: Any) -> Counter[str]:
    ref = snapshot.reference.name
    return Counter(r.endpoint for r in snapshot.results if r.endpoint != ref)


def _verdicts(snapshot: Any) -> dict[str, str]:
    return {n: s["verdict"] for n, s in snapshot.scores["endpoints"].items()}


def _wrong(name: str, verdict: str) -> bool:
    return (name in FAITHFUL and verdict == "degraded") or (
        name in DEGRADED and verdict == "faithful"
    )


def _real_ladder_note() -> str:
    """Why the real llama.cpp ladder leg did not run. Only its absence could be tested on the
    machine this was written on; with the `local` extra installed, run the same comparison by
    hand: `vvtui local up`, then `vvtui run --config <its config> --headless --suite all` with
    and without `--until-decided` (see benchmarks/README.md)."""
    from vvtui.local import missing_extra

    missing = missing_extra()
    if missing:
        return f"skipped: the 'local' extra is not installed ({', '.join(missing)})"
    return "skipped: not automated yet; compare by hand (benchmarks/README.md)"


def run(quick: bool = False) -> dict[str, float]:
    from vvtui.scoring.decide import StoppingRule, replay

    seeds = list(range(1, 5 if quick else 21))
    live_seeds = seeds[:1] if quick else seeds[:3]
    rule = StoppingRule()
    full_req: dict[str, list[int]] = defaultdict(list)
    ud_req: dict[str, list[int]] = defaultdict(list)
    agree = disagree = 0
    wrong_full: Counter[str] = Counter()
    wrong_ud: Counter[str] = Counter()
    ud_verdicts: dict[str, Counter[str]] = defaultdict(Counter)
    ratios = []
    started = time.perf_counter()
    for seed in seeds:
        full = _run(seed)
        played = replay(full, rule, seed=seed)
        fv, uv = _verdicts(full), _verdicts(played)
        fr, ur = _candidate_requests(full), _candidate_requests(played)
        for name in fr:
            full_req[name].append(fr[name])
            ud_req[name].append(ur[name])
            ud_verdicts[name][uv[name]] += 1
            wrong_full[name] += _wrong(name, fv[name])
            wrong_ud[name] += _wrong(name, uv[name])
            if fv[name] in ("faithful", "degraded"):
                if uv[name] == fv[name]:
                    agree += 1
                else:
                    disagree += 1
        ratios.append(sum(fr.values()) / max(1, sum(ur.values())))
        print(
            f"  seed {seed:2d}: candidate requests full {sum(fr.values())}, until decided "
            f"{sum(ur.values())} ({ratios[-1]:.2f}x); " + ", ".join(f"{n} {uv[n][:4]}" for n in fr),
            flush=True,
        )
    print(f"  ({len(seeds)} seeds in {time.perf_counter() - started:.0f} s)")
    print(f"  {'endpoint':<14} {'full req':>8} {'decided req':>11} {'verdicts until decided'}")
    for name in full_req:
        verdicts = ", ".join(f"{v} {n}" for v, n in ud_verdicts[name].most_common())
        print(
            f"  {name:<14} {statistics.mean(full_req[name]):8.0f} "
            f"{statistics.mean(ud_req[name]):11.1f} {verdicts}"
        )
    false_alarms = sum(wrong_ud[n] for n in FAITHFUL)
    faithful_runs = len(seeds) * len(FAITHFUL)
    print(
        f"  verdicts as the full run's where it decided: {agree}/{agree + disagree}; wrong "
        f"verdicts until decided {sum(wrong_ud.values())}, full run {sum(wrong_full.values())}; "
        f"false alarms on faithful copies {false_alarms}/{faithful_runs}"
    )
    live = []
    for seed in live_seeds:
        snap = _run(seed, rule)
        req = _candidate_requests(snap)
        played = _candidate_requests(replay(_run(seed), rule, seed=seed))
        live.append(sum(req.values()))
        print(
            f"  live --until-decided seed {seed}: {sum(req.values())} candidate requests "
            f"(played back: {sum(played.values())}); "
            + ", ".join(f"{n} {v[:4]}" for n, v in _verdicts(snap).items())
        )
    print(f"  real llama.cpp ladder: {_real_ladder_note()}")
    total_full = sum(sum(v) for v in full_req.values())
    total_ud = sum(sum(v) for v in ud_req.values())
    return {
        "decide_ratio": total_full / max(1, total_ud),
        "decide_ratio_worst": min(ratios),
        "decide_agree": agree / max(1, agree + disagree),
        "decide_false_alarm": false_alarms / max(1, faithful_runs),
        "decide_live_requests": statistics.mean(live) if live else float("nan"),
    }
