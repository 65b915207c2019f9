"""HTTP plumbing shared by every function: the Flask app factory, the one error handler,
request ids and logs, body parsing with marshmallow, and the auth decorators."""
from __future__ import annotations

import functools
import importlib.util
import logging
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import datetime as dt

from flask import Flask, Response, g, jsonify, request
from flask.json.provider import DefaultJSONProvider
from google.api_core import exceptions as google_errors
from marshmallow import Schema, ValidationError
from werkzeug.exceptions import HTTPException

from avp import jsoninput, logs
from avp.auth.tokens import Principal, decode_access_token
from avp.bootstrap import container
from avp.domain import sessions
from avp.domain.audit import AuditMeta
from avp.errors import AvpError, Forbidden, PayloadTooLarge, Unauthorized, Unprocessable

if TYPE_CHECKING:
    from avp.domain.auth import Session

log = logs.get("http")
PUBLIC = "public"
REFRESH_COOKIE = "refresh_token"
REFRESH_COOKIE_PATH = "/api/v1/auth"  # the cookie only travels to the routes that read it


def sibling(file: str, name: str) -> ModuleType:
    """Import `name`.py next to `file` under a name unique to that folder.

    Each function folder has its own routes.py/schemas.py; imported as plain `routes` they would
    collide when the local gateway loads every function into one process.
    """
    folder = Path(file).resolve().parent
    module_name = f"avp_fn_{folder.name}_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, folder / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def error_response(status: int, detail: Any, headers: dict[str, str] | None = None) -> Response:
    resp = jsonify({"detail": detail})
    resp.status_code = status
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


class IsoJSONProvider(DefaultJSONProvider):
    """Times leave the API as ISO 8601 (the contract's date-time), not Flask's HTTP-date default."""

    @staticmethod
    def default(o: Any) -> Any:
        if isinstance(o, dt.datetime):
            return o.isoformat()
        return DefaultJSONProvider.default(o)


def create_app(name: str, blueprints: Iterable[Any] = ()) -> Flask:
    """A function's Flask app with avp's error envelope, request ids and JSON logs."""
    app = Flask(f"avp.{name}")
    app.json = IsoJSONProvider(app)
    app.config["MAX_CONTENT_LENGTH"] = container().settings.max_request_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    logs.configure(container().settings.log_level)

    @app.before_request
    def _start() -> None:
        g.request_id = request.headers.get("X-Request-Id") or uuid.uuid4().hex
        g.started = time.perf_counter()
        logs.request_id.set(g.request_id)

    @app.after_request
    def _finish(resp: Response) -> Response:
        resp.headers["X-Request-Id"] = g.get("request_id", "")
        resp.headers.setdefault("Cache-Control", "no-store")
        resp.headers["X-Content-Type-Options"] = "nosniff"
        logs.event(log, f"{request.method} {request.path} {resp.status_code}", function=name,
                   status=resp.status_code, method=request.method, path=request.path,
                   latency_ms=round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 1))
        return resp

    @app.errorhandler(AvpError)
    def _avp_error(exc: AvpError):
        return error_response(exc.status, exc.detail, exc.headers)

    @app.errorhandler(ValidationError)
    def _validation(exc: ValidationError):
        return error_response(422, exc.messages)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        detail = {404: "not found", 405: "method not allowed", 413: "payload too large"}.get(exc.code or 500, exc.description)
        return error_response(exc.code or 500, detail)

    @app.errorhandler(google_errors.Aborted)
    @app.errorhandler(google_errors.DeadlineExceeded)
    @app.errorhandler(google_errors.ServiceUnavailable)
    @app.errorhandler(google_errors.TooManyRequests)
    def _busy(exc: Exception):
        # Contention or a briefly unavailable database (lock timeouts, aborted writes): the client should
        # retry, which a 500 would not tell it.
        log.warning("database busy: %s", exc, extra={"fields": {"function": name}})
        return error_response(503, "the service is busy; try again shortly", {"Retry-After": "2"})

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error", extra={"fields": {"function": name}})
        return error_response(500, "internal error")

    for bp in blueprints:
        app.register_blueprint(bp)
    return app


def entry_point(app: Flask) -> Callable[[Any], Any]:
    """The Cloud Functions entry point: hand the request to the function's Flask app."""

    def handle(req):
        with app.request_context(req.environ):
            return app.full_dispatch_request()

    return handle


