"""A job's deliverables: signed download links, and the editable state of the accessible video
(its pause points) with the re-render that an edit starts."""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any, Protocol

from avp.auth.tokens import Principal
from avp.captions.vtt import parse_vtt
from avp.domain import access, audit, language_qc, tracks
from avp.domain.audit import AuditMeta
from avp.domain.model import ASSET_KINDS as MODEL_ASSET_KINDS
from avp.domain.model import Job, language_outputs
from avp.domain.ports import Database, UnitOfWork, Units
from avp.domain.records import now
from avp.errors import Conflict, NotFound, Unprocessable
from avp.storage import Storage

LINK_TTL = 15 * 60


# The file name suffix people get for each asset kind.
SUFFIXES = {"captions_vtt": "captions.vtt", "description_vtt": "descriptions.vtt", "description_mp3": "description.mp3",
            "accessible_mp4": "accessible.mp4", "qc_report": "qc.json"}
ASSET_KINDS = ("source_video", *MODEL_ASSET_KINDS)
EXECUTION_STATES = {"SUCCEEDED": "current", "FAILED": "failed", "CANCELLED": "failed"}


class Runner(Protocol):
    """What this module needs of the workflow runner."""

    def start_languages(self, job_id: str, languages: list[str], steps: list[str]) -> str: ...

    def get(self, execution_id: str) -> dict[str, Any]: ...


# -- download links -----------------------------------------------------------
def _stem(job: dict[str, Any]) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", job.get("title") or "").strip("-")[:80] or job["id"]


def download_links(storage: Storage, job: dict[str, Any], languages: list[str], *, assets: list[str] | None = None,
                   ttl: int = LINK_TTL) -> list[dict[str, Any]]:
    """Signed GET links (valid `ttl` seconds, with a download file name) for every deliverable of
    `languages` that exists in storage, optionally only the given asset kinds."""
    wanted = set(assets or ASSET_KINDS)
    found: list[tuple[str, str, str, str]] = []  # language, asset, path, file name
    source = job.get("source_language")
    if "source_video" in wanted and job.get("source_path") and (source in languages or not source):
        found.append((source or "und", "source_video", job["source_path"], job.get("filename") or "source"))
    for lang in languages:
        outputs = language_outputs(job, lang)
        for kind in MODEL_ASSET_KINDS:
            asset = outputs.asset(kind)
            if kind in wanted and asset.path and asset.state in ("ready", "stale"):
                found.append((lang, kind, asset.path, f"{_stem(job)}.{lang}.{SUFFIXES[kind]}"))
    links = []
    for lang, asset, path, filename in found:
        info = storage.stat(path)
        if info is None:
            continue
        links.append({"language": lang, "kind": asset, "filename": filename, "content_type": info["content_type"],
                      "size_bytes": info["size"], "url": storage.signed_url(path, expires=ttl, filename=filename)})
    return links


def downloads(store: Database, storage: Storage, principal: Principal, job_id: str, lang: str | None = None) -> dict[str, Any]:
    """Download links for the languages the caller may see (or only `lang`)."""
    job = access.require_job(store, principal, job_id, "download")
    if lang:
        language_qc.require_visible_language(principal, job, lang)
    visible = language_qc.visible_languages(principal, job)
    languages = [lang] if lang else [code for code in language_qc.job_languages(job) if code in visible]
    expires = now() + dt.timedelta(seconds=LINK_TTL)
    return {"job_id": job_id, "expires_at": expires, "items": download_links(storage, job, languages)}


# -- accessible video ---------------------------------------------------------
def _pause_points_path(job: Mapping[str, Any], lang: str) -> str:
    path = language_outputs(job, lang).pause_points
    if not path:
        raise NotFound(f"{lang} has no accessible video")
    return path


def render_status(job: dict[str, Any], lang: str, runner: Runner) -> str:
    """current / stale / rendering / failed. A render in flight is looked up in the workflow runner."""
    record = (job.get("renders") or {}).get(lang)
    if record is None:
        return "current" if language_outputs(job, lang).asset("accessible_mp4").ready else "stale"
    if record["status"] != "rendering":
        return record["status"]
    try:
        state = runner.get(record["execution_id"]).get("state")
    except KeyError:
        return "stale"  # an execution of an earlier local process: it no longer runs
    return EXECUTION_STATES.get(state or "", "rendering")


