"""Signing in: passwords with throttling and lockout, refresh-token rotation with reuse
detection, Microsoft identity-platform ID tokens."""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from avp.auth.passwords import hash_password, needs_rehash, verify_password
from avp.auth.tokens import issue_access_token, new_secret, secret_hash
from avp.config import Settings
from avp.domain import audit, sessions, users
from avp.domain import throttle as throttle_counter
from avp.domain.aggregates import Invitation, LoginLock, RefreshToken, User
from avp.domain.audit import AuditMeta
from avp.domain.ports import Database, UnitOfWork
from avp.domain.records import new_id, now
from avp.errors import Forbidden, ServiceUnavailable, TooManyRequests, Unauthorized

INVALID_LOGIN = "incorrect email or password"


@dataclass
class Session:
    """What a successful sign-in hands back: the access token for the body, the refresh secret for the cookie."""

    user: User
    access_token: str
    expires_in: int
    refresh_token: str

    def body(self) -> dict[str, Any]:
        """The sign-in response (the refresh secret travels in a cookie, not here)."""
        return {"access_token": self.access_token, "token_type": "bearer", "expires_in": self.expires_in,
                "user": users.public_view(self.user)}


# -- throttling --------------------------------------------------------------
FAILURE_WINDOW = 3600  # failures count within fixed windows of an hour


@dataclass(frozen=True)
class _Throttle:
    """One sign-in throttle (per account or per client address): its counter key and lock document."""

    kind: str
    key: str
    limit: int

    @property
    def counter(self) -> str:
        return f"login:{self.kind}:{self.key}"

    @property
    def lock_id(self) -> str:
        return f"{self.kind}-{secret_hash(self.key)}"


def _check_locked(store: Database, throttles: tuple[_Throttle, ...]) -> dict[str, LoginLock]:
    """429 while any throttle is locked; else each throttle's lock (for counting failures)."""
    locks = {}
    for throttle in throttles:
        lock = store.of(LoginLock).lookup(throttle.lock_id) or LoginLock(id=throttle.lock_id)
        if lock.locked_until > time.time():
            raise TooManyRequests("too many failed sign-in attempts; try again later",
                                  retry_after=int(lock.locked_until - time.time()) + 1)
        locks[throttle.kind] = lock
    return locks


def _note_failure(store: Database, throttle: _Throttle, lock: LoginLock, lockout: int) -> bool:
    """Count a failure; True when the count since the last lock (in this window) reaches the limit,
    which locks the key for `lockout` seconds. Parallel failures past the limit all lock: a burst
    cannot slip attempts through while the lock document is being written."""
    hit = throttle_counter.hit(store, throttle.counter, FAILURE_WINDOW)
    since = hit.count - (lock.at_count if lock.slot == hit.slot else 0)
    if since < throttle.limit:
        return False
    store.of(LoginLock).put(LoginLock(id=throttle.lock_id, locked_until=time.time() + lockout, slot=hit.slot,
                                      at_count=hit.count,
                                      expires_at=now() + dt.timedelta(seconds=max(FAILURE_WINDOW, lockout))))
    return True


def login(store: Database, settings: Settings, key: str, email: str, password: str, meta: AuditMeta) -> Session:
    """Email + password sign-in. Unknown email and wrong password look the same (status, body, time)."""
    account = _Throttle("acct", users.normalize_email(email), settings.login_max_failures)
    address = _Throttle("ip", meta.ip or "unknown", settings.login_ip_max_failures)
    locks = _check_locked(store, (account, address))
    user = users.find_by_email(store, email)
    valid = verify_password(user.password_hash if user else None, password)
    if not valid or user is None or user.disabled:
        locked = _note_failure(store, account, locks["acct"], settings.lockout_seconds)
        ip_locked = _note_failure(store, address, locks["ip"], settings.lockout_seconds)
        target = f"users/{user.id}" if user else "users/unknown"
        audit.record(store, AuditMeta(user.id if user else None, None, meta.request_id, meta.ip), "auth.login_failed",
                     target, extra={"email_hash": secret_hash(users.normalize_email(email)), "locked": locked or ip_locked})
        if locked or ip_locked:
            audit.record(store, meta, "auth.lockout", target)
            raise TooManyRequests("too many failed sign-in attempts; try again later", retry_after=settings.lockout_seconds)
        raise Unauthorized(INVALID_LOGIN)
    throttle_counter.forget(store, account.counter, FAILURE_WINDOW)
    store.of(LoginLock).delete(account.lock_id)  # its count since the last lock refers to the counter just cleared
    if needs_rehash(user.password_hash):
        store.of(User).update(user.id, {"password_hash": hash_password(password)})
    return start_session(store, settings, key, user, meta.acting_as(user), "password")


def start_session(store: Database, settings: Settings, key: str, user: User, meta: AuditMeta, method: str) -> Session:
    """Sign `user` in (they were authenticated by `method`): a new refresh family and an access token."""
    store.of(User).update(user.id, {"last_login_at": now()})
    refresh = _new_refresh(store, settings, user.id, family=new_id())
    audit.record(store, meta, "auth.login", f"users/{user.id}", extra={"method": method})
    access, ttl = issue_access_token(key, user, user.org_ids, settings.access_ttl)
    return Session(user, access, ttl, refresh)


