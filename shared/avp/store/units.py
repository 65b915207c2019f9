"""The Firestore unit of work: repositories over one transaction, committed together.

Each aggregate's document mapping is its `to_doc` / `from_doc` (avp.domain.model); this module
only moves documents. Google's exceptions stop here: a missing document is the domain's NotFound."""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from google.api_core import exceptions as google_errors
from google.cloud import firestore
from google.cloud.firestore_v1.field_path import FieldPath

from avp.domain.aggregates import AuditEntry
from avp.domain.model import Job, Track, TrackVersion
from avp.domain.ports import Progress
from avp.domain.records import Filter, Record, now
from avp.errors import Conflict, NotFound, ServiceUnavailable
from avp.store import Store
from avp.store.documents import MISSING, TrackVersionsCommon, changed_paths
from avp.store.records import FirestoreRepository

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R", bound=Record)


def _field_paths(paths: dict[tuple[str, ...], Any]) -> dict[str, Any]:
    return {FieldPath(*p).to_api_repr(): (firestore.DELETE_FIELD if v is MISSING else v) for p, v in paths.items()}


class FirestoreJobs:
    """Jobs in `jobs/{id}`, each with its status mirror `job_status/{id}`."""

    def __init__(self, store: Store, transaction) -> None:
        self._store, self._txn = store, transaction
        self._read: dict[str, dict[str, Any]] = {}

    def get(self, job_id: str) -> Job:
        doc = self._store.get(f"jobs/{job_id}", self._txn)
        if doc is None:
            raise NotFound("job not found")
        doc.pop("id", None)
        self._read[job_id] = doc
        return Job.from_doc(job_id, doc)

    def add(self, job: Job) -> None:
        from avp.domain.status import status_doc

        self._txn.create(self._store.ref(f"jobs/{job.id}"), job.to_doc())
        self._txn.set(self._store.ref(f"job_status/{job.id}"), status_doc(job))
        self._write_queue({}, job)

    def save(self, job: Job, *, rebuild_queue: bool = False) -> None:
        from avp.domain.status import status_doc

        if job.id not in self._read:
            raise ValueError(f"job {job.id} was not read in this unit of work")
        paths = changed_paths(self._read[job.id], job.to_doc())
        if paths:
            self._txn.update(self._store.ref(f"jobs/{job.id}"), _field_paths(paths))
        self._txn.set(self._store.ref(f"job_status/{job.id}"), status_doc(job))
        self._write_queue({} if rebuild_queue else Job.from_doc(job.id, self._read[job.id]), job)

    def where(self, *filters: Filter) -> list[Job]:
        found = []
        for snap in self._store.query("jobs", filters).stream(transaction=self._txn):
            doc = snap.to_dict() or {}
            self._read[snap.id] = doc
            found.append(Job.from_doc(snap.id, doc))
        return found

    def _write_queue(self, before: Job | dict, job: Job) -> None:
        # The language work queue mirrors the job's assignments in the same commit.
        from avp.domain.language_qc import QUEUE, queue_changes

        gone, changed = queue_changes(before, job)
        for doc_id in gone:
            self._txn.delete(self._store.ref(f"{QUEUE}/{doc_id}"))
        for doc_id, doc in changed.items():
            self._txn.set(self._store.ref(f"{QUEUE}/{doc_id}"), doc)


def _track_path(job_id: str, language: str, kind: str) -> str:
    return f"jobs/{job_id}/tracks/{language}_{kind}"


class FirestoreTracks(TrackVersionsCommon):
    """Tracks in `jobs/{id}/tracks/{lang}_{kind}`, their versions in its `versions/{n}`."""

    def __init__(self, store: Store, transaction) -> None:
        self._store, self._txn = store, transaction

    def get(self, job_id: str, language: str, kind: str) -> Track:
        return Track.from_doc(job_id, language, kind, self._store.get(_track_path(job_id, language, kind), self._txn))

    def save(self, track: Track) -> None:
        self._txn.set(self._store.ref(_track_path(track.job_id, track.language, track.kind)), track.to_doc())

    def _versions(self, job_id: str, language: str, kind: str) -> FirestoreRepository[TrackVersion]:
        return FirestoreRepository(self._store, TrackVersion, TrackVersion.collection(job_id=job_id, track_id=f"{language}_{kind}"),
                                   transaction=self._txn)


class FirestoreAudit:
    """Audit entries are records (`audit_logs`), added in the unit of work's transaction."""

    def __init__(self, store: Store, transaction) -> None:
        self._entries = FirestoreRepository(store, AuditEntry, AuditEntry.collection(), transaction=transaction)

    def append(self, entry: AuditEntry) -> None:
        self._entries.add(entry)


class FirestoreUnitOfWork:
    def __init__(self, store: Store, transaction) -> None:
        self._store, self._txn = store, transaction
        self.jobs = FirestoreJobs(store, transaction)
        self.tracks = FirestoreTracks(store, transaction)
        self.audit = FirestoreAudit(store, transaction)

    def of(self, kind: type[R], **parent: str) -> FirestoreRepository[R]:
        """The repository of `kind` under `parent` ids, reading and writing in this transaction."""
        return FirestoreRepository(self._store, kind, kind.collection(**parent), transaction=self._txn)

    def group(self, kind: type[R]) -> FirestoreRepository[R]:
        """Records of `kind` under every parent, read in this transaction."""
        return FirestoreRepository(self._store, kind, kind.COLLECTION.rsplit("/", 1)[-1], transaction=self._txn,
                                   group=True)


class FirestoreUnits:
    """Units of work over one Firestore database (`Store.atomically` hands them out)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def atomically(self, fn: Callable[[FirestoreUnitOfWork], T]) -> T:
        try:
            return self._store.transaction(lambda txn: fn(FirestoreUnitOfWork(self._store, txn)))
        except google_errors.Conflict as exc:  # AlreadyExists: a create lost a race
            raise Conflict("it was created meanwhile: reload and try again") from exc
        except google_errors.NotFound as exc:  # an update of a document deleted meanwhile
            raise NotFound("it was deleted meanwhile") from exc

    def read_job(self, job_id: str) -> Job:
        doc = self._store.get(f"jobs/{job_id}")
        if doc is None:
            raise NotFound("job not found")
        doc.pop("id", None)
        return Job.from_doc(job_id, doc)

    def report_progress(self, job_id: str, progress: Progress) -> None:
        stamp = now()
        prefix = ("language_progress", progress.language) if progress.language else ()
        fields: dict[tuple[str, ...], Any] = {}
        if progress.stage is not None:
            fields[(*prefix, "stage")] = progress.stage
        if progress.step_progress is not None:
            fields[(*prefix, "step_progress")] = progress.step_progress
        if progress.progress is not None:
            # Parallel reporters (transcribe beside shots) never lower it.
            fields[(*prefix, "progress")] = firestore.Maximum(progress.progress)
        update = {**_field_paths(fields), "updated_at": stamp}
        try:
            self._store.update_together({f"jobs/{job_id}": update, f"job_status/{job_id}": update})
        except ServiceUnavailable:
            # Progress is a running commentary: a report that cannot get through contention is
            # skipped (the next one, or the step's result, carries on), never the step's failure.
            log.warning("progress of job %s not recorded: its documents stayed locked", job_id)
