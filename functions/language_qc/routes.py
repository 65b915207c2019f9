from flask import Blueprint

from avp.bootstrap import container
from avp.domain import language_qc, tracks
from avp.web import audit_meta, authenticated, current_user, json_body, ok, query_args, sibling

schemas = sibling(__file__, "schemas")
bp = Blueprint("language_qc", __name__, url_prefix="/api/v1/language-qc")
LANGUAGE = "/jobs/<job_id>/languages/<lang>"


@bp.get("/jobs/<job_id>/language-qc")
@authenticated()
def qc_map(job_id: str):
    return ok(language_qc.qc_map(container().store, current_user(), job_id))


def _assign_view(role: str, replacing: bool):
    def view(job_id: str, lang: str):
        body = json_body(schemas.Assignment())
        return ok(language_qc.assign(container().store, audit_meta(), current_user(), job_id, lang, body["user_id"],
                                     role=role, replacing=replacing, note=body["note"]))

    view.__name__ = ("reassign" if replacing else "assign") + ("_reviewer" if role == "reviewer" else "")
    return authenticated()(view)


def _move_view(action: str):
    def view(job_id: str, lang: str):
        body = json_body(schemas.ReasonRequest() if action == "reject" else schemas.ActionNote())
        return ok(language_qc.move(container().store, audit_meta(), current_user(), job_id, lang, action,
                                   reason=body.get("reason"), note=body.get("note")))

    view.__name__ = action
    return authenticated()(view)


# The assignment routes and the state-machine steps differ only in their names.
for _segment, _role, _replacing in (("assign", "linguist", False), ("reassign", "linguist", True),
                                    ("assign-reviewer", "reviewer", False), ("reassign-reviewer", "reviewer", True)):
    bp.add_url_rule(f"{LANGUAGE}/{_segment}", view_func=_assign_view(_role, _replacing), methods=["POST"])
for _action in language_qc.MOVES:
    bp.add_url_rule(f"{LANGUAGE}/{_action.replace('_', '-')}", view_func=_move_view(_action), methods=["POST"])


@bp.post("/jobs/<job_id>/languages/bulk-assign")
@authenticated()
def bulk_assign(job_id: str):
    body = json_body(schemas.BulkAssign())
    return ok(language_qc.bulk_assign(container().store, audit_meta(), current_user(), job_id, body["languages"],
                                      linguist_id=body["linguist_id"], reviewer_id=body["reviewer_id"]))


@bp.post(f"{LANGUAGE}/mark-cue-reviewed")
@authenticated()
def mark_cue_reviewed(job_id: str, lang: str):
    body = json_body(schemas.MarkCueReviewed())
    store = container().store
    return ok(language_qc.mark_cue_reviewed(
        store, audit_meta(), current_user(), job_id, lang, body["cue_index"], reviewed=body["reviewed"],
        version=body["version"], current_version=lambda: tracks.latest_version(store, job_id, lang, "captions")))


@bp.get(f"{LANGUAGE}/comments")
@authenticated()
def list_comments(job_id: str, lang: str):
    q = query_args(schemas.CommentQuery())
    return ok(language_qc.list_comments(container().store, current_user(), job_id, lang, page=q["page"], size=q["size"],
                                        cursor=q["cursor"], cue_index=q["cue_index"]).to_dict())


@bp.post(f"{LANGUAGE}/comments")
@authenticated()
def add_comment(job_id: str, lang: str):
    body = json_body(schemas.CommentCreate())
    return ok(language_qc.add_comment(container().store, current_user(), job_id, lang, body["text"], body["cue_index"]), 201)


@bp.get("/me/language-qc-queue")
@authenticated()
def my_queue():
    q = query_args(schemas.QueueQuery())
    return ok(language_qc.queue(container().store, current_user(), page=q["page"], size=q["size"], cursor=q["cursor"],
                                states=schemas.queue_states(q)).to_dict())
