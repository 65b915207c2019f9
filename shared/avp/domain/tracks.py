"""VTT tracks: every save of a (language, kind) track is a new numbered version, never overwritten.

Content lives in storage at `jobs/<id>/tracks/<lang>/<kind>/v<n>.vtt`; metadata in Firestore at
`jobs/<id>/tracks/<lang>_<kind>/versions/<n>`, under a counter document
`jobs/<id>/tracks/<lang>_<kind>` (`latest`: the newest committed version, `reserved`: the highest
number handed out). A save reserves its number first, writes the content, then commits the
metadata: so no version is ever listed without its content, and no two saves share a number.
The current version is the language's asset in the job's typed outputs (avp.domain.model), pointing
at the version's own object: versions never change, so a recorded asset is always whole.
"""
from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from avp.auth.tokens import Principal
from avp.captions.errors import VttParseError
from avp.captions.model import Cue
from avp.captions.presets import get_preset
from avp.captions.qc import check_cues
from avp.captions.vtt import VttDocument, parse_vtt, write_vtt
from avp.describe.drafts import count_to_write
from avp.domain import access, audit, jobs, language_qc
from avp.domain.audit import AuditMeta
from avp.domain.model import Asset, Job, TrackVersion, checksum, language_outputs
from avp.domain.paging import Page
from avp.domain.ports import Database, UnitOfWork, Units
from avp.domain.records import Repository, now
from avp.errors import Conflict, Forbidden, NotFound, Unprocessable
from avp.storage import Storage

KINDS = ("captions", "descriptions")
# Where a version came from; "timing" is a bulk timing adjustment (the contract's name).
SOURCES = ("pipeline", "edit", "timing", "restore", "upload")
VTT_TYPE = "text/vtt; charset=utf-8"
KIND_ASSET = {"captions": "captions_vtt", "descriptions": "description_vtt"}
STALE_AFTER_EDIT = {"captions": ("accessible_mp4",), "descriptions": ("description_mp3", "accessible_mp4")}

# Edit rules (see `require_edit`).
SOURCE_EDIT_JOB_STATES = {"pending_qc", "blocked_on_source"}
TARGET_EDIT_JOB_STATES = {"pending_qc", "language_qc"}
LINGUIST_EDIT_STATES = {"assigned", "in_progress", "rejected"}
REVIEWER_EDIT_STATES = {"in_review"}


# -- paths --------------------------------------------------------------------
def version_path(job_id: str, lang: str, kind: str, n: int) -> str:
    """The storage path of version `n` of a track."""
    return f"jobs/{job_id}/tracks/{lang}/{kind}/v{n}.vtt"


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise Unprocessable({"kind": [f"must be one of {', '.join(KINDS)}"]})


# -- parsing and QC -----------------------------------------------------------
def parse(content: str) -> VttDocument:
    """Parse under the strict W3C rules; a broken file is a 422 naming every problem with its line."""
    try:
        return parse_vtt(content, strict=True)
    except VttParseError as error:
        raise Unprocessable({"content": [f"line {line}: {message}" for line, message in error.problems]}) from error


def _qc_report(job: dict[str, Any], cues: Sequence[Cue]) -> dict[str, Any]:
    try:
        preset = get_preset(job.get("style_preset") or (job.get("requested_outputs") or {}).get("style_preset"))
    except ValueError as error:
        raise Unprocessable({"style_preset": [str(error)]}) from error
    return check_cues(cues, preset, media_duration=(job.get("media") or {}).get("duration")).to_dict()


def _qc_summary(report: dict[str, Any] | None) -> dict[str, Any] | None:
    if report is None:
        return None
    return {"ok": report["ok"], "preset": report["preset"], "violations": len(report["violations"]),
            "totals": report["totals"]}


