import datetime as dt

from flask import Blueprint

from avp.bootstrap import container
from avp.domain import jobs
from avp.web import authenticated, current_user, ok, query_args, sibling

tokens = sibling(__file__, "tokens")
schemas = sibling(__file__, "schemas")
bp = Blueprint("status", __name__, url_prefix="/api/v1/ws")


@bp.get("/status")
@authenticated()
def status_channel():
    c = container()
    s = c.settings
    grant = jobs.listen_grant(c.store, current_user(), query_args(schemas.StatusQuery())["job_id"] or None)
    emulated = bool(s.firestore_host)
    mint = tokens.emulator_token if emulated else tokens.custom_token
    expires = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=tokens.TOKEN_TTL)
    return ok({"mode": "emulator" if emulated else "cloud", "custom_token": mint(s.project_id, grant.uid, grant.claims),
               "project_id": s.project_id, "collection": jobs.STATUS_COLLECTION, "documents": grant.documents,
               "expires_at": expires, "emulator_host": s.firestore_host if emulated else None,
               "keys": grant.claims.get("keys")})
