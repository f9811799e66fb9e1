"""What a run will do (`RunPlan`: endpoints, probes, repeats, order), and how it is made from a
config and suite names, or from a partial snapshot to continue.

The runner process imports `RunPlan` from here, before any plan is built: the scoring core
(numpy, with `vvtui.scoring.decide`) is imported only by the functions that need it."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vvtui.config import Config, EndpointConfig
from vvtui.errors import ConfigError, SnapshotError, suggest_or_list
from vvtui.model import EndpointInfo, Probe, RunInfo, Snapshot
from vvtui.reference import reference_of
from vvtui.runner.events import JobKey
from vvtui.runner.wal import read_wal, wal_path_for
from vvtui.storage import load_snapshot

if TYPE_CHECKING:
    from vvtui.scoring.decide import StoppingRule


@dataclass(slots=True)
class RunPlan:
    endpoints: list[EndpointConfig]
    probes: list[Probe]
    # Extra passes of the reference over deterministic probes: its own noise floor.
    reference_repeats: int = 1
    # Requests in flight across all endpoints.
    max_concurrency: int = 16
    # What `vvtui endpoints check` found and the config declares, by endpoint name
    # (vvtui.clients.capabilities): probes needing a feature an endpoint refused are recorded
    # as unsupported, not sent.
    capabilities: dict[str, Any] = field(default_factory=dict)
    # Conformance records by endpoint name (vvtui.clients.conformance), carried into the snapshot.
    conformance: dict[str, dict[str, Any]] = field(default_factory=dict)
    # When set (and `conformance` is empty), the session sends the conformance requests before
    # the probes: {"context_tokens": int, "usage_slack": int, "seed": int, "use_cache": bool}.
    conformance_options: dict[str, Any] | None = None

    def endpoint_infos(self) -> list[EndpointInfo]:
        """The endpoints as snapshots and front ends record them, conformance included."""
        infos = []
        for e in self.endpoints:
            info = e.info()
            info.conformance = dict(self.conformance.get(e.name) or {})
            infos.append(info)
        return infos

    # Probe ids in the order to send them (--until-decided); None: suite order.
    order: list[str] | None = None
    # --until-decided: a vvtui.scoring.decide.StoppingRule; endpoints stop once decided.
    stopping: Any = None

    @property
    def reference(self) -> EndpointConfig:
        return reference_of(self.endpoints)

    def jobs(self) -> list[JobKey]:
        """Every request of the run, probe-major so all endpoints work on the same probe at once
        (what a side-by-side view wants to show), reference repeats last."""
        ref = self.reference.name
        if self.order is not None:
            return self._ordered_jobs(ref)
        jobs = [
            JobKey(e.name, p.id, s, 0)
            for p in self.probes
            for s in range(max(1, p.n_samples))
            for e in self.endpoints
        ]
        jobs += [
            JobKey(ref, p.id, 0, r)
            for r in range(1, self.reference_repeats + 1)
            for p in self.probes
            if p.deterministic
        ]
        return jobs

    def _ordered_jobs(self, ref: str) -> list[JobKey]:
        """Jobs in `order`, each probe's reference repeats right after it: an endpoint can be
        judged on a probe as soon as that probe is done, floor included."""
        by_id = {p.id: p for p in self.probes}
        jobs = []
        for pid in self.order or []:
            p = by_id[pid]
            for s in range(max(1, p.n_samples)):
                jobs += [JobKey(e.name, p.id, s, 0) for e in self.endpoints]
            if p.deterministic:
                jobs += [JobKey(ref, p.id, 0, r) for r in range(1, self.reference_repeats + 1)]
        return jobs


def pick_endpoints(config: Config, only: Sequence[str] | None) -> Config:
    """Restrict a config to the named endpoints (the reference is always kept)."""
    if not only:
        return config
    names = [e.name for e in config.endpoints]
    for name in only:
        if name not in names:
            raise ConfigError(
                f"--endpoint {name!r}: no such endpoint", hint=suggest_or_list(name, names)
            )
    keep = [e for e in config.endpoints if e.name in only or e.reference]
    return Config(keep, config.path, config.run, config.theme, config.keymap)


def build_plan(
    config: Config,
    *,
    suites: Sequence[str] | None = None,
    seed: int | None = None,
    reference_repeats: int | None = None,
    max_concurrency: int | None = None,
    command: str | None = None,
    until_decided: StoppingRule | None = None,
) -> tuple[RunPlan, RunInfo]:
    from vvtui.suites import load_suites

    suites = list(suites or config.run.suites)
    if seed is None:
        seed = config.run.seed if config.run.seed is not None else secrets.randbelow(2**31)
    probes = load_suites(suites, seed)
    repeats = config.run.reference_repeats if reference_repeats is None else reference_repeats
    plan = RunPlan(
        endpoints=list(config.endpoints),
        probes=probes,
        reference_repeats=repeats,
        max_concurrency=max_concurrency or config.run.max_concurrency,
    )
    if until_decided is not None:
        from vvtui.scoring.decide import probe_order

        plan.stopping = until_decided
        plan.order = probe_order(probes, seed, cost_weighted=until_decided.cost_weighted_order)
    info = RunInfo(
        seed=seed,
        suites=suites,
        reference_repeats=repeats,
        config_path=str(config.path) if config.path else None,
        command=command,
    )
    return plan, info


def load_partial(path: str | Path) -> Snapshot:
    """A snapshot to resume: the file itself, or the write-ahead log a killed run left beside it
    (whichever holds more results)."""
    path = Path(path)
    wal = wal_path_for(path)
    candidates: list[Snapshot] = []
    problems: list[SnapshotError] = []
    # Either file may be damaged (a disk filled up, a hand edit): resume from whichever reads.
    for exists, load, source in ((path.exists, load_snapshot, path), (wal.exists, read_wal, wal)):
        if exists():
            try:
                candidates.append(load(source))
            except SnapshotError as exc:
                problems.append(exc)
    if not candidates:
        if problems:
            raise problems[0]
        raise SnapshotError(f"{path}: nothing to resume (no snapshot and no {wal.name})")
    return max(candidates, key=lambda s: len(s.results))


def plan_from_snapshot(
    snapshot: Snapshot, config: Config, *, max_concurrency: int | None = None
) -> tuple[RunPlan, RunInfo]:
    """Continue a partial run: the same rendered probes, the snapshot's endpoints taken from the
    current config by name (keys and URLs are never stored in snapshots)."""
    by_name = {e.name: e for e in config.endpoints}
    missing = [e.name for e in snapshot.endpoints if e.name not in by_name]
    if missing:
        started_with = snapshot.run.config_path
        raise ConfigError(
            f"cannot resume: endpoint(s) {', '.join(missing)} of the snapshot are not in "
            f"{config.path or 'the config'}",
            hint=f"the run was started with --config {started_with}: pass it again"
            if started_with and started_with != str(config.path)
            else "resume with the config the run was started with (--config FILE)",
        )
    endpoints = [by_name[e.name] for e in snapshot.endpoints]
    for endpoint, recorded in zip(endpoints, snapshot.endpoints, strict=True):
        endpoint.reference = recorded.reference
    plan = RunPlan(
        endpoints=endpoints,
        probes=list(snapshot.probes),
        reference_repeats=snapshot.run.reference_repeats,
        max_concurrency=max_concurrency or config.run.max_concurrency,
    )
    if snapshot.run.stopping:
        # Continue in the recorded order under the recorded rule.
        from vvtui.scoring.decide import StoppingRecord

        record = StoppingRecord.from_dict(snapshot.run.stopping)
        plan.stopping = record.rule
        plan.order = [pid for pid in record.order if any(p.id == pid for p in plan.probes)]
    info = snapshot.run
    info.complete = False
    return plan, info