# -- saving -------------------------------------------------------------------
def save_version(store: Database, storage: Storage, meta: AuditMeta, job_id: str, lang: str, kind: str, content: str, *,
                 source: str, base_version: int | None = None, comment: str | None = None,
                 restored_from: int | None = None) -> dict[str, Any]:
    """Save `content` as the next version of the track and make it current; returns the version.

    The VTT must parse (422 with the line otherwise). Captions are checked against the job's style
    preset and the report is stored beside the version. With `base_version`, a save whose base is no
    longer the latest answers 409 (someone saved in between). Every object is written before the
    commit that records it, so an asset recorded `ready` always exists."""
    _check_kind(kind)
    if source not in SOURCES:
        raise ValueError(f"unknown track source {source!r}")
    doc = parse(content)
    job = jobs.get_job(store, job_id)
    report = _qc_report(job, doc.cues) if kind == "captions" else None
    data = content.encode("utf-8")
    n, path = _write_new_version(store, storage, job_id, lang, kind, base_version, data)
    report_path, report_data = None, b""
    if report is not None:
        report_path = path.removesuffix(".vtt") + ".qc.json"
        report_data = json.dumps(report, indent=1, default=str).encode()
        storage.write_bytes(report_path, report_data, "application/json")
    version = TrackVersion(n=n, language=lang, kind=kind, source=source, author_id=meta.actor_id, created_at=now(),
                           cue_count=len(doc.cues), size=len(data), path=path, checksum=checksum(data),
                           qc=_qc_summary(report), qc_report_path=report_path, qc_report_size=len(report_data) or None,
                           qc_report_checksum=checksum(report_data) if report_path else None, comment=comment,
                           restored_from=restored_from, to_write=count_to_write(doc.cues) if kind == "descriptions" else None)
    _commit(store, storage, meta, job_id, version, base_version)
    return version_view(version)


VERSION_WRITE_ATTEMPTS = 50


def _write_new_version(units: Units, storage: Storage, job_id: str, lang: str, kind: str, base_version: int | None,
                       data: bytes) -> tuple[int, str]:
    """Reserve the next version number and store `data` under it, never over an existing version file.

    A number whose file already exists was handed out before a crash lost the counter (the local
    stack's Firestore export trails its writes by seconds): that version stays as it is and the
    next number is reserved instead."""
    for _ in range(VERSION_WRITE_ATTEMPTS):
        n = _reserve(units, job_id, lang, kind, base_version)
        path = version_path(job_id, lang, kind, n)
        if storage.create_bytes(path, data, VTT_TYPE):
            return n, path
        base_version = None  # the base was checked against the counter; the gap is not a newer edit
    raise Conflict("could not find a free version number for this track: try again")


def _reserve(units: Units, job_id: str, lang: str, kind: str, base_version: int | None) -> int:
    def work(uow: UnitOfWork) -> int:
        track = uow.tracks.get(job_id, lang, kind)
        _check_base(base_version, track.latest)
        n = track.reserve()
        uow.tracks.save(track)
        return n

    return units.atomically(work)


def _check_base(base_version: int | None, latest: int) -> None:
    if base_version is not None and base_version != latest:
        raise Conflict(f"version {base_version} is no longer the latest (now {latest}): reload and edit again")


def _commit(units: Units, storage: Storage, meta: AuditMeta, job_id: str, version: TrackVersion,
            base_version: int | None) -> None:
    """Record the version; when it is the newest, make it the language's current asset and update
    the language's cue count (job, mirror, track and audit entry in one unit of work)."""
    lang, kind, n = version.language, version.kind, version.n

    def work(uow: UnitOfWork) -> None:
        track = uow.tracks.get(job_id, lang, kind)
        job = uow.jobs.get(job_id)
        if job.get("deleted"):
            raise NotFound("job not found")
        _check_base(base_version, track.latest)
        uow.tracks.add_version(job_id, version)
        if n > track.latest:
            track.latest, track.updated_at, track.updated_by = n, version.created_at, meta.actor_id
            uow.tracks.save(track)
            _make_current(job, version, storage)
            job.updated_at = now()
            uow.jobs.save(job)
        uow.audit.append(audit.entry(meta, "track.save", f"jobs/{job_id}/tracks/{lang}_{kind}",
                                     after={"version": n, "source": version.source, "cue_count": version.cue_count}))

    units.atomically(work)


