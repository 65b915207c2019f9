"""In-memory units of work with the same interfaces as the Firestore ones (avp.domain.ports), so
the domain's rules are tested in milliseconds; the same repository tests run against both."""
from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Generic, TypeVar

from avp.domain.aggregates import AuditEntry
from avp.domain.model import Job, Track, TrackVersion
from avp.domain.paging import Page, comparable, page_of
from avp.domain.ports import Progress
from avp.domain.records import (ArrayRemove, ArrayUnion, Filter, Increment, Maximum, Record, matches, new_id, now,
                                value_at)
from avp.errors import Conflict, NotFound
from avp.store.documents import RepositoryCommon, TrackVersionsCommon, apply_paths, changed_paths

T = TypeVar("T")
R = TypeVar("R", bound=Record)


def _apply(doc: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """`doc` with `changes` made as Firestore makes them: dotted names reach into maps, counter
    steps add to what is stored, list changes add or remove values (a stored non-list counts as empty)."""
    for name, value in changes.items():
        *parents, last = name.split(".")
        target = doc
        for part in parents:
            target = target.setdefault(part, {})
        if isinstance(value, Increment):
            value = (target.get(last) or 0) + value.by
        elif isinstance(value, Maximum):
            value = max(target.get(last) or 0, value.value)
        elif isinstance(value, (ArrayUnion, ArrayRemove)):
            stored = target.get(last)
            current = list(stored) if isinstance(stored, list) else []
            if isinstance(value, ArrayUnion):
                value = current + [v for i, v in enumerate(value.values) if v not in current and v not in value.values[:i]]
            else:
                value = [v for v in current if v not in value.values]
        target[last] = copy.deepcopy(value)
    return doc


_COUNTING = threading.Lock()


class MemoryRepository(RepositoryCommon, Generic[R]):
    """`avp.domain.records.Repository` over a dict of documents by path; `group` reads every
    collection of that name."""

    def __init__(self, docs: dict[str, dict[str, Any]], kind: type[R], collection: str, *, group: bool = False,
                 in_unit: bool = False) -> None:
        self._docs, self._kind, self._collection, self._group = docs, kind, collection, group
        self._in_unit = in_unit  # batch writes refuse to run inside a unit of work, as on Firestore

    def _outside_unit(self, what: str) -> None:
        if self._in_unit:
            raise TypeError(f"{what} runs outside a unit of work (it commits in batches)")

    def _members(self) -> list[tuple[str, str, dict[str, Any]]]:
        """(path, id, document) of each record of the collection or group."""
        out = []
        for path, doc in self._docs.items():
            parent, _, record_id = path.rpartition("/")
            if (parent.rsplit("/", 1)[-1] == self._collection and parent.count("/") % 2 == 0) if self._group \
                    else parent == self._collection:
                out.append((path, record_id, doc))
        return out

    def _record(self, record_id: str, doc: dict[str, Any]) -> R:
        return self._kind.from_doc(record_id, copy.deepcopy(doc))

    def lookup(self, record_id: str) -> R | None:
        doc = self._docs.get(self._path(record_id))
        return None if doc is None else self._record(record_id, doc)

    def get_many(self, record_ids: Sequence[str]) -> list[R]:
        return [r for r in (self.lookup(i) for i in record_ids) if r is not None]

    def _matching(self, filters: Sequence[Filter], order_by: Sequence[tuple[str, str]]) -> list[tuple[str, str, dict[str, Any]]]:
        # Ties are broken by path, as Firestore breaks them by document name.
        found = sorted((m for m in self._members() if matches(m[2], m[1], filters)), key=lambda m: m[0])
        for name, direction in reversed(order_by):
            if name == "id":
                found.sort(key=lambda m: m[0], reverse=direction == "desc")
                continue
            # Firestore leaves out documents without the ordered field.
            found = [m for m in found if name in m[2]]
            found.sort(key=lambda m: _sortable(m[2][name]), reverse=direction == "desc")
        return found

    def where(self, *filters: Filter, order_by: Sequence[tuple[str, str]] = (), limit: int | None = None) -> list[R]:
        return [self._record(i, d) for _, i, d in self._matching(filters, order_by)[:limit]]

    def count(self, *filters: Filter) -> int:
        return len(self._matching(filters, ()))

    def _numbers(self, field: str, filters: Sequence[Filter]) -> list[float]:
        values = (value_at(doc, field) for _, _, doc in self._matching(filters, ()))
        return [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]

    def sum(self, field: str, *filters: Filter) -> float:
        return sum(self._numbers(field, filters))

    def average(self, field: str, *filters: Filter) -> float | None:
        numbers = self._numbers(field, filters)
        return sum(numbers) / len(numbers) if numbers else None

    def page(self, filters: Sequence[Filter], order_by: tuple[str, str], page: int, size: int,
             cursor: str | None = None) -> Page[R]:
        name, direction = order_by
        found = self._matching(filters, [order_by, ("id", direction)] if name != "id" else [order_by])
        return page_of(found, lambda m: [m[2].get(name), m[0]], page, size, cursor, self._collection,
                       sorted(map(repr, filters)), order_by, descending=direction == "desc"
                       ).map(lambda m: self._record(m[1], m[2]))

    def window(self, filters: Sequence[Filter], order_by: tuple[str, str], limit: int,
               after: list[Any] | None = None) -> list[tuple[list[Any], R]]:
        name, direction = order_by
        found = self._matching(filters, [order_by, ("id", direction)] if name != "id" else [order_by])
        positions = [([None if name == "id" else m[2].get(name), m[0]], m) for m in found]
        if after is not None:
            anchor = comparable(after)
            positions = [p for p in positions
                         if (comparable(p[0]) < anchor if direction == "desc" else comparable(p[0]) > anchor)]
        return [(position, self._record(m[1], m[2])) for position, m in positions[:limit]]

    def add(self, record: R) -> R:
        self._writable()
        if not record.id:
            record.id = new_id()
        path = self._path(record.id)
        if path in self._docs:
            raise Conflict(f"{self._kind.NOUN} exists already")
        self._docs[path] = _apply({}, record.to_doc())
        return record

    def put(self, record: R) -> None:
        self._writable()
        self._docs[self._path(record.id)] = _apply({}, record.to_doc())

    def put_many(self, records: Iterable[R]) -> int:
        self._writable()
        self._outside_unit("put_many")
        count = 0
        for record in records:
            if not record.id:
                record.id = new_id()
            self.put(record)
            count += 1
        return count

    def update(self, record_id: str, changes: Mapping[str, Any]) -> None:
        self._writable()
        doc = self._docs.get(self._path(record_id))
        if doc is None:
            raise NotFound(f"{self._kind.NOUN} not found")
        _apply(doc, changes)

    def increment(self, record_id: str, counter: str, by: int = 1, also: Mapping[str, Any] | None = None) -> int:
        self._writable()
        with _COUNTING:  # read and write as one step, as Firestore's transform is
            doc = self._docs.setdefault(self._path(record_id), {})
            doc[counter] = doc.get(counter, 0) + by
            _apply(doc, also or {})
            return doc[counter]

    def delete(self, record_id: str) -> None:
        self._writable()
        self._docs.pop(self._path(record_id), None)

    def delete_where(self, *filters: Filter) -> int:
        self._writable()
        self._outside_unit("delete_where")
        found = self._matching(filters, ())
        for path, _, _ in found:
            del self._docs[path]
        return len(found)


def _sortable(value: Any) -> tuple[int, Any]:
    # Firestore orders values of different types by type first; None before everything.
    return (0, 0) if value is None else (1, value)


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

    def save(self, job: Job, *, rebuild_queue: bool = False) -> None:
        from avp.domain.status import status_doc

        if job.id not in self._read:
            raise ValueError(f"job {job.id} was not read in this unit of work")
        paths = changed_paths(self._read[job.id], job.to_doc())
        self._docs[f"jobs/{job.id}"] = apply_paths(self._docs[f"jobs/{job.id}"], paths)
        self._docs[f"job_status/{job.id}"] = status_doc(job)
        self._write_queue({} if rebuild_queue else Job.from_doc(job.id, self._read[job.id]), job)

    def where(self, *filters: Filter) -> list[Job]:
        found = []
        for path, doc in sorted(self._docs.items()):
            parent, _, job_id = path.rpartition("/")
            if parent == "jobs" and matches(doc, job_id, filters):
                self._read[job_id] = copy.deepcopy(doc)
                found.append(Job.from_doc(job_id, copy.deepcopy(doc)))
        return found

    def _write_queue(self, before: Job | dict, job: Job) -> None:
        from avp.domain.language_qc import QUEUE, queue_changes

        gone, changed = queue_changes(before, job)
        for doc_id in gone:
            self._docs.pop(f"{QUEUE}/{doc_id}", None)
        self._docs.update({f"{QUEUE}/{doc_id}": copy.deepcopy(doc) for doc_id, doc in changed.items()})


def _track_path(job_id: str, language: str, kind: str) -> str:
    return f"jobs/{job_id}/tracks/{language}_{kind}"


class MemoryTracks(TrackVersionsCommon):
    def __init__(self, docs: dict[str, dict[str, Any]]) -> None:
        self._docs = docs

    def get(self, job_id: str, language: str, kind: str) -> Track:
        return Track.from_doc(job_id, language, kind, self._docs.get(_track_path(job_id, language, kind)))

    def save(self, track: Track) -> None:
        self._docs[_track_path(track.job_id, track.language, track.kind)] = track.to_doc()

    def _versions(self, job_id: str, language: str, kind: str) -> MemoryRepository[TrackVersion]:
        return MemoryRepository(self._docs, TrackVersion, TrackVersion.collection(job_id=job_id, track_id=f"{language}_{kind}"),
                                in_unit=True)


class MemoryAudit:
    """Audit entries are records (`audit_logs`) like any other: `of(AuditEntry)` reads them."""

    def __init__(self, docs: dict[str, dict[str, Any]]) -> None:
        self._entries = MemoryRepository(docs, AuditEntry, AuditEntry.collection())

    def append(self, entry: AuditEntry) -> None:
        self._entries.add(entry)


class MemoryUnitOfWork:
    def __init__(self, docs: dict[str, dict[str, Any]]) -> None:
        self._docs = docs
        self.jobs = MemoryJobs(docs)
        self.tracks = MemoryTracks(docs)
        self.audit = MemoryAudit(docs)

    def of(self, kind: type[R], **parent: str) -> MemoryRepository[R]:
        return MemoryRepository(self._docs, kind, kind.collection(**parent), in_unit=True)

    def group(self, kind: type[R]) -> MemoryRepository[R]:
        return MemoryRepository(self._docs, kind, kind.COLLECTION.rsplit("/", 1)[-1], group=True, in_unit=True)


class MemoryUnits:
    """Documents in a dict; a unit of work works on a copy that replaces the original on success
    (one at a time, so each is atomic and isolated)."""

    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        self._lock = threading.RLock()

    def atomically(self, fn: Callable[[MemoryUnitOfWork], T]) -> T:
        with self._lock:
            docs = copy.deepcopy(self.docs)
            result = fn(MemoryUnitOfWork(docs))
            # In place: repositories handed out by `of` keep seeing the current documents.
            self.docs.clear()
            self.docs.update(docs)
            return result

    def of(self, kind: type[R], **parent: str) -> MemoryRepository[R]:
        """The repository of `kind` under `parent` ids (avp.domain.records.Records)."""
        return MemoryRepository(self.docs, kind, kind.collection(**parent))

    def group(self, kind: type[R]) -> MemoryRepository[R]:
        """Records of `kind` under every parent."""
        return MemoryRepository(self.docs, kind, kind.COLLECTION.rsplit("/", 1)[-1], group=True)

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
