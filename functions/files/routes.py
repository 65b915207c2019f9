from flask import Blueprint

from avp.bootstrap import container
from avp.domain import uploads
from avp.web import authenticated, current_user, json_body, ok, sibling

schemas = sibling(__file__, "schemas")
bp = Blueprint("files", __name__, url_prefix="/api/v1/files")


@bp.post("/signed-upload")
@authenticated()
def signed_upload():
    body = json_body(schemas.SignedUploadRequest())
    c = container()
    signed = uploads.signed_file_upload(c.store, c.storage, current_user(), max_bytes=c.settings.max_upload_bytes, **body)
    return ok(signed.to_dict(), 201)
