"""One error hierarchy. Every error a client can cause is an `AvpError`, rendered as
`{"detail": ...}` with its status by the single handler in `avp.web`."""
from __future__ import annotations

from typing import Any


class AvpError(Exception):
    status = 500
    default_detail = "internal error"

    def __init__(self, detail: Any = None, *, headers: dict[str, str] | None = None):
        self.detail = self.default_detail if detail is None else detail
        self.headers = headers or {}
        super().__init__(str(self.detail))


class BadRequest(AvpError):
    status, default_detail = 400, "bad request"


class Unauthorized(AvpError):
    status, default_detail = 401, "not authenticated"


class Forbidden(AvpError):
    status, default_detail = 403, "not allowed for your role"


class NotFound(AvpError):
    status, default_detail = 404, "not found"


class MethodNotAllowed(AvpError):
    status, default_detail = 405, "method not allowed"


class Conflict(AvpError):
    status, default_detail = 409, "conflict"


class Gone(AvpError):
    status, default_detail = 410, "gone"


class PayloadTooLarge(AvpError):
    status, default_detail = 413, "payload too large"


class UnsupportedMediaType(AvpError):
    status, default_detail = 415, "unsupported media type"


class Unprocessable(AvpError):
    status, default_detail = 422, "validation failed"


class TooManyRequests(AvpError):
    status, default_detail = 429, "too many requests"

    def __init__(self, detail: Any = None, *, retry_after: int = 60):
        super().__init__(detail, headers={"Retry-After": str(max(1, int(retry_after)))})
        self.retry_after = retry_after


class NotImplementedYet(AvpError):
    status, default_detail = 501, "not implemented yet"


class ServiceUnavailable(AvpError):
    status, default_detail = 503, "service unavailable"
