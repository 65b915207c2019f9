from marshmallow import Schema, fields, validate

from avp.domain.tracks import KINDS
from avp.schemas import PageQuery, language_tag

VERSION = validate.Range(min=1)
DAY_MS = 24 * 3600 * 1000


class Track(Schema):
    lang = language_tag(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))


class VttQuery(Track):
    version = fields.Integer(load_default=None, validate=VERSION)
    format = fields.String(load_default=None, validate=validate.OneOf(("vtt", "srt", "ttml")))


class VersionListQuery(Track, PageQuery):
    pass


class DiffQuery(Track):
    a = fields.Integer(required=True, validate=VERSION)
    b = fields.Integer(required=True, validate=VERSION)


class VttSave(Track):
    content = fields.String(required=True, validate=validate.Length(min=6))
    base_version = fields.Integer(required=True, validate=VERSION)
    comment = fields.String(load_default=None, validate=validate.Length(max=500))


class AdjustTiming(Track):
    offset_ms = fields.Integer(required=True, validate=validate.Range(min=-DAY_MS, max=DAY_MS))
    from_cue = fields.Integer(load_default=0, validate=validate.Range(min=0))
    to_cue = fields.Integer(load_default=None, validate=validate.Range(min=0))
    base_version = fields.Integer(load_default=None, validate=VERSION)


class VttRestore(Track):
    version = fields.Integer(required=True, validate=VERSION)


class DownloadsQuery(Schema):
    lang = language_tag(load_default=None)


class PausePointUpdate(Schema):
    at = fields.Float(required=True, allow_nan=False, validate=validate.Range(min=0))
