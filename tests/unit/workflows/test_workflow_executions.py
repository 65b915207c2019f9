"""ExecutionManager: create / get / list / wait / cancel, including killing a running step."""
from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from avp.local.workflows import CloudRunJobConnector, DefinitionError, ExecutionManager, State, UnknownExecution
from avp.local.workflows.connectors import FIRESTORE_GET, FIRESTORE_PATCH, RUN_JOB

REPO = Path(__file__).resolve().parents[3]

ECHO = """
main:
  params: [args]
  steps:
    - check:
        switch:
          - condition: ${args.fail}
            raise:
              message: asked to fail
              tags: [Requested]
    - done:
        return: ${sys.get_env("GOOGLE_CLOUD_WORKFLOW_ID") + ":" + args.word}
"""

NAP = """
- nap:
    call: sys.sleep
    args:
      seconds: 60
- never:
    return: woke
"""


@pytest.fixture
def workflows_dir(tmp_path: Path) -> Path:
    (tmp_path / "echo.workflows.yaml").write_text(ECHO)
    (tmp_path / "nap.workflows.yaml").write_text(NAP)
    (tmp_path / "broken.workflows.yaml").write_text("- s:\n    next: nowhere\n")
    return tmp_path


def test_create_wait_get_and_list(workflows_dir: Path) -> None:
    manager = ExecutionManager(workflows_dir=workflows_dir)
    ok = manager.create("echo", {"fail": False, "word": "hi"})
    failed = manager.create(workflows_dir / "echo.workflows.yaml", {"fail": True, "word": "x"})
    assert manager.wait(ok.id, timeout=5).state is State.SUCCEEDED
    assert ok.result == "echo:hi"
    assert ok.end_time is not None and ok.end_time >= ok.start_time
    assert manager.wait(failed.id, timeout=5).state is State.FAILED
    assert failed.error == {"message": "asked to fail", "tags": ["Requested"]}
    assert manager.get(ok.id) is ok
    assert {e.id for e in manager.list("echo")} == {ok.id, failed.id}
    assert manager.list("nap") == []
    with pytest.raises(UnknownExecution):
        manager.get("no-such-id")


def test_definition_errors_fail_the_execution_not_the_manager(workflows_dir: Path) -> None:
    manager = ExecutionManager(workflows_dir=workflows_dir)
    execution = manager.wait(manager.create("broken").id, timeout=5)
    assert execution.state is State.FAILED
    assert execution.error["tags"] == [DefinitionError.__name__]
    assert "nowhere" in execution.error["message"]


def test_unknown_workflow_is_refused_at_create(workflows_dir: Path) -> None:
    with pytest.raises(FileNotFoundError):
        ExecutionManager(workflows_dir=workflows_dir).create("missing")


def test_cancel_wakes_a_sleeping_execution(workflows_dir: Path) -> None:
    manager = ExecutionManager(workflows_dir=workflows_dir)
    execution = manager.create("nap")
    time.sleep(0.05)
    started = time.monotonic()
    assert manager.cancel(execution.id).state is State.CANCELLED
    manager.wait(execution.id, timeout=2)
    assert time.monotonic() - started < 1
    assert execution.state is State.CANCELLED and execution.result is None
    assert manager.cancel(execution.id).state is State.CANCELLED  # idempotent


def test_wait_times_out_on_a_running_execution(workflows_dir: Path) -> None:
    manager = ExecutionManager(workflows_dir=workflows_dir)
    execution = manager.create("nap")
    with pytest.raises(TimeoutError):
        manager.wait(execution.id, timeout=0.05)
    manager.cancel(execution.id)
    manager.wait(execution.id, timeout=2)


HANGING_STEP = "import os, sys, time; print('step', sys.argv[1], 'pid', os.getpid(), flush=True); time.sleep(60)"


def test_cancelling_the_pipeline_kills_its_running_step_process(process_alive: Callable[[int], bool]) -> None:
    patches: list[dict] = []
    connectors = {
        RUN_JOB: CloudRunJobConnector(command=(sys.executable, "-c", HANGING_STEP)),
        FIRESTORE_PATCH: lambda args, ctx: patches.append(args) or {},
        FIRESTORE_GET: lambda args, ctx: {"fields": {}},
    }
    manager = ExecutionManager(connectors, workflows_dir=REPO / "workflows")
    execution = manager.create("pipeline", {"job_id": "j", "project": "p", "region": "r", "steps": ["ingest", "render"]})
    deadline = time.monotonic() + 10
    pid = None
    while pid is None and time.monotonic() < deadline:
        pid = next((int(line.rsplit(" ", 1)[1]) for line in list(execution.log) if "step ingest pid" in line), None)
        time.sleep(0.02)
    assert pid is not None and process_alive(pid)

    cancelled_at = time.monotonic()
    manager.cancel(execution.id)
    while process_alive(pid) and time.monotonic() - cancelled_at < 2:
        time.sleep(0.01)
    assert not process_alive(pid)
    assert time.monotonic() - cancelled_at < 1.0
    manager.wait(execution.id, timeout=5)
    assert execution.state is State.CANCELLED
    assert patches == []  # a cancel is not a failure: the job is not marked failed
