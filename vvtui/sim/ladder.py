"""Endpoint configs for a running simulator: what `vvtui demo` runs against."""

from __future__ import annotations

import json
from collections.abc import Sequence

from vvtui.config import Config, EndpointConfig
from vvtui.sim.profiles import SIM_MODEL, Profile


def _base_url(root: str, profile: Profile) -> str:
    return f"{root.rstrip('/')}/{profile.name}/v1"


def _label(profile: Profile) -> str:
    return profile.label or profile.description


def ladder_config(base_url_root: str, profiles: Sequence[Profile]) -> Config:
    """One simulated endpoint per profile; `reference` (or else the first) is the reference."""
    names = [p.name for p in profiles]
    ref = "reference" if "reference" in names else names[0]
    endpoints = [
        EndpointConfig(
            name=p.name,
            base_url=_base_url(base_url_root, p),
            model=SIM_MODEL,
            reference=p.name == ref,
            price=p.price,
            max_concurrency=4,
            simulated=True,
            labels={"simulated": _label(p)},
        )
        for p in profiles
    ]
    return Config(endpoints=endpoints)


def _toml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def sim_config_toml(base_url_root: str, profiles: Sequence[Profile]) -> str:
    """The same ladder as a config file a user can save, edit and pass with --config."""
    config = ladder_config(base_url_root, profiles)
    lines = [
        "# vvtui config for the simulated quantization ladder (`vvtui sim`).",
        "# Every endpoint is simulated: no keys, no network. Point base_url at real servers to",
        "# compare real providers instead; see `vvtui config init` for a commented example.",
        "",
        "[run]",
        'suites = ["quick"]',
    ]
    for profile, e in zip(profiles, config.endpoints, strict=True):
        lines += ["", f"# {profile.description}", "[[endpoint]]"]
        lines.append(f"name = {_toml_str(e.name)}")
        lines.append(f"base_url = {_toml_str(e.base_url)}")
        lines.append(f"model = {_toml_str(e.model)}")
        if e.reference:
            lines.append("reference = true")
        if e.price is not None:
            lines.append(f"price = {{ input = {e.price.input:g}, output = {e.price.output:g} }}")
        lines.append(f"max_concurrency = {e.max_concurrency}")
        lines.append("simulated = true")
        lines.append(f"labels = {{ simulated = {_toml_str(e.labels['simulated'])} }}")
    return "\n".join(lines) + "\n"
