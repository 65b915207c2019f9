"""Jobs: creation, the state machine of DOMAIN.md, and the transitions every actor uses."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from avp.auth.tokens import Principal
from avp.domain import access, audit, status
from avp.domain.audit import AuditMeta
from avp.errors import Conflict, NotFound
from avp.store import Store, new_id, now

STATES = ("uploading", "queued", "processing", "pending_qc", "language_qc", "final_review", "complete",
          "failed", "cancelled", "rejected", "blocked_on_source")
ACTIVE = {"uploading", "queued", "processing", "pending_qc", "language_qc", "final_review"}
PIPELINE_STEPS = ("ingest", "transcribe", "shots", "captions", "describe", "synthesize", "render")
OUTPUT_KINDS = ("captions_vtt", "audio_description_vtt", "audio_description_mp3", "accessible_video_mp4")


def _after_source_approval(job: dict[str, Any]) -> str:
    return "language_qc" if (job.get("requested_outputs") or {}).get("languages") else "final_review"


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str | Callable[[dict[str, Any]], str]

    def target_for(self, job: dict[str, Any]) -> str:
        return self.target(job) if callable(self.target) else self.target


def _t(sources, target) -> Transition:
    return Transition(frozenset(sources), target)


TRANSITIONS: dict[str, Transition] = {
    "complete_upload": _t({"uploading"}, "queued"),
    "start_processing": _t({"queued"}, "processing"),
    "finish_processing": _t({"processing"}, "pending_qc"),
    "fail": _t({"queued", "processing"}, "failed"),
    "cancel": _t({"uploading", "queued", "processing"}, "cancelled"),
    "retry": _t({"failed"}, "queued"),
    "reprocess": _t(set(STATES) - {"uploading"}, "queued"),
    "approve_source": _t({"pending_qc"}, _after_source_approval),
    "approve_english": _t({"pending_qc"}, _after_source_approval),
    "reject": _t({"pending_qc"}, "rejected"),
    "languages_approved": _t({"language_qc"}, "final_review"),
    "complete": _t({"final_review"}, "complete"),
    "reject_final": _t({"final_review"}, "language_qc"),
    "return_to_qc": _t({"final_review"}, "pending_qc"),
    "blocked_on_source": _t(ACTIVE, "blocked_on_source"),
    "promote_to_qc": _t({"processing", "failed", "blocked_on_source"}, "pending_qc"),
}


def transition(store: Store, meta: AuditMeta, job_id: str, action: str, *, reason: str | None = None,
               changes: dict[str, Any] | None = None, check: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Move a job through `action` in a transaction: 409 (with the current state) when the state
    does not allow it. `check(job)` may veto with a domain error; `changes` are written alongside."""
    rule = TRANSITIONS[action]

    def txn_fn(txn):
        snap = store.ref(f"jobs/{job_id}").get(transaction=txn)
        if not snap.exists:
            raise NotFound("job not found")
        job = {**snap.to_dict(), "id": job_id}
        if job["status"] not in rule.sources:
            raise Conflict(f"cannot {action.replace('_', ' ')} a job in state {job['status']}")
        if check:
            check(job)
        target = rule.target_for(job)
        update = {"status": target, **(changes or {})}
        if target != "processing":
            update.setdefault("stage", None)
        if reason is not None:
            update["status_reason"] = reason
        updated = status.apply(store, txn, job, update)
        audit.record(store, meta, f"job.{action}", f"jobs/{job_id}", before={"status": job["status"]},
                     after={"status": target}, reason=reason, transaction=txn)
        return updated

    return store.transaction(txn_fn)


def update_progress(store: Store, job_id: str, *, stage: str | None = None, progress: float | None = None,
                    changes: dict[str, Any] | None = None) -> dict[str, Any]:
    """Record pipeline progress (stage, 0..1 progress, and step results) through the status writer."""

    def txn_fn(txn):
        snap = store.ref(f"jobs/{job_id}").get(transaction=txn)
        if not snap.exists:
            raise NotFound("job not found")
        update = dict(changes or {})
        if stage is not None:
            update["stage"] = stage
        if progress is not None:
            update["progress"] = round(max(0.0, min(1.0, progress)), 4)
        return status.apply(store, txn, {**snap.to_dict(), "id": job_id}, update)

    return store.transaction(txn_fn)


def new_job(principal: Principal, *, org_id: str, client_id: str | None, project_id: str | None, title: str,
            filename: str, content_type: str, size_bytes: int, source_language: str | None,
            requested_outputs: dict[str, Any] | None, notes: str = "") -> dict[str, Any]:
    """A job record in state `uploading` (not yet stored)."""
    job_id = new_id()
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    job = {
        "id": job_id, "org_id": org_id, "client_id": client_id, "project_id": project_id,
        "created_by": principal.user_id, "title": title or filename, "notes": notes, "filename": filename,
        "content_type": content_type, "size_bytes": size_bytes, "source_language": source_language,
        "requested_outputs": requested_outputs or {}, "source_path": f"jobs/{job_id}/source.{ext}",
        "status": "uploading", "stage": None, "progress": 0.0, "failed_step": None, "failure_reason": None,
        "steps_done": [], "outputs": {}, "languages": {}, "media": None, "deleted": False,
        "created_at": now(), "updated_at": now(),
    }
    job["access_keys"] = access.job_keys(job)
    return job


def store_new_job(store: Store, meta: AuditMeta, job: dict[str, Any]) -> dict[str, Any]:
    def txn_fn(txn):
        status.create(store, txn, job)
        audit.record(store, meta, "job.create", f"jobs/{job['id']}", after={"title": job["title"], "org_id": job["org_id"]},
                     transaction=txn)

    store.transaction(txn_fn)
    return job


def get_job(store: Store, job_id: str) -> dict[str, Any]:
    job = store.get(f"jobs/{job_id}")
    if job is None:
        raise NotFound("job not found")
    return job
