"""The real local connectors: Cloud Run job as a child process, and Firestore emulator REST."""
from __future__ import annotations

import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from avp.local.workflows import (
    CloudRunJobConnector,
    ExecutionCancelled,
    FirestoreEmulatorConnector,
    Runtime,
    WorkflowError,
    default_connectors,
)
from avp.local.workflows.connectors import FIRESTORE_GET, RUN_JOB

# Stands in for `python -m avp.pipeline`: reports its arguments and attempt, then exits as told.
FAKE_STEP = """
import os, sys
step = sys.argv[1]
print("ran", " ".join(sys.argv[1:]), "attempt", os.environ["CLOUD_RUN_TASK_ATTEMPT"], flush=True)
if step == "permanent":
    print("warming up", file=sys.stderr)
    print('{"severity": "ERROR", "message": "unsupported codec: prores"}', file=sys.stderr)
    sys.exit(3)
if step == "crash":
    print("out of memory", file=sys.stderr)
    sys.exit(1)
if step == "hang":
    import time
    time.sleep(60)
"""

JOB = "projects/p/locations/r/jobs/avp-media"


def job_args(*container_args: str, timeout: int | float = 60) -> dict[str, Any]:
    return {
        "name": JOB,
        "body": {"overrides": {"containerOverrides": [{"args": list(container_args)}]}},
        "connector_params": {"timeout": timeout},
    }


@pytest.fixture
def logs() -> list[tuple[str, str]]:
    return []


@pytest.fixture
def runtime(logs: list[tuple[str, str]]) -> Runtime:
    return Runtime(log_sink=lambda message, severity: logs.append((severity, message)))


@pytest.fixture
def connector() -> CloudRunJobConnector:
    return CloudRunJobConnector(command=(sys.executable, "-c", FAKE_STEP))


def test_success_returns_an_execution_map_and_streams_output(
    connector: CloudRunJobConnector, runtime: Runtime, logs: list[tuple[str, str]]
) -> None:
    result = connector(job_args("ingest", "--job-id", "j1"), runtime.context("run", "run_job"))
    assert result["succeededCount"] == 1 and result["failedCount"] == 0
    assert result["name"].startswith(f"{JOB}/executions/")
    assert result["conditions"] == [{"type": "Completed", "state": "CONDITION_SUCCEEDED"}]
    assert any(severity == "INFO" and "ran ingest --job-id j1 attempt 0" in message for severity, message in logs)


def test_attempts_are_counted_per_step(connector: CloudRunJobConnector, runtime: Runtime, logs: list[tuple[str, str]]) -> None:
    ctx = runtime.context("run", "run_job")
    for step in ("captions", "captions", "render", "captions"):
        connector(job_args(step, "--job-id", "j1"), ctx)
    ran = [message.split("] ", 1)[1] for _, message in logs if "] ran " in message]
    assert ran == [
        "ran captions --job-id j1 attempt 0",
        "ran captions --job-id j1 attempt 1",
        "ran render --job-id j1 attempt 0",
        "ran captions --job-id j1 attempt 2",
    ]


@pytest.mark.parametrize("step", ["permanent", "crash"])
def test_a_failed_execution_raises_the_connectors_operation_error_without_the_exit_status(
    connector: CloudRunJobConnector, runtime: Runtime, logs: list[tuple[str, str]], step: str
) -> None:
    with pytest.raises(WorkflowError) as caught:
        connector(job_args(step, "--job-id", "j1"), runtime.context("run", "run_job"))
    error = caught.value.value
    # The shape Cloud Workflows gives a failed long-running operation: message, tags, operation.
    assert set(error) == {"message", "tags", "operation"} and error["tags"] == ["OperationError"]
    operation = error["operation"]
    assert operation["done"] is True and operation["name"].startswith("projects/p/locations/r/operations/")
    assert set(operation["error"]) == {"code", "message"} and "failed" in operation["error"]["message"]
    assert operation["metadata"]["@type"] == "type.googleapis.com/google.cloud.run.v2.Execution"
    assert operation["metadata"]["failedCount"] == 1 and operation["metadata"]["succeededCount"] == 0
    assert "3" not in json.dumps(error["tags"]) and "exit_code" not in json.dumps(error)
    if step == "permanent":  # the step's own log lines still reach the execution log, with their severity
        assert ("WARNING", "[permanent --job-id j1 (attempt 0)] warming up") in logs
        assert ("ERROR", "[permanent --job-id j1 (attempt 0)] unsupported codec: prores") in logs


def test_connector_timeout_kills_the_child(connector: CloudRunJobConnector, runtime: Runtime) -> None:
    started = time.monotonic()
    with pytest.raises(WorkflowError) as caught:
        connector(job_args("hang", "--job-id", "j1", timeout=0.5), runtime.context("run", "run_job"))
    assert caught.value.tags == ["TimeoutError"]
    assert time.monotonic() - started < 3


def test_default_connectors_pass_the_stack_env_to_steps_and_firestore(logs: list[tuple[str, str]]) -> None:
    waits: list[float] = []
    runtime = Runtime(log_sink=lambda message, severity: logs.append((severity, message)), sleep=waits.append)
    # Port 1 on loopback refuses connections: proof the call went to the host from `env`.
    connectors = default_connectors(
        env={"FIRESTORE_EMULATOR_HOST": "127.0.0.1:1", "AVP_MARK": "from-stack"},
        job_command=(sys.executable, "-c", "import os; print('mark', os.environ['AVP_MARK'])"),
    )
    connectors[RUN_JOB](job_args("ingest", "--job-id", "j1"), runtime.context(RUN_JOB, "run_job"))
    assert any(message.endswith("] mark from-stack") for _, message in logs)
    with pytest.raises(WorkflowError) as caught:
        connectors[FIRESTORE_GET]({"name": "projects/p/databases/(default)/documents/jobs/j1"}, runtime.context(FIRESTORE_GET, "read"))
    assert "ConnectionError" in caught.value.tags
    assert len(waits) == 5  # a refused connection is retried by the connector itself first, as in the cloud
    assert "127.0.0.1:1" in caught.value.value["message"]


