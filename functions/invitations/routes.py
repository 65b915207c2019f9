from flask import Blueprint

from avp.bootstrap import container
from avp.domain import invitations
from avp.web import audit_meta, json_body, ok, optional_user, public, session_response, sibling

schemas = sibling(__file__, "schemas")
bp = Blueprint("invitations", __name__, url_prefix="/api/v1/invitations")


# The token travels in the body, never in the URL, so it stays out of access logs.
@bp.post("/preview")
@public
def preview():
    body = json_body(schemas.InvitationToken())
    return ok(invitations.preview(container().store, body["token"]))


@bp.post("/accept")
@public
def accept():
    body = json_body(schemas.InvitationAccept())
    c = container()
    signed_in = optional_user()  # an existing account accepts only while signed in to it
    return session_response(invitations.accept(c.store, c.settings, c.jwt_key, body["token"], meta=audit_meta(),
                                               signed_in=signed_in, password=body["password"],
                                               display_name=body["display_name"]))
