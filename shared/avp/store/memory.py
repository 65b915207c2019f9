"""In-memory units of work with the same interfaces as the Firestore ones (avp.domain.ports), so
the domain's rules are tested in milliseconds; the same repository tests run against both."""
from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from avp.domain.model import Job, Track, TrackVersion
from avp.domain.ports import AuditEntry, Progress
from avp.errors import Conflict, NotFound
from avp.store import now
from avp.store.documents import apply_paths, changed_paths

T = TypeVar("T")


class MemoryJobs:
    def __init__(self, docs: dict[str, dict[str, Any]]) -> None:
        self._docs = docs
        self._read: dict[str, dict[str, Any]] = {}

    def get(self, job_id: str) -> Job:
        doc = self._docs.get(f"jobs/{job_id}")
        if doc is None:
            raise NotFound("job not found")
        self._read[job_id] = copy.deepcopy(doc)
        return Job.from_doc(job_id, copy.deepcopy(doc))

    def add(self, job: Job) -> None:
        from avp.domain.status import status_doc

        if f"jobs/{job.id}" in self._docs:
            raise Conflict(f"job {job.id} exists")
        self._docs[f"jobs/{job.id}"] = copy.deepcopy(job.to_doc())
        self._docs[f"job_status/{job.id}"] = status_doc(job)
        self._write_queue({}, job)

    def save(self, job: Job) -> None:
        from avp.domain.status import status_doc

        if job.id not in self._read:
            raise ValueError(f"job {job.id} was not read in this unit of work")
        paths = changed_paths(self._read[job.id], job.to_doc())
        self._docs[f"jobs/{job.id}"] = apply_paths(self._docs[f"jobs/{job.id}"], paths)
        self._docs[f"job_status/{job.id}"] = status_doc(job)
        self._write_queue(Job.from_doc(job.id, self._read[job.id]), job)

    def _write_queue(self, before: Job | dict, job: Job) -> None:
        from avp.domain.language_qc import QUEUE, queue_changes

        gone, changed = queue_changes(before, job)
        for doc_id in gone:
            self._docs.pop(f"{QUEUE}/{doc_id}", None)
        self._docs.update({f"{QUEUE}/{doc_id}": copy.deepcopy(doc) for doc_id, doc in changed.items()})


def _track_path(job_id: str, language: str, kind: str) -> str:
    return f"jobs/{job_id}/tracks/{language}_{kind}"


class MemoryTracks:
    def __init__(self, docs: dict[str, dict[str, Any]]) -> None:
        self._docs = docs

    def get(self, job_id: str, language: str, kind: str) -> Track:
        return Track.from_doc(job_id, language, kind, self._docs.get(_track_path(job_id, language, kind)))

    def save(self, track: Track) -> None:
        self._docs[_track_path(track.job_id, track.language, track.kind)] = track.to_doc()

    def add_version(self, job_id: str, version: TrackVersion) -> None:
        path = f"{_track_path(job_id, version.language, version.kind)}/versions/{version.n}"
        if path in self._docs:
            raise Conflict(f"version {version.n} exists")
        self._docs[path] = version.to_doc()

    def version(self, job_id: str, language: str, kind: str, n: int) -> TrackVersion:
        doc = self._docs.get(f"{_track_path(job_id, language, kind)}/versions/{n}")
        if doc is None:
            raise NotFound(f"{language} has no {kind} version {n}")
        return TrackVersion.from_doc(copy.deepcopy(doc))


class MemoryAudit:
    def __init__(self, entries: list[dict[str, Any]]) -> None:
        self._entries = entries

    def append(self, entry: AuditEntry) -> None:
        self._entries.append(entry.to_doc())


class MemoryUnitOfWork:
    def __init__(self, docs: dict[str, dict[str, Any]], audit: list[dict[str, Any]]) -> None:
        self.jobs = MemoryJobs(docs)
        self.tracks = MemoryTracks(docs)
        self.audit = MemoryAudit(audit)


class MemoryUnits:
    """Documents in a dict; a unit of work works on a copy that replaces the original on success
    (one at a time, so each is atomic and isolated)."""

    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        self.audit: list[dict[str, Any]] = []
        self._lock = threading.RLock()

    def atomically(self, fn: Callable[[MemoryUnitOfWork], T]) -> T:
        with self._lock:
            docs, audit = copy.deepcopy(self.docs), list(self.audit)
            result = fn(MemoryUnitOfWork(docs, audit))
            self.docs, self.audit = docs, audit
            return result

    def read_job(self, job_id: str) -> Job:
        with self._lock:
            doc = self.docs.get(f"jobs/{job_id}")
            if doc is None:
                raise NotFound("job not found")
            return Job.from_doc(job_id, copy.deepcopy(doc))

    def report_progress(self, job_id: str, progress: Progress) -> None:
        with self._lock:
            if f"jobs/{job_id}" not in self.docs:
                raise NotFound("job not found")
            for path in (f"jobs/{job_id}", f"job_status/{job_id}"):
                doc = self.docs[path]
                doc["updated_at"] = now()
                if progress.language:
                    doc["language_progress"] = doc.get("language_progress") or {}
                    doc = doc["language_progress"].setdefault(progress.language, {})
                if progress.stage is not None:
                    doc["stage"] = progress.stage
                if progress.step_progress is not None:
                    doc["step_progress"] = progress.step_progress
                if progress.progress is not None:
                    doc["progress"] = max(doc.get("progress") or 0.0, progress.progress)
