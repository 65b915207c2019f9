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
from avp.domain.audit import AuditMeta
from avp.errors import Forbidden, ServiceUnavailable, TooManyRequests, Unauthorized
from avp.store import Store, new_id, now

INVALID_LOGIN = "incorrect email or password"


@dataclass
class Session:
    """What a successful sign-in hands back: the access token for the body, the refresh secret for the cookie."""

    user: dict[str, Any]
    access_token: str
    expires_in: int
    refresh_token: str

    def body(self) -> dict[str, Any]:
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
    def lock_path(self) -> str:
        return f"login_throttle/{self.kind}-{secret_hash(self.key)}"


def _check_locked(store: Store, throttles: tuple[_Throttle, ...]) -> dict[str, dict[str, Any]]:
    """429 while any throttle is locked; else each throttle's lock document (for counting failures)."""
    locks = {}
    for throttle in throttles:
        lock = store.get(throttle.lock_path) or {}
        if lock.get("locked_until", 0) > time.time():
            raise TooManyRequests("too many failed sign-in attempts; try again later",
                                  retry_after=int(lock["locked_until"] - time.time()) + 1)
        locks[throttle.kind] = lock
    return locks


def _note_failure(store: Store, throttle: _Throttle, lock: dict[str, Any], lockout: int) -> bool:
    """Count a failure; True when the count since the last lock (in this window) reaches the limit,
    which locks the key for `lockout` seconds. Parallel failures past the limit all lock: a burst
    cannot slip attempts through while the lock document is being written."""
    hit = throttle_counter.hit(store, throttle.counter, FAILURE_WINDOW)
    since = hit.count - (lock.get("at_count", 0) if lock.get("slot") == hit.slot else 0)
    if since < throttle.limit:
        return False
    store.set(throttle.lock_path, {"locked_until": time.time() + lockout, "slot": hit.slot, "at_count": hit.count,
                                   "expires_at": now() + dt.timedelta(seconds=max(FAILURE_WINDOW, lockout))})
    return True


def login(store: Store, settings: Settings, key: str, email: str, password: str, meta: AuditMeta) -> Session:
    """Email + password sign-in. Unknown email and wrong password look the same (status, body, time)."""
    account = _Throttle("acct", users.normalize_email(email), settings.login_max_failures)
    address = _Throttle("ip", meta.ip or "unknown", settings.login_ip_max_failures)
    locks = _check_locked(store, (account, address))
    user = users.find_by_email(store, email)
    valid = verify_password(user.get("password_hash") if user else None, password)
    if not valid or user is None or user.get("disabled"):
        locked = _note_failure(store, account, locks["acct"], settings.lockout_seconds)
        ip_locked = _note_failure(store, address, locks["ip"], settings.lockout_seconds)
        audit.record(store, AuditMeta(user["id"] if user else None, None, meta.request_id, meta.ip),
                     "auth.login_failed", f"users/{user['id']}" if user else "users/unknown",
                     extra={"email_hash": secret_hash(users.normalize_email(email)), "locked": locked or ip_locked})
        if locked or ip_locked:
            audit.record(store, meta, "auth.lockout", "users/" + (user["id"] if user else "unknown"))
            raise TooManyRequests("too many failed sign-in attempts; try again later", retry_after=settings.lockout_seconds)
        raise Unauthorized(INVALID_LOGIN)
    throttle_counter.forget(store, account.counter, FAILURE_WINDOW)
    store.delete(account.lock_path)  # its count since the last lock refers to the counter just cleared
    if needs_rehash(user["password_hash"]):
        store.update(f"users/{user['id']}", {"password_hash": hash_password(password)})
    return start_session(store, settings, key, user, meta.acting_as(user), "password")


def start_session(store: Store, settings: Settings, key: str, user: dict[str, Any], meta: AuditMeta, method: str) -> Session:
    """Sign `user` in (they were authenticated by `method`): a new refresh family and an access token."""
    store.update(f"users/{user['id']}", {"last_login_at": now()})
    refresh = _new_refresh(store, settings, user["id"], family=new_id())
    audit.record(store, meta, "auth.login", f"users/{user['id']}", extra={"method": method})
    access, ttl = issue_access_token(key, user, user.get("org_ids") or [], settings.access_ttl)
    return Session(user, access, ttl, refresh)


