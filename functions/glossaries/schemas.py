from marshmallow import Schema, fields, validate

from avp.schemas import ID, PageQuery, language_tag



class GlossaryListQuery(PageQuery):
    client_id = fields.String(load_default=None, validate=ID)
    org_id = fields.String(load_default=None, validate=ID)
    status = fields.String(load_default="active", validate=validate.OneOf(("active", "archived")))


class GlossaryCreateForm(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(load_default=None, validate=validate.Length(max=2000))
    client_id = fields.String(load_default=None, validate=ID)
    org_id = fields.String(load_default=None, validate=ID)
    source_language = language_tag(load_default=None)


class GlossaryVersionForm(Schema):
    note = fields.String(load_default=None, validate=validate.Length(max=2000))
    activate = fields.Boolean(load_default=False)


class TermQuery(PageQuery):
    version_id = fields.String(load_default=None, validate=ID)
    q = fields.String(load_default=None, validate=validate.Length(max=200))
    language = language_tag(load_default=None)


class GlossaryActivate(Schema):
    version_id = fields.String(required=True, validate=ID)
