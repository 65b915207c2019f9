from flask import Blueprint, request

from avp.bootstrap import container
from avp.domain import production, stats
from avp.errors import PayloadTooLarge, Unprocessable, UnsupportedMediaType
from avp.web import audit_meta, authenticated, current_user, json_body, limit_body, ok, query_args, sibling

schemas = sibling(__file__, "schemas")
bp = Blueprint("production", __name__, url_prefix="/api/v1/production")
production_only = authenticated("production", "admin")
VTT_TYPES = {"text/vtt", "text/plain", "application/octet-stream"}


@bp.get("/failures")
@production_only
def failures():
    q = query_args(schemas.FailureQuery())
    return ok(production.list_failures(container().store, current_user(), page=q["page"], size=q["size"],
                                       org_id=q["org_id"], step=q["step"], since=q["since"], cursor=q["cursor"]).to_dict())


@bp.post("/bulk-retry")
@production_only
def bulk_retry():
    body = json_body(schemas.BulkJobIds())
    c = container()
    return ok(production.bulk_retry(c.store, c.workflows, current_user(), audit_meta(), body["job_ids"],
                                    body["note"] or body["reason"]))


@bp.get("/queue-stats")
@production_only
def queue_stats():
    c = container()
    return ok(stats.queue_stats(c.store, c.workflows))


def _final_vtt() -> dict:
    """The upload as {lang, kind, content, comment}: a multipart form with a .vtt `file`, or JSON."""
    if request.content_length and request.content_length > schemas.MAX_VTT_BYTES + 64 * 1024:
        raise PayloadTooLarge(f"a VTT file may have at most {schemas.MAX_VTT_BYTES} bytes")
    limit_body(schemas.MAX_VTT_BYTES + 64 * 1024)  # chunked bodies declare no length
    if request.mimetype == "application/json":
        return json_body(schemas.FinalVtt())
    if request.mimetype != "multipart/form-data":
        raise UnsupportedMediaType("send multipart/form-data with a `file` part, or JSON with `content`")
    fields = schemas.FinalVttForm().load(request.form.to_dict())
    upload = request.files.get("file")
    if upload is None:
        raise Unprocessable({"file": ["a .vtt file is required"]})
    if upload.mimetype not in VTT_TYPES or not (upload.filename or "").lower().endswith(".vtt"):
        raise UnsupportedMediaType(f"expected a .vtt file (text/vtt), got {upload.mimetype} {upload.filename!r}")
    try:
        # Plain UTF-8: the WebVTT parser removes the one byte order mark the UTF-8 decoder
        # would, so a file starting with two of them is refused as a browser refuses it.
        fields["content"] = upload.read(schemas.MAX_VTT_BYTES + 1).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Unprocessable({"file": [f"a WebVTT file is UTF-8 text (byte {exc.start} is not)"]}) from exc
    if len(fields["content"]) > schemas.MAX_VTT_BYTES:
        raise PayloadTooLarge(f"a VTT file may have at most {schemas.MAX_VTT_BYTES} bytes")
    return fields


@bp.post("/jobs/<job_id>/upload-final-vtt")
@production_only
def upload_final_vtt(job_id: str):
    body = _final_vtt()
    c = container()
    return ok(production.upload_final_vtt(c.store, c.storage, current_user(), audit_meta(), job_id, lang=body["lang"],
                                          kind=body["kind"], content=body["content"], comment=body["comment"]), 201)
