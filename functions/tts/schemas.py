from marshmallow import Schema, fields, validate

from avp.schemas import language_tag
from avp.web import sibling

preview = sibling(__file__, "preview")


class VoiceQuery(Schema):
    provider = fields.String(load_default=None, validate=validate.Length(min=1, max=40))
    language = language_tag(load_default=None)


class PreviewRequest(Schema):
    provider = fields.String(load_default=None, validate=validate.Length(min=1, max=40))
    model = fields.String(load_default=None, validate=validate.Length(min=1, max=100))
    voice = fields.String(required=True, validate=validate.Length(min=1, max=100))
    language = language_tag(required=True)
    text = fields.String(required=True, validate=validate.Length(min=1, max=preview.MAX_TEXT_CHARS))
    format = fields.String(load_default=None, validate=validate.OneOf(("mp3", "wav")))
    rate = fields.Float(load_default=1.0, validate=validate.Range(min=0.5, max=2.0))
