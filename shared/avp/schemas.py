"""Marshmallow pieces shared by several functions' schemas."""
from marshmallow import Schema, fields, validate

MAX_PAGE_SIZE = 100


class PageQuery(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    size = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PAGE_SIZE))
    cursor = fields.String(load_default=None, validate=validate.Length(max=2000))
