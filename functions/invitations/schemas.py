from marshmallow import Schema, fields, validate

TOKEN = validate.Length(min=16, max=200)


class InvitationToken(Schema):
    token = fields.String(required=True, validate=TOKEN)


class InvitationAccept(Schema):
    token = fields.String(required=True, validate=TOKEN)
    display_name = fields.String(load_default="", validate=validate.Length(max=200))
    password = fields.String(load_default=None, validate=validate.Length(max=1024))
