"""A recording stand-in for the workflow runner, for tests that check what would be started."""
from __future__ import annotations

import itertools
from typing import Any


class RecordingRunner:
    def __init__(self) -> None:
        self.started: list[tuple[str, list[str]]] = []
        self.cancelled: list[str] = []
        self._ids = itertools.count(1)

    def start_pipeline(self, job_id: str, steps: list[str]) -> str:
        self.started.append((job_id, list(steps)))
        return f"exec-{next(self._ids)}"

    def start_languages(self, job_id: str, languages: list[str], steps: list[str]) -> str:
        raise AssertionError("no language runs expected")

    def cancel(self, execution_id: str) -> None:
        self.cancelled.append(execution_id)

    def get(self, execution_id: str) -> dict[str, Any]:
        return {"id": execution_id, "state": "ACTIVE", "error": None, "result": None}

    def shutdown(self) -> None:
        pass
