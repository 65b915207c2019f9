from marshmallow import Schema, ValidationError, fields, validate, validates

from avp.domain.stats import STAGES
from avp.domain.tracks import KINDS
from avp.schemas import ID, PageQuery, language_tag

MAX_VTT_BYTES = 5 * 1024**2


class FailureQuery(PageQuery):
    org_id = fields.String(load_default=None, validate=ID)
    step = fields.String(load_default=None, validate=validate.OneOf(STAGES))
    since = fields.AwareDateTime(data_key="from", load_default=None)


class BulkJobIds(Schema):
    job_ids = fields.List(fields.String(validate=ID), required=True,
                          validate=validate.Length(min=1, max=100))
    note = fields.String(load_default=None, validate=validate.Length(max=2000))
    reason = fields.String(load_default=None, validate=validate.Length(max=2000))

    @validates("job_ids")
    def _unique(self, value, **kwargs):
        if len(set(value)) != len(value):
            raise ValidationError("job ids must not repeat")


class FinalVtt(Schema):
    lang = language_tag(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    content = fields.String(required=True, validate=validate.Length(min=6, max=MAX_VTT_BYTES))
    comment = fields.String(load_default=None, validate=validate.Length(max=500))


class FinalVttForm(FinalVtt):
    content = fields.String(load_default=None)  # the form carries the file instead
