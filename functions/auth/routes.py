from flask import Blueprint, request

from avp.bootstrap import container
from avp.domain import auth, users
from avp.web import (REFRESH_COOKIE, REFRESH_COOKIE_PATH, audit_meta, authenticated, json_body, no_content, public,
                     session_response, sibling)

schemas = sibling(__file__, "schemas")
bp = Blueprint("auth", __name__, url_prefix="/api/v1/auth")


@bp.post("/login")
@public
def login():
    body = json_body(schemas.LoginSchema())
    c = container()
    return session_response(auth.login(c.store, c.settings, c.jwt_key, body["email"], body["password"], audit_meta()))


@bp.post("/microsoft")
@public
def microsoft():
    body = json_body(schemas.MicrosoftSchema())
    c = container()
    return session_response(auth.microsoft_login(c.store, c.settings, c.jwt_key, body["id_token"], audit_meta()))


@bp.post("/refresh")
@public
def refresh():
    c = container()
    return session_response(auth.refresh(c.store, c.settings, c.jwt_key, request.cookies.get(REFRESH_COOKIE), audit_meta()))


@bp.post("/logout")
@authenticated()
def logout():
    auth.logout(container().store, request.cookies.get(REFRESH_COOKIE), audit_meta())
    resp = no_content()
    resp.delete_cookie(REFRESH_COOKIE, path=REFRESH_COOKIE_PATH, secure=container().settings.cookie_secure, httponly=True,
                       samesite="Strict")
    return resp


@bp.post("/password/reset")
@public
def redeem_password_reset():
    """The page a reset or set-your-password mail links to posts here (the token never rides in a URL)."""
    body = json_body(schemas.PasswordResetRedeem())
    users.redeem_password_reset(container().store, audit_meta(), body["token"], body["new_password"])
    return no_content()
