"""The status mirror: `job_status/{job_id}`, the document browsers and `avp watch` listen to.

Every change of a job's status, stage, progress, outputs or failure goes through a unit of work
(`avp.domain.ports`) whose job repository writes the job and this mirror of it in one commit;
`status_doc` is what the mirror holds."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from avp.domain.records import now

MIRRORED = ("status", "stage", "progress", "step_progress", "failed_step", "failed_language", "failure_reason", "org_id",
            "client_id", "title", "access_keys", "created_at")  # created_at: listeners ask for jobs made since they began


def status_doc(job: Mapping[str, Any]) -> dict[str, Any]:
    """The status mirror of a job (the aggregate or its document)."""
    doc = {k: job.get(k) for k in MIRRORED}
    doc["job_id"] = job["id"]
    doc["languages"] = {lang: v.get("state") for lang, v in (job.get("languages") or {}).items()}
    doc["language_progress"] = job.get("language_progress") or {}
    doc["updated_at"] = job.get("updated_at") or now()
    return doc
