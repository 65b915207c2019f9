"""Executions of local workflows: create, get, list, cancel, wait — like the Executions API.

Each execution runs in a background thread with its own `Runtime`; cancel sets the state
at once, stops the interpreter at its next step boundary and kills running child
processes.
"""
from __future__ import annotations

import threading
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from avp.local.workflows.errors import ExecutionCancelled, WorkflowError
from avp.local.workflows.interpreter import Interpreter
from avp.local.workflows.runtime import Connector, Runtime

WORKFLOW_SUFFIX = ".workflows.yaml"
_LOG_LINES_KEPT = 2000


class State(StrEnum):
    """The states of the Workflow Executions API that the local executor reaches."""

    ACTIVE = "ACTIVE"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


class UnknownExecution(KeyError):
    """No execution has that id."""


@dataclass
class Execution:
    """One run of a workflow. `error` is the workflow's error map when `state` is FAILED."""

    id: str
    workflow: str
    argument: Any
    state: State = State.ACTIVE
    result: Any = None
    error: Any = None
    start_time: datetime = field(default_factory=lambda: datetime.now(UTC))
    end_time: datetime | None = None
    log: deque[str] = field(default_factory=lambda: deque(maxlen=_LOG_LINES_KEPT), repr=False)
    runtime: Runtime | None = field(default=None, repr=False)
    thread: threading.Thread | None = field(default=None, repr=False)


def workflow_name(path: Path) -> str:
    """`pipeline` for `.../pipeline.workflows.yaml`."""
    name = path.name
    return name[: -len(WORKFLOW_SUFFIX)] if name.endswith(WORKFLOW_SUFFIX) else path.stem


class ExecutionManager:
    """Starts and tracks executions of workflow files.

    `create` takes a path to a workflow file or a workflow name looked up as
    `<workflows_dir>/<name>.workflows.yaml`. `sleep` replaces the real wait of retry backoff
    and `sys.sleep` (tests pass a recorder); `env` is what `sys.get_env` sees.
    """

    def __init__(
        self,
        connectors: Mapping[str, Connector] | None = None,
        *,
        workflows_dir: Path | None = None,
        sleep: Callable[[float], None] | None = None,
        env: Mapping[str, str] | None = None,
    ):
        self.connectors = dict(connectors or {})
        self.workflows_dir = workflows_dir
        self.sleep = sleep
        self.env = dict(env or {})
        self._executions: dict[str, Execution] = {}
        self._lock = threading.Lock()

    def resolve(self, workflow: str | Path) -> Path:
        """The file of a workflow given by path or by name."""
        path = Path(workflow)
        if path.is_file():
            return path
        if self.workflows_dir is not None:
            candidate = self.workflows_dir / f"{workflow}{WORKFLOW_SUFFIX}"
            if candidate.is_file():
                return candidate
        raise FileNotFoundError(f"no workflow {str(workflow)!r} (workflows dir: {self.workflows_dir})")

    def create(self, workflow: str | Path, argument: Any = None) -> Execution:
        """Start an execution in a background thread and return it (state ACTIVE)."""
        path = self.resolve(workflow)
        definition = yaml.safe_load(path.read_text(encoding="utf-8"))
        execution_id = str(uuid.uuid4())
        name = workflow_name(path)
        execution = Execution(id=execution_id, workflow=name, argument=argument)
        runtime = Runtime(
            execution_id=execution_id,
            env={**self.env, "GOOGLE_CLOUD_WORKFLOW_ID": name, "GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID": execution_id},
            sleep=self.sleep,
            log_sink=lambda message, severity: execution.log.append(f"{severity} {message}"),
        )
        execution.runtime = runtime
        # Built before the thread starts, so a malformed file fails `create` itself.
        interpreter = Interpreter(definition, connectors=self.connectors, runtime=runtime)
        execution.thread = threading.Thread(
            target=self._run, args=(execution, interpreter), name=f"workflow-{name}-{execution_id[:8]}", daemon=True
        )
        with self._lock:
            self._executions[execution_id] = execution
        execution.thread.start()
        return execution

    def _run(self, execution: Execution, interpreter: Interpreter) -> None:
        state, result, error = State.SUCCEEDED, None, None
        try:
            result = interpreter.run(execution.argument)
        except ExecutionCancelled:
            state = State.CANCELLED
        except WorkflowError as failure:
            state, error = State.FAILED, failure.value
        except Exception as failure:  # a definition error or a bug: the execution fails, the manager lives on
            state, error = State.FAILED, {"message": str(failure), "tags": [type(failure).__name__]}
        with self._lock:
            if execution.state is State.ACTIVE:
                execution.state, execution.result, execution.error = state, result, error
            execution.end_time = datetime.now(UTC)

    def get(self, execution_id: str) -> Execution:
        """The execution with that id."""
        with self._lock:
            try:
                return self._executions[execution_id]
            except KeyError:
                raise UnknownExecution(execution_id) from None

    def list(self, workflow: str | None = None) -> list[Execution]:
        """Executions, newest first, optionally of one workflow (by name)."""
        with self._lock:
            chosen = [e for e in self._executions.values() if workflow is None or e.workflow == workflow]
        return sorted(chosen, key=lambda e: e.start_time, reverse=True)

    def cancel(self, execution_id: str) -> Execution:
        """Cancel an active execution (a finished one is returned unchanged)."""
        execution = self.get(execution_id)
        with self._lock:
            if execution.state is not State.ACTIVE:
                return execution
            execution.state = State.CANCELLED
        assert execution.runtime is not None
        execution.runtime.cancel()
        return execution

    def wait(self, execution_id: str, timeout: float | None = None) -> Execution:
        """Block until the execution's thread ends; `TimeoutError` if it is still running."""
        execution = self.get(execution_id)
        assert execution.thread is not None
        execution.thread.join(timeout)
        if execution.thread.is_alive():
            raise TimeoutError(f"execution {execution_id} still running after {timeout}s")
        return execution