def _new_refresh(records: Database | UnitOfWork, settings: Settings, user_id: str, family: str) -> str:
    """A new refresh token of `family` (inside a unit of work when `records` is one); returns its secret."""
    secret = new_secret()
    stamp = now()
    records.of(RefreshToken).add(RefreshToken(id=secret_hash(secret), user_id=user_id, family=family, created_at=stamp,
                                              expires_at=stamp + dt.timedelta(seconds=settings.refresh_ttl)))
    return secret


def revoke_family(store: Database, family: str) -> None:
    """Revoke every refresh token of one sign-in (the device signs in again)."""
    tokens = store.of(RefreshToken)
    for token in tokens.where(("family", "==", family)):
        tokens.update(token.id, {"revoked": True})


def refresh(store: Database, settings: Settings, key: str, secret: str | None, meta: AuditMeta) -> Session:
    """Rotate a refresh token. Presenting one that was already used revokes its whole family
    (someone else may hold a stolen copy)."""
    if not secret:
        raise Unauthorized("missing refresh token")
    token_id = secret_hash(secret)

    def rotate(uow: UnitOfWork) -> tuple[str, RefreshToken | None, str | None]:
        tokens = uow.of(RefreshToken)
        token = tokens.lookup(token_id)
        if token is None or token.revoked or token.expires_at < now():
            return ("invalid", token, None)
        if token.used:
            return ("reused", token, None)
        tokens.update(token_id, {"used": True, "used_at": now()})
        return ("ok", token, _new_refresh(uow, settings, token.user_id, token.family))

    outcome, token, new_value = store.atomically(rotate)
    if outcome == "reused":
        revoke_family(store, token.family)
        audit.record(store, AuditMeta(token.user_id, None, meta.request_id, meta.ip), "auth.refresh_reuse",
                     f"users/{token.user_id}", extra={"family": token.family})
        raise Unauthorized("refresh token already used; all sessions of this sign-in were revoked")
    if outcome != "ok":
        raise Unauthorized("invalid or expired refresh token")
    user = store.of(User).lookup(token.user_id)
    if user is None or not user.active:
        revoke_family(store, token.family)
        raise Unauthorized("account disabled")
    access, ttl = issue_access_token(key, user, user.org_ids, settings.access_ttl)
    return Session(user, access, ttl, new_value)


def logout(store: Database, secret: str | None, meta: AuditMeta) -> None:
    """Revoke the presented refresh token's family (this sign-in on this device) and every access token of
    the caller (other devices refresh into new ones; their refresh families stay valid)."""
    if secret:
        token = store.of(RefreshToken).lookup(secret_hash(secret))
        if token is not None:
            revoke_family(store, token.family)
    if meta.actor_id:
        sessions.revoke(store, meta.actor_id)
    audit.record(store, meta, "auth.logout", f"users/{meta.actor_id}")


def microsoft_login(store: Database, settings: Settings, key: str, id_token: str, meta: AuditMeta, jwks_client=None) -> Session:
    """Sign in with a Microsoft identity-platform ID token (signature against the tenant JWKS, iss,
    aud, exp, nbf, allowed tenant). Unknown emails are refused unless an invitation is pending."""
    import jwt

    if not settings.ms_client_id or not settings.ms_tenant_ids:
        raise ServiceUnavailable("Microsoft sign-in is not configured on this deployment")
    try:
        jwks = jwks_client or _jwks_client(settings.ms_jwks_url)
        signing_key = jwks.get_signing_key_from_jwt(id_token)
        claims = jwt.decode(id_token, signing_key.key, algorithms=["RS256"], audience=settings.ms_client_id,
                            options={"require": ["exp", "iat", "iss", "aud", "tid"]}, leeway=60)
    except jwt.PyJWTError as exc:
        raise Unauthorized("invalid Microsoft ID token") from exc
    tid = claims.get("tid")
    if tid not in settings.ms_tenant_ids or claims.get("iss") != f"https://login.microsoftonline.com/{tid}/v2.0":
        raise Unauthorized("Microsoft tenant not allowed")
    email = claims.get("email") or claims.get("preferred_username")
    if not email:
        raise Unauthorized("Microsoft ID token carries no email")
    user = users.find_by_email(store, email)
    if user is None:
        invitation = store.of(Invitation).first(("email", "==", users.normalize_email(email)), ("status", "==", "pending"))
        if invitation is None:
            raise Forbidden("no avp account for this Microsoft user; ask an administrator for an invitation")
        from avp.domain import invitations

        user = invitations.accept_for_user(store, invitation, email=email, name=claims.get("name", ""), meta=meta)
    if user.disabled:
        raise Forbidden("account disabled")
    return start_session(store, settings, key, user, meta.acting_as(user), "microsoft")


_jwks_clients: dict[str, Any] = {}


def _jwks_client(url: str):
    import jwt

    if url not in _jwks_clients:
        _jwks_clients[url] = jwt.PyJWKClient(url, cache_keys=True, lifespan=3600)
    return _jwks_clients[url]
