"""Users: accounts, roles, passwords."""
from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import replace
from collections.abc import Callable
from typing import Any

from avp.auth.passwords import check_policy, hash_password
from avp.auth.tokens import ROLES, new_secret, secret_hash
from avp.domain import audit, sessions, throttle
from avp.domain.aggregates import EmailClaim, Organization, PasswordReset, RefreshToken, User
from avp.domain.audit import AuditMeta
from avp.domain.paging import Page
from avp.domain.ports import Database, UnitOfWork
from avp.domain.records import new_id, now
from avp.errors import Conflict, Gone, NotFound, TooManyRequests, Unprocessable

AUTH_PROVIDERS = ("password", "microsoft")
SORT_FIELDS = ("email", "created_at", "last_login_at")


def public_view(user: User) -> dict[str, Any]:
    """What may leave the service about a user (never a hash), in the contract's names."""
    return {"id": user.id, "email": user.email, "display_name": user.name or None, "role": user.role,
            "is_active": not user.disabled, "auth_provider": user.auth_provider or "password",
            "org_ids": list(user.org_ids), "created_at": user.created_at, "updated_at": user.updated_at,
            "last_login_at": user.last_login_at}


def normalize_email(email: str) -> str:
    """The form an email is stored, compared and claimed in (trimmed, lower case)."""
    return email.strip().lower()


def email_claim_id(email: str) -> str:
    """The id of the email's claim (one per address makes "email is unique" a transactional fact)."""
    return secret_hash(normalize_email(email))


def find_by_email(store: Database, email: str) -> User | None:
    """The live account that claims `email`, or None."""
    claim = store.of(EmailClaim).lookup(email_claim_id(email))
    if claim is None:
        return None
    user = store.of(User).lookup(claim.user_id)
    return user if user and not user.deleted else None


def get_user(store: Database, user_id: str, *, include_deleted: bool = False) -> User:
    """The account (404 when there is none, or it was deleted and `include_deleted` is not set)."""
    user = store.of(User).lookup(user_id)
    if user is None or (user.deleted and not include_deleted):
        raise NotFound("user not found")
    return user


def create_user(store: Database, meta: AuditMeta, *, email: str, role: str, name: str = "",
                password: str | None = None, disabled: bool = False, auth_provider: str = "password",
                org_ids: list[str] | tuple[str, ...] = ()) -> User:
    """Create a user, a member of each of `org_ids` with their platform role; 409 if the email is
    taken, 422 for an unknown organization. Without a password the account can only sign in through
    Microsoft or after a reset."""
    from avp.domain import tenancy  # tenancy builds on users

    if role not in ROLES:
        raise Unprocessable({"role": [f"must be one of {', '.join(ROLES)}"]})
    email = normalize_email(email)
    if password is not None:
        check_policy(password, email)
    stamp = now()
    user = User(id=new_id(), email=email, name=name, role=role, disabled=disabled, auth_provider=auth_provider,
                password_hash=hash_password(password) if password else None, created_at=stamp, updated_at=stamp)
    org_ids = list(dict.fromkeys(org_ids))

    def work(uow: UnitOfWork) -> None:
        if uow.of(EmailClaim).lookup(email_claim_id(email)) is not None:
            raise Conflict("a user with this email already exists")
        for org_id in org_ids:
            org = uow.of(Organization).lookup(org_id)
            if org is None or org.deleted:
                raise Unprocessable({"org_ids": [f"unknown organization {org_id}"]})
        uow.of(EmailClaim).add(EmailClaim(id=email_claim_id(email), user_id=user.id))
        for org_id in org_ids:
            tenancy.join_organization(uow, meta, org_id, user, role)
        uow.of(User).add(user)
        uow.audit.append(audit.entry(meta, "user.create", f"users/{user.id}", after={"email": email, "role": role}))

    try:
        store.atomically(work)
    except Conflict as exc:  # a claim made meanwhile by a concurrent sign-up surfaces as a generic conflict
        raise Conflict("a user with this email already exists") from exc
    return user


def list_users(store: Database, *, page: int, size: int, cursor: str | None = None, role: str | None = None,
               email: str | None = None, q: str | None = None, is_active: bool | None = None,
               org_id: str | None = None, sort: str = "email") -> Page[dict[str, Any]]:
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
    return store.of(User).page(filters, (field, direction), page, size, cursor).map(public_view)


