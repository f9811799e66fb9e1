"""`vvtui run` (your endpoints) and `vvtui demo` (the simulated ladder), in the TUI or headless."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from vvtui.cli import conformance_opts

T = TypeVar("T")

RUN_EPILOG = """\
examples:
  vvtui run                                  TUI on your config's endpoints and suites
  vvtui run --suite quick --suite tools      choose suites (names, files or folders)
  vvtui run --headless --out snap.json       no UI: progress on stderr, table on stdout
  vvtui run --headless --min-fidelity 90 --max-ttft-ms 2000 --junit junit.xml
  vvtui run --resume snap.json --config ci.toml   finish an interrupted run (with its config)
  vvtui run --until-decided --max-cost 0.50  stop each endpoint once its verdict is certain

Keys come from the environment variables the config names (api_key_env, ${VAR} in headers).
Without the reference's key the run does not start; endpoints missing theirs are listed in a
warning and their requests fail (error kind "config") while the others are compared.
"""

DEMO_EPILOG = """\
examples:
  vvtui demo                                 the simulated quantization ladder in the TUI
  vvtui demo --headless --out demo.json      the same run headless, writing a snapshot
  vvtui demo --speed 10 --suite quick        ten times faster, fewer probes
  vvtui demo --fault int4=stall              make one simulated endpoint misbehave
  vvtui demo --resume demo.json              finish an interrupted demo run
  vvtui demo --headless --until-decided      the same verdicts for a fraction of the requests

