from flask import Blueprint, request

from avp.bootstrap import container
from avp.domain import auth
from avp.web import audit_meta, authenticated, json_body, ok, public, sibling

schemas = sibling(__file__, "schemas")
bp = Blueprint("auth", __name__, url_prefix="/api/v1/auth")
COOKIE = "refresh_token"
COOKIE_PATH = "/api/v1/auth"


def _with_cookie(session: auth.Session):
    resp = ok(session.body())
    c = container()
    resp.set_cookie(COOKIE, session.refresh_token, max_age=c.settings.refresh_ttl, httponly=True,
                    secure=c.settings.cookie_secure, samesite="Strict", path=COOKIE_PATH)
    return resp


@bp.post("/login")
@public
def login():
    body = json_body(schemas.LoginSchema())
    c = container()
    return _with_cookie(auth.login(c.store, c.settings, c.jwt_key, body["email"], body["password"], audit_meta()))


@bp.post("/microsoft")
@public
def microsoft():
    body = json_body(schemas.MicrosoftSchema())
    c = container()
    return _with_cookie(auth.microsoft_login(c.store, c.settings, c.jwt_key, body["id_token"], audit_meta()))


@bp.post("/refresh")
@public
def refresh():
    c = container()
    return _with_cookie(auth.refresh(c.store, c.settings, c.jwt_key, request.cookies.get(COOKIE), audit_meta()))


@bp.post("/logout")
@authenticated()
def logout():
    auth.logout(container().store, request.cookies.get(COOKIE), audit_meta())
    resp = ok({"detail": "signed out"})
    resp.delete_cookie(COOKIE, path=COOKIE_PATH, secure=container().settings.cookie_secure, httponly=True, samesite="Strict")
    return resp
