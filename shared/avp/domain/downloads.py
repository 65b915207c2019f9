"""Bulk downloads, built outside the request that asks for one.

A ZIP of many jobs can take minutes and gigabytes; API Gateway gives a request seconds. So
`POST /jobs/bulk/download` only decides what the ZIP will hold (access, kinds, languages, size:
`jobs.bulk_download_selection`), records the download (`downloads/{id}`: owner and members) and
its status document, starts a `bundle` workflow execution, and answers 202. The `avp-media
bundle` step streams the ZIP into storage and writes the outcome into the status document: a
signed link and its expiry, or the reason it failed.

The status document lives beside the jobs' (`job_status/bulk-{id}`) with the owner's access key,
so the same listener token (GET /ws/status) and the same security rules serve it: the owner, and
only the owner (and admins), sees it change.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from avp import logs
from avp.auth.tokens import Principal
from avp.domain import jobs
from avp.domain.aggregates import BulkDownload, DownloadStatus
from avp.domain.ports import Database, UnitOfWork
from avp.domain.records import new_id, now
from avp.errors import NotFound, ServiceUnavailable
from avp.storage import Storage

log = logs.get("downloads")
STATUS_PREFIX = "bulk-"
ZIP_NAME = "avp-jobs.zip"


def status_id(download_id: str) -> str:
    """The id of a download's status record, in the collection the listeners read."""
    return f"{STATUS_PREFIX}{download_id}"


def status_path(download_id: str) -> str:
    """The status document of a download, as a listener names it."""
    return f"{DownloadStatus.collection()}/{status_id(download_id)}"


def request_bulk_download(store: Database, storage: Storage, runner: Any, principal: Principal, job_ids: Iterable[str], *,
                          max_bytes: int, languages: Iterable[str] = (), kinds: Iterable[str] = ()) -> dict[str, Any]:
    """Check and record a bulk download, start building it, and say where its status appears.
    422/413 as `jobs.bulk_download_selection`; 503 (and a failed status) when no build can start."""
    selection = jobs.bulk_download_selection(store, storage, principal, job_ids, max_bytes=max_bytes,
                                             languages=languages, kinds=kinds)
    download_id, at = new_id(), now()

    def work(uow: UnitOfWork) -> None:
        uow.of(BulkDownload).add(BulkDownload(
            id=download_id, user_id=principal.user_id, job_ids=selection.job_ids, size_bytes=selection.size_bytes,
            entries=[{"name": n, "path": p, "size": s} for n, p, s in selection.entries], created_at=at))
        uow.of(DownloadStatus).add(DownloadStatus(
            id=status_id(download_id), download_id=download_id, job_ids=selection.job_ids,
            size_bytes=selection.size_bytes, access_keys=[f"user:{principal.user_id}"], created_at=at, updated_at=at))

    store.atomically(work)
    try:
        execution = runner.start_bundle(download_id)
    except Exception as exc:  # whatever the executor raised, the download cannot be built now
        log.error("bundle %s not started: %s", download_id, exc)
        fail(store, download_id, "the download could not be started; ask again")
        raise ServiceUnavailable("the download could not be started; try again shortly") from exc
    return {"download_id": download_id, "status": "queued", "status_document": status_path(download_id),
            "job_ids": selection.job_ids, "size_bytes": selection.size_bytes, "workflow_execution": execution}


def build(store: Database, storage: Storage, download_id: str) -> dict[str, Any]:
    """The `bundle` step: stream the ZIP into storage, then publish a signed link to it (valid
    `jobs.DOWNLOAD_TTL` seconds) in the status document. Running it again rebuilds the same ZIP."""
    download = store.of(BulkDownload).lookup(download_id)
    if download is None:
        raise NotFound(f"download {download_id} not found")
    _set_status(store, download_id, status="building", progress=0.1)
    path = f"downloads/{download.user_id}/{download_id}.zip"
    size = jobs.write_bulk_zip(storage, path, [(e["name"], e["path"], int(e["size"])) for e in download.entries])
    expires_at = now() + dt.timedelta(seconds=jobs.DOWNLOAD_TTL)
    url = storage.signed_url(path, expires=jobs.DOWNLOAD_TTL, filename=ZIP_NAME)
    _set_status(store, download_id, status="complete", progress=1.0, download_url=url, expires_at=expires_at,
                zip_bytes=size)
    return {"download_id": download_id, "path": path, "zip_bytes": size}


def fail(store: Database, download_id: str, reason: str) -> None:
    """Mark a download failed with a reason its owner can read."""
    _set_status(store, download_id, status="failed", failure_reason=reason)


def _set_status(store: Database, download_id: str, **changes: Any) -> None:
    store.of(DownloadStatus).update(status_id(download_id), {**changes, "updated_at": now()})
