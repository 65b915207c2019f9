"""VTT editing and versions, downloads, and the accessible video's pause points."""
from flask import Blueprint, Response, request

from avp.bootstrap import container
from avp.captions.formats import MEDIA_TYPES, export
from avp.captions.vtt import parse_vtt
from avp.domain import deliverables, tracks
from avp.errors import NotFound
from avp.web import audit_meta, authenticated, current_user, json_body, ok, query_args, sibling

schemas = sibling(__file__, "schemas_vtt")
bp = Blueprint("jobs_vtt", __name__, url_prefix="/api/v1/jobs")


def _number(value: str, what: str) -> int:
    # Path numbers are parsed here, not by a Flask converter, so `/versions/diff` stays a literal route.
    if not value.isdigit():
        raise NotFound(f"no such {what}")
    return int(value)


def _document(job_id: str, q: dict, version: int | None) -> Response:
    c = container()
    tracks.require_read(c.store, current_user(), job_id, q["lang"])
    meta, content = tracks.get_version(c.store, c.storage, job_id, q["lang"], q["kind"], version)
    accept = request.accept_mimetypes
    if accept["text/vtt"] > accept["application/json"]:
        resp = Response(content, mimetype="text/vtt")
        resp.headers["Content-Type"] = "text/vtt; charset=utf-8"
    else:
        resp = ok(tracks.document_view(job_id, meta, content))
    resp.headers["ETag"] = f'"{meta["version"]}"'
    return resp


@bp.get("/<job_id>/vtt")
@authenticated()
def get_vtt(job_id: str):
    q = query_args(schemas.VttQuery())
    if q["format"] in ("srt", "ttml"):
        return _exported(job_id, q)
    return _document(job_id, q, q["version"])


def _exported(job_id: str, q: dict) -> Response:
    """The track in another caption format (SRT, or TTML in the IMSC1 text profile), same cues."""
    c = container()
    tracks.require_read(c.store, current_user(), job_id, q["lang"])
    meta, content = tracks.get_version(c.store, c.storage, job_id, q["lang"], q["kind"], q["version"])
    body = export(parse_vtt(content, strict=False).cues, q["format"], q["lang"])
    resp = Response(body, mimetype=MEDIA_TYPES[q["format"]])
    resp.headers["Content-Disposition"] = f'attachment; filename="{job_id}.{q["lang"]}.{q["kind"]}.{q["format"]}"'
    resp.headers["ETag"] = f'"{meta["version"]}"'
    return resp


@bp.patch("/<job_id>/vtt")
@authenticated()
def save_vtt(job_id: str):
    body = json_body(schemas.VttSave())
    c = container()
    tracks.require_edit(c.store, current_user(), job_id, body["lang"])
    version = tracks.save_version(c.store, c.storage, audit_meta(), job_id, body["lang"], body["kind"], body["content"],
                                  source="edit", base_version=body["base_version"], comment=body["comment"])
    return ok(tracks.document_view(job_id, version, body["content"]))


@bp.post("/<job_id>/vtt/adjust-timing")
@authenticated()
def adjust_timing(job_id: str):
    body = json_body(schemas.AdjustTiming())
    c = container()
    tracks.require_edit(c.store, current_user(), job_id, body["lang"])
    return ok(tracks.adjust_timing(c.store, c.storage, audit_meta(), job_id, body["lang"], body["kind"],
                                   offset_ms=body["offset_ms"], from_cue=body["from_cue"], to_cue=body["to_cue"],
                                   base_version=body["base_version"]))


@bp.get("/<job_id>/vtt/versions")
@authenticated()
def list_versions(job_id: str):
    q = query_args(schemas.VersionListQuery())
    store = container().store
    tracks.require_read(store, current_user(), job_id, q["lang"])
    return ok(tracks.list_versions(store, job_id, q["lang"], q["kind"], page=q["page"], size=q["size"],
                                   cursor=q["cursor"]).to_dict())


@bp.get("/<job_id>/vtt/versions/<version>")
@authenticated()
def get_version(job_id: str, version: str):
    q = query_args(schemas.Track())
    return _document(job_id, q, _number(version, "version"))


@bp.get("/<job_id>/vtt/versions/diff")
@authenticated()
def diff_versions(job_id: str):
    q = query_args(schemas.DiffQuery())
    c = container()
    tracks.require_read(c.store, current_user(), job_id, q["lang"])
    return ok(tracks.diff_versions(c.store, c.storage, job_id, q["lang"], q["kind"], q["a"], q["b"]))


@bp.post("/<job_id>/vtt/versions/restore")
@authenticated()
def restore_version(job_id: str):
    body = json_body(schemas.VttRestore())
    c = container()
    tracks.require_edit(c.store, current_user(), job_id, body["lang"])
    return ok(tracks.restore(c.store, c.storage, audit_meta(), job_id, body["lang"], body["kind"], body["version"]), 201)


@bp.get("/<job_id>/downloads")
@authenticated()
def downloads(job_id: str):
    q = query_args(schemas.DownloadsQuery())
    c = container()
    return ok(deliverables.downloads(c.store, c.storage, current_user(), job_id, q["lang"]))


@bp.get("/<job_id>/accessible-video/<language>/edit-state")
@authenticated()
def edit_state(job_id: str, language: str):
    c = container()
    return ok(deliverables.edit_state(c.store, c.storage, c.workflows, current_user(), job_id, language))


@bp.patch("/<job_id>/accessible-video/<language>/pause-points/<cue_index>")
@authenticated()
def move_pause_point(job_id: str, language: str, cue_index: str):
    body = json_body(schemas.PausePointUpdate())
    c = container()
    return ok(deliverables.move_pause_point(c.store, c.storage, c.workflows, audit_meta(), current_user(), job_id,
                                            language, _number(cue_index, "pause point"), body["at"]))