def _new_refresh(store: Store, settings: Settings, user_id: str, family: str, transaction=None) -> str:
    secret = new_secret()
    doc = {"user_id": user_id, "family": family, "used": False, "revoked": False, "created_at": now(),
           "expires_at": now() + dt.timedelta(seconds=settings.refresh_ttl)}  # a timestamp: TTL clears it
    ref = store.ref(f"refresh_tokens/{secret_hash(secret)}")
    if transaction is not None:
        transaction.create(ref, doc)
    else:
        ref.create(doc)
    return secret


def revoke_family(store: Store, family: str) -> None:
    for snap in store.query("refresh_tokens", [("family", "==", family)]).stream():
        snap.reference.update({"revoked": True})


def refresh(store: Store, settings: Settings, key: str, secret: str | None, meta: AuditMeta) -> Session:
    """Rotate a refresh token. Presenting one that was already used revokes its whole family
    (someone else may hold a stolen copy)."""
    if not secret:
        raise Unauthorized("missing refresh token")
    ref = store.ref(f"refresh_tokens/{secret_hash(secret)}")

    def txn_fn(txn):
        snap = ref.get(transaction=txn)
        if not snap.exists:
            return ("invalid", None, None)
        data = snap.to_dict()
        if data.get("revoked") or data["expires_at"] < now():
            return ("invalid", data, None)
        if data.get("used"):
            return ("reused", data, None)
        txn.update(ref, {"used": True, "used_at": now()})
        new_secret_value = _new_refresh(store, settings, data["user_id"], data["family"], transaction=txn)
        return ("ok", data, new_secret_value)

    outcome, data, new_value = store.transaction(txn_fn)
    if outcome == "reused":
        revoke_family(store, data["family"])
        audit.record(store, AuditMeta(data["user_id"], None, meta.request_id, meta.ip), "auth.refresh_reuse",
                     f"users/{data['user_id']}", extra={"family": data["family"]})
        raise Unauthorized("refresh token already used; all sessions of this sign-in were revoked")
    if outcome != "ok":
        raise Unauthorized("invalid or expired refresh token")
    user = store.get(f"users/{data['user_id']}")
    if not user or user.get("disabled") or user.get("deleted"):
        revoke_family(store, data["family"])
        raise Unauthorized("account disabled")
    access, ttl = issue_access_token(key, user, user.get("org_ids") or [], settings.access_ttl)
    return Session(user, access, ttl, new_value)


def logout(store: Store, secret: str | None, meta: AuditMeta) -> None:
    """Revoke the presented refresh token's family (this sign-in on this device) and every access token of
    the caller (other devices refresh into new ones; their refresh families stay valid)."""
    if secret:
        snap = store.ref(f"refresh_tokens/{secret_hash(secret)}").get()
        if snap.exists:
            revoke_family(store, snap.get("family"))
    if meta.actor_id:
        sessions.revoke(store, meta.actor_id)
    audit.record(store, meta, "auth.logout", f"users/{meta.actor_id}")


def microsoft_login(store: Store, settings: Settings, key: str, id_token: str, meta: AuditMeta, jwks_client=None) -> Session:
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
        invitation = store.find_one("invitations", [("email", "==", users.normalize_email(email)), ("status", "==", "pending")])
        if invitation is None:
            raise Forbidden("no avp account for this Microsoft user; ask an administrator for an invitation")
        from avp.domain import invitations

        user = invitations.accept_for_user(store, invitation, email=email, name=claims.get("name", ""), meta=meta)
    if user.get("disabled"):
        raise Forbidden("account disabled")
    return start_session(store, settings, key, user, meta.acting_as(user), "microsoft")


_jwks_clients: dict[str, Any] = {}


def _jwks_client(url: str):
    import jwt

    if url not in _jwks_clients:
        _jwks_clients[url] = jwt.PyJWKClient(url, cache_keys=True, lifespan=3600)
    return _jwks_clients[url]
