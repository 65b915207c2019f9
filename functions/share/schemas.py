from marshmallow import Schema, fields, validate

from avp.domain.deliverables import ASSET_KINDS
from avp.domain.share import DEFAULT_HOURS, MAX_HOURS
from avp.schemas import language_tag


class ShareCreate(Schema):
    label = fields.String(load_default=None, validate=validate.Length(max=200))
    expires_in_hours = fields.Integer(load_default=DEFAULT_HOURS, validate=validate.Range(min=1, max=MAX_HOURS))
    languages = fields.List(language_tag(),
                            load_default=list, validate=validate.Length(max=100))
    assets = fields.List(fields.String(validate=validate.OneOf(ASSET_KINDS)), load_default=list)
