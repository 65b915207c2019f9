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
SCHEMA = REPO / "../shared/schemas/workflows.json"
ALL_STEPS = ["ingest", "transcribe", "shots", "captions", "describe", "synthesize", "render"]


@pytest.mark.parametrize("name", ["pipeline", "languages"])
def test_workflow_file_validates_against_the_workflows_schema(name: str) -> None:
    if not SCHEMA.is_file():
        pytest.skip(f"the Workflows JSON schema is not at {SCHEMA}")
    definition = yaml.safe_load((WORKFLOWS / f"{name}.workflows.yaml").read_text())
    jsonschema.validate(definition, json.loads(SCHEMA.read_text()))


@dataclass
class FakeCloud:
    """Cloud Run and Firestore as the workflows see them, recording every run.

    `failures[(step, language)]` lists the error tags to raise on successive attempts
    (None: succeed). `records_own_failure` makes a failing step write `failed` itself first.
    """

    failures: dict[tuple[str, str | None], list[str | None]] = field(default_factory=dict)
    records_own_failure: bool = False
    slow_steps: set[str] = field(default_factory=set)
    runs: list[tuple[str, str | None]] = field(default_factory=list)
    spans: dict[str, tuple[float, float]] = field(default_factory=dict)
    patches: list[dict[str, Any]] = field(default_factory=list)
    status_patches: list[dict[str, Any]] = field(default_factory=list)
    job: dict[str, Any] = field(default_factory=lambda: {"status": {"stringValue": "processing"}})
    lock: threading.Lock = field(default_factory=threading.Lock)

    def connectors(self) -> dict[str, Any]:
        return {RUN_JOB: self.run, FIRESTORE_PATCH: self.patch, FIRESTORE_GET: self.get}

    def run(self, args: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
        assert args["name"] == "projects/proj/locations/europe-west1/jobs/avp-media"
        assert args["connector_params"]["timeout"] >= 3600
        container_args = args["body"]["overrides"]["containerOverrides"][0]["args"]
        step, flag, job_id, *rest = container_args
        assert (flag, job_id) == ("--job-id", "job-1")
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
        tag = plan[attempt] if attempt < len(plan) else None
        if tag is not None:
            if self.records_own_failure:
                self.job = {"status": {"stringValue": "failed"}, "failure_reason": {"stringValue": "recorded by the step"}}
            raise WorkflowError({"message": f"{step} broke", "tags": [tag]})
        return {"name": f"{args['name']}/executions/{step}-{attempt}", "succeededCount": 1}

    def patch(self, args: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
        mask = args["updateMask"]["fieldPaths"]
        fields = args["body"]["fields"]
        assert sorted(mask) == sorted(fields)
        if args["name"] == "projects/proj/databases/(default)/documents/job_status/job-1":
            with self.lock:
                self.status_patches.append(fields)
            return {"name": args["name"], "fields": fields}
        assert args["name"] == "projects/proj/databases/(default)/documents/jobs/job-1"
        with self.lock:
            self.patches.append(fields)
            self.job = {**self.job, **fields}
        return {"name": args["name"], "fields": self.job}

    def get(self, args: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
        assert args["name"] == "projects/proj/databases/(default)/documents/jobs/job-1"
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
    assert cloud.patches == [] and cloud.status() == "pending_qc"
    assert run.result["status"] == "pending_qc"
    assert run.result["steps"] == {step: "succeeded" for step in ALL_STEPS}
    assert run.sleeps == []


def test_pipeline_skips_steps_that_were_not_requested() -> None:
    cloud = FakeCloud()
    run = run_file("pipeline", cloud, steps=["captions", "render"])
    assert run.state is State.SUCCEEDED, run.error
    assert cloud.runs == [("captions", None), ("render", None), ("finalize", None)]
    assert run.result["steps"]["ingest"] == "skipped" and run.result["steps"]["render"] == "succeeded"
    assert any("skipped shots for job job-1: not requested" in line for line in run.log)
    assert cloud.status() == "pending_qc"


def test_permanent_failure_stops_at_once_and_marks_the_job_failed() -> None:
    cloud = FakeCloud(failures={("captions", None): ["PermanentError"]})
    run = run_file("pipeline", cloud, steps=ALL_STEPS)
    assert run.state is State.FAILED
    assert run.error["tags"] == ["PermanentError"]
    assert [step for step, _ in cloud.runs][3:] == ["captions"]  # once, and nothing after it
    assert run.sleeps == []
    assert cloud.patches == [
        {
            "status": {"stringValue": "failed"},
            "failed_step": {"stringValue": "captions"},
            "failure_reason": {"stringValue": "captions broke"},
        }
    ]
    assert cloud.status_patches == cloud.patches  # the status mirror says failed too


def test_a_failure_the_step_recorded_itself_is_not_overwritten() -> None:
    cloud = FakeCloud(failures={("describe", None): ["PermanentError"]}, records_own_failure=True)
    run = run_file("pipeline", cloud, steps=ALL_STEPS)
    assert run.state is State.FAILED
    assert cloud.patches == []
    assert cloud.job["failure_reason"] == {"stringValue": "recorded by the step"}


def test_transient_failure_is_retried_with_backoff_and_the_pipeline_goes_on() -> None:
    cloud = FakeCloud(failures={("transcribe", None): ["JobExecutionError", "ConnectionError"]})
    run = run_file("pipeline", cloud, steps=ALL_STEPS)
    assert run.state is State.SUCCEEDED, run.error
    assert cloud.runs.count(("transcribe", None)) == 3
    assert run.sleeps == [10.0, 20.0]
    assert cloud.status() == "pending_qc"


def test_exhausted_retries_mark_the_failed_branch_and_fail_the_execution() -> None:
    cloud = FakeCloud(failures={("shots", None): ["JobExecutionError"] * 10})
    run = run_file("pipeline", cloud, steps=ALL_STEPS)
    assert run.state is State.FAILED
    assert cloud.runs.count(("shots", None)) == 4  # the first try and max_retries: 3
    assert run.sleeps == [10.0, 20.0, 40.0]
    assert run.error["tags"] == ["UnhandledBranchError"]
    assert run.error["branches"][0]["error"]["tags"] == ["JobExecutionError"]
    assert ("captions", None) not in cloud.runs
    assert cloud.job["failed_step"] == {"stringValue": "shots"}
    assert cloud.status() == "failed"


def test_languages_run_their_steps_in_order_per_language() -> None:
    cloud = FakeCloud()
    run = run_file("languages", cloud, languages=["fr", "de", "es"], steps=["translate", "synthesize", "render"])
    assert run.state is State.SUCCEEDED, run.error
    for language in ("fr", "de", "es"):
        assert [step for step, lang in cloud.runs if lang == language] == ["translate", "synthesize", "render"]
    every_step = {"translate": "succeeded", "synthesize": "succeeded", "render": "succeeded"}
    assert run.result["languages"] == {lang: every_step for lang in ("fr", "de", "es")}
    assert cloud.patches == []


def test_a_failing_language_marks_the_job_failed_and_the_others_finish() -> None:
    cloud = FakeCloud(failures={("synthesize", "de"): ["PermanentError"]})
    run = run_file("languages", cloud, languages=["fr", "de"], steps=["translate", "synthesize", "render"])
    assert run.state is State.FAILED
    assert run.error["tags"] == ["UnhandledBranchError"]
    assert [step for step, lang in cloud.runs if lang == "fr"] == ["translate", "synthesize", "render"]
    assert [step for step, lang in cloud.runs if lang == "de"] == ["translate", "synthesize"]
    assert cloud.job["failed_step"] == {"stringValue": "synthesize"}
    assert cloud.job["failure_reason"] == {"stringValue": "de: synthesize broke"}
