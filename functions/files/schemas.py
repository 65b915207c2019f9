from marshmallow import Schema, fields, validate

from avp.domain.uploads import FILE_PURPOSES
from avp.schemas import ID


class SignedUploadRequest(Schema):
    filename = fields.String(required=True, validate=validate.Length(min=1, max=255))
    content_type = fields.String(required=True, validate=validate.Length(max=255))
    size_bytes = fields.Integer(required=True, strict=True)
    purpose = fields.String(required=True, validate=validate.OneOf(sorted(FILE_PURPOSES)))
    job_id = fields.String(load_default=None, validate=ID)
