"""Uploads: what may be uploaded, the checks on what arrived, and the three ways a source video
reaches a job — a resumable session (`init_upload` then `complete_upload`), one multipart request
(`create_direct`), and a storage event (`handle_finalized`: the same completion, or a job made
for an object dropped under `inbox/`).

Whichever of `complete_upload` and the storage event comes first moves the job out of
`uploading`; the other finds it gone and does nothing (the transaction in `jobs.transition`
decides). A refused completion leaves the job `uploading` and, when the refusal is final (the
object is whole but wrong), records the reason in `failure_reason`.
"""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import PurePosixPath
from typing import IO, TYPE_CHECKING, Any

from avp import jsoninput, logs
from avp.auth.tokens import Principal
from avp.domain import access, audit, jobs, users
from avp.domain.aggregates import Upload
from avp.domain.audit import AuditMeta
from avp.domain.languages import is_language_tag, language, normalize_language
from avp.domain.model import Job
from avp.domain.ports import Database
from avp.domain.records import new_id, now
from avp.errors import AvpError, BadRequest, Conflict, NotFound, PayloadTooLarge, Unprocessable, UnsupportedMediaType
from avp.providers import offer

if TYPE_CHECKING:
    from avp.domain.ports import WorkflowRunner
    from avp.storage import Storage

log = logs.get("domain.uploads")

# Containers ffmpeg reads that we accept as a job's source. Keyed by media type, valued by the
# container families `sniff_container` may find in such a file.
MEDIA_TYPES: dict[str, frozenset[str]] = {
    "video/mp4": frozenset({"isobmff"}),
    "video/quicktime": frozenset({"isobmff"}),
    "video/x-m4v": frozenset({"isobmff"}),
    "video/3gpp": frozenset({"isobmff"}),
    "video/webm": frozenset({"matroska"}),
    "video/x-matroska": frozenset({"matroska"}),
    "video/x-msvideo": frozenset({"avi"}),
    "video/avi": frozenset({"avi"}),
    "video/mpeg": frozenset({"mpeg-ps", "mpeg-ts", "mpeg-es"}),
    "video/mp2t": frozenset({"mpeg-ts"}),
    "video/ogg": frozenset({"ogg"}),
    "video/x-flv": frozenset({"flv"}),
    "video/x-ms-wmv": frozenset({"asf"}),
    "application/mxf": frozenset({"mxf"}),
    "audio/mpeg": frozenset({"mp3"}),
    "audio/mp4": frozenset({"isobmff"}),
    "audio/x-m4a": frozenset({"isobmff"}),
    "audio/aac": frozenset({"adts"}),
    "audio/wav": frozenset({"wav"}),
    "audio/x-wav": frozenset({"wav"}),
    "audio/wave": frozenset({"wav"}),
    "audio/flac": frozenset({"flac"}),
    "audio/x-flac": frozenset({"flac"}),
    "audio/ogg": frozenset({"ogg"}),
    "audio/webm": frozenset({"matroska"}),
    "audio/aiff": frozenset({"aiff"}),
    "audio/x-aiff": frozenset({"aiff"}),
}
SNIFF_BYTES = 512  # enough for every signature below (MPEG-TS needs the second sync byte at 188)
RESUMABLE_SESSION_TTL = dt.timedelta(days=7)  # how long GCS keeps a resumable session open
INBOX_PREFIX = "inbox/"
SOURCE_NAME = re.compile(r"^jobs/(?P<job_id>[A-Za-z0-9_-]+)/source\.[A-Za-z0-9]+$")
INGEST_ACCOUNT_EMAIL = "ingest-service-account@avp.invalid"
INGEST_ACCOUNT_NAME = "ingest service account"

OUTPUT_FLAGS = jobs.OUTPUT_KINDS
TTS_PROVIDERS = offer.TTS_IDS
ASR_PROVIDERS = offer.ASR_IDS
STYLE_PRESETS = ("netflix-en", "netflix-children", "bbc", "dcmp")
MAX_LANGUAGES = 50


