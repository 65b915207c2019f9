"""How a step's failure reaches the job: a transient one keeps its reason for later, and when the
workflow gives up (`avp-media fail`) the job fails with that reason, not the platform's."""
from __future__ import annotations

from pathlib import Path

import avp
from avp.auth.tokens import Principal
from avp.domain import jobs
from avp.domain.audit import SYSTEM
from avp.pipeline.__main__ import main as avp_media
from avp.pipeline.__main__ import record_transient

SAMPLE = Path(avp.__file__).parent / "demo_media" / "sample.mp4"
PLATFORM = "Task avp-media-x7k2p-task0 failed with message: The container exited with an error."


def _processing_job(container) -> dict:
    job = jobs.new_job(Principal("u-test", "admin"), org_id="org-1", client_id=None, project_id=None, title="t",
                       filename="film.mp4", content_type="video/mp4", size_bytes=SAMPLE.stat().st_size,
                       source_language="en", requested_outputs={"captions_vtt": True})
    jobs.store_new_job(container.store, SYSTEM, job)
    jobs.transition(container.store, SYSTEM, job["id"], "complete_upload")
    jobs.transition(container.store, SYSTEM, job["id"], "start_processing", changes={"execution_id": "exec-1"})
    return job


def test_when_retries_run_out_the_job_fails_with_the_steps_own_last_reason(container):
    job = _processing_job(container)
    reason = "Speech recognition (transcribe) failed: ConnectionError: the model server closed the connection."
    record_transient(container.store, job["id"], "transcribe", None, reason)
    assert jobs.get_job(container.store, job["id"])["status"] == "processing"  # still running: it will be retried
    assert avp_media(["fail", "--job-id", job["id"], "--failed-step", "transcribe", "--reason", PLATFORM]) == 0
    failed = jobs.get_job(container.store, job["id"])
    assert failed["status"] == "failed" and failed["failed_step"] == "transcribe"
    assert failed["failure_reason"] == reason.rstrip(".") + " (tried 4 times)."
    assert container.store.get(f"job_status/{job['id']}")["failure_reason"] == failed["failure_reason"]


def _language_job(container) -> dict:
    """A job whose target language `de` is being made: languages run once the source is approved."""
    job = jobs.new_job(Principal("u-test", "admin"), org_id="org-1", client_id=None, project_id=None, title="t",
                       filename="film.mp4", content_type="video/mp4", size_bytes=SAMPLE.stat().st_size,
                       source_language="en", requested_outputs={"captions_vtt": True, "languages": ["de"]})
    jobs.store_new_job(container.store, SYSTEM, job)
    for action in ("complete_upload", "start_processing", "finish_processing", "approve_source"):
        jobs.transition(container.store, SYSTEM, job["id"], action)
    return job


def test_without_a_recorded_reason_the_platforms_message_is_made_a_sentence(container):
    job = _language_job(container)
    assert avp_media(["fail", "--job-id", job["id"], "--failed-step", "render", "--language", "de", "--reason", PLATFORM]) == 0
    failed = jobs.get_job(container.store, job["id"])
    assert failed["failure_reason"] == f"Rendering the audio-described outputs (render, de) failed: {PLATFORM.rstrip('.')}."


def test_the_first_recorded_failure_is_kept(container):
    job = _processing_job(container)
    avp_media(["fail", "--job-id", job["id"], "--failed-step", "shots", "--reason", "first"])
    avp_media(["fail", "--job-id", job["id"], "--failed-step", "transcribe", "--reason", "second"])
    failed = jobs.get_job(container.store, job["id"])
    assert failed["failed_step"] == "shots" and "first" in failed["failure_reason"]


def test_a_retry_forgets_old_transient_reasons(container, runner):
    job = _processing_job(container)
    record_transient(container.store, job["id"], "transcribe", None, "old trouble")
    avp_media(["fail", "--job-id", job["id"], "--failed-step", "transcribe", "--reason", PLATFORM])
    jobs.retry_job(container.store, runner, Principal("u-test", "admin"), SYSTEM, job["id"])
    again = jobs.get_job(container.store, job["id"])
    assert again["failure_reason"] is None and not again.get("step_errors")
