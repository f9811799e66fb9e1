"""`vvtui sim`: run the simulated endpoints in the foreground."""

from __future__ import annotations

import argparse
import sys
from typing import Any

EPILOG = """\
examples:
  vvtui sim                                  serve the simulated ladder on 127.0.0.1:8765
  vvtui sim --port 0 --speed 10              a free port, every delay ten times shorter
  vvtui sim --print-config > sim.toml        also print a config; then, in another terminal:
  vvtui run --config sim.toml
  curl -N http://127.0.0.1:8765/int4/v1/chat/completions -d '{"model": "vv-sim-8b",
    "stream": true, "messages": [{"role": "user", "content": "hi"}]}'

Faults on demand: send the header `x-vvtui-sim-fault: NAME[:N]` (e.g. stall:5, rate_limit:2,
html_error), or start `vvtui demo --fault PROFILE=NAME[:N]`. What each fault sends, the routes,
the parameters honoured and the timing model: `python -m pydoc vvtui.sim.server`; the model and
the ladder: docs/sim.md.
"""

DEFAULT_PORT = 8765


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "sim",
        help="serve simulated OpenAI-compatible endpoints (a quantization ladder) locally",
        description="Serve the simulated quantization ladder (bf16 reference, noisy kernels, "
        "fp8, int4, int2, a substituted model, a slow and a pricey host) on one local port "
        "until Ctrl-C. Real HTTP and SSE: any OpenAI-compatible client can use it.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0: any)"
    )
    parser.add_argument(
        "--speed", type=float, default=1.0, help="divide every delay by this (default 1)"
    )
    parser.add_argument(
        "--print-config",
        action="store_true",
        help="print a ready vvtui config for these endpoints on stdout",
    )
    parser.set_defaults(func=cmd_sim)


def cmd_sim(args: argparse.Namespace) -> int:
    import threading

    from vvtui.errors import UsageError
    from vvtui.sim.ladder import sim_config_toml
    from vvtui.sim.profiles import default_profiles
    from vvtui.sim.server import start_sim

    if args.speed <= 0:
        raise UsageError(f"--speed must be positive, not {args.speed}")
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535, not {args.port}")
    profiles = default_profiles(args.speed)
    try:
        server = start_sim(profiles, args.host, args.port)
    except OSError as exc:
        raise UsageError(
            f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}",
            hint="pick another with --port, or --port 0 for any free port",
        ) from None
    # Messages go to stderr so `--print-config > file` captures only the config.
    log = sys.stderr
    print(f"vvtui sim: serving {len(profiles)} simulated endpoints on {server.url}", file=log)
    width = max(len(f"{server.url}/{p.name}/v1") for p in profiles)
    for p in profiles:
        print(f"  {server.url}/{p.name}/v1".ljust(width + 4) + p.description, file=log)
    print("model: vv-sim-8b, no API key needed. Ctrl-C to stop.", file=log)
    if args.print_config:
        sys.stdout.write(sim_config_toml(server.url, profiles))
        sys.stdout.flush()
    stop = threading.Event()
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        print("vvtui sim: stopped", file=log)
    finally:
        server.stop()
    return 0
