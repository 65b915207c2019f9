from flask import Blueprint

from avp.bootstrap import container
from avp.domain import share
from avp.web import audit_meta, authenticated, client_ip, current_user, json_body, no_content, ok, public, sibling

schemas = sibling(__file__, "schemas")
bp = Blueprint("share", __name__, url_prefix="/api/v1/share")


@bp.post("/jobs/<job_id>/share")
@authenticated()
def create_token(job_id: str):
    body = json_body(schemas.ShareCreate())
    return ok(share.create(container().store, audit_meta(), current_user(), job_id, **body), 201)


@bp.get("/jobs/<job_id>/share")
@authenticated()
def list_tokens(job_id: str):
    return ok({"items": share.list_active(container().store, current_user(), job_id)})


@bp.delete("/jobs/<job_id>/share/<token_id>")
@authenticated()
def revoke_token(job_id: str, token_id: str):
    share.revoke(container().store, audit_meta(), current_user(), job_id, token_id)
    return no_content()


@bp.get("/public/share/<token>")
@public
def public_share(token: str):
    c = container()
    return ok(share.open_public(c.store, c.storage, token, client_ip()))
