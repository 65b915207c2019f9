"""Helpers for the local workflow executor tests: run a YAML snippet with recorded sleeps and logs."""
from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from avp.local.workflows import Connector, Interpreter, Runtime


@dataclass
class Recorder:
    """What a run left behind: the sleeps it asked for and the lines it logged."""

    sleeps: list[float] = field(default_factory=list)
    logs: list[tuple[str, str]] = field(default_factory=list)

    def runtime(self) -> Runtime:
        return Runtime(sleep=self.sleeps.append, log_sink=lambda message, severity: self.logs.append((severity, message)))


RunWorkflow = Callable[..., Any]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def run_workflow(recorder: Recorder) -> RunWorkflow:
    """`run_workflow(yaml_text, argument=None, connectors=None)` -> the workflow's return value."""

    def run(source: str, argument: Any = None, connectors: Mapping[str, Connector] | None = None) -> Any:
        definition = yaml.safe_load(textwrap.dedent(source))
        return Interpreter(definition, connectors=connectors, runtime=recorder.runtime()).run(argument)

    return run


def _process_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a killed child waiting for a reaper that never comes counts as gone


@pytest.fixture
def process_alive() -> Callable[[int], bool]:
    """`process_alive(pid)`: whether that process still runs."""
    return _process_alive
