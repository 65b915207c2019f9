"""The real workflow files: schema-valid, and run end to end with fake connectors."""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from avp.local.workflows import CallContext, ExecutionManager, State, WorkflowError
from avp.local.workflows.connectors import FIRESTORE_GET, FIRESTORE_PATCH, RUN_JOB

REPO = Path(__file__).resolve().parents[3]
WORKFLOWS = REPO / "workflows"
SCHEMA = REPO / "tests/data/schemas/workflows.json"
ALL_STEPS = ["ingest", "transcribe", "shots", "captions", "describe", "synthesize", "render"]


@pytest.mark.parametrize("name", ["pipeline", "languages", "bundle"])
def test_workflow_file_validates_against_the_workflows_schema(name: str) -> None:
    definition = yaml.safe_load((WORKFLOWS / f"{name}.workflows.yaml").read_text())
    jsonschema.validate(definition, json.loads(SCHEMA.read_text()))


# The error maps Cloud Workflows raises from `googleapis.run.v2.projects.locations.jobs.run`,
# shaped as Google documents them: a failed execution is a failed long-running operation
# (message, tags ["OperationError"], operation; https://cloud.google.com/workflows/docs/connectors),
# and the connector's own failures carry the tags and HTTP fields of
# https://cloud.google.com/workflows/docs/reference/syntax/error-types.
EXECUTION_FAILED = {
    "message": "Task avp-media-x7k2p-task0 failed with message: The container exited with an error.",
    "tags": ["OperationError"],
    "operation": {
        "name": "projects/proj/locations/europe-west1/operations/5b0f3c1e-6a57-4a8e-9d39-0d1f2b8f7a10",
        "done": True,
        "error": {"code": 2, "message": "Task avp-media-x7k2p-task0 failed with message: The container exited with an error."},
        "metadata": {"@type": "type.googleapis.com/google.cloud.run.v2.Execution",
                     "name": "projects/proj/locations/europe-west1/jobs/avp-media/executions/avp-media-x7k2p",
                     "taskCount": 1, "failedCount": 1, "succeededCount": 0},
    },
}
CONNECTOR_ERRORS = {
    "TimeoutError": {"message": "Long-running operation did not finish within the timeout", "tags": ["TimeoutError"]},
    "ConnectionError": {"message": "connection reset by peer", "tags": ["ConnectionError"]},
    "ConnectionFailedError": {"message": "connection refused", "tags": ["ConnectionFailedError", "ConnectionError"]},
    "HttpError403": {"message": "HTTP server responded with error code 403", "tags": ["HttpError"], "code": 403,
                     "headers": {"Content-Type": "application/json"},
                     "body": {"error": {"code": 403, "status": "PERMISSION_DENIED",
                                        "message": "Permission 'run.jobs.runWithOverrides' denied on resource"}}},
    "HttpError500": {"message": "HTTP server responded with error code 500", "tags": ["HttpError"], "code": 500,
                     "headers": {}, "body": {"error": {"code": 500, "status": "INTERNAL", "message": "Internal error"}}},
}