# -- request bodies ----------------------------------------------------------
def json_body(schema: Schema | None = None, *, partial: bool = False) -> Any:
    """The request's JSON body, validated by `schema` (422 with field messages) — 400 when malformed,
    too deep or not valid Unicode; 413 beyond the JSON limit, chunked bodies included."""
    limit = container().settings.max_json_bytes
    if request.content_length and request.content_length > limit:
        raise PayloadTooLarge(f"request body larger than {limit} bytes")
    limit_body(limit + 1)
    raw = request.get_data(cache=True)
    if len(raw) > limit:  # a chunked body: the stream stopped one byte past the limit
        raise PayloadTooLarge(f"request body larger than {limit} bytes")
    data: Any = {} if not raw.strip() else jsoninput.loads(raw)
    if schema is None:
        return data
    if not isinstance(data, dict):
        raise Unprocessable({"_schema": ["expected a JSON object"]})
    return schema.load(data, partial=partial)


def limit_body(limit: int) -> None:
    """Read at most `limit` bytes of the body, whether or not it declared its length (a chunked body has
    none, so checking Content-Length alone lets it through): a declared larger length is a 413, an
    undeclared one stops there (the form parser then refuses it, 413; a raw reader checks the length)."""
    request.max_content_length = limit


def query_args(schema: Schema) -> Any:
    """Query parameters validated by `schema` (422 with field messages)."""
    return schema.load(request.args.to_dict())


# -- authentication ----------------------------------------------------------
def _principal_from_request() -> Principal:
    # Behind API Gateway, `Authorization` carries the gateway's own ID token and the caller's
    # token moves to `X-Forwarded-Authorization`.
    header = request.headers.get("X-Forwarded-Authorization") or request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    c = container()
    return sessions.current_principal(c.store, decode_access_token(c.jwt_key, token.strip()), c.settings.auth_cache_seconds)


def optional_user() -> Principal | None:
    """The caller when a bearer token is sent (checked like any other: 401 when bad), else None, for
    public routes that act differently for a signed-in caller."""
    header = request.headers.get("X-Forwarded-Authorization") or request.headers.get("Authorization")
    if not header:
        return None
    g.principal = _principal_from_request()
    return g.principal


def current_user() -> Principal:
    principal = g.get("principal")
    if principal is None:
        raise Unauthorized("not authenticated")
    return principal


def authenticated(*roles: str) -> Callable:
    """Require a valid bearer token; with `roles`, also one of those roles (403 otherwise)."""

    def wrap(view: Callable) -> Callable:
        @functools.wraps(view)
        def inner(*args, **kwargs):
            g.principal = _principal_from_request()
            if roles and g.principal.role not in roles:
                raise Forbidden(f"requires role: {', '.join(roles)}")
            return view(*args, **kwargs)

        inner.avp_auth = roles or ("any",)  # read by the authorization matrix test
        return inner

    return wrap


def public(view: Callable) -> Callable:
    """Mark a view as deliberately open to anonymous callers."""
    view.avp_auth = (PUBLIC,)
    return view


def client_ip() -> str:
    """The caller's address as the nearest trusted proxy saw it. Each of the `proxy_hops` trusted
    proxies appends the address it received from to X-Forwarded-For, so the right-most entry not
    written by one of them is the client; anything further left was written by the client and
    proves nothing. With no trusted proxy (locally) the header is ignored."""
    hops = container().settings.proxy_hops
    chain = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",") if a.strip()] if hops else []
    chain.append(request.remote_addr or "unknown")
    return chain[max(0, len(chain) - 1 - hops)]


def audit_meta() -> AuditMeta:
    """Who is calling, from where, under which request id: for audit entries written by the domain."""
    principal = g.get("principal")
    return AuditMeta(principal.user_id if principal else None, principal.role if principal else None,
                     g.get("request_id"), client_ip(), actor_email=principal.email or None if principal else None,
                     user_agent=request.user_agent.string or None)


def ok(data: Any = None, status: int = 200) -> Response:
    resp = jsonify(data if data is not None else {})
    resp.status_code = status
    return resp


def no_content() -> Response:
    return Response(status=204)


def session_response(session: Session) -> Response:
    """A sign-in's answer: the tokens in the body and the refresh secret as an HttpOnly cookie."""
    settings = container().settings
    resp = ok(session.body())
    resp.set_cookie(REFRESH_COOKIE, session.refresh_token, max_age=settings.refresh_ttl, httponly=True,
                    secure=settings.cookie_secure, samesite="Strict", path=REFRESH_COOKIE_PATH)
    return resp


logging.getLogger("werkzeug").setLevel(logging.WARNING)
