"""Probe suites: the TOML format, templating, loading and validation, and the K2VV import.

    available_suites(extra_dirs=())        suite name -> file (shipped, user, extra folders)
    load_suites(specs, seed, extra_dirs=()) rendered Probes for names, files, folders or "all"
    validate_paths(paths, strict=False)    every problem, one line each

No Textual or httpx here; jsonschema is imported only when a schema is checked.
The format is documented in docs/probes.md.
"""

from __future__ import annotations

from vvtui.suites.loader import (
    ALL,
    ProbeTemplate,
    SuiteFile,
    available_suites,
    load_suites,
    load_templates,
    parse_suite,
    read_suite,
    render,
    shipped_dir,
    user_dir,
    validate_paths,
    validate_report,
)

__all__ = [
    "ALL",
    "ProbeTemplate",
    "SuiteFile",
    "available_suites",
    "load_suites",
    "load_templates",
    "parse_suite",
    "read_suite",
    "render",
    "shipped_dir",
    "user_dir",
    "validate_paths",
    "validate_report",
]
