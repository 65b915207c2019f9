"""The typed records avp stores besides jobs and tracks (`avp.domain.model`): one dataclass per
aggregate, whose fields are its stored document (`avp.domain.records.Record` maps them) and whose
`COLLECTION` says where it lives. The domain reads and writes them only through repositories
(`store.of(ReviewNote, job_id=...)`); the API's views are built from these objects.

Every stored time is an aware UTC datetime; `None` means "not set" and is stored as null.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from avp.domain.records import Record

# -- tenancy: organizations, members, clients, teams, projects ---------------------------------


# -- accounts: users, sessions, invitations ------------------------------------------------------


@dataclass(kw_only=True)
class User(Record):
    """An account: its platform role, its denormalised memberships (organizations, clients it is PM of,
    clients whose team it is in) and its session epoch (raising it ends every access token issued so far).
    A deleted account stays, disabled and hidden, so its history keeps a name."""

    COLLECTION = "users"
    NOUN = "user"

    email: str
    role: str
    name: str = ""
    disabled: bool = False
    deleted: bool = False
    auth_provider: str = "password"
    password_hash: str | None = None
    org_ids: list[str] = field(default_factory=list)
    pm_client_ids: list[str] = field(default_factory=list)
    team_client_ids: list[str] = field(default_factory=list)
    session_epoch: int = 0
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    last_login_at: dt.datetime | None = None
    deleted_at: dt.datetime | None = None

    @property
    def active(self) -> bool:
        """Neither disabled nor deleted: the account can act."""
        return not (self.disabled or self.deleted)


@dataclass(kw_only=True)
class EmailClaim(Record):
    """The claim of one email address by one account: its id is the hash of the normalised email, so
    "an email belongs to one account" is a fact a unit of work can check and create atomically."""

    COLLECTION = "user_emails"
    NOUN = "user"

    user_id: str


@dataclass(kw_only=True)
class Invitation(Record):
    """An email invited into an organization with a role (and perhaps a client's team); its link's
    secret is stored only as a hash. Pending until accepted, revoked or expired."""

    COLLECTION = "invitations"
    NOUN = "invitation"

    email: str
    org_id: str
    role: str
    secret_hash: str
    client_id: str | None = None
    team_id: str | None = None
    status: str = "pending"
    invited_by: str | None = None
    created_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None
    accepted_at: dt.datetime | None = None
    accepted_user_id: str | None = None


@dataclass(kw_only=True)
class RefreshToken(Record):
    """One refresh token of a sign-in (its id is the hash of the secret in the cookie). Each use
    rotates it within its family; a second use of a spent one revokes the family."""

    COLLECTION = "refresh_tokens"
    NOUN = "refresh token"

    user_id: str
    family: str
    used: bool = False
    revoked: bool = False
    created_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None   # a timestamp: Firestore's TTL clears the token after it
    used_at: dt.datetime | None = None


@dataclass(kw_only=True)
class PasswordReset(Record):
    """A mailed single-use link to choose a password (its id is the hash of the link's secret)."""

    COLLECTION = "password_resets"
    NOUN = "reset link"

    user_id: str
    expires_at: dt.datetime
    used: bool = False
    first: bool = False   # an account's first password (the welcome mail), not a reset
    used_at: dt.datetime | None = None


@dataclass(kw_only=True)
class RateCount(Record):
    """Attempts counted for one key in one fixed window (id: the key's hash and the window's number)."""

    COLLECTION = "rate_limits"
    NOUN = "rate count"

    count: int = 0
    expires_at: dt.datetime | None = None   # TTL: the count means nothing once its window is over


@dataclass(kw_only=True)
class LoginLock(Record):
    """A sign-in throttle's lock (per account or per client address): locked until `locked_until`
    (epoch seconds), set when the failures counted since `at_count` in window `slot` reached the limit."""

    COLLECTION = "login_throttle"
    NOUN = "sign-in lock"

    locked_until: float = 0.0
    slot: int | None = None
    at_count: int = 0
    expires_at: dt.datetime | None = None


# -- a job's companions: review notes, share links, briefs, glossaries, audit -----------------------


@dataclass(kw_only=True)
class ReviewNote(Record):
    """A timestamped remark on a job's media, open until someone resolves it."""

    COLLECTION = "jobs/{job_id}/review_notes"
    NOUN = "review note"

    job_id: str
    language: str | None = None
    asset: str = "source_video"
    timestamp: float = 0.0
    text: str = ""
    status: str = "open"
    author_id: str | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None


@dataclass(kw_only=True)
class ShareLink(Record):
    """A link to a complete job's deliverables for people without an account; only its secret's
    hash is stored."""

    COLLECTION = "share_tokens"
    NOUN = "share link"

    job_id: str
    secret_hash: str
    label: str | None = None
    languages: list[str] = field(default_factory=list)
    assets: list[str] = field(default_factory=list)
    created_by: str | None = None
    created_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    revoked: bool = False
    revoked_at: dt.datetime | None = None
    revoked_by: str | None = None
    last_used_at: dt.datetime | None = None


@dataclass(kw_only=True)
class AuditEntry(Record):
    """Who did what to which thing, when, from where. `category`, `target_type` and `target_id`
    are derived from the action and target (`avp.domain.audit.entry`) so the log filters by them;
    what one kind of entry adds (a language action's note) rides in `extra`."""

    COLLECTION = "audit_logs"
    NOUN = "audit entry"

    action: str = ""
    target: str = ""
    actor_id: str | None = None
    actor_role: str | None = None
    actor_email: str | None = None
    at: dt.datetime | None = None
    request_id: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    before: Any = None
    after: Any = None
    reason: str | None = None
    security: bool = False
    category: str | None = None
    target_type: str | None = None
    target_id: str | None = None
