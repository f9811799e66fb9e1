"""Build tests/data/reports/quick.json, the snapshot the report goldens are rendered from.

    PYTHONPATH=. python -m vvtui demo --headless --suite quick --seed 1 --speed 20 \
        --fault slow=http_500 --out /tmp/quick.json
    PYTHONPATH=. python scripts/make_report_fixture.py /tmp/quick.json

Keeps five endpoints that between them hold every verdict (the reference, a faithful one, an
inconclusive one, a degraded one and one whose every request failed), makes probe sources
relative (they record the absolute path of the checkout), gives one endpoint a key variable and
a header name (so tests can check neither value ever reaches a report), and re-scores.
"""

from __future__ import annotations

import sys
from pathlib import Path

from vvtui.scoring import score_snapshot
from vvtui.storage import load_snapshot, save_snapshot

KEEP = ("reference", "noisy-kernel", "int4", "substituted", "slow")
OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "reports" / "quick.json"


def main(src: str) -> int:
    snap = load_snapshot(src)
    snap.endpoints = [e for e in snap.endpoints if e.name in KEEP]
    snap.results = [r for r in snap.results if r.endpoint in KEEP]
    for probe in snap.probes:
        if probe.source and "/probes/" in probe.source:
            probe.source = "probes/" + probe.source.rsplit("/probes/", 1)[1]
    for e in snap.endpoints:
        if e.name == "substituted":
            e.api_key_env = "VVTUI_FIXTURE_KEY"
            e.header_names = ["Authorization", "X-Title"]
    snap.scores = score_snapshot(snap).to_dict()
    save_snapshot(snap, OUT)
    print(f"wrote {OUT} ({len(snap.results)} results)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
