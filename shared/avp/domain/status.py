"""The one status writer: every change of a job's status, stage, progress, outputs or failure is
written with its `job_status/{job_id}` mirror — the document browsers and `avp watch` listen to —
in the same commit. Aggregates go through a unit of work (`avp.domain.ports`), whose job repository
writes the mirror made by `status_doc`; `apply` / `create` / `record` serve the modules that still
write job documents in a transaction of their own."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from avp.errors import NotFound
from avp.store import Store, now

MIRRORED = ("status", "stage", "progress", "step_progress", "failed_step", "failed_language", "failure_reason", "org_id",
            "client_id", "title", "access_keys", "language_progress")


def status_doc(job: Mapping[str, Any]) -> dict[str, Any]:
    """The status mirror of a job (the aggregate or its document)."""
    doc = {k: job.get(k) for k in MIRRORED}
    doc["job_id"] = job["id"]
    doc["languages"] = {lang: v.get("state") for lang, v in (job.get("languages") or {}).items()}
    doc["language_progress"] = job.get("language_progress") or {}
    doc["updated_at"] = job.get("updated_at") or now()
    return doc


def apply(store: Store, transaction, job: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Write `changes` to the job (read earlier in `transaction`) and its status mirror; returns the new job."""
    changes = {**changes, "updated_at": now()}
    updated = {**job, **changes}
    transaction.update(store.ref(f"jobs/{job['id']}"), changes)
    transaction.set(store.ref(f"job_status/{job['id']}"), status_doc(updated))
    return updated


def record(store: Store, job_id: str, changes: dict[str, Any]) -> None:
    """Write `changes` that are not a state change to the job and the mirrored ones to its status
    document, in one atomic batch without reading either."""
    changes = {**changes, "updated_at": now()}
    mirrored = {k: v for k, v in changes.items() if k in (*MIRRORED, "updated_at")}
    try:
        store.update_together({f"jobs/{job_id}": changes, f"job_status/{job_id}": mirrored})
    except NotFound as exc:
        raise NotFound("job not found") from exc
