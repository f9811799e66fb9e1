"""The vocabulary in vvtui.model: Literal aliases whose values are the plain strings snapshots,
reports and goldens already hold."""

from __future__ import annotations

import json
from typing import get_args

from vvtui import model
from vvtui.model import ErrorInfo, Probe, Snapshot


def test_each_runtime_tuple_is_its_alias():
    pairs = [
        (model.MARKS, model.Mark),
        (model.VERDICTS, model.Verdict),
        (model.RUN_PHASES, model.RunPhase),
        (model.SLOT_STATES, model.SlotState),
        (model.ERROR_KINDS, model.ErrorKind),
        (model.PROBE_KINDS, model.ProbeKind),
    ]
    for values, alias in pairs:
        assert values == get_args(alias)
        assert all(type(v) is str for v in values)
        assert len(set(values)) == len(values)
    assert model.PENDING in model.MARKS
    assert model.NO_ANSWERS in model.VERDICTS
    assert set(model.MARK_RANK) == set(model.MARKS)


def test_the_words_are_the_strings_already_stored():
    assert model.MARKS == ("pass", "fail", "diverged", "error", "pending")
    assert model.VERDICTS == ("faithful", "degraded", "inconclusive", "reference", "no answers")
    assert model.PROBE_KINDS == ("chat", "tool_call", "json", "logprob", "sampled")
    assert "internal" in model.ERROR_KINDS and "rate_limited" in model.ERROR_KINDS


def test_unknown_words_in_a_snapshot_still_load():
    # A newer vvtui may write a kind this one does not know: read as stored, not rejected.
    err = ErrorInfo.from_dict({"kind": "teleported", "message": "m"})
    assert err is not None and err.kind == "teleported"
    probe = Probe.from_dict({"id": "p", "kind": "holographic"})
    assert probe.kind == "holographic"
    snap = Snapshot.from_dict(
        json.loads(
            json.dumps(
                {
                    "schema_version": 1,
                    "run": {},
                    "endpoints": [],
                    "probes": [probe.to_dict()],
                    "results": [],
                }
            )
        )
    )
    assert snap.probes[0].kind == "holographic"
