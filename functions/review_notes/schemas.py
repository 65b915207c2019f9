from marshmallow import Schema, fields, validate

from avp.domain.language_qc import LANGUAGE_TAG
from avp.domain.review_notes import ASSETS, NOTE_STATES
from avp.schemas import PageQuery

LANG = validate.Regexp(LANGUAGE_TAG, error="not a BCP-47 language tag")
TEXT = validate.Length(min=1, max=5000)
TIME = validate.Range(min=0)


class NoteQuery(PageQuery):
    language = fields.String(load_default=None, validate=LANG)
    asset = fields.String(load_default=None, validate=validate.OneOf(ASSETS))
    status = fields.String(load_default=None, validate=validate.OneOf(NOTE_STATES))


class NoteCreate(Schema):
    language = fields.String(load_default=None, validate=LANG)
    asset = fields.String(load_default="source_video", validate=validate.OneOf(ASSETS))
    timestamp = fields.Float(required=True, allow_nan=False, validate=TIME)
    text = fields.String(required=True, validate=TEXT)


class NoteUpdate(Schema):
    timestamp = fields.Float(allow_nan=False, validate=TIME)
    text = fields.String(validate=TEXT)
    status = fields.String(validate=validate.OneOf(NOTE_STATES))
