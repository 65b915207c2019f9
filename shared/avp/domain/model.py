"""The typed model of what avp stores, and each aggregate's one mapping to its stored document.

A job's deliverables are `Asset`s grouped per language in `LanguageOutputs`; the `Job` aggregate
holds them with the job's state. The document shape (`to_doc` / `from_doc`) is defined here and
nowhere else: the Firestore repositories (`avp.store.jobs`), the in-memory ones, the API views and
the pipeline all go through it, so writer and reader cannot drift apart again.

The kind names are the API's `AssetKind` (openapi.yaml) everywhere: in the document, the views,
the ZIP and the downloads.
"""
from __future__ import annotations

import copy
import datetime as dt
import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from avp.domain.records import Record

ASSET_KINDS = ("captions_vtt", "description_vtt", "description_mp3", "accessible_mp4", "qc_report")
ASSET_STATES = ("pending", "ready", "failed", "stale")
# Names documents written before the typed model used for the same assets (path strings).
LEGACY_KINDS = {"audio_description_vtt": "description_vtt", "audio_description_mp3": "description_mp3",
                "accessible_video_mp4": "accessible_mp4"}
# What a job's `requested_outputs` flag asks for, per asset kind (captions and their QC report always).
REQUEST_FLAGS = {"description_vtt": "audio_description_vtt", "description_mp3": "audio_description_mp3",
                 "accessible_mp4": "accessible_video_mp4"}


def checksum(data: bytes) -> str:
    """The checksum recorded for a stored object."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def file_checksum(path: Path) -> str:
    """`checksum` of a file's bytes, read a piece at a time."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for piece in iter(lambda: f.read(1 << 20), b""):
            digest.update(piece)
    return "sha256:" + digest.hexdigest()


@dataclass(frozen=True)
class Asset:
    """One deliverable object of one language: where it is and whether it can be used."""

    path: str | None = None  # the object's path in the media bucket
    state: str = "pending"
    size: int | None = None
    checksum: str | None = None
    updated_at: dt.datetime | None = None
    version: int | None = None  # the VTT version it was built from, for tracks
    uri: str | None = None  # gs:// URI of `path`, as the API shows it

    def __post_init__(self) -> None:
        if self.state not in ASSET_STATES:
            raise ValueError(f"unknown asset state {self.state!r}")

    @property
    def ready(self) -> bool:
        """Whether the object exists whole and is current."""
        return self.state == "ready" and bool(self.path)

    def to_doc(self) -> dict[str, Any]:
        """The stored form."""
        return {"path": self.path, "state": self.state, "size": self.size, "checksum": self.checksum,
                "updated_at": self.updated_at, "version": self.version, "uri": self.uri}

    @classmethod
    def from_doc(cls, doc: Any) -> Asset:
        """From the stored form (a path string is what documents written before the model held)."""
        if isinstance(doc, str):
            return cls(path=doc, state="ready")
        if not isinstance(doc, Mapping):
            return cls()
        state = doc.get("state") or doc.get("status") or ("ready" if doc.get("path") else "pending")
        return cls(path=doc.get("path"), state=state if state in ASSET_STATES else "pending", size=doc.get("size"),
                   checksum=doc.get("checksum"), updated_at=doc.get("updated_at"), version=doc.get("version"),
                   uri=doc.get("uri") or doc.get("gcs_uri"))