def _require_another_admin(uow: UnitOfWork, user_id: str) -> None:
    """409 unless an active admin other than `user_id` remains. Read inside the unit of work, so two
    admins demoting each other at once cannot both succeed."""
    admins = uow.of(User).where(("role", "==", "admin"), ("disabled", "==", False), ("deleted", "==", False), limit=2)
    if not any(admin.id != user_id for admin in admins):
        raise Conflict("this is the last active administrator; make another administrator first")


def _live(uow: UnitOfWork, user_id: str) -> User:
    user = uow.of(User).lookup(user_id)
    if user is None or user.deleted:
        raise NotFound("user not found")
    return user


SeatRule = Callable[[UnitOfWork, AuditMeta, User, str], None]


def update_user(store: Database, meta: AuditMeta, user_id: str, changes: dict[str, Any],
                on_role_change: SeatRule | None = None) -> User:
    """Change name, role or disabled; role changes and disabling are security events that end the
    user's sessions. The last active admin cannot be demoted or disabled (409). `on_role_change`
    (tenancy's `drop_unfitting_seats`) ends, in the same unit of work, the seats the new role
    cannot hold and sets the user's seat lists."""
    if "role" in changes and changes["role"] not in ROLES:
        raise Unprocessable({"role": [f"must be one of {', '.join(ROLES)}"]})
    allowed = {k: v for k, v in changes.items() if k in ("name", "role", "disabled")}

    def change(uow: UnitOfWork) -> User:
        current = _live(uow, user_id)
        before = {k: getattr(current, k) for k in allowed}
        demoted = "role" in allowed and allowed["role"] != current.role
        disabled = bool(allowed.get("disabled")) and not current.disabled
        if current.role == "admin" and not current.disabled and (demoted or disabled):
            _require_another_admin(uow, user_id)
        seats: dict[str, Any] = {}
        if demoted and on_role_change is not None:
            on_role_change(uow, meta, current, allowed["role"])
            seats = {"pm_client_ids": list(current.pm_client_ids), "team_client_ids": list(current.team_client_ids)}
        stamp = now()
        uow.of(User).update(user_id, {**allowed, **seats, "updated_at": stamp,
                                      **(sessions.REVOKED if demoted or disabled else {})})
        action = "user.role" if demoted else "user.update"
        uow.audit.append(audit.entry(meta, action, f"users/{user_id}", before=before, after=allowed))
        return replace(current, **allowed, updated_at=stamp)

    user = store.atomically(change)
    sessions.forget(store, user_id)
    if allowed.get("disabled"):
        revoke_all_refresh_tokens(store, user_id)
    return user


def delete_user(store: Database, meta: AuditMeta, user_id: str) -> None:
    """Soft delete: the account is disabled, hidden and its email freed; its history stays."""
    get_user(store, user_id)
    if meta.actor_id == user_id:
        raise Conflict("you cannot delete your own account")

    def change(uow: UnitOfWork) -> None:
        current = _live(uow, user_id)
        if current.role == "admin" and not current.disabled:
            _require_another_admin(uow, user_id)
        stamp = now()
        uow.of(User).update(user_id, {"deleted": True, "disabled": True, "deleted_at": stamp, "updated_at": stamp,
                                      **sessions.REVOKED})
        uow.of(EmailClaim).delete(email_claim_id(current.email))
        uow.audit.append(audit.entry(meta, "user.delete", f"users/{user_id}", before={"email": current.email}))

    store.atomically(change)
    sessions.forget(store, user_id)
    revoke_all_refresh_tokens(store, user_id)


def set_password(store: Database, meta: AuditMeta, user_id: str, password: str) -> None:
    """Set a new password and sign the user out everywhere."""
    user = get_user(store, user_id)
    check_policy(password, user.email)
    store.of(User).update(user_id, {"password_hash": hash_password(password), "updated_at": now(), **sessions.REVOKED})
    sessions.forget(store, user_id)
    audit.record(store, meta, "user.password.set", f"users/{user_id}")
    revoke_all_refresh_tokens(store, user_id)


