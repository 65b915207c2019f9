from marshmallow import Schema, ValidationError, fields, validate

from avp.domain.uploads import is_language_tag
from avp.web import sibling

preview = sibling(__file__, "preview")


def _language(value: str) -> None:
    if not is_language_tag(value):
        raise ValidationError("not a BCP-47 language tag")


class VoiceQuery(Schema):
    provider = fields.String(load_default=None, validate=validate.Length(min=1, max=40))
    language = fields.String(load_default=None, validate=_language)


class PreviewRequest(Schema):
    provider = fields.String(load_default=None, validate=validate.Length(min=1, max=40))
    model = fields.String(load_default=None, validate=validate.Length(min=1, max=100))
    voice = fields.String(required=True, validate=validate.Length(min=1, max=100))
    language = fields.String(required=True, validate=_language)
    text = fields.String(required=True, validate=validate.Length(min=1, max=preview.MAX_TEXT_CHARS))
    format = fields.String(load_default=None, validate=validate.OneOf(("mp3", "wav")))
    rate = fields.Float(load_default=1.0, validate=validate.Range(min=0.5, max=2.0))