def _description_cues(store: Database, storage: Storage, job_id: str, lang: str) -> tuple[int | None, list]:
    if tracks.latest_version(store, job_id, lang, "descriptions") is None:
        return None, []
    version, content = tracks.get_version(store, storage, job_id, lang, "descriptions")
    return version["version"], parse_vtt(content, strict=False).cues


def edit_state(store: Database, storage: Storage, runner: Runner, principal: Principal, job_id: str,
               lang: str) -> dict[str, Any]:
    """The pause points of a language's accessible video, its description cues, and its render status."""
    job = tracks.require_read(store, principal, job_id, lang)
    return _edit_state(store, storage, runner, job, lang)


def _edit_state(store: Database, storage: Storage, runner: Runner, job: dict[str, Any], lang: str) -> dict[str, Any]:
    points = storage.read_json(_pause_points_path(job, lang))
    version, cues = _description_cues(store, storage, job["id"], lang)

    def point_view(p: dict[str, Any]) -> dict[str, Any]:
        index = p["cue_index"]
        text = p.get("text") or (cues[index].text if index < len(cues) else "")
        view = {"cue_index": index, "at": p["at"], "pause_duration": p["duration"], "description_text": text}
        return view | {k: p[k] for k in ("audio_duration", "gap") if k in p}

    return {"job_id": job["id"], "language": lang, "description_version": version,
            "media_duration": (job.get("media") or {}).get("duration"),
            "pause_points": [point_view(p) for p in points],
            "description_cues": [tracks.cue_view(i, c) for i, c in enumerate(cues)],
            "render_status": render_status(job, lang, runner), "updated_at": job.get("updated_at")}


def _set_render(units: Units, meta: AuditMeta, job_id: str, lang: str, record: dict[str, Any],
                audit_after: dict[str, Any] | None = None) -> Job:
    def work(uow: UnitOfWork) -> Job:
        job = uow.jobs.get(job_id)
        if job.get("deleted"):
            raise NotFound("job not found")
        job.extra["renders"] = {**(job.get("renders") or {}), lang: record}
        if record["status"] == "stale":
            job.mark_stale(lang, "accessible_mp4")
        job.updated_at = now()
        uow.jobs.save(job)
        if audit_after is not None:
            uow.audit.append(audit.entry(meta, "accessible_video.pause_point", f"jobs/{job_id}/accessible-video/{lang}",
                                         after=audit_after))
        return job

    return units.atomically(work)


def move_pause_point(store: Database, storage: Storage, runner: Runner, meta: AuditMeta, principal: Principal,
                     job_id: str, lang: str, cue_index: int, at: float) -> dict[str, Any]:
    """Move one pause point to media time `at` (inside the media), save the pause points and
    re-render that language's accessible video. Editing follows the track edit rules."""
    job = tracks.require_edit(store, principal, job_id, lang)
    duration = (job.get("media") or {}).get("duration")
    if duration is None:
        raise Conflict("the media duration is not known yet")
    if not 0 <= at <= duration:
        raise Unprocessable({"at": [f"must lie within the media: 0 to {duration} s"]})
    path = _pause_points_path(job, lang)
    points = storage.read_json(path)
    point = next((p for p in points if p["cue_index"] == cue_index), None)
    if point is None:
        raise NotFound(f"no pause point for description cue {cue_index}")
    before = point["at"]
    point["at"] = round(at, 3)
    storage.write_json(path, points)
    _set_render(store, meta, job_id, lang, {"status": "stale", "updated_at": now()},
                {"cue_index": cue_index, "from": before, "to": point["at"]})
    execution_id = runner.start_languages(job_id, [lang], ["render"])
    job = _set_render(store, meta, job_id, lang, {"status": "rendering", "execution_id": execution_id,
                                                  "updated_at": now()})
    return _edit_state(store, storage, runner, job, lang)