def _make_current(job: Job, version: TrackVersion, storage: Storage) -> None:
    lang, kind = version.language, version.kind
    stamp = version.created_at
    job.record_asset(lang, KIND_ASSET[kind], Asset(path=version.path, state="ready", size=version.size,
                                                   checksum=version.checksum, updated_at=stamp, version=version.n,
                                                   uri=storage.uri(version.path)))
    if version.qc_report_path:
        job.record_asset(lang, "qc_report", Asset(path=version.qc_report_path, state="ready", size=version.qc_report_size,
                                                  checksum=version.qc_report_checksum, updated_at=stamp, version=version.n,
                                                  uri=storage.uri(version.qc_report_path)))
    if kind == "captions" and lang in language_qc.target_languages(job):
        e = language_qc.entry(job, lang)
        # Marks of cues that no longer exist go; the reviewer re-checks what an edit changed.
        e.update(cues_total=version.cue_count, cues_reviewed=[i for i in e["cues_reviewed"] if i < version.cue_count])
        job.languages = {**job.languages, lang: e}
    if kind == "descriptions":  # what the job view and the QC queue count as still to write
        job.extra["descriptions_to_write"] = {**(job.get("descriptions_to_write") or {}), lang: version.to_write}
    if version.source != "pipeline":
        # What was made from the old text no longer matches it (captions are burnt into the MP4 as a
        # track; descriptions are voiced in the MP3 and the MP4).
        for made in STALE_AFTER_EDIT[kind]:
            job.mark_stale(lang, made)
        if language_outputs(job, lang).asset("accessible_mp4").path:
            job.extra["renders"] = {**(job.get("renders") or {}), lang: {"status": "stale", "updated_at": now()}}


# -- reading ------------------------------------------------------------------
def version_view(v: TrackVersion) -> dict[str, Any]:
    """A version's metadata as the API's VttVersion (plus its size and QC summary)."""
    return {"version": v.n, "language": v.language, "kind": v.kind, "origin": v.source, "restored_from": v.restored_from,
            "cue_count": v.cue_count, "comment": v.comment, "created_at": v.created_at, "created_by": v.author_id,
            "size_bytes": v.size, "qc": v.qc}


def _versions(store: Database, job_id: str, lang: str, kind: str) -> Repository[TrackVersion]:
    return store.of(TrackVersion, job_id=job_id, track_id=f"{lang}_{kind}")


def _current(store: Database, job_id: str, lang: str, kind: str) -> TrackVersion | None:
    # The current version is the highest committed one: a commit makes its version current
    # whenever it is newer than the current one.
    newest = _versions(store, job_id, lang, kind).where(order_by=[("n", "desc")], limit=1)
    return newest[0] if newest else None


def latest_version(store: Database, job_id: str, lang: str, kind: str) -> int | None:
    """The current version number of a track, None when it has none."""
    current = _current(store, job_id, lang, kind)
    return current.n if current else None


def version_meta(store: Database, job_id: str, lang: str, kind: str, n: int | None = None) -> TrackVersion:
    """A version's stored metadata (the current version when `n` is None), without its content."""
    _check_kind(kind)
    if n is None:
        current = _current(store, job_id, lang, kind)
        if current is None:
            raise NotFound(f"{lang} has no {kind} track")
        return current
    found = _versions(store, job_id, lang, kind).lookup(str(n))
    if found is None:
        raise NotFound(f"{lang} has no {kind} version {n}")
    return found


