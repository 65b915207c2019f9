"""Review notes: timestamped remarks on a job's media (the source video, a language's captions,
descriptions or accessible video), open until someone resolves them."""
from __future__ import annotations

from typing import Any

from avp.auth.tokens import Principal
from avp.domain import access, audit, language_qc
from avp.domain.audit import AuditMeta
from avp.errors import Forbidden, NotFound, Unprocessable
from avp.store import Page, Store, new_id, now

ASSETS = ("source_video", "captions", "descriptions", "accessible_video")
NOTE_STATES = ("open", "resolved")
MODERATORS = {"production", "project_manager", "admin"}
FIELDS = ("id", "job_id", "language", "asset", "timestamp", "text", "status", "author_id", "created_at", "updated_at")


def note_view(note: dict[str, Any]) -> dict[str, Any]:
    """A note as the API's ReviewNote."""
    return {k: note.get(k) for k in FIELDS}


def _check_place(job: dict[str, Any], principal: Principal, language: str | None, timestamp: float) -> None:
    duration = (job.get("media") or {}).get("duration")
    if duration is not None and timestamp > duration:
        raise Unprocessable({"timestamp": [f"must lie within the media: 0 to {duration} s"]})
    if language is None:
        return
    if language not in language_qc.job_languages(job):
        raise Unprocessable({"language": [f"{language} is not a language of this job"]})
    language_qc.require_visible_language(principal, job, language)


def create(store: Store, meta: AuditMeta, principal: Principal, job_id: str, *, text: str, timestamp: float,
           asset: str = "source_video", language: str | None = None) -> dict[str, Any]:
    """A new open note at `timestamp` seconds (inside the media) by anyone who may review the job."""
    job = access.require_job(store, principal, job_id, "review_note")
    _check_place(job, principal, language, timestamp)
    stamp = now()
    note = store.create(f"jobs/{job_id}/review_notes", {
        "job_id": job_id, "language": language, "asset": asset, "timestamp": timestamp, "text": text,
        "status": "open", "author_id": principal.user_id, "created_at": stamp, "updated_at": stamp}, new_id())
    audit.record(store, meta, "review_note.create", f"jobs/{job_id}/review_notes/{note['id']}",
                 after={"asset": asset, "language": language, "timestamp": timestamp})
    return note_view(note)


def _note(store: Store, principal: Principal, job_id: str, note_id: str, action: str) -> tuple[dict[str, Any], dict[str, Any]]:
    job = access.require_job(store, principal, job_id, action)
    note = store.get(f"jobs/{job_id}/review_notes/{note_id}")
    if note is None:
        raise NotFound("review note not found")
    return job, note


def get(store: Store, principal: Principal, job_id: str, note_id: str) -> dict[str, Any]:
    """One note of a job the caller can see."""
    return note_view(_note(store, principal, job_id, note_id, "view")[1])


def list_notes(store: Store, principal: Principal, job_id: str, *, page: int, size: int, cursor: str | None = None,
               language: str | None = None, asset: str | None = None, state: str | None = None) -> Page:
    """Notes of a job by media time, optionally of one language, asset or state."""
    access.require_job(store, principal, job_id, "view")
    filters = [(f, "==", v) for f, v in (("language", language), ("asset", asset), ("status", state)) if v is not None]
    result = store.paginate(f"jobs/{job_id}/review_notes", filters, ("timestamp", "asc"), page, size, cursor)
    result.items = [note_view(n) for n in result.items]
    return result


def update(store: Store, meta: AuditMeta, principal: Principal, job_id: str, note_id: str,
           changes: dict[str, Any]) -> dict[str, Any]:
    """Change a note. Text and time: its author, or production / PMs / admins. Open or resolved:
    anyone who may review the job."""
    job, note = _note(store, principal, job_id, note_id, "review_note")
    if {"text", "timestamp"} & changes.keys() and note["author_id"] != principal.user_id \
            and principal.role not in MODERATORS:
        raise Forbidden("only the author may change a note's text or time")
    if "timestamp" in changes:
        _check_place(job, principal, None, changes["timestamp"])
    update_fields = {**changes, "updated_at": now()}
    path = f"jobs/{job_id}/review_notes/{note_id}"
    store.update(path, update_fields)
    audit.record(store, meta, "review_note.update", path, before={k: note.get(k) for k in changes}, after=changes)
    return note_view({**note, **update_fields})


def delete(store: Store, meta: AuditMeta, principal: Principal, job_id: str, note_id: str) -> None:
    """Delete a note: its author or an admin."""
    _, note = _note(store, principal, job_id, note_id, "review_note")
    if note["author_id"] != principal.user_id and not principal.is_admin:
        raise Forbidden("only the author or an administrator may delete a note")
    path = f"jobs/{job_id}/review_notes/{note_id}"
    store.delete(path)
    audit.record(store, meta, "review_note.delete", path, before=note_view(note))
