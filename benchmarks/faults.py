"""The issue-16 fault matrix, timed: `python -m benchmarks.faults [--breaker off] [--vvtui DIR]`.

Sixteen endpoints on loopback, a dozen of them misbehaving (HTTP 500, 503, 429, headers that never
come, a stream that stalls after one token, malformed SSE, a dropped connection, a 20 MB answer,
invalid UTF-8, a key-echoing host, a closed port, a server that hangs up), run the way a new
user would: `vvtui run --suite quick --headless` in a child process, with vvtui's default
timeouts (30 s stall) except `timeout_s = 20` for response headers. It prints the wall time, and
per endpoint the error kinds, the verdict and a digest of the healthy endpoints' answers, so two
runs (breaker on / off, or this tree / another tree via `--vvtui`) can be compared for "same
results for the healthy endpoints, same verdicts for the faulty ones". Nothing is asserted: the
machine is shared and timings are noisy. Takes 30-60 s with the breaker, ~3 min without.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from vvtui.sim.profiles import Profile
from vvtui.sim.server import start_sim
from vvtui.toml_writer import dumps

MODEL = "vv-sim-8b"
ECHO_ENV = "VVTUI_BENCH_ECHO_KEY"
ECHO_KEY = "sk-bench-echo-5c1f9a7e3d2b8c40f1"
HEALTHY = ("healthy-a", "healthy-b", "healthy-c", "healthy-d")
# name -> (simulator fault, endpoint settings)
FAULTY: dict[str, tuple[str | None, dict[str, Any]]] = {
    "http-500": ("http_500", {}),
    "overloaded-503": ("flaky_5xx:999", {}),
    "rate-limited": ("rate_limit:999", {}),
    "hang-headers": ("hang_headers", {}),
    "stall": ("stall:1", {}),
    "malformed-sse": ("malformed_sse", {}),
    "drop": ("drop:1", {}),
    "oversized-20mb": ("oversized:20", {}),
    "invalid-utf8": ("invalid_utf8", {}),
    "echo-auth": ("echo_auth", {"api_key_env": ECHO_ENV}),
    "refused": (None, {}),  # a closed port
    "hangs-up": ("refuse", {}),
}


def closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def profiles() -> list[Profile]:
    out = [Profile(n, n, ttft_s=0.3, tokens_per_s=60, jitter=0.0) for n in HEALTHY]
    for name, (fault, _) in FAULTY.items():
        out.append(dataclasses.replace(Profile(name, name, jitter=0.0), fault=fault))
    return out


def config_text(root: str, breaker: bool) -> str:
    port = closed_port()
    endpoints = []
    for name in (*HEALTHY, *FAULTY):
        _fault, extra = FAULTY.get(name, (None, {}))
        url = f"http://127.0.0.1:{port}/v1" if name == "refused" else f"{root}/{name}/v1"
        ep: dict[str, Any] = {
            "name": name,
            "base_url": url,
            "model": MODEL,
            "simulated": True,
            "timeout_s": 20.0,
            **extra,
        }
        if name == HEALTHY[0]:
            ep["reference"] = True
        if not breaker:
            ep["down_after"] = 0
        endpoints.append(ep)
    return dumps({"endpoint": endpoints})


def summarise(snapshot: dict[str, Any]) -> dict[str, Any]:
    by_endpoint: dict[str, dict[str, Any]] = {}
    # Sampled probes differ from run to run by design: the digest covers the deterministic ones.
    sampled = {p["id"] for p in snapshot["probes"] if p.get("kind") == "sampled"}
    starts = [r["started_at"] for r in snapshot["results"] if r.get("started_at")]
    t0 = min(starts) if starts else 0.0
    for r in snapshot["results"]:
        row = by_endpoint.setdefault(r["endpoint"], {"kinds": {}, "answers": [], "last": 0.0})
        if r.get("started_at"):
            end = r["started_at"] - t0 + (r.get("total_s") or 0.0)
            row["last"] = max(row["last"], end)
        err = r.get("error")
        kind = err["kind"] if err else "ok"
        row["kinds"][kind] = row["kinds"].get(kind, 0) + 1
        if r["endpoint"] in HEALTHY and r["probe_id"] not in sampled:
            row["answers"].append((r["probe_id"], r["sample"], r["repeat"], r["text"]))
    scores = (snapshot.get("scores") or {}).get("endpoints", {})
    out = {}
    for name, row in by_endpoint.items():
        digest = hashlib.sha256(json.dumps(sorted(row["answers"])).encode()).hexdigest()[:12]
        out[name] = {
            "kinds": dict(sorted(row["kinds"].items())),
            "verdict": scores.get(name, {}).get("verdict"),
            "fidelity": scores.get(name, {}).get("fidelity"),
            "answers": digest if name in HEALTHY else None,
            "last_s": round(row["last"], 1),
        }
    return out


def requests_done_s(stderr: str) -> float | None:
    """When the last request finished, from the progress lines ("[N/N] 100%  41.2s ...")."""
    import re

    found = re.findall(r"\[(\d+)/(\d+)\]\s+\d+%\s+([\d.]+)s", stderr)
    done = [float(t) for a, b, t in found if a == b]
    return done[-1] if done else None


def run(
    breaker: bool = True, vvtui_root: str | None = None, keep: str | None = None
) -> dict[str, Any]:
    server = start_sim(profiles())
    try:
        with tempfile.TemporaryDirectory(prefix="vvtui-faults-") as tmp:
            config = Path(tmp) / "config.toml"
            config.write_text(config_text(server.url, breaker), encoding="utf-8")
            out = Path(tmp) / "snap.json"
            env = {**os.environ, ECHO_ENV: ECHO_KEY}
            if vvtui_root:
                env["PYTHONPATH"] = vvtui_root
            cmd = [sys.executable, "-m", "vvtui", "run", "--config", str(config)]
            cmd += ["--suite", "quick", "--seed", "1", "--headless", "--out", str(out)]
            started = time.monotonic()
            # cwd: not this checkout, or `-m vvtui` would import it whatever PYTHONPATH says.
            proc = subprocess.run(
                cmd, env=env, cwd=tmp, capture_output=True, text=True, timeout=900
            )
            elapsed = time.monotonic() - started
            snapshot = json.loads(out.read_text(encoding="utf-8"))
            if keep:
                Path(keep).write_bytes(out.read_bytes())
    finally:
        server.stop()
    return {
        "seconds": elapsed,
        # The rest of `seconds` is start-up, scoring and writing the snapshot.
        "requests_s": requests_done_s(proc.stderr),
        "exit": proc.returncode,
        "stderr_lines": len(proc.stderr.splitlines()),
        "endpoints": summarise(snapshot),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--breaker", choices=("on", "off"), default="on")
    parser.add_argument("--vvtui", metavar="DIR", help="run the vvtui package found in DIR")
    parser.add_argument("--json", metavar="FILE", help="also write the summary here")
    parser.add_argument("--keep", metavar="SNAP.json", help="keep the run's snapshot here")
    args = parser.parse_args(argv)
    report = run(args.breaker == "on", args.vvtui, args.keep)
    for name, row in report["endpoints"].items():
        kinds = " ".join(f"{k}={n}" for k, n in row["kinds"].items())
        fid = "–" if row["fidelity"] is None else f"{row['fidelity']:.1f}"
        extra = f" answers {row['answers']}" if row["answers"] else ""
        last = f"{row['last_s']:6.1f}s"
        print(f"{name:16} {row['verdict'] or '–':13} {fid:>6} {last}  {kinds}{extra}")
    requests = report["requests_s"]
    print(
        f"faults_s={report['seconds']:.1f} "
        f"requests_s={'–' if requests is None else f'{requests:.1f}'} exit={report['exit']} "
        f"stderr_lines={report['stderr_lines']} breaker={args.breaker}"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