def get_version(store: Database, storage: Storage, job_id: str, lang: str, kind: str,
                n: int | None = None) -> tuple[dict[str, Any], str]:
    """A version (as `version_view`) and its content; the current version when `n` is None."""
    version = version_meta(store, job_id, lang, kind, n)
    return version_view(version), storage.read_text(version.path)


def document_view(job_id: str, version: dict[str, Any], content: str) -> dict[str, Any]:
    """A version (as `version_view`) with its content, as the API's VttDocument."""
    return {"job_id": job_id, "language": version["language"], "kind": version["kind"], "version": version["version"],
            "content": content, "cue_count": version["cue_count"], "updated_at": version["created_at"],
            "updated_by": version["created_by"], "origin": version["origin"], "qc": version["qc"]}


def list_versions(store: Database, job_id: str, lang: str, kind: str, *, page: int, size: int,
                  cursor: str | None = None) -> Page:
    """Versions of a track, newest first."""
    _check_kind(kind)
    return _versions(store, job_id, lang, kind).page([], ("n", "desc"), page, size, cursor).map(version_view)


# -- who may edit -------------------------------------------------------------
def require_edit(store: Database, principal: Principal, job_id: str, lang: str) -> dict[str, Any]:
    """The job if the caller may change `lang`'s tracks now (404 / 403 / 409 otherwise).

    - The source language is editable until the source is approved (job `pending_qc` or
      `blocked_on_source`), by reviewers, production, PMs and admins — not by linguists.
    - A target language is editable while the job is in `pending_qc` or `language_qc` and the
      language is not approved: by production, PMs and admins; by its assigned linguist while it is
      assigned / in progress / rejected; by its assigned reviewer while it is in review.
    """
    job = access.require_job(store, principal, job_id, "edit_vtt")
    language_qc.require_visible_language(principal, job, lang)
    targets = language_qc.target_languages(job)
    if lang not in targets:
        if principal.role == "linguist":
            raise Forbidden("linguists may not edit the source language")
        if job["status"] not in SOURCE_EDIT_JOB_STATES:
            raise Conflict(f"the source language cannot be edited while the job is {job['status']}")
        return job
    if job["status"] not in TARGET_EDIT_JOB_STATES:
        raise Conflict(f"{lang} cannot be edited while the job is {job['status']}")
    e = language_qc.entry(job, lang)
    if e["state"] == "approved":
        raise Conflict(f"{lang} is approved; it can no longer be edited")
    for role, states in (("linguist", LINGUIST_EDIT_STATES), ("reviewer", REVIEWER_EDIT_STATES)):
        if principal.role == role:
            if e[f"{role}_id"] != principal.user_id:
                raise Forbidden(f"you are not the {role} of {lang}")
            if e["state"] not in states:
                raise Conflict(f"a {role} may not edit {lang} while it is {e['state']}")
    return job


def require_read(store: Database, principal: Principal, job_id: str, lang: str, action: str = "view") -> dict[str, Any]:
    """The job if the caller may read `lang`'s tracks (a linguist only their languages and the source)."""
    job = access.require_job(store, principal, job_id, action)
    language_qc.require_visible_language(principal, job, lang)
    return job


# -- edits that make new versions ---------------------------------------------
def adjust_timing(store: Database, storage: Storage, meta: AuditMeta, job_id: str, lang: str, kind: str, *, offset_ms: int,
                  from_cue: int = 0, to_cue: int | None = None, base_version: int | None = None) -> dict[str, Any]:
    """Shift cues `from_cue..to_cue` (inclusive) by `offset_ms` as a new version; returns its document."""
    latest, content = get_version(store, storage, job_id, lang, kind)
    _check_base(base_version, latest["version"])
    doc = parse(content)
    doc.cues = shift_cues(doc.cues, offset_ms / 1000, from_cue, to_cue)
    shifted = write_vtt(doc)
    version = save_version(store, storage, meta, job_id, lang, kind, shifted, source="timing",
                           base_version=latest["version"], comment=f"shifted cues by {offset_ms} ms")
    return document_view(job_id, version, shifted)


