"""Marshmallow pieces shared by several functions' schemas."""
from marshmallow import Schema, fields, validate

from avp.domain import languages

MAX_PAGE_SIZE = 100
# One bound for every id a request names (openapi.yaml `Id`): generous above the 20 to 32 characters
# of the ids the server makes, small enough to refuse junk before any lookup.
ID_MAX_LENGTH = 128
ID = validate.Length(min=1, max=ID_MAX_LENGTH)


def language_tag(**kwargs) -> fields.String:
    """A BCP 47 language tag (openapi.yaml `LanguageTag`: the same pattern and bound)."""
    return fields.String(validate=[validate.Length(max=languages.MAX_LENGTH),
                                   validate.Regexp(languages.LANGUAGE_TAG, error="not a BCP-47 language tag")], **kwargs)


class PageQuery(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    size = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PAGE_SIZE))
    cursor = fields.String(load_default=None, validate=validate.Length(max=2000))
