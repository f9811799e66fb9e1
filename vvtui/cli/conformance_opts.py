"""The conformance options `run`, `demo` and `endpoints check` share, and running the checks."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_arguments(p: argparse.ArgumentParser, *, skip_flag: bool = True) -> None:
    group = p.add_argument_group(
        "conformance (max_tokens, stop, temperature, logprobs, usage, context, streamed tools)"
    )
    if skip_flag:
        group.add_argument(
            "--no-conformance",
            action="store_true",
            help="skip the conformance requests sent before the probes (14 per endpoint)",
        )
    group.add_argument(
        "--context-tokens",
        type=int,
        metavar="N",
        help="length of the context-window probe (default 6000, or 90%% of the smallest "
        "context_length OpenRouter advertises for every endpoint, at most 32768)",
    )
    group.add_argument(
        "--context-max-usd",
        type=float,
        metavar="USD",
        help="most the context probe may cost per endpoint (default 0.01)",
    )
    group.add_argument(
        "--usage-slack",
        type=int,
        metavar="TOKENS",
        help="prompt_tokens an endpoint may differ from the reference's (default 2)",
    )


def options(endpoints: list[Any], args: argparse.Namespace, *, seed: int = 0) -> dict[str, Any]:
    """What the session needs to run the checks (vvtui.runner.core.RunPlan.conformance_options),
    with the flags validated and the context length chosen."""
    from vvtui.clients.conformance import context_tokens_for
    from vvtui.errors import UsageError
    from vvtui.scoring.conformance import DEFAULT_USAGE_SLACK

    explicit = getattr(args, "context_tokens", None)
    if explicit is not None and explicit < 1:
        raise UsageError("--context-tokens must be a positive number of tokens")
    slack = getattr(args, "usage_slack", None)
    if slack is not None and slack < 0:
        raise UsageError("--usage-slack must not be negative")
    tokens, why = context_tokens_for(endpoints, explicit, getattr(args, "context_max_usd", None))
    return {
        "context_tokens": tokens,
        "context_why": why,
        "usage_slack": DEFAULT_USAGE_SLACK if slack is None else slack,
        "seed": seed,
        "use_cache": True,
    }


def for_plan(plan: Any, args: argparse.Namespace, seed: int) -> None:
    """Ask the run to send the conformance checks first, unless --no-conformance."""
    if not getattr(args, "no_conformance", False):
        plan.conformance_options = options(plan.endpoints, args, seed=seed)


def run_conformance(
    endpoints: list[Any], args: argparse.Namespace, *, seed: int = 0, quiet: bool = False
) -> dict[str, dict[str, Any]]:
    """Conformance records by endpoint name ({} with --no-conformance), now: fresh cached
    observations reused, the rest sent (what `vvtui endpoints check` prints)."""
    if getattr(args, "no_conformance", False) or not endpoints:
        return {}
    import asyncio

    from vvtui.clients.conformance import conformance_for_run, settings_for

    opts = options(endpoints, args, seed=seed)
    tokens, why = opts["context_tokens"], opts["context_why"]
    settings = settings_for(context_tokens=tokens, usage_slack=opts["usage_slack"], seed=seed)
    if not quiet:
        print(
            f"vvtui: conformance checks on {len(endpoints)} endpoint(s): 14 requests each, "
            f"context probe {tokens} tokens ({why}); --no-conformance skips them",
            file=sys.stderr,
        )
    return asyncio.run(conformance_for_run(endpoints, settings, seed=seed))