def shift_cues(cues: Sequence[Cue], offset: float, first: int = 0, last: int | None = None) -> list[Cue]:
    """Cues with `first..last` moved by `offset` seconds. A shift that would start a cue before 0 is
    shortened so the earliest moved cue starts at 0 (every cue keeps its duration); one that would
    put a cue before its predecessor (or after its successor) is refused, since cues stay in order."""
    if not cues:
        raise Unprocessable({"from_cue": ["the track has no cues"]})
    last = len(cues) - 1 if last is None else last
    if not 0 <= first <= last < len(cues):
        raise Unprocessable({"to_cue": [f"cue range {first}..{last} is outside 0..{len(cues) - 1}"]})
    offset = max(offset, -cues[first].start)
    moved = [replace(c, start=round(c.start + offset, 3), end=round(c.end + offset, 3)) if first <= i <= last else c
             for i, c in enumerate(cues)]
    for i in range(1, len(moved)):
        if moved[i].start < moved[i - 1].start:
            raise Unprocessable({"offset_ms": [f"the shift would start cue {i} before cue {i - 1}"]})
    return moved


def restore(store: Database, storage: Storage, meta: AuditMeta, job_id: str, lang: str, kind: str, n: int) -> dict[str, Any]:
    """Make version `n`'s content current again, as a new version; returns its document."""
    _, content = get_version(store, storage, job_id, lang, kind, n)
    version = save_version(store, storage, meta, job_id, lang, kind, content, source="restore", restored_from=n,
                           comment=f"restored version {n}")
    return document_view(job_id, version, content)


# -- diff ---------------------------------------------------------------------
def cue_view(index: int, cue: Cue) -> dict[str, Any]:
    """A cue as the API's Cue."""
    return {"index": index, "identifier": cue.identifier, "start": cue.start, "end": cue.end, "text": cue.text,
            "settings": dict(cue.settings)}


def diff_cues(a: Sequence[Cue], b: Sequence[Cue]) -> list[dict[str, Any]]:
    """Cue-level changes from `a` to `b`: cues are aligned by text; an aligned pair whose timing or
    settings differ, or a replaced cue, is `changed`; the rest are `added` / `removed`."""
    changes: list[dict[str, Any]] = []

    def change(op: str, i: int | None, j: int | None) -> None:
        changes.append({"op": op, "a_index": i, "b_index": j, "a": cue_view(i, a[i]) if i is not None else None,
                        "b": cue_view(j, b[j]) if j is not None else None})

    matcher = difflib.SequenceMatcher(None, [c.text for c in a], [c.text for c in b], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        paired = min(i2 - i1, j2 - j1) if tag in ("equal", "replace") else 0
        for k in range(paired):
            old, new = a[i1 + k], b[j1 + k]
            if tag == "replace" or (old.start, old.end, old.settings) != (new.start, new.end, new.settings):
                change("changed", i1 + k, j1 + k)
        for i in range(i1 + paired, i2):
            change("removed", i, None)
        for j in range(j1 + paired, j2):
            change("added", None, j)
    return changes


def diff_versions(store: Database, storage: Storage, job_id: str, lang: str, kind: str, a: int, b: int) -> dict[str, Any]:
    """The cue-level and unified text diff between versions `a` and `b`."""
    _, text_a = get_version(store, storage, job_id, lang, kind, a)
    _, text_b = get_version(store, storage, job_id, lang, kind, b)
    unified = "".join(difflib.unified_diff(text_a.splitlines(keepends=True), text_b.splitlines(keepends=True),
                                           fromfile=f"v{a}", tofile=f"v{b}"))
    return {"language": lang, "kind": kind, "a": a, "b": b, "unified_diff": unified,
            "changes": diff_cues(parse(text_a).cues, parse(text_b).cues)}