# The child starts a grandchild (as a step starts ffmpeg) and reports both ids.
HANGING_STEP = """
import os, subprocess, sys, time
grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
print("pids", os.getpid(), grandchild.pid, flush=True)
time.sleep(60)
"""


def test_cancel_kills_the_child_process_group_within_a_second(
    runtime: Runtime, logs: list[tuple[str, str]], process_alive: Callable[[int], bool]
) -> None:
    connector = CloudRunJobConnector(command=(sys.executable, "-c", HANGING_STEP))
    outcome: list[BaseException] = []

    def call() -> None:
        try:
            connector(job_args("ingest", "--job-id", "j1"), runtime.context("run", "run_job"))
        except BaseException as failure:  # noqa: BLE001 - the test inspects whatever ended the call
            outcome.append(failure)

    worker = threading.Thread(target=call)
    worker.start()
    deadline = time.monotonic() + 10
    pids: list[int] = []
    while not pids and time.monotonic() < deadline:
        pids = [int(p) for _, message in logs if "] pids " in message for p in message.split("] pids ", 1)[1].split()]
        time.sleep(0.02)
    assert len(pids) == 2 and all(process_alive(pid) for pid in pids)

    cancelled_at = time.monotonic()
    runtime.cancel()
    worker.join(timeout=5)
    while any(process_alive(pid) for pid in pids) and time.monotonic() - cancelled_at < 2:
        time.sleep(0.02)
    gone_after = time.monotonic() - cancelled_at
    assert not any(process_alive(pid) for pid in pids)
    assert gone_after < 1.0
    assert len(outcome) == 1 and isinstance(outcome[0], ExecutionCancelled)


@pytest.mark.skipif(not os.environ.get("FIRESTORE_EMULATOR_HOST"), reason="needs FIRESTORE_EMULATOR_HOST (a running Firestore emulator)")
def test_firestore_patch_and_get_against_the_emulator(runtime: Runtime) -> None:
    import requests

    host = os.environ["FIRESTORE_EMULATOR_HOST"]
    project = f"wf-test-{uuid.uuid4().hex[:8]}"
    name = f"projects/{project}/databases/(default)/documents/jobs/job-1"
    requests.patch(
        f"http://{host}/v1/{name}",
        headers={"Authorization": "Bearer owner"},
        data=json.dumps({"fields": {"status": {"stringValue": "processing"}, "title": {"stringValue": "kept"}}}),
        timeout=10,
    ).raise_for_status()
    firestore = FirestoreEmulatorConnector()
    ctx = runtime.context("firestore", "patch")
    fields = {"status": {"stringValue": "failed"}, "failed_step": {"stringValue": "render"}}
    firestore.patch({"name": name, "updateMask": {"fieldPaths": ["status", "failed_step"]}, "body": {"fields": fields}}, ctx)
    document = firestore.get({"name": name}, ctx)
    assert document["fields"] == {
        "status": {"stringValue": "failed"},
        "failed_step": {"stringValue": "render"},
        "title": {"stringValue": "kept"},
    }
    with pytest.raises(WorkflowError) as caught:
        firestore.get({"name": f"projects/{project}/databases/(default)/documents/jobs/missing"}, ctx)
    assert caught.value.value["code"] == 404


class _Flaky:
    """A loopback HTTP server answering each request with the next status of `statuses`."""

    def __init__(self, statuses: list[int]):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.statuses, self.seen = list(statuses), []
        flaky = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                flaky.seen.append(self.command)
                status = flaky.statuses.pop(0) if flaky.statuses else 200
                body = json.dumps({"name": "doc", "fields": {}} if status == 200 else {"error": {"code": status}}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_PATCH = _answer

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.host = f"127.0.0.1:{self.server.server_address[1]}"


@pytest.mark.parametrize(("method", "statuses", "tries", "fails_with"), [
    ("get", [503, 502, 200], 3, None),  # idempotent policy: 429, 502, 503, 504 retried
    ("get", [404], 1, 404),
    ("patch", [503, 200], 2, None),  # non-idempotent policy: only 429 and 503
    ("patch", [502], 1, 502),
])
def test_firestore_connector_retries_like_the_platforms_connectors(method, statuses, tries, fails_with) -> None:
    flaky = _Flaky(statuses)
    waits: list[float] = []
    runtime = Runtime(sleep=waits.append)
    connector = FirestoreEmulatorConnector(flaky.host)
    args = {"name": "projects/p/databases/(default)/documents/jobs/j1", "body": {"fields": {}}}
    try:
        if fails_with:
            with pytest.raises(WorkflowError) as caught:
                getattr(connector, method)(args, runtime.context("firestore", "step"))
            assert caught.value.value["code"] == fails_with and caught.value.tags == ["HttpError"]
        else:
            getattr(connector, method)(args, runtime.context("firestore", "step"))
    finally:
        flaky.server.shutdown()
    assert len(flaky.seen) == tries and len(waits) == tries - 1
