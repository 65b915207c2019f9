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


@dataclass(kw_only=True)
class Organization(Record):
    """A tenant: its members, clients and jobs belong to it. `name_key` (the name folded for
    comparison) orders lists and backs the name's uniqueness claim (`OrganizationName`).
    `member_ids` mirrors the ids of its `Member` records (written with them, never shown by the
    API) so a member's organizations are one query however many they are."""

    COLLECTION = "organizations"
    NOUN = "organization"

    name: str
    name_key: str
    slug: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    member_count: int = 0
    member_ids: list[str] = field(default_factory=list)
    deleted: bool = False
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None


@dataclass(kw_only=True)
class Member(Record):
    """A user's membership of an organization, with their role there; its id is the user's id."""

    COLLECTION = "organizations/{org_id}/members"
    NOUN = "member"

    user_id: str
    org_id: str
    role: str
    added_at: dt.datetime | None = None


@dataclass(kw_only=True)
class Client(Record):
    """A customer of an organization: its PMs (`pm_ids`), teams of client users, and projects.
    `viewer_ids` holds everyone who sees it through a seat (its PMs and the members of each of its
    teams; written with every change of them, never shown by the API) so a PM's or client user's
    clients are one query however many they are."""

    COLLECTION = "clients"
    NOUN = "client"

    org_id: str
    name: str
    name_key: str
    pm_ids: list[str] = field(default_factory=list)
    viewer_ids: list[str] = field(default_factory=list)
    team_count: int = 0
    project_count: int = 0
    deleted: bool = False
    deleted_at: dt.datetime | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None


@dataclass(kw_only=True)
class Team(Record):
    """Client users who see the client's jobs."""

    COLLECTION = "clients/{client_id}/teams"
    NOUN = "team"

    client_id: str
    org_id: str
    name: str
    member_ids: list[str] = field(default_factory=list)
    created_at: dt.datetime | None = None


@dataclass(kw_only=True)
class Project(Record):
    """A client's grouping of jobs; archived projects take no new jobs."""

    COLLECTION = "clients/{client_id}/projects"
    NOUN = "project"

    client_id: str
    org_id: str
    name: str
    description: str | None = None
    archived: bool = False
    deleted: bool = False
    deleted_at: dt.datetime | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None


@dataclass(kw_only=True)
class NameClaim(Record):
    """One name taken within a scope: its id is a hash of the scope and the folded name, so
    "the name is unique" is one document a unit of work reads and writes."""

    owner_id: str
    name: str


@dataclass(kw_only=True)
class OrganizationName(NameClaim):
    """An organization's claim on its name (unique across the platform)."""

    COLLECTION = "organization_names"
    NOUN = "organization name"


@dataclass(kw_only=True)
class ClientName(NameClaim):
    """A client's claim on its name (unique within its organization)."""

    COLLECTION = "client_names"
    NOUN = "client name"


@dataclass(kw_only=True)
class HealthProbe(Record):
    """A throwaway document the health check writes, reads back and deletes."""

    COLLECTION = "health"
    NOUN = "health probe"

    at: dt.datetime | None = None


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
class Migration(Record):
    """A data migration this deployment has had (`avp.domain.migrations`; id: the step's name)."""

    COLLECTION = "migrations"
    NOUN = "migration"

    done_at: dt.datetime | None = None
    report: str = ""


@dataclass(kw_only=True)
class RateCount(Record):
    """Attempts counted for one key in one fixed window (id: the key's hash and the window's number)."""

    COLLECTION = "rate_limits"
    NOUN = "rate count"

    count: int = 0
    expires_at: dt.datetime | None = None   # TTL: the count means nothing once its window is over


@dataclass(kw_only=True)
class RecentAttempts(Record):
    """The times (epoch seconds) of one key's attempts within the last window: a sliding-window limit
    (no burst of twice the limit across a window boundary, as fixed windows allow)."""

    COLLECTION = "rate_windows"
    NOUN = "rate window"

    hits: list[float] = field(default_factory=list)
    expires_at: dt.datetime | None = None   # TTL: nothing left to count once the last hit has aged out


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
class Brief(Record):
    """A client's request for work before any video arrives: draft -> submitted -> approved."""

    COLLECTION = "briefs"
    NOUN = "brief"

    org_id: str
    client_id: str | None = None
    project_id: str | None = None
    title: str = ""
    description: str | None = None
    requested_outputs: dict[str, Any] = field(default_factory=dict)
    source_language: str | None = None
    due_date: str | None = None   # ISO date
    attachments: list[str] = field(default_factory=list)
    status: str = "draft"
    access_keys: list[str] = field(default_factory=list)
    created_by: str | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    submitted_at: dt.datetime | None = None
    approved_by: str | None = None
    approved_at: dt.datetime | None = None


