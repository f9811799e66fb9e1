"""Peak memory of a 1000-probe x 8-endpoint run with logprobs (top 5-20 alternatives per token).

Each measurement runs in a fresh interpreter and reports its peak RSS (`VmHWM`):
- `results`: 8,000 answers of 60 tokens built by the real Accumulator from the client events the
  parser emits (interned token strings, byte lists, top-k tuples), then scored and written as a
  snapshot: what a run holds at its end, without the HTTP traffic (seconds; in --quick).
- `run`: the same shape as a real headless run through the simulator in a child process (its
  memory is not counted), write-ahead log, scoring and snapshot included (a minute or two; full
  runs only).
The baseline is the same interpreter with the same modules imported and nothing built.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_COMMON = """
import asyncio, json, resource, sys, tempfile, time
from pathlib import Path
from vvtui.clients.accumulate import Accumulator
from vvtui.clients.events import Finish, RequestSent, ResponseHeaders, TextDelta, Usage
from vvtui.clients.events import TokenLogprob
from vvtui.config import EndpointConfig
from vvtui.model import Probe, RunInfo, Snapshot
from vvtui.scoring import score_snapshot
from vvtui.storage import save_snapshot
from benchmarks.streams import WORDS, answer_text

P, E, N = {probes}, {endpoints}, {tokens}
TOPS = (5, 10, 15, 20)

def peak_mb():
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork + exec.
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0

def probe_list():
    return [
        Probe(id=f"m{{i:04d}}", kind="logprob", top_logprobs=TOPS[i % 4], max_tokens=N + 8,
              messages=[{{"role": "user", "content": f"Say the words ({{i}})."}}],
              answer=answer_text(N))
        for i in range(P)
    ]
"""

_RESULTS = """
base = peak_mb()
probes = probe_list()
eps = [EndpointConfig(name=f"e{{j}}", base_url="http://x/v1", model="m", reference=j == 0)
       for j in range(E)]
results = []
for probe in probes:
    k = probe.top_logprobs
    for j, ep in enumerate(eps):
        acc = Accumulator(ep, probe)
        t = 100.0
        acc.feed(RequestSent(t)); acc.feed(ResponseHeaders(t + 0.01, 200))
        for i in range(N):
            # A fresh string per token, as json.loads makes them; the parser interns them.
            word = " " + WORDS[(i + j * (i % 7 == 3)) % len(WORDS)] + ""
            top = [(" " + WORDS[(i + a) % len(WORDS)], -0.1 * a - 0.01 * j) for a in range(k)]
            tok = TokenLogprob(sys.intern(word), -0.05, list(word.encode()),
                               [(sys.intern(a), b) for a, b in top])
            acc.feed(TextDelta(t + 0.2 + i * 0.01, word, [tok]))
        acc.feed(Usage(t + 1.0, 20, N)); acc.feed(Finish(t + 1.0, "stop"))
        results.append(acc.result())
built = peak_mb()
snap = Snapshot("bench", "2025-01-01T00:00:00Z", RunInfo(complete=True),
                [e.info() for e in eps], probes, results)
snap.scores = score_snapshot(snap).to_dict()
with tempfile.TemporaryDirectory() as tmp:
    save_snapshot(snap, Path(tmp) / "snap.json")
print(json.dumps({{"base_mb": base, "built_mb": built, "peak_mb": peak_mb()}}))
"""

_RUN = """
from vvtui.runner.plan import RunPlan
from vvtui.runner.session import RunSession
from vvtui.sim.process import start_sim_process
from vvtui.sim.profiles import Profile
base = peak_mb()
probes = probe_list()
profiles = [Profile(f"e{{j}}", "fast", ttft_s=0.0, tokens_per_s=1e5, jitter=0.0) for j in range(E)]
with start_sim_process(profiles) as sim:
    eps = [EndpointConfig(name=p.name, base_url=f"{{sim.url}}/{{p.name}}/v1", model="vv-sim-8b",
                          reference=j == 0, max_concurrency=4, simulated=True)
           for j, p in enumerate(profiles)]
    plan = RunPlan(eps, probes, reference_repeats=0, max_concurrency=16)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        snap = asyncio.run(RunSession(plan, RunInfo(), out=Path(tmp) / "run.json").run())
        wall = time.perf_counter() - started
tokens = sum(r.output_tokens or 0 for r in snap.results)
errors = sum(r.error is not None for r in snap.results)
print(json.dumps({{"base_mb": base, "peak_mb": peak_mb(), "wall_s": wall, "tokens": tokens,
                  "errors": errors}}))
"""


def _child(body: str, probes: int, endpoints: int, tokens: int, timeout: float) -> dict:
    code = textwrap.dedent(_COMMON + body).format(probes=probes, endpoints=endpoints, tokens=tokens)
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**_env(), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"memory benchmark child failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)


def run(quick: bool = False) -> dict[str, float]:
    keys: dict[str, float] = {}
    res = _child(_RESULTS, 1000, 8, 60, timeout=600)
    print(
        f"  results 1000 x 8 x 60 tokens, top 5-20: peak RSS {res['peak_mb']:.0f} MB "
        f"(after imports {res['base_mb']:.0f} MB, results built {res['built_mb']:.0f} MB; "
        "then scored and written)"
    )
    keys["rss_mb"] = res["peak_mb"]
    if not quick:
        run_ = _child(_RUN, 1000, 8, 60, timeout=1800)
        print(
            f"  run     1000 x 8 through the simulator: peak RSS {run_['peak_mb']:.0f} MB "
            f"(after imports {run_['base_mb']:.0f} MB), {run_['tokens']} tokens in "
            f"{run_['wall_s']:.0f} s, {run_['errors']} errors"
        )
        keys["rss_run_mb"] = run_["peak_mb"]
    return keys


if __name__ == "__main__":
    run(quick="--quick" in sys.argv)