@dataclass
class LanguageOutputs:
    """Everything the pipeline made for one language. Each language has its own: parallel language
    runs write disjoint parts of the job document and never overwrite each other."""

    language: str
    assets: dict[str, Asset] = field(default_factory=dict)
    pause_points: str | None = None  # storage path of the accessible video's pause points
    fit_report: dict[str, Any] | None = None
    render_stats: dict[str, Any] | None = None
    is_source: bool = False

    def asset(self, kind: str) -> Asset:
        """The asset of `kind` (pending when the pipeline has not made it)."""
        if kind not in ASSET_KINDS:
            raise ValueError(f"unknown asset kind {kind!r}")
        return self.assets.get(kind) or Asset()

    def to_doc(self) -> dict[str, Any]:
        """The stored form: one map per asset kind, beside the language's reports."""
        doc: dict[str, Any] = {kind: asset.to_doc() for kind, asset in self.assets.items()}
        doc.update(pause_points=self.pause_points, fit_report=self.fit_report, render_stats=self.render_stats,
                   is_source=self.is_source)
        return doc

    @classmethod
    def from_doc(cls, language: str, doc: Mapping[str, Any] | None) -> LanguageOutputs:
        """From the stored form, including documents written before the model."""
        doc = doc or {}
        assets = {}
        for key, value in doc.items():
            kind = LEGACY_KINDS.get(key, key)
            if kind in ASSET_KINDS and value:
                assets[kind] = Asset.from_doc(value)
        return cls(language, assets, pause_points=doc.get("pause_points"), fit_report=doc.get("fit_report"),
                   render_stats=doc.get("render_stats"), is_source=bool(doc.get("is_source")))


def outputs_from_doc(doc: Mapping[str, Any] | None) -> dict[str, LanguageOutputs]:
    """A job document's `outputs` map as typed per-language outputs."""
    return {lang: LanguageOutputs.from_doc(lang, value) for lang, value in (doc or {}).items()}


def requested_kinds(requested: Mapping[str, Any]) -> list[str]:
    """The asset kinds a job's `requested_outputs` make: captions and their QC report always; the
    description script whenever any description is asked for (the MP3 and MP4 voice it)."""
    kinds = ["captions_vtt", "qc_report"]
    if any(requested.get(flag) for flag in REQUEST_FLAGS.values()):
        kinds.append("description_vtt")
    kinds += [kind for kind in ("description_mp3", "accessible_mp4") if requested.get(REQUEST_FLAGS[kind])]
    return kinds


# -- the job aggregate ------------------------------------------------------------------
@dataclass
class Job(Record, Mapping[str, Any]):
    """A job: what was uploaded and asked for, where it is in its life (status, stage, progress,
    failure), and what the pipeline made (typed outputs per language).

    Fields not yet typed are kept in `extra` and written back unchanged. It reads like the stored
    document (`job["title"]`, `job.get("media")`) for the domain code that still takes documents;
    `outputs` is the typed map. Queries read jobs as records (`store.of(Job).page(...)`); they change
    only through a unit of work's `uow.jobs`, which writes the status mirror and the language queue
    with them."""

    COLLECTION = "jobs"
    NOUN = "job"
    READ_ONLY = "a job changes only through a unit of work's `uow.jobs` (with its status mirror)"

    id: str
    status: str = "uploading"
    org_id: str | None = None
    client_id: str | None = None
    project_id: str | None = None
    created_by: str | None = None
    title: str = ""
    source_language: str | None = None
    requested_outputs: dict[str, Any] = field(default_factory=dict)
    stage: str | None = None
    progress: float = 0.0
    step_progress: float | None = None
    failed_step: str | None = None
    failed_language: str | None = None
    failure_reason: str | None = None
    steps_done: list[str] = field(default_factory=list)
    outputs: dict[str, LanguageOutputs] = field(default_factory=dict)
    languages: dict[str, dict[str, Any]] = field(default_factory=dict)
    access_keys: list[str] = field(default_factory=list)
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    # -- reading like a document --------------------------------------------------------
    def _typed(self) -> tuple[str, ...]:
        return tuple(f.name for f in fields(self) if f.name != "extra")

    def __getitem__(self, key: str) -> Any:
        if key in self._typed():
            return getattr(self, key)
        return self.extra[key]

    def __iter__(self) -> Iterator[str]:
        yield from self._typed()
        yield from self.extra

    def __len__(self) -> int:
        return len(self._typed()) + len(self.extra)

    # -- outputs -------------------------------------------------------------------------
    def language_outputs(self, lang: str) -> LanguageOutputs:
        """The outputs of `lang`, created empty on first use."""
        if lang not in self.outputs:
            self.outputs[lang] = LanguageOutputs(lang, is_source=lang == self.source_language)
        return self.outputs[lang]

    def record_asset(self, lang: str, kind: str, asset: Asset) -> None:
        """Record what a step made (or marked stale) for one language."""
        if kind not in ASSET_KINDS:
            raise ValueError(f"unknown asset kind {kind!r}")
        self.language_outputs(lang).assets[kind] = asset

    def mark_stale(self, lang: str, kind: str) -> None:
        """An input of a made asset changed: it stays downloadable but must be made again."""
        out = self.outputs.get(lang)
        if out and kind in out.assets and out.assets[kind].state == "ready":
            out.assets[kind] = replace(out.assets[kind], state="stale")

    # -- the stored form -----------------------------------------------------------------
    def to_doc(self) -> dict[str, Any]:
        """The stored document (without its id)."""
        doc = {name: getattr(self, name) for name in self._typed() if name not in ("id", "outputs")}
        doc["outputs"] = {lang: out.to_doc() for lang, out in self.outputs.items()}
        return {**self.extra, **doc}

    @classmethod
    def from_doc(cls, job_id: str, doc: Mapping[str, Any]) -> Job:
        """From the stored document (copied: changing the aggregate never changes `doc`)."""
        doc = copy.deepcopy(dict(doc))
        names = {f.name for f in fields(cls)} - {"id", "outputs", "extra"}
        known = {k: doc[k] for k in names if k in doc and doc[k] is not None}
        extra = {k: v for k, v in doc.items() if k not in names and k not in ("id", "outputs")}
        return cls(id=job_id, outputs=outputs_from_doc(doc.get("outputs")), extra=extra, **known)


