from flask import Blueprint

from avp.bootstrap import container
from avp.domain import briefs
from avp.web import audit_meta, authenticated, current_user, json_body, ok, query_args, sibling

schemas = sibling(__file__, "schemas")
bp = Blueprint("briefs", __name__, url_prefix="/api/v1/briefs")


@bp.get("")
@authenticated()
def list_briefs():
    q = query_args(schemas.BriefListQuery())
    return ok(briefs.list_briefs(container().store, current_user(), page=q["page"], size=q["size"], sort=q["sort"],
                                 org_id=q["org_id"], client_id=q["client_id"], status=q["status"],
                                 cursor=q["cursor"]).to_dict())


@bp.post("")
@authenticated()
def create_brief():
    body = json_body(schemas.BriefCreate())
    c = container()
    return ok(briefs.create_brief(c.store, c.storage, current_user(), audit_meta(), body), 201)


@bp.get("/<brief_id>")
@authenticated()
def get_brief(brief_id: str):
    return ok(briefs.get_brief(container().store, current_user(), brief_id))


@bp.patch("/<brief_id>")
@authenticated()
def update_brief(brief_id: str):
    body = json_body(schemas.BriefUpdate())
    c = container()
    return ok(briefs.update_brief(c.store, c.storage, current_user(), audit_meta(), brief_id, body))


@bp.post("/<brief_id>/submit")
@authenticated()
def submit_brief(brief_id: str):
    body = json_body(schemas.ActionNote())
    return ok(briefs.submit_brief(container().store, current_user(), audit_meta(), brief_id, body["note"]))


@bp.post("/<brief_id>/approve")
@authenticated("project_manager", "admin")
def approve_brief(brief_id: str):
    body = json_body(schemas.ActionNote())
    return ok(briefs.approve_brief(container().store, current_user(), audit_meta(), brief_id, body["note"]))