@dataclass(kw_only=True)
class Glossary(Record):
    """A client's (or, without one, an organization's) term list: numbered versions, one active."""

    COLLECTION = "glossaries"
    NOUN = "glossary"

    org_id: str
    client_id: str | None = None
    name: str = ""
    description: str | None = None
    source_language: str | None = None
    target_languages: list[str] = field(default_factory=list)
    status: str = "active"   # active | archived
    active_version_id: str | None = None
    version_count: int = 0
    access_keys: list[str] = field(default_factory=list)
    created_by: str | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    archived_at: dt.datetime | None = None


@dataclass(kw_only=True)
class GlossaryVersion(Record):
    """One uploaded workbook of a glossary and the state of its terms' embedding
    (pending -> running -> ready | failed)."""

    COLLECTION = "glossaries/{glossary_id}/versions"
    NOUN = "glossary version"

    number: int = 0
    filename: str = ""
    path: str = ""   # the workbook in storage
    term_count: int = 0
    languages: list[str] = field(default_factory=list)
    source_language: str | None = None
    note: str | None = None
    uploaded_by: str | None = None
    created_at: dt.datetime | None = None
    embedding_status: str = "pending"
    embedding_model: str | None = None
    embedding_dimensions: int | None = None
    embedding_error: str | None = None
    embedding_started_at: dt.datetime | None = None
    embedded_at: dt.datetime | None = None


@dataclass(kw_only=True)
class GlossaryTerm(Record):
    """A row of a version's workbook; `search` holds the prefix keys `list_terms` matches with one
    array-contains filter, `embedding` the source term's vector once embedded."""

    COLLECTION = "glossaries/{glossary_id}/versions/{version_id}/terms"
    NOUN = "glossary term"

    row: int = 0
    source: str = ""
    translations: dict[str, str] = field(default_factory=dict)
    notes: str | None = None
    do_not_translate: bool = False
    case_sensitive: bool = False
    search: list[str] = field(default_factory=list)
    embedding: list[float] | None = None
    embedding_model: str | None = None


@dataclass(kw_only=True)
class BulkDownload(Record):
    """What a bulk download's ZIP will hold (decided when it was asked for) and whose it is."""

    COLLECTION = "downloads"
    NOUN = "download"

    user_id: str
    job_ids: list[str] = field(default_factory=list)
    size_bytes: int = 0
    entries: list[dict[str, Any]] = field(default_factory=list)   # {"name", "path", "size"} per file
    created_at: dt.datetime | None = None


@dataclass(kw_only=True)
class DownloadStatus(Record):
    """A bulk download's progress, id `bulk-<download id>`: beside the jobs' status mirrors, with
    its owner's access key, so the same listener token and security rules serve it."""

    COLLECTION = "job_status"
    NOUN = "download"

    kind: str = "bulk_download"
    download_id: str
    status: str = "queued"   # queued | building | complete | failed
    progress: float = 0.0
    job_ids: list[str] = field(default_factory=list)
    size_bytes: int = 0
    zip_bytes: int | None = None
    download_url: str | None = None
    expires_at: dt.datetime | None = None
    failure_reason: str | None = None
    access_keys: list[str] = field(default_factory=list)
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None


@dataclass(kw_only=True)
class Upload(Record):
    """How a file arrives: a job's source (named by the job's id) or an auxiliary file (a final
    VTT, a brief's attachment) through a signed URL."""

    COLLECTION = "uploads"
    NOUN = "upload"

    kind: str   # resumable | direct | clone | inbox, or a file purpose (final_vtt, brief, reference)
    job_id: str | None = None
    path: str = ""
    content_type: str = ""
    size_bytes: int = 0
    created_by: str | None = None
    created_at: dt.datetime | None = None


@dataclass(kw_only=True)
class Comment(Record):
    """A remark on a target language of a job (optionally on one cue), for its linguist and reviewer."""

    COLLECTION = "jobs/{job_id}/comments"
    NOUN = "comment"

    job_id: str
    language: str
    cue_index: int | None = None
    author_id: str | None = None
    text: str = ""
    created_at: dt.datetime | None = None


@dataclass(kw_only=True)
class QueueEntry(Record):
    """One assignee's open work on one language of a job, as the language-QC queue lists it. The
    job repository writes these with the job (`language_qc.queue_entries`); an id begins with the
    assignment time, so id order is the queue's order."""

    COLLECTION = "language_queue"
    NOUN = "queue entry"
    READ_ONLY = "the language queue is written with its job, by the job repository"

    queue_key: str   # <role>:<user id>:<language state>
    job_id: str
    job_title: str | None = None
    language: str
    status: str
    as_role: str
    assigned_at: dt.datetime | None = None
    reviewed_cues: int = 0
    total_cues: int = 0
    descriptions_to_write: int | None = 0


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