@dataclass
class FakeCloud:
    """Cloud Run and Firestore as the workflows see them, recording every run.

    `failures[(step, language)]` lists, per attempt, how it fails (None: it succeeds):
    "permanent" (the step marks the job failed with its reason, then the execution fails),
    "transient" (the execution fails, the job is untouched), or a key of CONNECTOR_ERRORS.
    The `fail` step does what `avp-media fail` does: mark the job failed unless it already is.
    """

    failures: dict[tuple[str, str | None], list[str | None]] = field(default_factory=dict)
    slow_steps: set[str] = field(default_factory=set)
    runs: list[tuple[str, str | None]] = field(default_factory=list)
    fail_calls: list[list[str]] = field(default_factory=list)
    spans: dict[str, tuple[float, float]] = field(default_factory=dict)
    reads: int = 0
    job: dict[str, Any] = field(default_factory=lambda: {"status": {"stringValue": "processing"}})
    lock: threading.Lock = field(default_factory=threading.Lock)

    def connectors(self) -> dict[str, Any]:
        return {RUN_JOB: self.run, FIRESTORE_PATCH: self.patch, FIRESTORE_GET: self.get}

    def run(self, args: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
        assert args["name"] == "projects/proj/locations/europe-west1/jobs/avp-media"
        container_args = args["body"]["overrides"]["containerOverrides"][0]["args"]
        assert all(isinstance(arg, str) for arg in container_args)
        step, flag, job_id, *rest = container_args
        assert (flag, job_id) == ("--job-id", "job-1")
        if step == "fail":
            with self.lock:
                self.fail_calls.append(rest)
                if self.status() != "failed":
                    options = dict(zip(rest[::2], rest[1::2]))
                    self.job = {"status": {"stringValue": "failed"}, "failed_step": {"stringValue": options["--failed-step"]},
                                "failure_reason": {"stringValue": options["--reason"]}}
            return {"name": f"{args['name']}/executions/fail", "succeededCount": 1}
        assert args["connector_params"]["timeout"] >= 3600
        language = rest[1] if rest else None
        started = time.monotonic()
        with self.lock:
            self.runs.append((step, language))
            attempt = sum(1 for run in self.runs if run == (step, language)) - 1
        if step in self.slow_steps:
            time.sleep(0.1)
        if step == "finalize":  # what the real finalize step does, through avp's status writer
            self.job = {**self.job, "status": {"stringValue": "pending_qc"}}
        self.spans[step] = (started, time.monotonic())
        plan = self.failures.get((step, language), [])
        kind = plan[attempt] if attempt < len(plan) else None
        if kind == "permanent":
            with self.lock:
                if self.status() != "failed":
                    self.job = {"status": {"stringValue": "failed"}, "failed_step": {"stringValue": step},
                                "failure_reason": {"stringValue": f"{step} recorded its own reason"}}
            raise WorkflowError(EXECUTION_FAILED)
        if kind == "transient":
            raise WorkflowError(EXECUTION_FAILED)
        if kind is not None:
            raise WorkflowError(CONNECTOR_ERRORS[kind])
        return {"name": f"{args['name']}/executions/{step}-{attempt}", "succeededCount": 1}

    def patch(self, args: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
        raise AssertionError("the workflows write the job only through avp-media steps")

    def get(self, args: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
        assert args["name"] == "projects/proj/databases/(default)/documents/jobs/job-1"
        with self.lock:
            self.reads += 1
        return {"name": args["name"], "fields": self.job}

    def status(self) -> str:
        return self.job["status"]["stringValue"]


@dataclass
class Run:
    state: State
    result: Any
    error: Any
    sleeps: list[float]
    log: list[str]


def run_file(name: str, cloud: FakeCloud, **argument: Any) -> Run:
    sleeps: list[float] = []
    manager = ExecutionManager(cloud.connectors(), workflows_dir=WORKFLOWS, sleep=sleeps.append)
    base = {"job_id": "job-1", "project": "proj", "region": "europe-west1"}
    execution = manager.wait(manager.create(name, {**base, **argument}).id, timeout=20)
    return Run(execution.state, execution.result, execution.error, sleeps, list(execution.log))


def test_pipeline_runs_every_step_in_order_with_transcribe_and_shots_in_parallel() -> None:
    cloud = FakeCloud(slow_steps={"transcribe", "shots"})
    run = run_file("pipeline", cloud, steps=ALL_STEPS)
    assert run.state is State.SUCCEEDED, run.error
    steps = [step for step, _ in cloud.runs]
    assert steps[0] == "ingest"
    assert sorted(steps[1:3]) == ["shots", "transcribe"]
    assert steps[3:] == ["captions", "describe", "synthesize", "render", "finalize"]
    (t_start, t_end), (s_start, s_end) = cloud.spans["transcribe"], cloud.spans["shots"]
    assert t_start < s_end and s_start < t_end, "transcribe and shots should overlap"
    assert cloud.fail_calls == [] and cloud.status() == "pending_qc"
    assert run.result["status"] == "pending_qc"
    assert run.result["steps"] == {step: "succeeded" for step in ALL_STEPS}
    assert run.sleeps == []


def test_the_result_reports_the_jobs_real_final_status() -> None:
    cloud = FakeCloud()
    original = cloud.run

    def cancelled_while_finishing(args: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
        result = original(args, ctx)
        if args["body"]["overrides"]["containerOverrides"][0]["args"][0] == "finalize":
            cloud.job = {"status": {"stringValue": "cancelled"}}  # finalize found the job cancelled
        return result

    cloud.run = cancelled_while_finishing  # type: ignore[method-assign]
    run = run_file("pipeline", cloud, steps=["captions"])
    assert run.state is State.SUCCEEDED, run.error
    assert run.result["status"] == "cancelled"


def test_pipeline_skips_steps_that_were_not_requested() -> None:
    cloud = FakeCloud()
    run = run_file("pipeline", cloud, steps=["captions", "render"])
    assert run.state is State.SUCCEEDED, run.error
    assert cloud.runs == [("captions", None), ("render", None), ("finalize", None)]
    assert run.result["steps"]["ingest"] == "skipped" and run.result["steps"]["render"] == "succeeded"
    assert any("skipped shots for job job-1: not requested" in line for line in run.log)
    assert cloud.status() == "pending_qc"


def test_a_permanent_failure_recorded_by_the_step_stops_at_once_and_keeps_its_reason() -> None:
    cloud = FakeCloud(failures={("captions", None): ["permanent"]})
    run = run_file("pipeline", cloud, steps=ALL_STEPS)
    assert run.state is State.FAILED
    assert run.error["tags"] == ["OperationError"]  # the cloud's own error is what fails the execution
    assert [step for step, _ in cloud.runs][3:] == ["captions"]  # once, and nothing after it
    assert run.sleeps == []
    assert cloud.fail_calls == []  # the step's reason stands
    assert cloud.job["failure_reason"] == {"stringValue": "captions recorded its own reason"}


@pytest.mark.parametrize("kind", ["transient", "TimeoutError", "ConnectionError", "ConnectionFailedError", "HttpError500"])
def test_transient_failures_are_retried_with_backoff_and_the_pipeline_goes_on(kind: str) -> None:
    cloud = FakeCloud(failures={("transcribe", None): [kind, kind]})
    run = run_file("pipeline", cloud, steps=ALL_STEPS)
    assert run.state is State.SUCCEEDED, run.error
    assert cloud.runs.count(("transcribe", None)) == 3
    assert run.sleeps == [10.0, 20.0]
    assert cloud.status() == "pending_qc" and run.result["status"] == "pending_qc"


def test_a_refused_call_is_not_retried_and_marks_the_job_failed_with_the_platforms_message() -> None:
    cloud = FakeCloud(failures={("ingest", None): ["HttpError403"]})
    run = run_file("pipeline", cloud, steps=ALL_STEPS)
    assert run.state is State.FAILED and run.error["code"] == 403
    assert cloud.runs == [("ingest", None)] and run.sleeps == []
    assert cloud.fail_calls == [["--failed-step", "ingest", "--reason", "HTTP server responded with error code 403"]]
    assert cloud.status() == "failed"


def test_exhausted_retries_mark_the_failed_branch_and_fail_the_execution() -> None:
    cloud = FakeCloud(failures={("shots", None): ["transient"] * 10})
    run = run_file("pipeline", cloud, steps=ALL_STEPS)
    assert run.state is State.FAILED
    assert cloud.runs.count(("shots", None)) == 4  # the first try and three more
    assert run.sleeps == [10.0, 20.0, 40.0]
    assert run.error["tags"] == ["UnhandledBranchError"]
    assert run.error["branches"][0]["error"]["tags"] == ["OperationError"]
    assert ("captions", None) not in cloud.runs
    assert cloud.fail_calls == [["--failed-step", "shots", "--reason", EXECUTION_FAILED["message"]]]
    assert cloud.job["failed_step"] == {"stringValue": "shots"} and cloud.status() == "failed"


def test_languages_run_their_steps_in_order_per_language() -> None:
    cloud = FakeCloud()
    run = run_file("languages", cloud, languages=["fr", "de", "es"], steps=["translate", "synthesize", "render"])
    assert run.state is State.SUCCEEDED, run.error
    for language in ("fr", "de", "es"):
        assert [step for step, lang in cloud.runs if lang == language] == ["translate", "synthesize", "render"]
    every_step = {"translate": "succeeded", "synthesize": "succeeded", "render": "succeeded"}
    assert run.result["languages"] == {lang: every_step for lang in ("fr", "de", "es")}
    assert cloud.fail_calls == []


def test_a_failing_language_marks_the_job_failed_and_the_others_finish() -> None:
    cloud = FakeCloud(failures={("synthesize", "de"): ["transient"] * 4})
    run = run_file("languages", cloud, languages=["fr", "de"], steps=["translate", "synthesize", "render"])
    assert run.state is State.FAILED
    assert run.error["tags"] == ["UnhandledBranchError"]
    assert [step for step, lang in cloud.runs if lang == "fr"] == ["translate", "synthesize", "render"]
    assert [step for step, lang in cloud.runs if lang == "de"] == ["translate"] + ["synthesize"] * 4
    assert cloud.fail_calls == [["--failed-step", "synthesize", "--language", "de", "--reason", EXECUTION_FAILED["message"]]]
    assert cloud.job["failed_step"] == {"stringValue": "synthesize"}


def test_a_permanent_language_failure_is_not_retried() -> None:
    cloud = FakeCloud(failures={("translate", "fr"): ["permanent"]})
    run = run_file("languages", cloud, languages=["fr"], steps=["translate", "synthesize", "render"])
    assert run.state is State.FAILED
    assert cloud.runs == [("translate", "fr")] and run.sleeps == [] and cloud.fail_calls == []
