"""The job aggregate's rules on in-memory units of work (milliseconds, no emulator): the state
machine, the one status writer (job, mirror and audit entry together), typed outputs, languages that
never overwrite each other, and progress that never falls. tests/integration/test_units.py runs the
repository cases against Firestore too."""
from __future__ import annotations

import pytest

from avp.auth.tokens import Principal
from avp.domain import jobs, plan
from avp.domain.aggregates import AuditEntry
from avp.domain.audit import SYSTEM
from avp.domain.model import Asset, Job, LanguageOutputs, outputs_from_doc
from avp.errors import Conflict, NotFound
from avp.store.memory import MemoryUnits
from tests.helpers import JOB_PATHS

ALL = {"captions_vtt": True, "audio_description_vtt": True, "audio_description_mp3": True, "accessible_video_mp4": True,
       "languages": ["fr", "de"]}


@pytest.fixture
def units() -> MemoryUnits:
    return MemoryUnits()


def entries(units: MemoryUnits) -> list[AuditEntry]:
    return units.of(AuditEntry).where(order_by=[("at", "asc")])


def new(units: MemoryUnits, status: str = "uploading") -> str:
    job = jobs.new_job(Principal("u1", "production"), org_id="o1", client_id=None, project_id=None, title="t",
                       filename="a.mp4", content_type="video/mp4", size_bytes=10, source_language="en",
                       requested_outputs=ALL)
    jobs.store_new_job(units, SYSTEM, job)
    for action in JOB_PATHS[status]:  # there the way a real job gets there
        opened = jobs._with_language_states if action == "approve_source" else None
        jobs.transition(units, SYSTEM, job["id"], action, changes=opened)
    return job["id"]


def test_a_transition_writes_job_mirror_and_audit_together(units):
    job_id = new(units)
    job = jobs.transition(units, SYSTEM, job_id, "complete_upload")
    assert job.status == "queued" and units.docs[f"jobs/{job_id}"]["status"] == "queued"
    assert units.docs[f"job_status/{job_id}"]["status"] == "queued"
    log = entries(units)
    assert [e.action for e in log] == ["job.create", "job.complete_upload"]
    assert log[-1].before == {"status": "uploading"} and log[-1].after == {"status": "queued"}


@pytest.mark.parametrize("status, action", [("uploading", "finish_processing"), ("language_qc", "fail"),
                                            ("processing", "fail_language"), ("complete", "retry"),
                                            ("pending_qc", "languages_approved")])
def test_a_forbidden_transition_fails_loudly_and_changes_nothing(units, status, action):
    job_id = new(units, status)
    before, logged = dict(units.docs[f"jobs/{job_id}"]), len(entries(units))
    with pytest.raises(Conflict, match=f"in state {status}"):
        jobs.transition(units, SYSTEM, job_id, action)
    assert units.docs[f"jobs/{job_id}"] == before and len(entries(units)) == logged


def test_a_failed_language_fails_the_job_and_retry_returns_to_its_review_state(units):
    job_id = new(units, "language_qc")
    failed = jobs.fail(units, SYSTEM, job_id, "synthesize", "no voice for zz", language="zz")
    assert failed.status == "failed" and failed.failed_language == "zz" and failed.failed_step == "synthesize"
    mirror = units.docs[f"job_status/{job_id}"]
    assert mirror["status"] == "failed" and mirror["failed_language"] == "zz" and mirror["failure_reason"] == "no voice for zz"
    # A second failure (the workflow's, after the step's own) keeps the first reason.
    assert jobs.fail(units, SYSTEM, job_id, "synthesize", "exited with status 3", language="zz") is None
    assert units.docs[f"jobs/{job_id}"]["failure_reason"] == "no voice for zz"
    back = jobs.transition(units, SYSTEM, job_id, "retry_language")
    assert back.status == "language_qc"


def test_unknown_jobs_are_not_found(units):
    with pytest.raises(NotFound):
        jobs.transition(units, SYSTEM, "nope", "cancel")


def test_parallel_languages_keep_their_own_outputs_and_reports(units):
    job_id = new(units, "language_qc")
    for lang, voice in (("fr", "fr-fr"), ("de", "de")):
        made = jobs.StepResult()
        made.report(lang, fit_report={"voice": voice, "fitted": 3}, render_stats={"segments": len(lang)})
        made.asset(lang, "description_mp3", Asset(f"jobs/{job_id}/outputs/{lang}/description.mp3", "ready", size=100))
        jobs.record_step(units, job_id, f"render:{lang}", 1.5, made)
    job = jobs.get_job(units, job_id)
    assert job.outputs["fr"].fit_report["voice"] == "fr-fr" and job.outputs["de"].fit_report["voice"] == "de"
    assert job.outputs["fr"].asset("description_mp3").size == 100 and job.outputs["de"].asset("description_mp3").ready
    assert job.steps_done == ["render:fr", "render:de"] and job["step_seconds"] == {"render_fr": 1.5, "render_de": 1.5}
    view = jobs.job_view(job)["outputs"]
    assert view["de"]["description_mp3"]["status"] == "ready" and view["de"]["accessible_mp4"]["status"] == "pending"


def test_progress_never_falls_and_weighs_steps_by_cost(units):
    job_id = new(units, "processing")
    jobs.report_progress(units, job_id, stage="transcribe", step_progress=0.5, progress=0.4)
    jobs.report_progress(units, job_id, stage="shots", step_progress=0.9, progress=0.3)  # the parallel branch lags
    mirror = units.docs[f"job_status/{job_id}"]
    assert mirror["progress"] == 0.4 and mirror["stage"] == "shots" and mirror["step_progress"] == 0.9
    job = jobs.get_job(units, job_id)
    figures = [plan.run_progress({**job, "steps_done": done}, step, f)
               for done, step in ((["ingest"], "transcribe"), (["ingest", "transcribe", "shots"], "captions"),
                                  (["ingest", "transcribe", "shots", "captions", "describe", "synthesize"], "render"))
               for f in (0.0, 0.5, 1.0)]
    assert figures == sorted(figures) and figures[-1] == 1.0
    # Transcription is the long step: half of it moves the figure more than all of captions.
    assert plan.run_progress(job, "transcribe", 0.5) > plan.run_progress(job, "captions", 1.0) - plan.run_progress(job, "captions", 0.0)


def test_documents_from_before_the_model_read_as_ready_assets():
    outputs = outputs_from_doc({"en": {"captions_vtt": "jobs/j/outputs/en/captions.vtt",
                                       "audio_description_mp3": "jobs/j/outputs/en/description.mp3",
                                       "pause_points": "jobs/j/outputs/en/pause_points.json"}})
    en = outputs["en"]
    assert en.asset("captions_vtt").ready and en.asset("description_mp3").path.endswith("description.mp3")
    assert en.asset("accessible_mp4").state == "pending" and en.pause_points.endswith("pause_points.json")


def test_the_document_mapping_round_trips():
    job = Job("j1", status="language_qc", title="T", requested_outputs=ALL, extra={"media": {"duration": 3.0}})
    job.record_asset("fr", "captions_vtt", Asset("p.vtt", "ready", size=5, checksum="sha256:00", version=2))
    job.outputs["fr"].fit_report = {"fitted": 1}
    again = Job.from_doc("j1", job.to_doc())
    assert again == job and again["media"] == {"duration": 3.0}
    assert LanguageOutputs.from_doc("fr", job.to_doc()["outputs"]["fr"]) == job.outputs["fr"]
    with pytest.raises(ValueError):
        Asset("p", "done")
