"""Users: accounts, roles, passwords."""
from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from google.api_core.exceptions import Conflict as FirestoreConflict

from avp.auth.passwords import check_policy, hash_password
from avp.auth.tokens import ROLES, new_secret, secret_hash
from avp.domain import audit, sessions, throttle
from avp.domain.audit import AuditMeta
from avp.errors import Conflict, Gone, NotFound, TooManyRequests, Unprocessable
from avp.store import Page, Store, now

AUTH_PROVIDERS = ("password", "microsoft")
SORT_FIELDS = ("email", "created_at", "last_login_at")


def public_view(user: dict[str, Any]) -> dict[str, Any]:
    """What may leave the service about a user (never a hash), in the contract's names."""
    return {"id": user.get("id"), "email": user.get("email"), "display_name": user.get("name") or None,
            "role": user.get("role"), "is_active": not user.get("disabled"),
            "auth_provider": user.get("auth_provider") or "password", "org_ids": list(user.get("org_ids") or []),
            "created_at": user.get("created_at"), "updated_at": user.get("updated_at"),
            "last_login_at": user.get("last_login_at")}


def normalize_email(email: str) -> str:
    return email.strip().lower()


def _email_key(email: str) -> str:
    # One index document per email makes "email is unique" a transactional fact.
    return f"user_emails/{secret_hash(normalize_email(email))}"


def find_by_email(store: Store, email: str) -> dict[str, Any] | None:
    index = store.get(_email_key(email))
    if not index:
        return None
    user = store.get(f"users/{index['user_id']}")
    return user if user and not user.get("deleted") else None


def get_user(store: Store, user_id: str, *, include_deleted: bool = False) -> dict[str, Any]:
    user = store.get(f"users/{user_id}")
    if not user or (user.get("deleted") and not include_deleted):
        raise NotFound("user not found")
    return user


def create_user(store: Store, meta: AuditMeta, *, email: str, role: str, name: str = "", password: str | None = None,
                disabled: bool = False, auth_provider: str = "password", org_ids: list[str] | tuple[str, ...] = ()
                ) -> dict[str, Any]:
    """Create a user, a member of each of `org_ids` with their platform role; 409 if the email is
    taken, 422 for an unknown organization. Without a password the account can only sign in through
    Microsoft or after a reset."""
    from avp.domain import tenancy  # tenancy builds on users

    if role not in ROLES:
        raise Unprocessable({"role": [f"must be one of {', '.join(ROLES)}"]})
    email = normalize_email(email)
    if password is not None:
        check_policy(password, email)
    user_ref = store.collection("users").document()
    data = {"email": email, "name": name, "role": role, "disabled": disabled, "deleted": False, "org_ids": [],
            "auth_provider": auth_provider, "password_hash": hash_password(password) if password else None,
            "created_at": now(), "updated_at": now(), "last_login_at": None}
    org_ids = list(dict.fromkeys(org_ids))

    def txn_fn(txn):
        index_ref = store.ref(_email_key(email))
        if index_ref.get(transaction=txn).exists:
            raise Conflict("a user with this email already exists")
        for org_id in org_ids:
            org = store.get(f"organizations/{org_id}", txn)
            if not org or org.get("deleted"):
                raise Unprocessable({"org_ids": [f"unknown organization {org_id}"]})
        txn.create(index_ref, {"user_id": user_ref.id})
        user = {**data, "id": user_ref.id}
        for org_id in org_ids:
            tenancy.join_organization(store, txn, meta, org_id, user, role)
        data["org_ids"] = user["org_ids"]
        txn.create(user_ref, data)
        audit.record(store, meta, "user.create", f"users/{user_ref.id}", after={"email": email, "role": role}, transaction=txn)

    try:
        store.transaction(txn_fn)
    except FirestoreConflict as exc:
        raise Conflict("a user with this email already exists") from exc
    return {**data, "id": user_ref.id}


