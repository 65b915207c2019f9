"""Request shapes of the jobs routes (openapi.yaml). Semantic checks — media types, language
tags, requested outputs — live in avp.domain.uploads, shared with the storage-event path."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from avp.domain.jobs import ASSET_KINDS, SORT_FIELDS, STATES
from avp.schemas import ID, PageQuery, language_tag

MAX_IDS = 100
Text = fields.String


def _id(**kw) -> fields.String:
    return fields.String(validate=ID, **kw)


class CommaList(fields.Field):
    """A query parameter holding comma-separated values (`style: form, explode: false`)."""

    def __init__(self, choices=None, max_items: int = MAX_IDS, **kw):
        super().__init__(**kw)
        self.choices, self.max_items = choices, max_items

    def _deserialize(self, value, attr, data, **kwargs):
        items = [v.strip() for v in str(value).split(",") if v.strip()]
        if not items or len(items) > self.max_items:
            raise ValidationError(f"give 1 to {self.max_items} comma-separated values")
        bad = [v for v in items if self.choices is not None and v not in self.choices]
        if bad:
            raise ValidationError(f"unknown values: {', '.join(bad)}")
        return list(dict.fromkeys(items))


class Placement(Schema):
    org_id = _id(load_default=None)
    client_id = _id(load_default=None, allow_none=True)
    project_id = _id(load_default=None, allow_none=True)


class UploadFile(Schema):
    filename = Text(required=True, validate=validate.Length(min=1, max=255))
    content_type = Text(required=True, validate=validate.Length(max=255))
    size_bytes = fields.Integer(required=True, strict=True)


class UploadInit(UploadFile, Placement):
    title = Text(load_default="", validate=validate.Length(max=300))
    notes = Text(load_default="", validate=validate.Length(max=5000))
    source_language = language_tag(load_default=None, allow_none=True)
    requested_outputs = fields.Dict(load_default=None, allow_none=True)


class UploadComplete(Schema):
    job_id = _id(load_default=None)
    gcs_uri = Text(required=True, validate=validate.Length(max=1024))
    filename = Text(required=True, validate=validate.Length(min=1, max=255))
    title = Text(validate=validate.Length(max=300))
    source_language = language_tag(required=True)
    requested_outputs = fields.Dict(required=True)
    org_id = _id()
    client_id = _id(allow_none=True)
    project_id = _id(allow_none=True)
    brief_id = _id(allow_none=True)
    glossary_id = _id(allow_none=True)
    md5 = Text(validate=validate.Length(max=64))
    crc32c = Text(validate=validate.Length(max=16))


class JobCreateForm(Placement):
    """The non-file fields of the multipart body; `requested_outputs` is a JSON string."""

    title = Text(load_default="", validate=validate.Length(max=300))
    notes = Text(load_default="", validate=validate.Length(max=5000))
    source_language = language_tag(required=True)
    requested_outputs = Text(required=True, validate=validate.Length(max=100_000))
    brief_id = _id(load_default=None)
    glossary_id = _id(load_default=None)


class JobListQuery(PageQuery):
    status = CommaList(choices=STATES, load_default=())
    org_id = _id(load_default=None)
    client_id = _id(load_default=None)
    project_id = _id(load_default=None)
    created_by = _id(load_default=None)
    q = Text(load_default=None, validate=validate.Length(max=200))
    sort = Text(load_default="-created_at", validate=validate.OneOf([*SORT_FIELDS, *(f"-{f}" for f in SORT_FIELDS)]))


class JobUpdate(Schema):
    title = Text(validate=validate.Length(min=1, max=300))
    notes = Text(allow_none=True, validate=validate.Length(max=5000))
    requested_outputs = fields.Dict()
    client_id = _id(allow_none=True)
    project_id = _id(allow_none=True)
    deleted = fields.Boolean()

    @validates_schema
    def _not_empty(self, data, **kwargs):
        if not data:
            raise ValidationError("give at least one field to change")


class CloneRequest(Schema):
    title = Text(validate=validate.Length(min=1, max=300))
    upload = fields.Nested(UploadFile)


class ActionNote(Schema):
    note = Text(load_default=None, validate=validate.Length(max=2000))


class ReasonRequest(Schema):
    reason = Text(required=True, validate=validate.Length(min=1, max=2000))


class RejectFinalRequest(ReasonRequest):
    languages = fields.List(language_tag(), required=True, validate=validate.Length(min=1, max=50))


class RetryTtsRequest(Schema):
    language = language_tag(required=True)
    tts_preferences = fields.Dict(load_default=None)


class BulkJobIds(Schema):
    job_ids = fields.List(_id(), required=True, validate=validate.Length(min=1, max=MAX_IDS))
    note = Text(load_default=None, validate=validate.Length(max=2000))
    reason = Text(load_default=None, validate=validate.Length(max=2000))


class BulkDeleteQuery(Schema):
    job_ids = CommaList(required=True)


class BulkDownloadRequest(Schema):
    job_ids = fields.List(_id(), required=True, validate=validate.Length(min=1, max=MAX_IDS))
    languages = fields.List(language_tag(), load_default=list)
    kinds = fields.List(Text(validate=validate.OneOf(("source_video", *ASSET_KINDS))), load_default=list)