# -- pure checks ---------------------------------------------------------------
def parse_requested_outputs(raw: Any) -> dict[str, Any]:
    """Validate what a job asks for (one validator for the API and the storage-event path): known
    output flags, target languages as BCP-47 tags, and known TTS / ASR providers and style preset.
    Unset flags take the contract's defaults. 422 with per-field messages."""
    if not isinstance(raw, dict):
        raise Unprocessable({"requested_outputs": ["must be an object"]})
    errors: dict[str, list[str]] = {}
    known = {*OUTPUT_FLAGS, "languages", "tts_preferences", "style_preset", "asr_provider"}
    for key in sorted(set(raw) - known):
        errors[key] = ["unknown output or option"]
    out: dict[str, Any] = {}
    for flag in OUTPUT_FLAGS:
        value = raw.get(flag, flag != "accessible_video_mp4")
        if not isinstance(value, bool):
            errors[flag] = ["must be true or false"]
        out[flag] = value
    langs = raw.get("languages", [])
    if not isinstance(langs, list) or len(langs) > MAX_LANGUAGES:
        errors["languages"] = [f"must be a list of at most {MAX_LANGUAGES} language tags"]
        langs = []
    bad = [str(t)[:40] for t in langs if not is_language_tag(t)]
    if bad:
        errors["languages"] = [f"not BCP-47 language tags: {', '.join(map(repr, bad))}"]
    normalized = [normalize_language(t) for t in langs if is_language_tag(t)]
    if len(set(normalized)) != len(normalized):
        errors.setdefault("languages", []).append("languages must not repeat")
    out["languages"] = normalized
    tts = raw.get("tts_preferences")
    if tts is not None:
        out["tts_preferences"] = _tts_preferences(tts, errors)
    if "style_preset" in raw:
        if raw["style_preset"] not in STYLE_PRESETS:
            errors["style_preset"] = [f"must be one of {', '.join(STYLE_PRESETS)}"]
        out["style_preset"] = raw["style_preset"]
    if "asr_provider" in raw:
        provider = offer.asr_id(raw["asr_provider"]) if isinstance(raw["asr_provider"], str) else raw["asr_provider"]
        if provider not in ASR_PROVIDERS:
            errors["asr_provider"] = [f"must be one of {', '.join(ASR_PROVIDERS)}"]
        out["asr_provider"] = provider
    if errors:
        raise Unprocessable({"requested_outputs": errors})
    return out


def _tts_preferences(tts: Any, errors: dict[str, list[str]]) -> dict[str, Any]:
    if not isinstance(tts, dict):
        errors["tts_preferences"] = ["must be an object"]
        return {}
    problems = []
    unknown = sorted(set(tts) - {"provider", "model", "default_voice", "voices"})
    if unknown:
        problems.append(f"unknown fields: {', '.join(unknown)}")
    tts = dict(tts)
    if isinstance(tts.get("provider"), str):
        tts["provider"] = offer.tts_id(tts["provider"])
    if "provider" in tts and tts["provider"] not in TTS_PROVIDERS:
        problems.append(f"provider must be one of {', '.join(TTS_PROVIDERS)}")
    for key in ("model", "default_voice"):
        if key in tts and not (isinstance(tts[key], str) and 0 < len(tts[key]) <= 100):
            problems.append(f"{key} must be a short string")
    voices = tts.get("voices", {})
    if not isinstance(voices, dict) or not all(is_language_tag(k) and isinstance(v, str) and v for k, v in voices.items()):
        problems.append("voices must map language tags to voice ids")
    if problems:
        errors["tts_preferences"] = problems
    return dict(tts)