def job_outputs(job: Mapping[str, Any]) -> dict[str, LanguageOutputs]:
    """The typed outputs of a job, whether the aggregate or a document read elsewhere."""
    if isinstance(job, Job):
        return job.outputs
    return outputs_from_doc(job.get("outputs"))


def language_outputs(job: Mapping[str, Any], lang: str) -> LanguageOutputs:
    """One language's typed outputs (empty when the pipeline has made nothing for it)."""
    return job_outputs(job).get(lang) or LanguageOutputs(lang)


# -- tracks -----------------------------------------------------------------------------
@dataclass
class Track:
    """The versioned VTT track of one (language, kind) of a job: `latest` is the current version,
    `reserved` the highest number handed out (a save reserves its number before writing content)."""

    job_id: str
    language: str
    kind: str
    latest: int = 0
    reserved: int = 0
    updated_at: dt.datetime | None = None
    updated_by: str | None = None

    def reserve(self) -> int:
        """The next version number, reserved."""
        self.reserved = max(self.reserved, self.latest) + 1
        return self.reserved

    def to_doc(self) -> dict[str, Any]:
        """The stored form."""
        return {"language": self.language, "kind": self.kind, "latest": self.latest, "reserved": self.reserved,
                "updated_at": self.updated_at, "updated_by": self.updated_by}

    @classmethod
    def from_doc(cls, job_id: str, language: str, kind: str, doc: Mapping[str, Any] | None) -> Track:
        """From the stored form (a track with no versions when there is none)."""
        doc = doc or {}
        return cls(job_id, language, kind, latest=doc.get("latest", 0), reserved=doc.get("reserved", 0),
                   updated_at=doc.get("updated_at"), updated_by=doc.get("updated_by"))


@dataclass(kw_only=True)
class TrackVersion(Record):
    """One saved version of a track, never changed once written: a record named by its number in
    the track's `versions` (`track_id` is `<language>_<kind>`)."""

    COLLECTION = "jobs/{job_id}/tracks/{track_id}/versions"
    NOUN = "track version"

    n: int
    language: str
    kind: str
    source: str
    author_id: str | None
    created_at: dt.datetime
    cue_count: int
    size: int
    path: str
    checksum: str | None = None
    qc: dict[str, Any] | None = None
    qc_report_path: str | None = None
    qc_report_size: int | None = None
    qc_report_checksum: str | None = None
    to_write: int | None = None  # description placeholders a describer must still write
    comment: str | None = None
    restored_from: int | None = None

    def __post_init__(self) -> None:
        self.id = self.id or str(self.n)
