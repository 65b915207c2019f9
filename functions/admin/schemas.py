from marshmallow import Schema, fields, validate

from avp.auth.tokens import ROLES
from avp.domain.plan import STEPS
from avp.schemas import PageQuery


class UserListQuery(PageQuery):
    role = fields.String(load_default=None, validate=validate.OneOf(ROLES))
    email = fields.String(load_default=None, validate=validate.Length(max=320))


class UserCreate(Schema):
    email = fields.Email(required=True)
    name = fields.String(load_default="", validate=validate.Length(max=200))
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    password = fields.String(load_default=None, validate=validate.Length(max=1024))
    disabled = fields.Boolean(load_default=False)


class UserUpdate(Schema):
    name = fields.String(validate=validate.Length(max=200))
    role = fields.String(validate=validate.OneOf(ROLES))
    disabled = fields.Boolean()


class PasswordSet(Schema):
    new_password = fields.String(required=True, validate=validate.Length(max=1024))


class AuditQuery(PageQuery):
    action = fields.String(load_default=None, validate=validate.Length(max=100))


class CleanupQuery(Schema):
    older_than_days = fields.Integer(load_default=365, validate=validate.Range(min=1, max=36500))


class JobStatsQuery(Schema):
    org_id = fields.String(load_default=None, validate=validate.Length(min=1, max=100))
    start = fields.AwareDateTime(data_key="from", load_default=None)
    end = fields.AwareDateTime(data_key="to", load_default=None)


class ReprocessRequest(Schema):
    from_step = fields.String(load_default=None, validate=validate.OneOf(STEPS))