def check_media_upload(filename: str, content_type: str, size_bytes: int, max_bytes: int) -> str:
    """Refuse what cannot become a job before any byte moves: a media type outside the allow-list
    (415), nothing to upload (422), too much (413). Returns the normalised media type."""
    media_type = content_type.split(";")[0].strip().lower()
    if media_type not in MEDIA_TYPES:
        raise UnsupportedMediaType(f"{media_type or 'no content type'} is not an accepted video or audio type; "
                                   f"accepted: {', '.join(sorted(MEDIA_TYPES))}")
    safe_filename(filename)
    if size_bytes <= 0:
        raise Unprocessable({"size_bytes": ["the file is empty"]})
    if size_bytes > max_bytes:
        raise PayloadTooLarge(f"the file has {size_bytes} bytes; the limit is {max_bytes} bytes")
    return media_type


def safe_filename(filename: str) -> str:
    """The last path segment of `filename`; 422 when nothing usable is left."""
    name = PurePosixPath(filename.replace("\\", "/")).name.strip()
    if not name or name in (".", "..") or len(name) > 255 or any(ord(c) < 32 for c in name):
        raise Unprocessable({"filename": ["not a usable file name"]})
    return name


def sniff_container(head: bytes) -> str | None:
    """The container family the first bytes of a file announce, or None when they announce none
    ffmpeg would read as video or audio (a renamed text file, a PDF, a ZIP...)."""
    if len(head) >= 12 and head[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip", b"pnot"):
        return "isobmff"
    signatures = (
        (b"\x1a\x45\xdf\xa3", "matroska"), (b"OggS", "ogg"), (b"fLaC", "flac"), (b"ID3", "mp3"), (b"FLV\x01", "flv"),
        (b"\x30\x26\xb2\x75\x8e\x66\xcf\x11", "asf"), (b"\x06\x0e\x2b\x34\x02\x05\x01\x01", "mxf"),
        (b"\x00\x00\x01\xba", "mpeg-ps"), (b"\x00\x00\x01\xb3", "mpeg-es"),
    )
    for magic, family in signatures:
        if head.startswith(magic):
            return family
    if head[:4] == b"RIFF" and head[8:12] in (b"AVI ", b"WAVE"):
        return "avi" if head[8:12] == b"AVI " else "wav"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "aiff"
    if len(head) > 188 and head[0] == 0x47 and head[188] == 0x47:
        return "mpeg-ts"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0:
        return "adts"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        return "mp3"
    return None


def check_media_bytes(head: bytes, content_type: str) -> str:
    """415 unless the first bytes are a container of the declared media type's family."""
    family = sniff_container(head)
    if family is None:
        raise UnsupportedMediaType("the file is not a video or audio container (its first bytes match no known format)")
    allowed = MEDIA_TYPES.get(content_type, frozenset())
    if family not in allowed:
        raise UnsupportedMediaType(f"the file is {family} data, not {content_type}")
    return family


def _b64(value: str, length: int, field: str) -> str:
    """A checksum as GCS reports it (base64 of the digest); hex is accepted too."""
    text = value.strip()
    try:
        raw = bytes.fromhex(text) if len(text) == 2 * length else base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise Unprocessable({field: ["not a base64 or hex digest"]}) from exc
    if len(raw) != length:
        raise Unprocessable({field: [f"a {field} digest has {length} bytes"]})
    return base64.b64encode(raw).decode()


def verify_source(storage: Storage, job: dict[str, Any], checksums: dict[str, str | None]) -> str:
    """Check the job's source object against what was declared: there (409 while not), the declared
    size and checksums (422), and media bytes of the declared type (415). Returns the container."""
    stat = storage.stat(job["source_path"])
    if stat is None:
        raise Conflict(f"the upload is not complete: nothing is stored at {job.get('source_uri') or job['source_path']} yet")
    if int(stat["size"] or 0) != job["size_bytes"]:
        raise Unprocessable({"size_bytes": [f"the stored file has {int(stat['size'] or 0)} bytes, "
                                            f"{job['size_bytes']} were declared"]})
    for field, length in (("md5", 16), ("crc32c", 4)):
        declared = checksums.get(field)
        if declared and _b64(declared, length, field) != stat[field]:
            raise Unprocessable({field: [f"the stored file's {field} is {stat[field]}, not {declared}"]})
    return check_media_bytes(storage.read_head(job["source_path"], SNIFF_BYTES), job["content_type"])


# -- resumable upload ------------------------------------------------------------
@dataclass(frozen=True)
class UploadRequest:
    """What a caller declares about a source video before sending it."""

    filename: str
    content_type: str
    size_bytes: int
    org_id: str | None = None
    client_id: str | None = None
    project_id: str | None = None
    title: str = ""
    notes: str = ""
    source_language: str | None = None
    requested_outputs: dict[str, Any] | None = None
    brief_id: str | None = None
    glossary_id: str | None = None


@dataclass(frozen=True)
class UploadSession:
    """Where and until when the client sends the bytes of a job's source."""

    job: dict[str, Any]
    upload_url: str
    gcs_uri: str
    expires_at: dt.datetime

    def to_dict(self) -> dict[str, Any]:
        return {"upload_url": self.upload_url, "job_id": self.job["id"], "gcs_uri": self.gcs_uri,
                "expires_at": self.expires_at, "method": "PUT", "headers": {}}


def prepare_job(store: Database, principal: Principal, req: UploadRequest, max_bytes: int, *,
                trusted: bool = False) -> dict[str, Any]:
    """A checked, not yet stored job in `uploading` for `req` (placement, media type, size, outputs).
    `trusted`: the platform's own account, placing jobs in any organization it is told to."""
    jobs.require_creator(principal)
    media_type = check_media_upload(req.filename, req.content_type, req.size_bytes, max_bytes)
    placement = jobs.resolve_placement(store, None if trusted else principal, req.org_id, req.client_id, req.project_id)
    requested = parse_requested_outputs(req.requested_outputs or {})
    source_language = language(req.source_language, "source_language") if req.source_language else None
    job = jobs.new_job(principal, **placement, title=req.title, filename=safe_filename(req.filename),
                       content_type=media_type, size_bytes=req.size_bytes, source_language=source_language,
                       requested_outputs=requested, notes=req.notes)
    # Only a job whose outputs were declared up front may be completed by the storage event alone;
    # otherwise the client's `complete` (which carries them) must not lose the race to the event.
    job["outputs_declared"] = req.requested_outputs is not None
    job.update(brief_id=req.brief_id, glossary_id=req.glossary_id)
    return job


def store_job(store: Database, storage: Storage, meta: AuditMeta, job: dict[str, Any], kind: str) -> dict[str, Any]:
    """Store a prepared job with its upload record (`uploads/{job_id}`: how its source arrives)."""
    job["source_uri"] = storage.uri(job["source_path"])
    jobs.store_new_job(store, meta, job)
    store.of(Upload).put(Upload(id=job["id"], kind=kind, job_id=job["id"], path=job["source_path"],
                                content_type=job["content_type"], size_bytes=job["size_bytes"],
                                created_by=job["created_by"], created_at=now()))
    return job


def init_upload(store: Database, storage: Storage, principal: Principal, meta: AuditMeta, req: UploadRequest,
                max_bytes: int, origin: str | None = None) -> UploadSession:
    """Create a job in `uploading` and a resumable session bound to its source path, type and size."""
    job = prepare_job(store, principal, req, max_bytes)
    url = storage.resumable_session(job["source_path"], job["content_type"], job["size_bytes"], origin)
    store_job(store, storage, meta, job, "resumable")
    return UploadSession(job, url, job["source_uri"], now() + RESUMABLE_SESSION_TTL)


def complete_upload(store: Database, storage: Storage, runner: WorkflowRunner, meta: AuditMeta, job_id: str,
                    checksums: dict[str, str | None] | None = None, changes: dict[str, Any] | None = None) -> dict[str, Any]:
    """Check the source object, move the job to `queued` with `changes` and start its pipeline.

    Idempotent: a job that already left `uploading` (the other path won) is returned as it is;
    a cancelled one answers 409."""
    with _COMPLETING[hash(job_id) % len(_COMPLETING)]:
        return _complete(store, storage, runner, meta, job_id, checksums, changes)


# The API call and the storage event for one upload usually arrive together. Across instances the
# transaction decides (the store retries contention); inside one process they take turns, so the
# caller that loses still answers with the job as the winner left it: queued with its execution.
_COMPLETING = [threading.Lock() for _ in range(64)]


def _complete(store: Database, storage: Storage, runner: WorkflowRunner, meta: AuditMeta, job_id: str,
              checksums: dict[str, str | None] | None, changes: dict[str, Any] | None) -> dict[str, Any]:
    job = jobs.get_job(store, job_id)
    if job["status"] != "uploading":
        return _already_completed(job)
    try:
        container = verify_source(storage, job, checksums or {})
    except (Unprocessable, UnsupportedMediaType) as exc:
        # Final: the object is whole but wrong. Say why on the job for whoever looks at it later.
        jobs.change(store, meta, job_id, "upload_refused", lambda _job: {"failure_reason": jobs.describe_error(exc)})
        raise
    update = {**(changes or {}), "container": container, "failure_reason": None}
    try:
        queued = jobs.transition(store, meta, job_id, "complete_upload", changes=update)
    except Conflict:
        return _already_completed(jobs.get_job(store, job_id))
    return jobs.launch_pipeline(store, runner, meta, queued["id"])


@dataclass(frozen=True)
class CompleteRequest:
    """A client's `upload/complete`: which upload, and the job's final configuration."""

    gcs_uri: str
    source_language: str
    requested_outputs: dict[str, Any]
    job_id: str | None = None
    filename: str | None = None
    title: str | None = None
    org_id: str | None = None
    client_id: str | None = None
    project_id: str | None = None
    brief_id: str | None = None
    glossary_id: str | None = None
    md5: str | None = None
    crc32c: str | None = None
    given: frozenset[str] = frozenset()  # which optional fields the client sent (None may mean "clear")


def complete_for_client(store: Database, storage: Storage, runner: WorkflowRunner, principal: Principal, meta: AuditMeta,
                        req: CompleteRequest) -> dict[str, Any]:
    """`complete_upload` for an API caller: the job named by `job_id` or by its upload's `gcs_uri`
    (both must agree), with its outputs, source language and placement checked and applied."""
    job_id = req.job_id or job_id_of(storage, req.gcs_uri)
    job = access.require_job(store, principal, job_id, "edit")
    if req.gcs_uri != job.get("source_uri"):
        raise Unprocessable({"gcs_uri": [f"is not the upload of job {job_id}"]})
    if req.org_id and req.org_id != job["org_id"]:
        raise Unprocessable({"org_id": ["the job belongs to another organization"]})
    changes: dict[str, Any] = {"requested_outputs": parse_requested_outputs(req.requested_outputs),
                               "source_language": language(req.source_language, "source_language")}
    changes.update({k: getattr(req, k) for k in ("title", "brief_id", "glossary_id") if k in req.given})
    if "title" in changes:
        changes["title_key"] = jobs.title_key(changes["title"])
    if {"client_id", "project_id"} & req.given:
        placement = jobs.resolve_placement(store, principal, job["org_id"], req.client_id, req.project_id)
        changes.update(placement, access_keys=access.job_keys({**job, **placement}))
    _check_references(store, principal, {**job, **changes})
    _claim_client_completion(store, meta, job_id)
    try:
        return complete_upload(store, storage, runner, meta, job_id, {"md5": req.md5, "crc32c": req.crc32c}, changes)
    except AvpError:
        # Refused: the client may try again.
        jobs.change(store, meta, job_id, "upload_claim_released", lambda _job: {"client_completed_at": None})
        raise


def _claim_client_completion(store: Database, meta: AuditMeta, job_id: str) -> None:
    """A client completes an upload once (409 the second time), whether or not the storage event
    got there first: that race is the service's, not the client's."""

    def claim(job: Job) -> dict[str, Any]:
        if job.get("client_completed_at"):
            raise Conflict("this upload was already completed")
        return {"client_completed_at": now()}

    jobs.change(store, meta, job_id, "upload_claim", claim)


def _check_references(store: Database, principal: Principal, job: dict[str, Any]) -> None:
    """422 unless the job's glossary and brief are ones the caller may see and belong to the job's
    organization (and, when they are a client's, to the job's client): an id in a body grants nothing."""
    from avp.domain import briefs, glossaries  # both import this module

    for field, lookup, what in (("glossary_id", glossaries.require_glossary, "glossary"),
                                ("brief_id", briefs.require_brief, "brief")):
        if not job.get(field):
            continue
        try:
            target = lookup(store, principal, job[field])
        except NotFound:
            raise Unprocessable({field: [f"no such {what}"]}) from None
        if target.org_id != job["org_id"] or (target.client_id and target.client_id != job.get("client_id")):
            raise Unprocessable({field: [f"the {what} belongs to another organization or client than the job"]})


def job_id_of(storage: Storage, gcs_uri: str) -> str:
    """The job whose source upload `gcs_uri` is (422 for any other object)."""
    match = SOURCE_NAME.match(storage.path_of(gcs_uri))
    if not match:
        raise Unprocessable({"gcs_uri": ["not the URI of a job's source upload"]})
    return match["job_id"]


def _already_completed(job: dict[str, Any]) -> dict[str, Any]:
    if job["status"] in ("cancelled", "uploading"):
        raise Conflict(f"cannot complete the upload of a job in state {job['status']}")
    return job


def clone_job(store: Database, storage: Storage, runner: WorkflowRunner, principal: Principal, meta: AuditMeta, job_id: str,
              max_bytes: int, *, title: str | None = None, upload: UploadRequest | None = None,
              origin: str | None = None) -> tuple[dict[str, Any], UploadSession | None]:
    """A new job with the configuration of `job_id`. With `upload` (filename, type, size) it waits for
    a new source through a new session; without, it shares the original's source object and is
    queued at once."""
    original = access.require_job(store, principal, job_id, "clone")
    config = {"org_id": original["org_id"], "client_id": original.get("client_id"), "project_id": original.get("project_id"),
              "title": title or original.get("title") or "", "notes": original.get("notes") or "",
              "source_language": original.get("source_language"), "requested_outputs": original.get("requested_outputs")}
    if upload is not None:
        session = init_upload(store, storage, principal, meta, UploadRequest(
            filename=upload.filename, content_type=upload.content_type, size_bytes=upload.size_bytes, **config),
            max_bytes, origin)
        return session.job, session
    if original["status"] == "uploading" or not original.get("source_path"):
        raise Conflict("the original job has no source video yet; clone it with a new upload")
    job = prepare_job(store, principal, UploadRequest(filename=original["filename"], content_type=original["content_type"],
                                                      size_bytes=original["size_bytes"], **config), max_bytes)
    job.update(source_path=original["source_path"], cloned_from=job_id)
    store_job(store, storage, meta, job, "clone")
    return complete_upload(store, storage, runner, meta, job["id"]), None


# -- direct (multipart) upload ------------------------------------------------------
def create_direct(store: Database, storage: Storage, runner: WorkflowRunner, principal: Principal, meta: AuditMeta,
                  req: UploadRequest, stream: IO[bytes], max_bytes: int) -> dict[str, Any]:
    """One-request job creation: `stream` (seekable, e.g. the spooled multipart part) is checked
    — size, type, first bytes — before anything is stored, then copied to storage chunk by chunk."""
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(0)
    job = prepare_job(store, principal, replace(req, size_bytes=size), max_bytes)
    check_media_bytes(stream.read(SNIFF_BYTES), job["content_type"])
    stream.seek(0)
    store_job(store, storage, meta, job, "direct")
    with storage.open_write(job["source_path"], job["content_type"]) as out:
        shutil.copyfileobj(stream, out, 1024 * 1024)
    return complete_upload(store, storage, runner, meta, job["id"])


# -- storage events ---------------------------------------------------------------
def handle_finalized(store: Database, storage: Storage, runner: WorkflowRunner, max_bytes: int, bucket: str, name: str,
                     obj: dict[str, Any]) -> dict[str, Any] | None:
    """React to an object written whole (GCS `object.finalized`): a job's source completes its
    upload; an `inbox/` object becomes a job. Anything else is ignored. Returns the job touched."""
    if bucket != storage.bucket_name:
        return None
    match = SOURCE_NAME.match(name)
    meta = AuditMeta(actor_id="ingest", actor_role="system")
    if match:
        job = store.of(Job).lookup(match["job_id"])
        if job is None or job.get("source_path") != name or job["status"] != "uploading":
            return None  # a clone's shared source, a job gone, or already completed: nothing to do
        if not job.get("outputs_declared", True):
            jobs.change(store, meta, job["id"], "upload_finalized", lambda _job: {"upload_finalized_at": now()})
            return None  # its outputs come with the client's complete call
        return _complete_quietly(store, storage, runner, meta, job["id"])
    if name.startswith(INBOX_PREFIX) and not name.endswith("/"):
        return _ingest_inbox(store, storage, runner, max_bytes, name, obj)
    return None


def _complete_quietly(store: Database, storage: Storage, runner: WorkflowRunner, meta: AuditMeta,
                      job_id: str) -> dict[str, Any] | None:
    try:
        return complete_upload(store, storage, runner, meta, job_id)
    except AvpError as exc:
        # Nobody waits for an event's answer: the reason is on the job (or the upload is still open).
        logs.event(log, "upload not completed from the storage event", job_id=job_id, status=exc.status,
                   detail=jobs.describe_error(exc))
        return None


def ingest_principal(store: Database) -> Principal:
    """The account inbox jobs are created under: a `production` user made on first use."""
    user = users.find_by_email(store, INGEST_ACCOUNT_EMAIL)
    if user is None:
        try:
            user = users.create_user(store, audit.SYSTEM, email=INGEST_ACCOUNT_EMAIL, role="production",
                                     name=INGEST_ACCOUNT_NAME)
        except Conflict:  # created meanwhile by a concurrent event
            user = users.find_by_email(store, INGEST_ACCOUNT_EMAIL)
            assert user is not None
    return Principal(user.id, "production", tuple(user.org_ids), email=user.email)


def _inbox_request(name: str, obj: dict[str, Any]) -> UploadRequest:
    metadata = obj.get("metadata") or {}
    raw_outputs = metadata.get("requested-outputs")
    try:
        outputs = jsoninput.loads(raw_outputs, "requested-outputs") if raw_outputs else {}
    except BadRequest as exc:
        raise Unprocessable({"requested-outputs": [exc.detail]}) from exc
    return UploadRequest(filename=PurePosixPath(name).name, content_type=obj.get("contentType") or "",
                         size_bytes=int(obj.get("size") or 0), org_id=metadata.get("org") or None,
                         client_id=metadata.get("client") or None, project_id=metadata.get("project") or None,
                         title=metadata.get("title") or "", source_language=metadata.get("source-language") or None,
                         requested_outputs=outputs)


def _ingest_inbox(store: Database, storage: Storage, runner: WorkflowRunner, max_bytes: int, name: str,
                  obj: dict[str, Any]) -> dict[str, Any] | None:
    principal = ingest_principal(store)
    meta = AuditMeta(actor_id=principal.user_id, actor_role="production")
    try:
        if not (obj.get("metadata") or {}).get("org"):
            raise Unprocessable({"org": ["an inbox object needs x-goog-meta-org"]})
        job = prepare_job(store, principal, _inbox_request(name, obj), max_bytes, trusted=True)
    except AvpError as exc:
        logs.event(log, "inbox object refused", object=name, status=exc.status, detail=jobs.describe_error(exc))
        return None
    store_job(store, storage, meta, job, "inbox")
    storage.copy(name, job["source_path"])
    storage.delete(name)
    return _complete_quietly(store, storage, runner, meta, job["id"])


# -- auxiliary files ----------------------------------------------------------------
@dataclass(frozen=True)
class FilePurpose:
    """What may be uploaded for one purpose, and where it goes."""

    media_types: frozenset[str]
    max_bytes: int
    folder: Callable[[str | None], str]


SPREADSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
FILE_PURPOSES: dict[str, FilePurpose] = {
    "glossary": FilePurpose(frozenset({SPREADSHEET, "text/csv"}), 20 * 1024**2, lambda _job: "files/glossaries"),
    "final_vtt": FilePurpose(frozenset({"text/vtt"}), 10 * 1024**2, lambda job: f"jobs/{job}/uploads/final-vtt"),
    "brief_attachment": FilePurpose(frozenset({"application/pdf", DOCX, "text/plain", "text/markdown", "image/png",
                                               "image/jpeg"}), 50 * 1024**2, lambda _job: "files/briefs"),
    "reference": FilePurpose(frozenset({"application/pdf", DOCX, "text/plain", "image/png", "image/jpeg", "text/vtt",
                                        *MEDIA_TYPES}), 0, lambda _job: "files/reference"),
}
SIGNED_UPLOAD_TTL = 15 * 60


@dataclass(frozen=True)
class SignedFileUpload:
    upload_url: str
    gcs_uri: str
    content_type: str
    expires_at: dt.datetime

    def to_dict(self) -> dict[str, Any]:
        return {"upload_url": self.upload_url, "gcs_uri": self.gcs_uri, "expires_at": self.expires_at,
                "method": "PUT", "headers": {"Content-Type": self.content_type}}


def signed_file_upload(store: Database, storage: Storage, principal: Principal, *, purpose: str, filename: str,
                       content_type: str, size_bytes: int, max_bytes: int, job_id: str | None = None) -> SignedFileUpload:
    """A signed PUT URL for an auxiliary file: the type must suit `purpose` (415), the size its
    limit (413; `reference` files share the video limit). A final VTT needs a job the caller may
    upload one for."""
    rule = FILE_PURPOSES[purpose]
    media_type = content_type.split(";")[0].strip().lower()
    if media_type not in rule.media_types:
        raise UnsupportedMediaType(f"{media_type or 'no content type'} is not accepted for {purpose}; "
                                   f"accepted: {', '.join(sorted(rule.media_types))}")
    name = safe_filename(filename)
    limit = rule.max_bytes or max_bytes
    if size_bytes <= 0:
        raise Unprocessable({"size_bytes": ["the file is empty"]})
    if size_bytes > limit:
        raise PayloadTooLarge(f"the file has {size_bytes} bytes; the limit for {purpose} is {limit} bytes")
    if purpose == "final_vtt":
        if not job_id:
            raise Unprocessable({"job_id": ["required for a final VTT"]})
        access.require_job(store, principal, job_id, "upload_final_vtt")
    elif job_id:
        access.require_job(store, principal, job_id)
    path = f"{rule.folder(job_id)}/{new_id()}/{name}"
    store.of(Upload).add(Upload(kind=purpose, job_id=job_id, path=path, content_type=media_type, size_bytes=size_bytes,
                                created_by=principal.user_id, created_at=now()))
    url = storage.signed_url(path, method="PUT", expires=SIGNED_UPLOAD_TTL, content_type=media_type)
    return SignedFileUpload(url, storage.uri(path), media_type, now() + dt.timedelta(seconds=SIGNED_UPLOAD_TTL))
