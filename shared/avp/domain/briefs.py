"""Briefs: a client's request for work, before any video arrives.

States: draft -> submitted -> approved. A draft changes freely; after submit it is frozen
(409). Approval belongs to a PM of the brief's client (or an admin).

Who sees a brief (DOMAIN.md's job rules, narrowed to the people a request for work concerns):
- admin: all;
- production: every brief of their organizations (they plan the work);
- project_manager: briefs of the clients they are PM of, and briefs they created;
- client: briefs of the clients whose teams they belong to, and briefs they created;
- reviewer, linguist: none (they work on jobs, not on requests; they cannot create briefs).
Like jobs, each brief carries access keys (`org:`, `client:`, `user:`) and a caller's keys come
from their role, so listing stays one `array-contains-any` query. Invisible answers 404.

Who may act: create — the roles that may create jobs (client, project_manager, production,
admin), where they may put a job; a client user must name a client of their teams. Update and
submit — the creator, a PM of the client, an admin. Approve — a PM of the client, an admin.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from avp.auth.tokens import Principal
from avp.domain import access, audit, jobs, uploads
from avp.domain import languages as tags
from avp.domain.aggregates import Brief, Client
from avp.domain.audit import AuditMeta
from avp.domain.paging import Page
from avp.domain.ports import Database, UnitOfWork
from avp.domain.records import now
from avp.errors import Conflict, Forbidden, NotFound, Unprocessable
from avp.storage import Storage

STATES = ("draft", "submitted", "approved")
# Where `/files/signed-upload` puts files a brief may point at.
ATTACHMENT_PREFIXES = ("files/briefs/", "files/reference/")
MAX_ATTACHMENTS = 50
VIEW_FIELDS = ("id", "org_id", "client_id", "project_id", "title", "description", "status", "requested_outputs",
               "source_language", "due_date", "attachments", "created_by", "created_at", "updated_at", "submitted_at",
               "approved_by", "approved_at")


def brief_view(brief: Brief) -> dict[str, Any]:
    """A brief as the API shows it."""
    return {k: getattr(brief, k) for k in VIEW_FIELDS}


def brief_keys(brief: Brief) -> list[str]:
    """Who may see the brief: its organization, its creator and, when it has one, its client."""
    keys = {f"org:{brief.org_id}", f"user:{brief.created_by}"}
    if brief.client_id:
        keys.add(f"client:{brief.client_id}")
    return sorted(keys)


def reader_keys(store: Database, principal: Principal) -> list[str] | None:
    """The caller's brief access keys; None means all (admin)."""
    if principal.is_admin:
        return None
    user = access.user_record(store, principal)
    keys = [f"user:{principal.user_id}"]
    role = user.role
    if role == "production":
        keys += [f"org:{o}" for o in user.org_ids]
    elif role == "project_manager":
        keys += [f"client:{c}" for c in user.pm_client_ids]
    elif role == "client":
        keys += [f"client:{c}" for c in user.team_client_ids]
    return sorted(set(keys))


def _is_pm(store: Database, principal: Principal, client_id: str | None) -> bool:
    if not client_id or principal.role != "project_manager":
        return False
    client = store.of(Client).lookup(client_id)
    return client is not None and principal.user_id in client.pm_ids


def require_brief(store: Database, principal: Principal, brief_id: str, action: str = "view") -> Brief:
    """The brief if the caller may see it (else 404) and take `action` on it (`view`, `edit`,
    `approve`; else 403)."""
    brief = store.of(Brief).lookup(brief_id)
    keys = reader_keys(store, principal)
    if brief is None or (keys is not None and not set(keys) & set(brief.access_keys)):
        raise NotFound("brief not found")
    if action == "view" or principal.is_admin:
        return brief
    is_pm = _is_pm(store, principal, brief.client_id)
    if action == "edit" and (brief.created_by == principal.user_id or is_pm):
        return brief
    if action == "approve" and is_pm:
        return brief
    raise Forbidden("only a PM of the brief's client or an admin may approve it" if action == "approve"
                    else "only the brief's creator, a PM of its client or an admin may change it")


# -- validation of what a brief points at --------------------------------------------
def _scope(store: Database, principal: Principal, org_id: str | None, client_id: str | None,
           project_id: str | None) -> dict[str, Any]:
    scope = jobs.resolve_placement(store, principal, org_id, client_id, project_id)
    if principal.role == "client" and not scope["client_id"]:
        raise Unprocessable({"client_id": ["a client user's brief names one of their clients"]})
    return scope


def _attachments(storage: Storage, uris: list[str]) -> list[str]:
    if len(uris) > MAX_ATTACHMENTS:
        raise Unprocessable({"attachments": [f"at most {MAX_ATTACHMENTS} attachments"]})
    problems = {}
    prefix = storage.uri("")
    for i, uri in enumerate(uris):
        path = uri[len(prefix):] if uri.startswith(prefix) else None
        if path is None or not path.startswith(ATTACHMENT_PREFIXES) or ".." in path.split("/"):
            problems[str(i)] = [f"not a file uploaded through /files/signed-upload: {uri[:200]!r}"]
        elif not storage.exists(path):
            problems[str(i)] = [f"no such file (upload it first): {uri[:200]!r}"]
    if problems:
        raise Unprocessable({"attachments": problems})
    return list(dict.fromkeys(uris))


def _due_date(value: dt.date | None) -> str | None:
    if value is None:
        return None
    if value < now().date():
        raise Unprocessable({"due_date": ["the due date is in the past"]})
    return value.isoformat()