RESET_TTL = 3600  # seconds a reset link works
FIRST_PASSWORD_TTL = 7 * 24 * 3600  # a new account's set-your-password link waits longer for its owner
RESET_PAGE = "/reset-password"
RESET_ATTEMPTS, RESET_WINDOW = 20, 900  # redemptions per client address per window (seconds)


def send_password_reset(store: Database, meta: AuditMeta, mailer, public_url: str, user_id: str, *,
                        first: bool = False) -> None:
    """Mail the user a single-use link to choose a password: a reset, or with `first` the welcome of an
    account created without one. The token is stored only as a hash; it travels in the link's fragment,
    which browsers never send to a server, so it stays out of access logs."""
    user = get_user(store, user_id)
    ttl = FIRST_PASSWORD_TTL if first else RESET_TTL
    token = new_secret()
    store.of(PasswordReset).put(PasswordReset(id=secret_hash(token), user_id=user_id, first=first,
                                              expires_at=now() + dt.timedelta(seconds=ttl)))
    link = f"{public_url}{RESET_PAGE}#token={token}"
    if first:
        mailer.send(user.email, "Set your avp password",
                    f"An avp account was created for you ({user.email}).\n\nChoose your password here (valid "
                    f"{ttl // 86400} days):\n{link}\n\nIf you did not expect this, ignore this message.")
    else:
        mailer.send(user.email, "Reset your avp password",
                    f"Someone asked to reset your avp password.\n\nSet a new one here (valid {ttl // 60} minutes):\n"
                    f"{link}\n\nIf it was not you, ignore this message.")
    audit.record(store, meta, "user.password.set_requested" if first else "user.password.reset_requested", f"users/{user_id}")


def redeem_password_reset(store: Database, meta: AuditMeta, token: str, password: str) -> None:
    """Set the password a reset (or set-your-password) link was mailed for: the link works once and
    until it expires (410 after; 404 for a link that never existed), the password policy applies
    before the link is spent, and every session of the user ends. Rate limited per client address (429)."""
    attempts = throttle.hit(store, f"password-reset:{meta.ip or 'unknown'}", RESET_WINDOW)
    if attempts.count > RESET_ATTEMPTS:
        raise TooManyRequests("too many password reset attempts; try again later", retry_after=attempts.seconds_left)
    reset_id = secret_hash(token)
    reset = store.of(PasswordReset).lookup(reset_id)
    if reset is None:
        raise NotFound("reset link not found")
    user = get_user(store, reset.user_id)
    check_policy(password, user.email)
    new_hash = hash_password(password)

    def change(uow: UnitOfWork) -> None:
        current = uow.of(PasswordReset).get(reset_id)
        if current.used:
            raise Gone("this link was already used; ask for a new one")
        if current.expires_at <= now():
            raise Gone("this link has expired; ask for a new one")
        uow.of(PasswordReset).update(reset_id, {"used": True, "used_at": now()})
        uow.of(User).update(user.id, {"password_hash": new_hash, "updated_at": now(), **sessions.REVOKED})
        uow.audit.append(audit.entry(meta.acting_as(user), "user.password.reset", f"users/{user.id}"))

    store.atomically(change)
    sessions.forget(store, user.id)
    revoke_all_refresh_tokens(store, user.id)


def revoke_all_refresh_tokens(store: Database, user_id: str) -> int:
    """Revoke every unrevoked refresh token of the user (each device must sign in again); returns how many."""
    tokens = store.of(RefreshToken)
    live = tokens.where(("user_id", "==", user_id), ("revoked", "==", False))
    for token in live:
        tokens.update(token.id, {"revoked": True})
    return len(live)


def ensure_first_admin(store: Database, email: str, password: str | None) -> str | None:
    """Create the first admin if there is no admin yet. Returns a generated password (to print once)
    when none was configured, else None."""
    if store.of(User).first(("role", "==", "admin"), ("deleted", "==", False)):
        return None
    generated = None
    if not password:
        generated = password = secrets.token_urlsafe(12)
    try:
        create_user(store, audit.SYSTEM, email=email, role="admin", name="Administrator", password=password)
    except Conflict:
        return None
    return generated
