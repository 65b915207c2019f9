"""Production operations on jobs: the failure list, bulk retry, a corrected final VTT, and the
admin's forced reprocess."""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from avp import logs
from avp.auth.tokens import Principal
from avp.domain import access, jobs, language_qc, tracks
from avp.domain.audit import AuditMeta
from avp.errors import AvpError, Conflict, Unprocessable
from avp.domain import plan
from avp.domain.model import Job
from avp.domain.paging import Page
from avp.domain.ports import Database

if TYPE_CHECKING:
    from avp.domain.ports import WorkflowRunner
    from avp.storage import Storage

log = logs.get("domain.production")

# A final VTT replaces what the pipeline made: only once processing is over, and not once cancelled.
FINAL_VTT_STATES = {"pending_qc", "language_qc", "final_review", "complete", "blocked_on_source", "rejected"}


def failure_view(job: Job) -> dict[str, Any]:
    """A failed job as the API's FailedJob."""
    return {"job_id": job.id, "title": job.title, "org_id": job.org_id, "client_id": job.client_id,
            "failed_step": job.failed_step, "failure_reason": job.failure_reason,
            "failed_at": job.updated_at, "steps_done": job.steps_done}


def list_failures(store: Database, principal: Principal, *, page: int, size: int, org_id: str | None = None,
                  step: str | None = None, since: dt.datetime | None = None, cursor: str | None = None) -> Page:
    """Failed jobs the caller may see, most recently failed first."""
    filters: list[tuple[str, str, Any]] = [("status", "==", "failed")]  # deleted jobs carry no key
    filters += [(f, "==", v) for f, v in (("org_id", org_id), ("failed_step", step)) if v]
    if since:
        filters.append(("updated_at", ">=", since))
    return access.page_by_keys(store.of(Job), access.job_list_keys(store, principal), filters, ("updated_at", "desc"),
                               page, size, cursor, "failures").map(failure_view)


def bulk_retry(store: Database, runner: WorkflowRunner, principal: Principal, meta: AuditMeta, job_ids: list[str],
               note: str | None = None) -> dict[str, Any]:
    """Retry each failed job from its failed step; one job's refusal (404 invisible, 409 not failed)
    does not stop the others. Returns the ids that restarted and, per refused id, the status and reason."""
    succeeded, failed = [], []
    for job_id in job_ids:
        try:
            jobs.retry_job(store, runner, principal, meta, job_id, note)
            succeeded.append(job_id)
        except AvpError as exc:
            failed.append({"job_id": job_id, "status": exc.status, "detail": jobs.describe_error(exc)})
    return {"succeeded": succeeded, "failed": failed}


def upload_final_vtt(store: Database, storage: Storage, principal: Principal, meta: AuditMeta, job_id: str, *, lang: str,
                     kind: str, content: str, comment: str | None = None) -> dict[str, Any]:
    """Store a corrected WebVTT as the next version of a track (origin `upload`), making it current.
    422 when it does not parse (with the line) or `lang` is not the job's; 409 before processing ends."""
    job = access.require_job(store, principal, job_id, "upload_final_vtt")
    if lang not in language_qc.job_languages(job):
        raise Unprocessable({"lang": [f"{lang} is neither the source nor a target language of this job"]})
    if job["status"] not in FINAL_VTT_STATES:
        raise Conflict(f"a final VTT cannot be uploaded while the job is {job['status']}")
    version = tracks.save_version(store, storage, meta, job_id, lang, kind, content, source="upload",
                                  comment=comment or "final VTT uploaded by production")
    saved, text = tracks.get_version(store, storage, job_id, lang, kind, version["version"])
    return tracks.document_view(job_id, saved, text)


def reprocess_job(store: Database, runner: WorkflowRunner, meta: AuditMeta, job_id: str,
                  from_step: str | None = None) -> dict[str, Any]:
    """Force a job (a stuck one, typically) through the pipeline again from `from_step` (default:
    the start): its running execution is cancelled, the steps from there on are forgotten, and a
    new execution starts. 409 while the source is still uploading."""
    if from_step is not None and from_step not in plan.STEPS:
        raise Unprocessable({"from_step": [f"must be one of {', '.join(plan.STEPS)}"]})
    job = jobs.get_job(store, job_id)
    keep = plan.STEPS[:plan.STEPS.index(from_step)] if from_step else ()
    if job.get("execution_id") and job["status"] in jobs.RUNNING:
        try:
            runner.cancel(job["execution_id"])
        except Exception as exc:  # the new run must start even if the old one cannot be reached
            logs.event(log, "could not cancel the old execution", job_id=job_id, error=str(exc))
    jobs.transition(store, meta, job_id, "reprocess", reason=f"reprocess from {from_step or plan.STEPS[0]}", changes={
        "steps_done": [s for s in job.get("steps_done") or [] if s in keep], "failed_step": None,
        "failure_reason": None, "progress": 0.0, "execution_id": None})
    return jobs.job_view(jobs.launch_pipeline(store, runner, meta, job_id))
