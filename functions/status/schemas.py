from marshmallow import Schema, fields


class StatusQuery(Schema):
    job_id = fields.String(load_default=None)
