"""Review notes: timestamped remarks on a job's media (the source video, a language's captions,
descriptions or accessible video), open until someone resolves them."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from avp.auth.tokens import Principal
from avp.domain import access, audit, language_qc
from avp.domain.aggregates import ReviewNote
from avp.domain.audit import AuditMeta
from avp.domain.paging import Page
from avp.domain.ports import Database
from avp.domain.records import now
from avp.errors import Forbidden, Unprocessable

ASSETS = ("source_video", "captions", "descriptions", "accessible_video")
NOTE_STATES = ("open", "resolved")
MODERATORS = {"production", "project_manager", "admin"}
FIELDS = ("id", "job_id", "language", "asset", "timestamp", "text", "status", "author_id", "created_at", "updated_at")


def note_view(note: ReviewNote) -> dict[str, Any]:
    """A note as the API's ReviewNote."""
    return {k: getattr(note, k) for k in FIELDS}


def _check_place(job: dict[str, Any], principal: Principal, language: str | None, timestamp: float) -> None:
    duration = (job.get("media") or {}).get("duration")
    if duration is not None and timestamp > duration:
        raise Unprocessable({"timestamp": [f"must lie within the media: 0 to {duration} s"]})
    if language is None:
        return
    if language not in language_qc.job_languages(job):
        raise Unprocessable({"language": [f"{language} is not a language of this job"]})
    language_qc.require_visible_language(principal, job, language)


def create(store: Database, meta: AuditMeta, principal: Principal, job_id: str, *, text: str, timestamp: float,
           asset: str = "source_video", language: str | None = None) -> dict[str, Any]:
    """A new open note at `timestamp` seconds (inside the media) by anyone who may review the job."""
    job = access.require_job(store, principal, job_id, "review_note")
    _check_place(job, principal, language, timestamp)
    stamp = now()
    note = store.of(ReviewNote, job_id=job_id).add(ReviewNote(
        job_id=job_id, language=language, asset=asset, timestamp=timestamp, text=text, status="open",
        author_id=principal.user_id, created_at=stamp, updated_at=stamp))
    audit.record(store, meta, "review_note.create", f"jobs/{job_id}/review_notes/{note.id}",
                 after={"asset": asset, "language": language, "timestamp": timestamp})
    return note_view(note)


def _note(store: Database, principal: Principal, job_id: str, note_id: str, action: str) -> tuple[dict[str, Any], ReviewNote]:
    job = access.require_job(store, principal, job_id, action)
    return job, store.of(ReviewNote, job_id=job_id).get(note_id)


def get(store: Database, principal: Principal, job_id: str, note_id: str) -> dict[str, Any]:
    """One note of a job the caller can see."""
    return note_view(_note(store, principal, job_id, note_id, "view")[1])


def list_notes(store: Database, principal: Principal, job_id: str, *, page: int, size: int, cursor: str | None = None,
               language: str | None = None, asset: str | None = None, state: str | None = None) -> Page:
    """Notes of a job by media time, optionally of one language, asset or state."""
    access.require_job(store, principal, job_id, "view")
    filters = [(f, "==", v) for f, v in (("language", language), ("asset", asset), ("status", state)) if v is not None]
    return store.of(ReviewNote, job_id=job_id).page(filters, ("timestamp", "asc"), page, size, cursor).map(note_view)


def update(store: Database, meta: AuditMeta, principal: Principal, job_id: str, note_id: str,
           changes: dict[str, Any]) -> dict[str, Any]:
    """Change a note. Text and time: its author, or production / PMs / admins. Open or resolved:
    anyone who may review the job."""
    job, note = _note(store, principal, job_id, note_id, "review_note")
    if {"text", "timestamp"} & changes.keys() and note.author_id != principal.user_id \
            and principal.role not in MODERATORS:
        raise Forbidden("only the author may change a note's text or time")
    if "timestamp" in changes:
        _check_place(job, principal, None, changes["timestamp"])
    update_fields = {**changes, "updated_at": now()}
    store.of(ReviewNote, job_id=job_id).update(note_id, update_fields)
    audit.record(store, meta, "review_note.update", f"jobs/{job_id}/review_notes/{note_id}",
                 before={k: getattr(note, k) for k in changes}, after=changes)
    return note_view(replace(note, **update_fields))


def delete(store: Database, meta: AuditMeta, principal: Principal, job_id: str, note_id: str) -> None:
    """Delete a note: its author or an admin."""
    _, note = _note(store, principal, job_id, note_id, "review_note")
    if note.author_id != principal.user_id and not principal.is_admin:
        raise Forbidden("only the author or an administrator may delete a note")
    store.of(ReviewNote, job_id=job_id).delete(note_id)
    audit.record(store, meta, "review_note.delete", f"jobs/{job_id}/review_notes/{note_id}", before=note_view(note))
