from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from avp.schemas import ID, PageQuery

NAME = validate.Length(min=1, max=200)


class ClientListQuery(PageQuery):
    org_id = fields.String(load_default=None, validate=ID)
    q = fields.String(load_default=None, validate=validate.Length(max=200))


class ClientCreate(Schema):
    org_id = fields.String(required=True, validate=ID)
    name = fields.String(required=True, validate=NAME)


class ClientUpdate(Schema):
    name = fields.String(required=True, validate=NAME)


class ForceQuery(Schema):
    force = fields.Boolean(load_default=False)


class UserRef(Schema):
    user_id = fields.String(required=True, validate=ID)


class TeamCreate(Schema):
    name = fields.String(required=True, validate=NAME)
    member_ids = fields.List(fields.String(validate=ID), load_default=list, validate=validate.Length(max=500))


class TeamUpdate(Schema):
    name = fields.String(required=True, validate=NAME)


class ProjectListQuery(PageQuery):
    archived = fields.Boolean(load_default=False)


class AllProjectsQuery(ProjectListQuery):
    org_id = fields.String(load_default=None, validate=ID)


class ProjectCreate(Schema):
    name = fields.String(required=True, validate=NAME)
    description = fields.String(load_default=None, validate=validate.Length(max=2000))


class ProjectUpdate(Schema):
    name = fields.String(validate=NAME)
    description = fields.String(allow_none=True, validate=validate.Length(max=2000))
    archived = fields.Boolean()

    @validates_schema
    def _not_empty(self, data, **kwargs):
        if not data:
            raise ValidationError("give at least one of name, description, archived")