def _content(storage: Storage, fields: dict[str, Any]) -> dict[str, Any]:
    """The checked, normalised form of the editable content fields present in `fields`."""
    out: dict[str, Any] = {}
    if "title" in fields:
        out["title"] = fields["title"].strip()
    if "description" in fields:
        out["description"] = fields["description"]
    if "requested_outputs" in fields:
        out["requested_outputs"] = uploads.parse_requested_outputs(fields["requested_outputs"] or {})
    if "source_language" in fields:
        out["source_language"] = tags.language(fields["source_language"], "source_language") if fields[
            "source_language"] else None
    if "due_date" in fields:
        out["due_date"] = _due_date(fields["due_date"])
    if "attachments" in fields:
        out["attachments"] = _attachments(storage, fields["attachments"] or [])
    return out


# -- commands ------------------------------------------------------------------------
def create_brief(store: Database, storage: Storage, principal: Principal, meta: AuditMeta, fields: dict[str, Any]) -> dict[str, Any]:
    """Create a draft brief in an organization (and client/project) the caller may use."""
    jobs.require_creator(principal)
    scope = _scope(store, principal, fields.get("org_id"), fields.get("client_id"), fields.get("project_id"))
    stamp = now()
    content = {"requested_outputs": uploads.parse_requested_outputs({}), **_content(storage, fields)}
    brief = Brief(**content, **scope, status="draft", created_by=principal.user_id, created_at=stamp, updated_at=stamp)
    brief.access_keys = brief_keys(brief)

    def work(uow: UnitOfWork) -> None:
        uow.of(Brief).add(brief)
        uow.audit.append(audit.entry(meta, "brief.create", f"briefs/{brief.id}",
                                     after={"title": brief.title, "org_id": brief.org_id}))

    store.atomically(work)
    return brief_view(brief)


def _change(store: Database, meta: AuditMeta, brief_id: str, action: str, expected: str, changes: dict[str, Any],
            note: str | None = None) -> dict[str, Any]:
    """Apply `changes` in a unit of work if the brief is still `expected` (409 otherwise), with an audit entry."""

    def work(uow: UnitOfWork) -> Brief:
        briefs = uow.of(Brief)
        brief = briefs.get(brief_id)
        if brief.status != expected:
            raise Conflict(f"cannot {action} a brief in state {brief.status}")
        update = {**changes, "updated_at": now()}
        briefs.update(brief_id, update)
        uow.audit.append(audit.entry(meta, f"brief.{action}", f"briefs/{brief_id}", reason=note,
                                     before={k: getattr(brief, k) for k in changes}, after=changes))
        return replace(brief, **update)

    return brief_view(store.atomically(work))


def update_brief(store: Database, storage: Storage, principal: Principal, meta: AuditMeta, brief_id: str,
                 fields: dict[str, Any]) -> dict[str, Any]:
    """Change a draft (409 once submitted). Moving it to another client or project re-checks the scope."""
    brief = require_brief(store, principal, brief_id, "edit")
    changes = _content(storage, fields)
    if "client_id" in fields or "project_id" in fields:
        client_id = fields.get("client_id", brief.client_id)
        project_id = fields.get("project_id", brief.project_id if "client_id" not in fields else None)
        scope = _scope(store, principal, brief.org_id, client_id, project_id)
        changes.update(client_id=scope["client_id"], project_id=scope["project_id"])
        changes["access_keys"] = brief_keys(replace(brief, **changes))
    return _change(store, meta, brief_id, "update", "draft", changes)


def submit_brief(store: Database, principal: Principal, meta: AuditMeta, brief_id: str, note: str | None = None) -> dict[str, Any]:
    """draft -> submitted: the brief goes to the client's PMs for approval."""
    brief = require_brief(store, principal, brief_id, "edit")
    if not brief.title:
        raise Unprocessable({"title": ["a brief needs a title before it is submitted"]})
    return _change(store, meta, brief_id, "submit", "draft", {"status": "submitted", "submitted_at": now()}, note)


def approve_brief(store: Database, principal: Principal, meta: AuditMeta, brief_id: str, note: str | None = None) -> dict[str, Any]:
    """submitted -> approved, by a PM of the brief's client or an admin."""
    require_brief(store, principal, brief_id, "approve")
    return _change(store, meta, brief_id, "approve", "submitted",
                   {"status": "approved", "approved_by": principal.user_id, "approved_at": now()}, note)


# -- queries -------------------------------------------------------------------------
def get_brief(store: Database, principal: Principal, brief_id: str) -> dict[str, Any]:
    """A brief the caller may see (else 404)."""
    return brief_view(require_brief(store, principal, brief_id))


def list_briefs(store: Database, principal: Principal, *, page: int, size: int, sort: str, org_id: str | None = None,
                client_id: str | None = None, status: str | None = None, cursor: str | None = None) -> Page:
    """Briefs the caller may see, filtered by organization, client and state, sorted by `sort`
    (`created_at`, `updated_at` or `title`; a leading `-` sorts descending)."""
    filters = [(f, "==", v) for f, v in (("org_id", org_id), ("client_id", client_id), ("status", status)) if v]
    order = (sort.lstrip("-"), "desc" if sort.startswith("-") else "asc")
    return access.page_by_keys(store.of(Brief), reader_keys(store, principal), filters, order, page, size, cursor,
                               "briefs").map(brief_view)
