"""The local stand-ins for the two Google connectors the avp workflows call.

- `googleapis.run.v2.projects.locations.jobs.run`: runs the media step as a child process
  (`python -m avp.pipeline STEP --job-id ...`), the way the Cloud Run Job would run it.
- `googleapis.firestore.v1.projects.databases.documents.patch` / `.get`: the Firestore
  emulator's REST API.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any

from avp.local import reaper
from avp.local.workflows.errors import ExecutionCancelled, WorkflowError
from avp.local.workflows.http_calls import send
from avp.local.workflows.retry import DEFAULT_RETRY, DEFAULT_RETRY_NON_IDEMPOTENT, RetryPolicy
from avp.local.workflows.runtime import CallContext, Connector, terminate_process_group

RUN_JOB = "googleapis.run.v2.projects.locations.jobs.run"
FIRESTORE_PATCH = "googleapis.firestore.v1.projects.databases.documents.patch"
FIRESTORE_GET = "googleapis.firestore.v1.projects.databases.documents.get"

DEFAULT_JOB_COMMAND: tuple[str, ...] = (sys.executable, "-m", "avp.pipeline")
DEFAULT_CONNECTOR_TIMEOUT_SECONDS = 1800  # the platform's default for connector calls
_POLL_SECONDS = 0.1


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _container_args(args: Mapping[str, Any]) -> list[str]:
    overrides = ((args.get("body") or {}).get("overrides") or {}).get("containerOverrides") or [{}]
    container_args = overrides[0].get("args") or []
    if not all(isinstance(arg, str) for arg in container_args):
        raise WorkflowError.tagged("TypeError", f"containerOverrides args must be strings, got {container_args!r}")
    return container_args


@dataclass(frozen=True)
class CloudRunJobConnector:
    """Runs `[*command, *containerOverrides[0].args]` and reports like the jobs.run connector.

    Exit 0 returns an Execution-like map. Any other exit raises what Cloud Workflows raises
    for a failed long-running operation (see `operation_error`): the exit status is not in
    it, so a workflow cannot branch on it here either. Running past
    `connector_params.timeout` raises `TimeoutError`. `CLOUD_RUN_TASK_ATTEMPT` counts the
    attempts of the same step within one workflow execution, from 0.
    """

    command: Sequence[str] = DEFAULT_JOB_COMMAND
    env: Mapping[str, str] = field(default_factory=dict)

    def __call__(self, args: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
        job = args.get("name")
        if not isinstance(job, str):
            raise WorkflowError.tagged("ValueError", "jobs.run needs the job's resource 'name'")
        container_args = _container_args(args)
        timeout = float((args.get("connector_params") or {}).get("timeout", DEFAULT_CONNECTOR_TIMEOUT_SECONDS))
        attempt = ctx.next_attempt((job, *container_args))
        execution_name = f"{job}/executions/{ctx.execution_id[:8]}-{'-'.join(container_args[:1])}-{attempt}"
        label = f"{' '.join(container_args)} (attempt {attempt})"
        child_env = {
            **os.environ,
            **self.env,
            "CLOUD_RUN_JOB": job.rsplit("/", 1)[-1],
            "CLOUD_RUN_EXECUTION": execution_name.rsplit("/", 1)[-1],
            "CLOUD_RUN_TASK_INDEX": "0",
            "CLOUD_RUN_TASK_COUNT": "1",
            "CLOUD_RUN_TASK_ATTEMPT": str(attempt),
        }
        started = _now()
        ctx.log(f"starting {label}")
        process = subprocess.Popen(
            [*self.command, *container_args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            env=child_env,
            start_new_session=True,  # its own process group, so cancel kills ffmpeg children too
        )
        ctx.register_process(process)
        reaper.guard_group(process.pid)  # killed with the stack, even on SIGKILL
        readers = [_stream(process.stdout, ctx, label, "INFO"), _stream(process.stderr, ctx, label, "WARNING")]
        try:
            status = _wait(process, ctx, timeout, label)
        finally:
            terminate_process_group(process)
            for reader in readers:
                reader.join(timeout=5)
            ctx.unregister_process(process)
        if status != 0:
            ctx.log(f"{label} exited with status {status}", "WARNING")
            raise WorkflowError(operation_error(job, execution_name, started))
        ctx.log(f"finished {label}")
        return {
            "name": execution_name,
            "job": job,
            "startTime": started,
            "completionTime": _now(),
            "taskCount": 1,
            "succeededCount": 1,
            "failedCount": 0,
            "cancelledCount": 0,
            "conditions": [{"type": "Completed", "state": "CONDITION_SUCCEEDED"}],
        }


def operation_error(job: str, execution_name: str, started: str) -> dict[str, Any]:
    """The error map of a failed Cloud Run Job execution, as the jobs.run connector raises it.

    For a long-running operation that ends in error, Cloud Workflows raises a map with
    `message`, `tags` holding "OperationError", and `operation`, the failed operation
    (https://cloud.google.com/workflows/docs/connectors#long-running_operations). For
    jobs.run the operation's `metadata` is the Execution and `error` a google.rpc.Status
    whose text is Cloud Run's; avp reads neither text nor code: the step says why on the job.
    """
    execution_id = execution_name.rsplit("/", 1)[-1]
    status = {"code": 2, "message": f"Task {execution_id}-task0 failed with message: The container exited with an error."}
    parent = job.split("/jobs/", 1)[0]
    return {
        "message": status["message"],
        "tags": ["OperationError"],
        "operation": {
            "name": f"{parent}/operations/{uuid.uuid4()}",
            "done": True,
            "error": status,
            "metadata": {
                "@type": "type.googleapis.com/google.cloud.run.v2.Execution",
                "name": execution_name, "job": job.rsplit("/", 1)[-1], "startTime": started, "completionTime": _now(),
                "taskCount": 1, "failedCount": 1, "succeededCount": 0, "cancelledCount": 0,
                "conditions": [{"type": "Completed", "state": "CONDITION_FAILED", "message": status["message"]}],
            },
        },
    }


def _wait(process: subprocess.Popen[str], ctx: CallContext, timeout: float, label: str) -> int:
    deadline = time.monotonic() + timeout
    while True:
        try:
            status = process.wait(timeout=_POLL_SECONDS)
        except subprocess.TimeoutExpired:
            status = None
        # Checked even after an exit: cancel may have been what killed the child.
        if ctx.cancel_event.is_set():
            raise ExecutionCancelled(ctx.execution_id)
        if status is not None:
            return status
        if time.monotonic() > deadline:
            raise WorkflowError.tagged("TimeoutError", f"{label} did not finish within {timeout:g}s")


def _log_entry(line: str, default_severity: str) -> tuple[str, str]:
    """(message, severity) of an output line: steps log one JSON object a line, as on Cloud Run."""
    try:
        entry = json.loads(line)
    except ValueError:
        return line, default_severity
    if not isinstance(entry, dict) or "message" not in entry:
        return line, default_severity
    return str(entry["message"]), str(entry.get("severity", default_severity))


def _stream(pipe: IO[str] | None, ctx: CallContext, label: str, severity: str) -> threading.Thread:
    def pump() -> None:
        assert pipe is not None
        with pipe:
            for line in pipe:
                if not line.strip():
                    continue
                message, line_severity = _log_entry(line.strip(), severity)
                ctx.log(f"[{label}] {message}", line_severity)

    thread = threading.Thread(target=pump, name=f"job-output-{label}", daemon=True)
    thread.start()
    return thread


# The emulator takes "owner" as an admin token that bypasses the security rules, which is
# what the workflow's service account amounts to in production.
_ADMIN = {"Authorization": "Bearer owner"}


@dataclass(frozen=True)
class FirestoreEmulatorConnector:
    """Firestore `documents.patch` / `documents.get` against the emulator's REST API.

    `host` defaults to `$FIRESTORE_EMULATOR_HOST`, read at call time so a stack that
    starts the emulator later still works.
    """

    host: str | None = None

    def _url(self, args: Mapping[str, Any]) -> str:
        host = self.host or os.environ.get("FIRESTORE_EMULATOR_HOST")
        if not host:
            raise WorkflowError.tagged("ConnectionError", "FIRESTORE_EMULATOR_HOST is not set")
        name = args.get("name")
        if not isinstance(name, str):
            raise WorkflowError.tagged("ValueError", "Firestore documents calls need the document 'name'")
        return f"http://{host}/v1/{name}"

    def patch(self, args: dict[str, Any], ctx: CallContext) -> Any:
        """Update the fields in `updateMask.fieldPaths` (all given fields when absent)."""
        mask = (args.get("updateMask") or {}).get("fieldPaths") or []
        query = [("updateMask.fieldPaths", path) for path in mask]
        return _with_connector_retry(DEFAULT_RETRY_NON_IDEMPOTENT, ctx, lambda: send(
            "PATCH", self._url(args), query=query, headers=_ADMIN, body=args.get("body") or {}))["body"]

    def get(self, args: dict[str, Any], ctx: CallContext) -> Any:
        """Read one document; a missing one raises an HttpError with code 404."""
        mask = (args.get("mask") or {}).get("fieldPaths") or []
        query = [("mask.fieldPaths", path) for path in mask]
        return _with_connector_retry(DEFAULT_RETRY, ctx, lambda: send("GET", self._url(args), query=query, headers=_ADMIN))["body"]


def _with_connector_retry(policy: RetryPolicy, ctx: CallContext, call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Every connector retries by itself before the workflow sees an error: GET with the
    idempotent policy, other methods with the non-idempotent one
    (https://cloud.google.com/workflows/docs/connectors#retries)."""
    for delay in [*policy.delays(), None]:
        try:
            return call()
        except WorkflowError as failure:
            if delay is None or not policy.predicate(failure.value):
                raise
            ctx.log(f"{failure}; the connector retries in {delay:g}s", "WARNING")
            ctx.runtime.pause(delay)
    raise AssertionError("unreachable")


def default_connectors(
    *, env: Mapping[str, str] | None = None, job_command: Sequence[str] = DEFAULT_JOB_COMMAND, firestore_host: str | None = None
) -> dict[str, Connector]:
    """The connector table of the local stack.

    `env` is laid over os.environ for every step process (the stack's settings); its
    FIRESTORE_EMULATOR_HOST, unless `firestore_host` is given, is where Firestore calls go.
    """
    env = dict(env or {})
    firestore = FirestoreEmulatorConnector(firestore_host or env.get("FIRESTORE_EMULATOR_HOST"))
    return {
        RUN_JOB: CloudRunJobConnector(tuple(job_command), env),
        FIRESTORE_PATCH: firestore.patch,
        FIRESTORE_GET: firestore.get,
    }
