from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from avp.domain.language_qc import STATES
from avp.schemas import ID, PageQuery, language_tag

NOTE = validate.Length(max=2000)


class Assignment(Schema):
    user_id = fields.String(required=True, validate=ID)
    note = fields.String(load_default=None, validate=NOTE)


class BulkAssign(Schema):
    languages = fields.List(language_tag(), required=True, validate=validate.Length(min=1, max=100))
    linguist_id = fields.String(load_default=None, validate=ID)
    reviewer_id = fields.String(load_default=None, validate=ID)

    @validates_schema
    def _check(self, data, **kwargs):
        if len(set(data["languages"])) != len(data["languages"]):
            raise ValidationError("languages must not repeat", "languages")
        if not data.get("linguist_id") and not data.get("reviewer_id"):
            raise ValidationError("give linguist_id, reviewer_id or both")


class ActionNote(Schema):
    note = fields.String(load_default=None, validate=NOTE)


class ReasonRequest(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class MarkCueReviewed(Schema):
    cue_index = fields.Integer(required=True, validate=validate.Range(min=0))
    reviewed = fields.Boolean(load_default=True)
    version = fields.Integer(load_default=None, validate=validate.Range(min=1))


class CommentCreate(Schema):
    text = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    cue_index = fields.Integer(load_default=None, validate=validate.Range(min=0))


class CommentQuery(PageQuery):
    cue_index = fields.Integer(load_default=None, validate=validate.Range(min=0))


class QueueQuery(PageQuery):
    status = fields.String(load_default=None, validate=validate.Length(max=200))

    @validates_schema
    def _check(self, data, **kwargs):
        unknown = set(_states(data.get("status"))) - set(STATES)
        if unknown:
            raise ValidationError(f"unknown states: {', '.join(sorted(unknown))}", "status")


def _states(text: str | None) -> list[str]:
    return [s.strip() for s in (text or "").split(",") if s.strip()]


def queue_states(query: dict) -> list[str] | None:
    """The `status` filter as a list (None: the role's open states)."""
    return _states(query.get("status")) or None
