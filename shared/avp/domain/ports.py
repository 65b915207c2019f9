"""What the domain needs from below, as interfaces: repositories that hand out aggregates, a unit
of work that commits them together, and the workflow runner. Adapters implement them: Firestore
(`avp.store.units`), memory (`avp.store.memory`, for fast domain tests), Cloud Workflows and the
local executor (`avp.pipeline.runner`). Nothing here names a Google class."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from avp.domain.aggregates import AuditEntry
from avp.domain.model import Job, Track, TrackVersion
from avp.domain.records import Filter, Record, Records, Repository

T = TypeVar("T")
R = TypeVar("R", bound=Record)


class JobRepository(Protocol):
    def get(self, job_id: str) -> Job:
        """The job (NotFound when there is none)."""
        ...

    def add(self, job: Job) -> None:
        """A new job (with its status mirror), written when the unit of work commits."""
        ...

    def save(self, job: Job, *, rebuild_queue: bool = False) -> None:
        """Write what changed in `job` since it was read, its status mirror and its language work-queue
        entries (what changed in them; with `rebuild_queue`, all of them), at commit."""
        ...

    def where(self, *filters: Filter) -> list[Job]:
        """The jobs matching every filter, read in this unit of work (so each may be saved)."""
        ...


class TrackRepository(Protocol):
    def get(self, job_id: str, language: str, kind: str) -> Track:
        """The track (one with no versions when none was saved)."""
        ...

    def save(self, track: Track) -> None:
        """Write the track's counters at commit."""
        ...

    def add_version(self, job_id: str, version: TrackVersion) -> None:
        """A new version (never overwriting one), written at commit."""
        ...

    def version(self, job_id: str, language: str, kind: str, n: int) -> TrackVersion:
        """A stored version (NotFound when there is none)."""
        ...


class AuditLog(Protocol):
    def append(self, entry: AuditEntry) -> None:
        """Add an entry, committed with the rest of the unit of work."""
        ...


class UnitOfWork(Protocol):
    """One atomic change: everything read through it is consistent, everything written commits
    together or not at all (all reads before the first write, as Firestore's transactions need)."""

    jobs: JobRepository
    tracks: TrackRepository
    audit: AuditLog

    def of(self, kind: type[R], **parent: str) -> Repository[R]:
        """The repository of `kind` under `parent` ids, inside this unit of work."""
        ...

    def group(self, kind: type[R]) -> Repository[R]:
        """Records of `kind` under every parent, read inside this unit of work (read only)."""
        ...


@dataclass(frozen=True)
class Progress:
    """A running step's report: the run's `progress` (never lowered), the step and its own share
    done. A language step (`language` set) reports on its language's run only."""

    stage: str | None
    step_progress: float | None
    progress: float | None
    language: str | None = None


class Units(Protocol):
    """Where units of work come from."""

    def atomically(self, fn: Callable[[UnitOfWork], T]) -> T:
        """Run `fn` in a fresh unit of work and commit it; contention makes it run again."""
        ...

    def read_job(self, job_id: str) -> Job:
        """The job as stored now, outside any unit of work (NotFound when there is none)."""
        ...

    def report_progress(self, job_id: str, progress: Progress) -> None:
        """Record a running step's progress on the job and its status mirror without a transaction
        (parallel steps report often); the whole-job figure only ever rises."""
        ...


class Database(Records, Units, Protocol):
    """What the domain reads and writes: records (`of`, `group`), jobs and units of work. The
    Firestore `avp.store.Store` and the in-memory `avp.store.memory.MemoryUnits` are the two."""


class WorkflowRunner(Protocol):
    """Starting, cancelling and describing runs of the pipeline and language workflows."""

    def start_pipeline(self, job_id: str, steps: list[str]) -> str: ...

    def start_languages(self, job_id: str, languages: list[str], steps: list[str]) -> str: ...

    def start_bundle(self, download_id: str) -> str: ...

    def cancel(self, execution_id: str) -> None: ...

    def get(self, execution_id: str) -> dict[str, Any]: ...

    def probe(self) -> str: ...

    def shutdown(self) -> None: ...