Without --suite the demo runs every shipped suite (`all`: about 75 probes, some sampled several
times, and the reference repeated once: about 1,500 requests to 10 endpoints after 14 conformance
requests each, roughly a minute at --speed 1, the last third waiting on the `slow` endpoint).
`--suite quick` takes a few seconds.
"""


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--suite",
        action="append",
        metavar="NAME|PATH",
        help="probe suite: a shipped name (quick, quant, tools, json, logprob, sampled, "
        "leakage, all), a .toml file or a folder; repeatable",
    )
    p.add_argument("--seed", type=int, help="template seed (same seed, same probes)")
    p.add_argument("--headless", action="store_true", help="no TUI: progress, table, snapshot")
    p.add_argument(
        "--out", metavar="SNAP.json", help="snapshot path (default: ./vvtui-<time>.json)"
    )
    p.add_argument("--export-dir", metavar="DIR", help="where exports and snapshots go")
    p.add_argument(
        "--reference-repeats",
        type=int,
        metavar="N",
        help="extra reference passes measuring its noise floor (default 1)",
    )
    p.add_argument("--max-concurrency", type=int, metavar="N", help="requests in flight overall")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    decide = p.add_argument_group(
        "until decided (probes in a seeded random order; an endpoint gets no more once its "
        "anytime-valid interval clears the threshold or its budget is spent)"
    )
    decide.add_argument(
        "--until-decided",
        action="store_true",
        help="stop sending each endpoint probes once its verdict is decided "
        "(config: [run] until_decided = true)",
    )
    decide.add_argument(
        "--max-probes", type=int, metavar="N", help="budget: at most N probes per endpoint"
    )
    decide.add_argument(
        "--max-cost",
        type=float,
        metavar="USD",
        help="budget: stop sending an endpoint probes before it costs more than USD",
    )
    decide.add_argument(
        "--max-total-cost",
        type=float,
        metavar="USD",
        help="budget: stop sending probes before the whole run costs more than USD",
    )
    gates = p.add_argument_group(
        "gates (exit 1 naming each endpoint that fails; an unmeasurable value fails)"
    )
    gates.add_argument(
        "--min-fidelity",
        type=float,
        metavar="X",
        help="fail an endpoint whose fidelity is below X (0-100; the reference is not gated)",
    )
    gates.add_argument(
        "--max-ttft-ms",
        type=float,
        metavar="MS",
        help="fail an endpoint whose TTFT p50 is above MS",
    )
    gates.add_argument(
        "--max-cost-usd",
        type=float,
        metavar="USD",
        help="fail an endpoint on which this run cost more than USD",
    )
    gates.add_argument(
        "--junit",
        metavar="FILE",
        help="write JUnit XML: a test suite per endpoint, a case per gate",
    )


def register(sub: Any) -> None:
    run = sub.add_parser(
        "run",
        help="run probe suites against your endpoints (TUI, or --headless)",
        epilog=RUN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("--config", help="config file (default: $VVTUI_CONFIG or user config dir)")
    run.add_argument(
        "--endpoint", action="append", metavar="NAME", help="only these endpoints (+ reference)"
    )
    run.add_argument("--resume", metavar="SNAP.json", help="continue a partial run")
    run.add_argument(
        "--capabilities",
        metavar="FILE|off",
        help="features endpoints refused: a `vvtui endpoints check --json` file, or off "
        "(default: the last `vvtui endpoints check` of each endpoint, if under 7 days old)",
    )
    _add_common(run)
    conformance_opts.add_arguments(run)
    run.set_defaults(func=cmd_run)

    demo = sub.add_parser(
        "demo",
        help="the simulated quantization ladder: no keys, no network",
        epilog=DEMO_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument(
        "--speed", type=float, default=1.0, help="divide simulated delays by this (default 1)"
    )
    demo.add_argument(
        "--fault",
        action="append",
        metavar="PROFILE=FAULT",
        help="inject a fault into one simulated endpoint (see `vvtui sim --help`)",
    )
    demo.add_argument(
        "--resume",
        metavar="SNAP.json",
        help="continue a partial demo run (pass its --fault options again to keep them)",
    )
    _add_common(demo)
    conformance_opts.add_arguments(demo)
    demo.set_defaults(func=cmd_demo)


def _wants_tui(args: argparse.Namespace) -> bool:
    return not args.headless and sys.stdout.isatty() and sys.stdin.isatty()


def _prepared(args: argparse.Namespace, prepare: Callable[[], T]) -> T | int:
    """`prepare()`'s value; when the TUI was asked for and a config, probe or snapshot file is
    unusable, the error is shown on a screen of its own and its exit code returned instead
    (headless runs keep the one-line stderr error, for logs and CI)."""
    from vvtui.errors import VvtuiError

    try:
        return prepare()
    except VvtuiError as exc:
        if not _wants_tui(args):
            raise
        from vvtui.tui import show_error

        return show_error(exc)


def cmd_run(args: argparse.Namespace) -> int:
    prepared = _prepared(args, lambda: _prepare_run(args))
    if isinstance(prepared, int):
        return prepared
    config, plan, info, partial = prepared
    return _launch(args, config, plan, info, resume_from=partial)


def _prepare_run(args: argparse.Namespace) -> tuple[Any, Any, Any, Any]:
    from vvtui.config import load_config, resolve_config_path
    from vvtui.runner.plan import build_plan, pick_endpoints, plan_from_snapshot

    # A snapshot to resume is read first: what it says decides which config it needs.
    partial = _load_resumable(args.resume, "run") if args.resume else None
    config = load_config(resolve_config_path(args.config))
    config = pick_endpoints(config, args.endpoint)
    _fill_router_prices(config, quiet=args.quiet)
    capabilities = _declared_capabilities(config, args.capabilities, quiet=args.quiet)
    if partial is not None:
        plan, info = plan_from_snapshot(partial, config, max_concurrency=args.max_concurrency)
        plan.capabilities = capabilities
        args.out = args.out or args.resume
        _check_keys(config, plan.reference.name)
        if not any(e.conformance for e in partial.endpoints):
            conformance_opts.for_plan(plan, args, info.seed)
        return config, plan, info, partial
    plan, info = build_plan(
        config,
        suites=args.suite,
        seed=args.seed,
        reference_repeats=args.reference_repeats,
        max_concurrency=args.max_concurrency,
        command="run",
        until_decided=stopping_rule(args, config),
    )
    plan.capabilities = capabilities
    _check_keys(config, plan.reference.name)
    conformance_opts.for_plan(plan, args, info.seed)
    return config, plan, info, None


def _load_resumable(path: str, command: str) -> Any:
    """The partial snapshot at `path`, refused with the right command when the other one
    wrote it: a demo's endpoints exist only while `vvtui demo` runs its simulator."""
    from vvtui.errors import UsageError
    from vvtui.runner.plan import load_partial

    partial = load_partial(path)
    written_by = "demo" if partial.run.command == "demo" else "run"
    if written_by != command:
        raise UsageError(
            f"{path}: written by `vvtui {written_by}`, not `vvtui {command}`",
            hint=f"resume it with `vvtui {written_by} --resume {path}`",
        )
    return partial


