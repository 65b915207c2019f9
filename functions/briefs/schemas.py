from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from avp.domain.briefs import MAX_ATTACHMENTS, STATES
from avp.schemas import ID, PageQuery, language_tag

SORTS = ("created_at", "-created_at", "updated_at", "-updated_at", "title", "-title")


class BriefListQuery(PageQuery):
    org_id = fields.String(load_default=None, validate=ID)
    client_id = fields.String(load_default=None, validate=ID)
    status = fields.String(load_default=None, validate=validate.OneOf(STATES))
    sort = fields.String(load_default="-created_at", validate=validate.OneOf(SORTS))


class _BriefContent(Schema):
    title = fields.String(validate=validate.Length(min=1, max=300))
    description = fields.String(allow_none=True, validate=validate.Length(max=20000))
    # Checked by the domain, with the same rules as a job's requested outputs.
    requested_outputs = fields.Dict()
    source_language = language_tag(allow_none=True)
    due_date = fields.Date(allow_none=True)
    attachments = fields.List(fields.String(validate=validate.Length(min=1, max=1000)),
                              validate=validate.Length(max=MAX_ATTACHMENTS))


class BriefCreate(_BriefContent):
    title = fields.String(required=True, validate=validate.Length(min=1, max=300))
    org_id = fields.String(validate=ID)
    client_id = fields.String(validate=ID)
    project_id = fields.String(validate=ID)


class BriefUpdate(_BriefContent):
    client_id = fields.String(allow_none=True, validate=ID)
    project_id = fields.String(allow_none=True, validate=ID)

    @validates_schema
    def _not_empty(self, data, **kwargs):
        if not data:
            raise ValidationError("nothing to change")


class ActionNote(Schema):
    note = fields.String(load_default=None, validate=validate.Length(max=2000))
