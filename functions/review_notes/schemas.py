from marshmallow import Schema, fields, validate

from avp.domain.review_notes import ASSETS, NOTE_STATES
from avp.schemas import PageQuery, language_tag

TEXT = validate.Length(min=1, max=5000)
TIME = validate.Range(min=0)


class NoteQuery(PageQuery):
    language = language_tag(load_default=None)
    asset = fields.String(load_default=None, validate=validate.OneOf(ASSETS))
    status = fields.String(load_default=None, validate=validate.OneOf(NOTE_STATES))


class NoteCreate(Schema):
    language = language_tag(load_default=None)
    asset = fields.String(load_default="source_video", validate=validate.OneOf(ASSETS))
    timestamp = fields.Float(required=True, allow_nan=False, validate=TIME)
    text = fields.String(required=True, validate=TEXT)


class NoteUpdate(Schema):
    timestamp = fields.Float(allow_nan=False, validate=TIME)
    text = fields.String(validate=TEXT)
    status = fields.String(validate=validate.OneOf(NOTE_STATES))