def stopping_rule(args: argparse.Namespace, config: Any) -> Any:
    """The --until-decided rule, or None for a full run. A budget alone implies it."""
    from vvtui.errors import UsageError
    from vvtui.scoring.decide import StoppingRule

    budgets = (args.max_probes, args.max_cost, args.max_total_cost)
    if not (args.until_decided or config.run.until_decided or any(b is not None for b in budgets)):
        return None
    if args.max_probes is not None and args.max_probes < 1:
        raise UsageError(f"--max-probes {args.max_probes}: must be at least 1")
    for flag, value in (("--max-cost", args.max_cost), ("--max-total-cost", args.max_total_cost)):
        if value is not None and not value > 0:
            raise UsageError(f"{flag} {value:g}: must be a positive amount of USD")
    return StoppingRule(
        max_probes=args.max_probes,
        max_cost_usd=args.max_cost,
        max_total_cost_usd=args.max_total_cost,
    )


def _check_keys(config: Any, reference: str) -> None:
    """Before any request: refuse to start when the reference has no key (every score is
    relative to it, so the run would measure nothing), and warn once, listing them, when other
    endpoints have none (their requests fail with kind "config"; the rest still compare)."""
    from vvtui.config import missing_keys
    from vvtui.errors import ConfigError

    missing = missing_keys(config)
    for name, var in missing:
        if name == reference:
            raise ConfigError(
                f"{config.path or 'config'}: the reference endpoint {name} needs ${var}, "
                "which is not set",
                hint=f"export {var}=<your key>, or mark another endpoint reference = true",
            )
    if missing:
        listed = ", ".join(f"{name} (${var})" for name, var in missing)
        print(
            f"vvtui: warning: no key for {listed}: their requests will fail; export the "
            "variable(s) to include them",
            file=sys.stderr,
        )


def _declared_capabilities(config: Any, source: str | None, quiet: bool) -> dict[str, Any]:
    """Features endpoints refused (`vvtui endpoints check`) or the config declares missing,
    applied to the config. `off` ignores the checks, never the config."""
    import json
    from pathlib import Path

    from vvtui.clients.capabilities import (
        Capabilities,
        apply_capabilities,
        load_cached,
        with_config_declarations,
    )
    from vvtui.errors import UsageError

    found: dict[str, Capabilities]
    if source == "off":
        found = {}
    elif source is None:
        found = load_cached(config.endpoints)
    else:
        try:
            records = json.loads(Path(source).read_text(encoding="utf-8"))
            found = {c.endpoint: c for c in map(Capabilities.from_dict, records)}
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
            raise UsageError(
                f"--capabilities {source}: not a `vvtui endpoints check --json` file ({exc})"
            ) from None
    found = with_config_declarations(config.endpoints, found)
    for note in apply_capabilities(config.endpoints, found):
        if not quiet:
            print(f"vvtui: {note}", file=sys.stderr)
    return found


def _fill_router_prices(config: Any, quiet: bool) -> None:
    """OpenRouter endpoints without a price get the router's current one (cached for a day)."""
    from vvtui.providers.openrouter import is_openrouter

    if not any(
        e.price is None and not e.simulated and is_openrouter(e.base_url) for e in config.endpoints
    ):
        return
    import asyncio

    import httpx

    from vvtui.providers.prices import fill_prices

    async def fill() -> list[str]:
        async with httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0)) as http:
            return await fill_prices(config, http)

    for note in asyncio.run(fill()):
        if not quiet:
            print(f"vvtui: {note}", file=sys.stderr)


