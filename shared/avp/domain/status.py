"""The one status writer: every change of a job's status, stage, progress or language states goes
through `apply`, which updates the job and mirrors it into `job_status/{job_id}` in the same
transaction — the document browsers and `avp watch` listen to."""
from __future__ import annotations

from typing import Any

from avp.errors import NotFound
from avp.store import Store, now

MIRRORED = ("status", "stage", "progress", "failed_step", "failure_reason", "org_id", "client_id", "title", "access_keys")


def status_doc(job: dict[str, Any]) -> dict[str, Any]:
    doc = {k: job.get(k) for k in MIRRORED}
    doc["job_id"] = job["id"]
    doc["languages"] = {lang: v.get("state") for lang, v in (job.get("languages") or {}).items()}
    doc["updated_at"] = job.get("updated_at") or now()
    return doc


def apply(store: Store, transaction, job: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Write `changes` to the job (read earlier in `transaction`) and its status mirror; returns the new job."""
    changes = {**changes, "updated_at": now()}
    updated = {**job, **changes}
    transaction.update(store.ref(f"jobs/{job['id']}"), changes)
    transaction.set(store.ref(f"job_status/{job['id']}"), status_doc(updated))
    return updated


def create(store: Store, transaction, job: dict[str, Any]) -> None:
    """Write a new job and its first status document."""
    data = {k: v for k, v in job.items() if k != "id"}
    transaction.create(store.ref(f"jobs/{job['id']}"), data)
    transaction.set(store.ref(f"job_status/{job['id']}"), status_doc(job))


def record(store: Store, job_id: str, changes: dict[str, Any]) -> None:
    """Write `changes` that are not a state change (stage, progress, step results) to the job and
    the mirrored ones to its status document, in one atomic batch without reading either."""
    changes = {**changes, "updated_at": now()}
    mirrored = {k: v for k, v in changes.items() if k in (*MIRRORED, "updated_at")}
    try:
        store.update_together({f"jobs/{job_id}": changes, f"job_status/{job_id}": mirrored})
    except NotFound as exc:
        raise NotFound("job not found") from exc