def list_users(store: Store, *, page: int, size: int, cursor: str | None = None, role: str | None = None,
               email: str | None = None, q: str | None = None, is_active: bool | None = None,
               org_id: str | None = None, sort: str = "email") -> Page:
    """Users (not deleted), filtered and sorted as the admin list asks. `q` matches the start of the
    email: Firestore has no substring search, and a prefix is a range on the one indexed field."""
    filters: list = [("deleted", "==", False)]
    if role:
        filters.append(("role", "==", role))
    if email:
        filters.append(("email", "==", normalize_email(email)))
    if is_active is not None:
        filters.append(("disabled", "==", not is_active))
    if org_id:
        filters.append(("org_ids", "array_contains", org_id))
    field, direction = sort.lstrip("-"), "desc" if sort.startswith("-") else "asc"
    if q and q.strip():
        prefix = normalize_email(q)
        filters += [("email", ">=", prefix), ("email", "<", prefix + "\uf8ff")]
        # Firestore orders by the range field first.
        field = "email"
    result = store.paginate("users", filters, (field, direction), page, size, cursor=cursor)
    result.items = [public_view(u) for u in result.items]
    return result


def _require_another_admin(store: Store, txn, user_id: str) -> None:
    """409 unless an active admin other than `user_id` remains. Read inside the transaction, so two
    admins demoting each other at once cannot both succeed."""
    admins = store.query("users", [("role", "==", "admin"), ("disabled", "==", False), ("deleted", "==", False)], limit=2)
    if not any(snap.id != user_id for snap in txn.get(admins)):
        raise Conflict("this is the last active administrator; make another administrator first")


