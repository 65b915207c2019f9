from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from avp.auth.tokens import ROLES
from avp.captions.presets import PRESETS
from avp.domain.uploads import parse_requested_outputs
from avp.errors import Unprocessable
from avp.schemas import ID, PageQuery

NAME = validate.Length(min=1, max=200)


def _requested_outputs(value: dict) -> None:
    # Checked as a job's are (they become a job's defaults): an unknown key or a voice keyed by ""
    # would otherwise be stored as given, and Firestore cannot hold an empty field name (a 500).
    try:
        parse_requested_outputs(value)
    except Unprocessable as exc:
        raise ValidationError(exc.detail.get("requested_outputs", exc.detail)) from exc


class OrganizationSettings(Schema):
    default_requested_outputs = fields.Dict(validate=_requested_outputs)
    default_style_preset = fields.String(validate=validate.OneOf(sorted(PRESETS)))
    retention_days = fields.Integer(validate=validate.Range(min=1))


class OrganizationCreate(Schema):
    name = fields.String(required=True, validate=NAME)
    slug = fields.String(load_default=None, validate=validate.Regexp(r"^[a-z0-9-]{2,63}$"))
    settings = fields.Nested(OrganizationSettings, load_default=dict)


class OrganizationUpdate(Schema):
    name = fields.String(validate=NAME)
    settings = fields.Nested(OrganizationSettings)

    @validates_schema
    def _not_empty(self, data, **kwargs):
        if not data:
            raise ValidationError("give at least one of name, settings")


class OrganizationListQuery(PageQuery):
    q = fields.String(load_default=None, validate=validate.Length(max=200))


class MemberListQuery(PageQuery):
    role = fields.String(load_default=None, validate=validate.OneOf(ROLES))


class MemberCreate(Schema):
    """An existing user by `user_id` or `email`; with `invite: true` an invitation to `email` instead
    (optionally into a client's team)."""

    user_id = fields.String(validate=ID)
    email = fields.Email()
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    invite = fields.Boolean(load_default=False)
    client_id = fields.String(load_default=None, validate=ID)
    team_id = fields.String(load_default=None, validate=ID)

    @validates_schema
    def _one_target(self, data, **kwargs):
        if ("user_id" in data) == ("email" in data):
            raise ValidationError("give exactly one of user_id and email")
        if data["invite"] and "email" not in data:
            raise ValidationError("an invitation needs an email", "email")
        if not data["invite"] and (data["client_id"] or data["team_id"]):
            raise ValidationError("client_id and team_id only apply to invitations", "invite")


class MemberUpdate(Schema):
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
