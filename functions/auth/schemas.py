from marshmallow import Schema, fields, validate


class LoginSchema(Schema):
    email = fields.Email(required=True)
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))


class MicrosoftSchema(Schema):
    id_token = fields.String(required=True, validate=validate.Length(min=10, max=20000))


class PasswordResetRedeem(Schema):
    token = fields.String(required=True, validate=validate.Length(min=16, max=200))
    new_password = fields.String(required=True, validate=validate.Length(min=1, max=1024))
