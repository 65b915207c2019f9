from flask import Blueprint

from avp.bootstrap import container
from avp.domain import review_notes
from avp.errors import Unprocessable
from avp.web import audit_meta, authenticated, current_user, json_body, no_content, ok, query_args, sibling

schemas = sibling(__file__, "schemas")
bp = Blueprint("review_notes", __name__, url_prefix="/api/v1/jobs")


@bp.get("/<job_id>/review-notes")
@authenticated()
def list_notes(job_id: str):
    q = query_args(schemas.NoteQuery())
    return ok(review_notes.list_notes(container().store, current_user(), job_id, page=q["page"], size=q["size"],
                                      cursor=q["cursor"], language=q["language"], asset=q["asset"],
                                      state=q["status"]).to_dict())


@bp.post("/<job_id>/review-notes")
@authenticated()
def create_note(job_id: str):
    body = json_body(schemas.NoteCreate())
    return ok(review_notes.create(container().store, audit_meta(), current_user(), job_id, **body), 201)


@bp.get("/<job_id>/review-notes/<note_id>")
@authenticated()
def get_note(job_id: str, note_id: str):
    return ok(review_notes.get(container().store, current_user(), job_id, note_id))


@bp.patch("/<job_id>/review-notes/<note_id>")
@authenticated()
def update_note(job_id: str, note_id: str):
    body = json_body(schemas.NoteUpdate())
    if not body:
        raise Unprocessable({"_schema": ["give at least one of timestamp, text, status"]})
    return ok(review_notes.update(container().store, audit_meta(), current_user(), job_id, note_id, body))


@bp.delete("/<job_id>/review-notes/<note_id>")
@authenticated()
def delete_note(job_id: str, note_id: str):
    review_notes.delete(container().store, audit_meta(), current_user(), job_id, note_id)
    return no_content()
