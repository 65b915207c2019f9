"""A recording stand-in for the workflow runner, for tests that check what would be started.

The `runner` fixture (tests/integration/conftest.py) installs one in the container."""
from __future__ import annotations

from typing import Any


class FakeRunner:
    """Records what would have run and reports the state `state` for every execution.

    `fail` makes starting a pipeline raise, like an unreachable Workflows API; with
    `allow_languages` false, starting a language run fails the test."""

    def __init__(self, fail: Exception | None = None, allow_languages: bool = True) -> None:
        self.started: list[tuple[str, list[str]]] = []
        self.languages: list[tuple[str, list[str], list[str]]] = []
        self.cancelled: list[str] = []
        self.bundles: list[str] = []
        self.fail = fail
        self.allow_languages = allow_languages
        self.state = "ACTIVE"

    def start_pipeline(self, job_id: str, steps: list[str]) -> str:
        if self.fail:
            raise self.fail
        self.started.append((job_id, list(steps)))
        return f"exec-{len(self.started)}"

    def start_languages(self, job_id: str, languages: list[str], steps: list[str]) -> str:
        if not self.allow_languages:
            raise AssertionError("no language runs expected")
        self.languages.append((job_id, list(languages), list(steps)))
        return f"lang-exec-{len(self.languages)}"

    def start_bundle(self, download_id: str) -> str:
        if self.fail:
            raise self.fail
        self.bundles.append(download_id)
        return f"bundle-exec-{len(self.bundles)}"

    def cancel(self, execution_id: str) -> None:
        self.cancelled.append(execution_id)

    def get(self, execution_id: str) -> dict[str, Any]:
        return {"id": execution_id, "state": self.state, "error": None, "result": None}

    def probe(self) -> str:
        if self.fail:
            raise self.fail
        return "fake runner"

    def shutdown(self) -> None:
        pass


def install(container: Any, runner: FakeRunner | None = None) -> FakeRunner:
    """Make `runner` (a new FakeRunner by default) the container's workflow runner."""
    runner = runner or FakeRunner()
    container.__dict__["workflows"] = runner
    return runner
