"""The hash-locked requirement files agree with what they are made from, and everything that
installs avp installs from them (scripts/setup, the Dockerfiles, Cloud Build). Offline: nothing
here resolves or downloads; scripts/lock.py regenerates the files."""
from __future__ import annotations

import importlib.util
import re
import tomllib
from pathlib import Path


import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("lock", REPO / "scripts/lock.py")
assert _spec and _spec.loader
lock = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lock)

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
LOCKS = [lock.RUNTIME, lock.DEV, lock.FUNCTIONS]
REGENERATE = "pyproject.toml and {name} disagree: run `python scripts/lock.py` and commit the result"


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _entries(text: str) -> dict[str, tuple[str, list[str]]]:
    """name -> (version, sha256 hashes) of a pip-compile lock."""
    joined = text.replace("\\\n", " ")
    out = {}
    for line in joined.splitlines():
        match = lock.PIN.match(line)
        if match:
            out[canonicalize_name(match.group(1))] = (match.group(2), re.findall(r"--hash=sha256:([0-9a-f]{64})", line))
    return out


@pytest.mark.parametrize("path", LOCKS, ids=[p.name for p in LOCKS])
def test_lock_was_made_from_the_current_inputs(path: Path) -> None:
    recorded = lock.DIGEST.search(_text(path))
    assert recorded, f"{path.name} has no inputs digest"
    expected = lock.inputs_digest(path, _text(REPO / "pyproject.toml"), _text(lock.FUNCTIONS_IN))
    assert recorded.group(1) == expected, REGENERATE.format(name=path.name)


def _requirements(path: Path) -> list[Requirement]:
    project = PYPROJECT["project"]
    if path == lock.FUNCTIONS:
        lines = [line for line in _text(lock.FUNCTIONS_IN).splitlines() if line.strip() and not line.startswith("#")]
    else:
        lines = [*project["dependencies"], *PYPROJECT["build-system"]["requires"]]
        if path == lock.DEV:
            lines += project["optional-dependencies"]["test"]
    return [Requirement(line) for line in lines]


@pytest.mark.parametrize("path", LOCKS, ids=[p.name for p in LOCKS])
def test_every_requirement_is_pinned_within_its_specifier_with_hashes(path: Path) -> None:
    entries = _entries(_text(path))
    assert entries, f"{path.name} pins nothing"
    for req in _requirements(path):
        if req.marker is not None and not req.marker.evaluate():
            continue
        name = canonicalize_name(req.name)
        assert name in entries, REGENERATE.format(name=path.name) + f" ({req.name} is not pinned)"
        version, _ = entries[name]
        assert req.specifier.contains(version, prereleases=True), f"{path.name}: {req.name}=={version} is outside {req}"
    for name, (version, hashes) in entries.items():
        assert hashes, f"{path.name}: {name}=={version} has no hash"


def test_the_locks_agree_on_every_version() -> None:
    runtime, dev, functions = (_entries(_text(p)) for p in LOCKS)
    assert set(runtime) <= set(dev)
    for name, (version, _) in {**runtime, **functions}.items():
        assert dev.get(name, (version,))[0] == version, f"{name}: {version} here, {dev[name][0]} in requirements-dev.lock"
    for name, (version, _) in functions.items():
        assert runtime.get(name, (version,))[0] == version, f"{name}: the functions and the job run different versions"


def test_the_build_backend_is_locked_so_installs_need_no_isolation() -> None:
    for path in (lock.RUNTIME, lock.DEV):
        entries = _entries(_text(path))
        for req in map(Requirement, PYPROJECT["build-system"]["requires"]):
            assert canonicalize_name(req.name) in entries, f"{path.name} lacks the build backend {req.name}"


INSTALLERS: dict[str, tuple[str, str]] = {
    "scripts/setup": ("requirements-dev.lock", "--no-build-isolation"),
    "infra/docker/media-job.Dockerfile": ("requirements.lock", "--no-build-isolation"),
    "infra/docker/ci.Dockerfile": ("requirements-dev.lock", ""),
}


@pytest.mark.parametrize("installer", sorted(INSTALLERS))
def test_every_installer_installs_from_a_lock_with_hashes_required(installer: str) -> None:
    text = _text(REPO / installer).replace("\\\n", " ")
    lock_name, project_flag = INSTALLERS[installer]
    installs = [line for line in text.splitlines() if re.search(r"pip install", line)]
    assert any(f"--require-hashes --no-deps -r {lock_name}" in line or
               f"--require-hashes --no-deps -r /src/{lock_name}" in line for line in installs), installs
    # Nothing else is installed by name: the project itself only, without its dependencies.
    for line in installs:
        for command in re.findall(r"pip install ([^&;|]*)", line):
            if "--require-hashes" in command:
                continue
            assert "--no-deps" in command and project_flag in command, f"{installer}: unlocked install `{command}`"


def test_cloud_build_ships_the_functions_the_locked_requirements() -> None:
    cloudbuild = _text(REPO / "cloudbuild.yaml")
    assert 'cp infra/docker/functions.lock "$$out/requirements.txt"' in cloudbuild
    assert "pip install --quiet 'pyyaml" not in cloudbuild and "python:3.11-slim" not in cloudbuild


def test_lock_digest_notices_a_changed_dependency() -> None:
    text = _text(REPO / "pyproject.toml")
    changed = text.replace('"flask>=3.0"', '"flask>=3.1"')
    assert changed != text
    assert lock.inputs_digest(lock.RUNTIME, changed) != lock.inputs_digest(lock.RUNTIME, text)
    assert lock.inputs_digest(lock.DEV, changed) != lock.inputs_digest(lock.DEV, text)