def update_user(store: Store, meta: AuditMeta, user_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Change name, role or disabled; role changes and disabling are security events that end the
    user's sessions. The last active admin cannot be demoted or disabled (409)."""
    if "role" in changes and changes["role"] not in ROLES:
        raise Unprocessable({"role": [f"must be one of {', '.join(ROLES)}"]})
    allowed = {k: v for k, v in changes.items() if k in ("name", "role", "disabled")}

    def txn_fn(txn):
        ref = store.ref(f"users/{user_id}")
        snap = ref.get(transaction=txn)
        if not snap.exists or snap.get("deleted"):
            raise NotFound("user not found")
        current = snap.to_dict()
        before = {k: current.get(k) for k in allowed}
        demoted = "role" in allowed and allowed["role"] != current["role"]
        disabled = bool(allowed.get("disabled")) and not current.get("disabled")
        if current["role"] == "admin" and not current.get("disabled") and (demoted or disabled):
            _require_another_admin(store, txn, user_id)
        txn.update(ref, {**allowed, "updated_at": now(), **(sessions.REVOKED if demoted or disabled else {})})
        action = "user.role" if demoted else "user.update"
        audit.record(store, meta, action, f"users/{user_id}", before=before, after=allowed, transaction=txn)
        return {**current, **allowed, "id": user_id}

    user = store.transaction(txn_fn)
    sessions.forget(store, user_id)
    if allowed.get("disabled"):
        revoke_all_refresh_tokens(store, user_id)
    return user


def delete_user(store: Store, meta: AuditMeta, user_id: str) -> None:
    """Soft delete: the account is disabled, hidden and its email freed; its history stays."""
    user = get_user(store, user_id)
    if meta.actor_id == user_id:
        raise Conflict("you cannot delete your own account")

    def txn_fn(txn):
        current = store.get(f"users/{user_id}", txn)
        if current is None or current.get("deleted"):
            raise NotFound("user not found")
        if current["role"] == "admin" and not current.get("disabled"):
            _require_another_admin(store, txn, user_id)
        txn.update(store.ref(f"users/{user_id}"), {"deleted": True, "disabled": True, "deleted_at": now(), "updated_at": now(),
                                                   **sessions.REVOKED})
        txn.delete(store.ref(_email_key(user["email"])))
        audit.record(store, meta, "user.delete", f"users/{user_id}", before={"email": user["email"]}, transaction=txn)

    store.transaction(txn_fn)
    sessions.forget(store, user_id)
    revoke_all_refresh_tokens(store, user_id)


def set_password(store: Store, meta: AuditMeta, user_id: str, password: str) -> None:
    """Set a new password and sign the user out everywhere."""
    user = get_user(store, user_id)
    check_policy(password, user["email"])
    store.update(f"users/{user_id}", {"password_hash": hash_password(password), "updated_at": now(), **sessions.REVOKED})
    sessions.forget(store, user_id)
    audit.record(store, meta, "user.password.set", f"users/{user_id}")
    revoke_all_refresh_tokens(store, user_id)


RESET_TTL = 3600  # seconds a reset link works
FIRST_PASSWORD_TTL = 7 * 24 * 3600  # a new account's set-your-password link waits longer for its owner
RESET_PAGE = "/reset-password"
RESET_ATTEMPTS, RESET_WINDOW = 20, 900  # redemptions per client address per window (seconds)


def send_password_reset(store: Store, meta: AuditMeta, mailer, public_url: str, user_id: str, *, first: bool = False) -> None:
    """Mail the user a single-use link to choose a password: a reset, or with `first` the welcome of an
    account created without one. The token is stored only as a hash; it travels in the link's fragment,
    which browsers never send to a server, so it stays out of access logs."""
    user = get_user(store, user_id)
    ttl = FIRST_PASSWORD_TTL if first else RESET_TTL
    token = new_secret()
    store.set(f"password_resets/{secret_hash(token)}",
              {"user_id": user_id, "expires_at": now() + dt.timedelta(seconds=ttl), "used": False, "first": first})
    link = f"{public_url}{RESET_PAGE}#token={token}"
    if first:
        mailer.send(user["email"], "Set your avp password",
                    f"An avp account was created for you ({user['email']}).\n\nChoose your password here (valid "
                    f"{ttl // 86400} days):\n{link}\n\nIf you did not expect this, ignore this message.")
    else:
        mailer.send(user["email"], "Reset your avp password",
                    f"Someone asked to reset your avp password.\n\nSet a new one here (valid {ttl // 60} minutes):\n"
                    f"{link}\n\nIf it was not you, ignore this message.")
    audit.record(store, meta, "user.password.set_requested" if first else "user.password.reset_requested", f"users/{user_id}")


def redeem_password_reset(store: Store, meta: AuditMeta, token: str, password: str) -> None:
    """Set the password a reset (or set-your-password) link was mailed for: the link works once and
    until it expires (410 after; 404 for a link that never existed), the password policy applies
    before the link is spent, and every session of the user ends. Rate limited per client address (429)."""
    attempts = throttle.hit(store, f"password-reset:{meta.ip or 'unknown'}", RESET_WINDOW)
    if attempts.count > RESET_ATTEMPTS:
        raise TooManyRequests("too many password reset attempts; try again later", retry_after=attempts.seconds_left)
    ref = store.ref(f"password_resets/{secret_hash(token)}")
    reset = store.get(ref.path)
    if reset is None:
        raise NotFound("reset link not found")
    user = get_user(store, reset["user_id"])
    check_policy(password, user["email"])
    new_hash = hash_password(password)

    def txn_fn(txn):
        current = store.get(ref.path, txn)
        if current["used"]:
            raise Gone("this link was already used; ask for a new one")
        if current["expires_at"] <= now():
            raise Gone("this link has expired; ask for a new one")
        txn.update(ref, {"used": True, "used_at": now()})
        txn.update(store.ref(f"users/{user['id']}"), {"password_hash": new_hash, "updated_at": now(), **sessions.REVOKED})
        audit.record(store, AuditMeta(user["id"], user["role"], meta.request_id, meta.ip), "user.password.reset",
                     f"users/{user['id']}", transaction=txn)

    store.transaction(txn_fn)
    sessions.forget(store, user["id"])
    revoke_all_refresh_tokens(store, user["id"])


def revoke_all_refresh_tokens(store: Store, user_id: str) -> int:
    snaps = list(store.query("refresh_tokens", [("user_id", "==", user_id), ("revoked", "==", False)]).stream())
    for snap in snaps:
        snap.reference.update({"revoked": True})
    return len(snaps)


def ensure_first_admin(store: Store, email: str, password: str | None) -> str | None:
    """Create the first admin if there is no admin yet. Returns a generated password (to print once)
    when none was configured, else None."""
    if store.find_one("users", [("role", "==", "admin"), ("deleted", "==", False)]):
        return None
    generated = None
    if not password:
        generated = password = secrets.token_urlsafe(12)
    try:
        create_user(store, audit.SYSTEM, email=email, role="admin", name="Administrator", password=password)
    except Conflict:
        return None
    return generated
