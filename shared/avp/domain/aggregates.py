"""The typed records avp stores besides jobs and tracks (`avp.domain.model`): one dataclass per
aggregate, whose fields are its stored document (`avp.domain.records.Record` maps them) and whose
`COLLECTION` says where it lives. The domain reads and writes them only through repositories
(`store.of(ReviewNote, job_id=...)`); the API's views are built from these objects.

Every stored time is an aware UTC datetime; `None` means "not set" and is stored as null.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from avp.domain.records import Record

# -- tenancy: organizations, members, clients, teams, projects ---------------------------------


# -- accounts: users, sessions, invitations ------------------------------------------------------


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
