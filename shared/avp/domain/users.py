"""Users: accounts, roles, passwords."""
from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from google.api_core.exceptions import Conflict as FirestoreConflict

from avp.auth.passwords import check_policy, hash_password
from avp.auth.tokens import ROLES, new_secret, secret_hash
from avp.domain import audit, sessions
from avp.domain.audit import AuditMeta
from avp.errors import Conflict, NotFound, Unprocessable
from avp.store import Page, Store, now

PUBLIC_FIELDS = ("id", "email", "name", "role", "disabled", "org_ids", "created_at", "updated_at", "last_login_at")


def public_view(user: dict[str, Any]) -> dict[str, Any]:
    """What may leave the service about a user (never a hash)."""
    return {k: user.get(k) for k in PUBLIC_FIELDS}


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
                disabled: bool = False) -> dict[str, Any]:
    """Create a user; 409 if the email is taken. Without a password the account can only sign in
    through Microsoft or after a reset."""
    if role not in ROLES:
        raise Unprocessable({"role": [f"must be one of {', '.join(ROLES)}"]})
    email = normalize_email(email)
    if password is not None:
        check_policy(password, email)
    user_ref = store.collection("users").document()
    data = {"email": email, "name": name, "role": role, "disabled": disabled, "deleted": False, "org_ids": [],
            "password_hash": hash_password(password) if password else None, "created_at": now(), "updated_at": now()}

    def txn_fn(txn):
        index_ref = store.ref(_email_key(email))
        if index_ref.get(transaction=txn).exists:
            raise Conflict("a user with this email already exists")
        txn.create(index_ref, {"user_id": user_ref.id})
        txn.create(user_ref, data)
        audit.record(store, meta, "user.create", f"users/{user_ref.id}", after={"email": email, "role": role}, transaction=txn)

    try:
        store.transaction(txn_fn)
    except FirestoreConflict as exc:
        raise Conflict("a user with this email already exists") from exc
    return {**data, "id": user_ref.id}


def list_users(store: Store, *, page: int, size: int, role: str | None = None, email: str | None = None) -> Page:
    filters: list = [("deleted", "==", False)]
    if role:
        filters.append(("role", "==", role))
    if email:
        filters.append(("email", "==", normalize_email(email)))
    result = store.paginate("users", filters, ("created_at", "asc"), page, size)
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


def send_password_reset(store: Store, meta: AuditMeta, mailer, public_url: str, user_id: str, ttl: int = 3600) -> None:
    """Mail the user a single-use reset link (the token is stored only as a hash)."""
    user = get_user(store, user_id)
    token = new_secret()
    store.set(f"password_resets/{secret_hash(token)}",
              {"user_id": user_id, "expires_at": now() + dt.timedelta(seconds=ttl), "used": False})
    mailer.send(user["email"], "Reset your avp password",
                f"Someone asked to reset your avp password.\n\nSet a new one here (valid {ttl // 60} minutes):\n"
                f"{public_url}/reset-password?token={token}\n\nIf it was not you, ignore this message.")
    audit.record(store, meta, "user.password.reset_requested", f"users/{user_id}")


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
