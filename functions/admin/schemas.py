from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from avp.auth.tokens import ROLES
from avp.domain.audit import CATEGORIES, RETENTION_DAYS_MAX, RETENTION_DAYS_MIN
from avp.domain.plan import STEPS
from avp.domain.users import SORT_FIELDS
from avp.schemas import ID, PageQuery


class UserListQuery(PageQuery):
    role = fields.String(load_default=None, validate=validate.OneOf(ROLES))
    email = fields.String(load_default=None, validate=validate.Length(max=320))
    q = fields.String(load_default=None, validate=validate.Length(max=200))
    is_active = fields.Boolean(load_default=None)
    org_id = fields.String(load_default=None, validate=ID)
    sort = fields.String(load_default="email", validate=validate.OneOf([*SORT_FIELDS, *(f"-{f}" for f in SORT_FIELDS)]))


class UserCreate(Schema):
    email = fields.Email(required=True)
    name = fields.String(data_key="display_name", load_default="", validate=validate.Length(max=200))
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    password = fields.String(load_default=None, validate=validate.Length(max=1024))
    org_ids = fields.List(fields.String(validate=ID), load_default=list, validate=validate.Length(max=100))


class UserUpdate(Schema):
    name = fields.String(data_key="display_name", validate=validate.Length(max=200))
    role = fields.String(validate=validate.OneOf(ROLES))
    is_active = fields.Boolean()

    @validates_schema
    def _not_empty(self, data, **kwargs):
        if not data:
            raise ValidationError("give at least one of display_name, role, is_active")

    @post_load
    def _stored_names(self, data, **kwargs):
        if "is_active" in data:
            data["disabled"] = not data.pop("is_active")
        return data


class PasswordSet(Schema):
    new_password = fields.String(required=True, validate=validate.Length(max=1024))


class AuditQuery(PageQuery):
    action = fields.String(load_default=None, validate=validate.Length(max=100))
    target_type = fields.String(load_default=None, validate=validate.Length(min=1, max=100))
    target_id = fields.String(load_default=None, validate=ID)
    start = fields.AwareDateTime(data_key="from", load_default=None)
    end = fields.AwareDateTime(data_key="to", load_default=None)


class AuditSecurityQuery(AuditQuery):
    actor_id = fields.String(load_default=None, validate=ID)


class AuditListQuery(AuditSecurityQuery):
    category = fields.String(load_default=None, validate=validate.OneOf(CATEGORIES))


class CleanupQuery(Schema):
    older_than_days = fields.Integer(required=True, validate=validate.Range(min=RETENTION_DAYS_MIN, max=RETENTION_DAYS_MAX))


class JobStatsQuery(Schema):
    org_id = fields.String(load_default=None, validate=ID)
    start = fields.AwareDateTime(data_key="from", load_default=None)
    end = fields.AwareDateTime(data_key="to", load_default=None)


class ReprocessRequest(Schema):
    from_step = fields.String(load_default=None, validate=validate.OneOf(STEPS))