def cmd_demo(args: argparse.Namespace) -> int:
    # Read a snapshot to resume before starting the simulator: a wrong path fails at once.
    partial = _prepared(args, lambda: _load_resumable(args.resume, "demo") if args.resume else None)
    if isinstance(partial, int):
        return partial
    if partial is None and _wants_tui(args):
        return _demo_in_tui(args)
    servers: list[Any] = []
    try:
        prepared = _prepared(args, lambda: _demo_plan(args, servers, partial))
        if isinstance(prepared, int):
            return prepared
        config, plan, info = prepared
        return _launch(args, config, plan, info, resume_from=partial)
    finally:
        for server in servers:
            server.stop()


def _demo_plan(
    args: argparse.Namespace, servers: list[Any], partial: Any = None
) -> tuple[Any, Any, Any]:
    """The simulator (appended to `servers`, for the caller to stop), its config, and the plan
    over its endpoints (conformance checks included unless --no-conformance)."""
    from vvtui.sim.demo import demo_setup

    server, config = demo_setup(speed=args.speed, faults=args.fault or [])
    servers.append(server)
    plan, info = _prepare_demo(args, config, partial)
    conformance_opts.for_plan(plan, args, info.seed)
    return config, plan, info


def demo_preparer(args: argparse.Namespace, servers: list[Any]) -> Callable[[], Any]:
    """What `vvtui demo` prepares behind the TUI's first screen (see `_demo_plan`)."""

    def prepare() -> Any:
        _, plan, info = _demo_plan(args, servers)
        return plan, info

    return prepare


def _demo_in_tui(args: argparse.Namespace) -> int:
    """The screen first: the simulator and the suites load behind it (they take seconds)."""
    from pathlib import Path

    from vvtui.cli.exports import markdown_report
    from vvtui.tui import run_prepared_app

    servers: list[Any] = []
    try:
        return run_prepared_app(
            demo_preparer(args, servers),
            out=Path(args.out) if args.out else None,
            export_dir=Path(args.export_dir) if args.export_dir else Path.cwd(),
            preparing="simulated endpoints, probe suites",
            report=markdown_report,
        )
    finally:
        for server in servers:
            server.stop()


def _prepare_demo(args: argparse.Namespace, config: Any, partial: Any) -> tuple[Any, Any]:
    from vvtui.runner.plan import build_plan, plan_from_snapshot

    if partial is not None:
        # A fresh simulator serves the same weights and quantizations on another port, so it can
        # finish what the interrupted one started.
        args.out = args.out or args.resume
        return plan_from_snapshot(partial, config, max_concurrency=args.max_concurrency)
    return build_plan(
        config,
        suites=args.suite or ["all"],
        seed=args.seed if args.seed is not None else 7,
        reference_repeats=args.reference_repeats,
        max_concurrency=args.max_concurrency,
        command="demo",
        until_decided=stopping_rule(args, config),
    )


def _launch(
    args: argparse.Namespace, config: Any, plan: Any, info: Any, resume_from: Any = None
) -> int:
    from pathlib import Path

    from vvtui.runner.session import default_snapshot_path

    export_dir = args.export_dir or config.run.export_dir
    headless = args.headless or not (sys.stdout.isatty() and sys.stdin.isatty())
    if headless:
        from vvtui.cli.headless import run_headless

        if not args.headless and not args.quiet:
            print("vvtui: not a terminal, running headless", file=sys.stderr)
        out = Path(args.out) if args.out else default_snapshot_path(export_dir)
        return run_headless(args, plan, info, out, resume_from=resume_from)
    from vvtui.cli.exports import markdown_report
    from vvtui.tui import run_app

    return run_app(
        config=config,
        plan=plan,
        info=info,
        out=Path(args.out) if args.out else None,
        export_dir=Path(export_dir) if export_dir else Path.cwd(),
        resume_from=resume_from,
        report=markdown_report,
    )
