"""The audit log: who did what to which thing, when, from where."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from avp.domain.aggregates import AuditEntry, User
from avp.domain.paging import Page
from avp.domain.ports import Database
from avp.domain.records import now
from avp.errors import Unprocessable

SECURITY_ACTIONS = ("auth.", "user.password", "user.role", "member.role", "invitation.")
ADMIN_ACTIONS = ("user.", "organization.", "client.", "team.", "member.", "project.", "audit.")
WORKFLOW_ACTIONS = ("job.", "track.", "language_qc.", "accessible_video.", "brief.", "review_note.", "production.")
CATEGORIES = ("security", "workflow", "data", "admin")
RETENTION_DAYS_MIN = 30
RETENTION_DAYS_MAX = 3650
VIEW_FIELDS = ("id", "at", "actor_id", "actor_email", "actor_role", "action", "category", "target_type", "target_id",
               "from_state", "to_state", "reason", "before", "after", "ip", "user_agent", "request_id")


@dataclass(frozen=True)
class AuditMeta:
    """Where a change came from; built by the HTTP layer (or a step) and passed into the domain."""

    actor_id: str | None = None
    actor_role: str | None = None
    request_id: str | None = None
    ip: str | None = None
    actor_email: str | None = None
    user_agent: str | None = None


    def acting_as(self, user: User) -> AuditMeta:
        """The same request, now on behalf of `user` (who just signed in or accepted an invitation)."""
        return replace(self, actor_id=user.id, actor_role=user.role, actor_email=user.email)


SYSTEM = AuditMeta(actor_id="system", actor_role="system")


def _small(value: Any) -> Any:
    # Keep entries small: large before/after images (VTT bodies...) are summarised.
    if value is None:
        return None
    text = repr(value)
    return value if len(text) <= 4000 else {"summary": text[:200] + "…", "size": len(text)}


def category(action: str) -> str:
    """security, admin, workflow or data: the audit log's coarse filter."""
    if action.startswith(SECURITY_ACTIONS):
        return "security"
    if action.startswith(ADMIN_ACTIONS):
        return "admin"
    if action.startswith(WORKFLOW_ACTIONS):
        return "workflow"
    return "data"


def target_parts(target: str) -> tuple[str, str | None]:
    """`jobs/J/tracks/en_captions` is about job J: the top-level object a client filters by."""
    parts = target.split("/")
    collection = parts[0]
    kind = collection[:-3] + "y" if collection.endswith("ies") else collection.removesuffix("s")
    return kind, parts[1] if len(parts) > 1 else None


def public_view(entry: AuditEntry) -> dict[str, Any]:
    """An entry as the contract shows it (older entries lack the derived fields: derive them)."""
    kind, target_id = target_parts(entry.target)
    derived = {"category": entry.category or category(entry.action), "target_type": entry.target_type or kind,
               "target_id": entry.target_id or target_id}
    return {k: derived[k] if k in derived else getattr(entry, k, entry.extra.get(k)) for k in VIEW_FIELDS}


def entry(meta: AuditMeta, action: str, target: str, *, before: Any = None, after: Any = None,
          reason: str | None = None, extra: dict[str, Any] | None = None) -> AuditEntry:
    """An audit entry for a unit of work to append (`uow.audit.append`), with the fields the audit
    log is filtered by (category, target type and id) and who called from where."""
    kind, target_id = target_parts(target)
    return AuditEntry(action=action, target=target, actor_id=meta.actor_id, actor_role=meta.actor_role,
                      actor_email=meta.actor_email, user_agent=meta.user_agent, request_id=meta.request_id, ip=meta.ip,
                      before=_small(before), after=_small(after), reason=reason,
                      security=action.startswith(SECURITY_ACTIONS), at=now(), category=category(action),
                      target_type=kind, target_id=target_id, extra=dict(extra or {}))


def record(store: Database, meta: AuditMeta, action: str, target: str, *, before: Any = None, after: Any = None,
           reason: str | None = None, extra: dict[str, Any] | None = None) -> AuditEntry:
    """Append an audit entry on its own (a change made in a unit of work appends its entry there:
    `uow.audit.append(entry(...))`, so both commit together)."""
    return store.of(AuditEntry).add(entry(meta, action, target, before=before, after=after, reason=reason, extra=extra))


def list_entries(store: Database, *, page: int, size: int, cursor: str | None = None, actor_id: str | None = None,
                 category: str | None = None, action: str | None = None, target_type: str | None = None,
                 target_id: str | None = None, start: dt.datetime | None = None, end: dt.datetime | None = None) -> Page:
    """Audit entries, newest first, filtered by any of actor, category, action, target and a
    time window [start, end)."""
    filters: list = [(f, "==", v) for f, v in (("actor_id", actor_id), ("category", category), ("action", action),
                                                ("target_type", target_type), ("target_id", target_id)) if v]
    if start:
        filters.append(("at", ">=", start))
    if end:
        filters.append(("at", "<", end))
    return store.of(AuditEntry).page(filters, ("at", "desc"), page, size, cursor).map(public_view)


def cleanup(store: Database, meta: AuditMeta, older_than_days: int) -> dict[str, Any]:
    """Delete entries older than `older_than_days` (the caller checked the retention bounds);
    returns how many and the cut-off."""
    if not RETENTION_DAYS_MIN <= older_than_days <= RETENTION_DAYS_MAX:
        raise Unprocessable({"older_than_days": [f"must be between {RETENTION_DAYS_MIN} and {RETENTION_DAYS_MAX}"]})
    cutoff = now() - dt.timedelta(days=older_than_days)
    deleted = store.of(AuditEntry).delete_where(("at", "<", cutoff))
    record(store, meta, "audit.cleanup", "audit_logs", after={"deleted": deleted, "older_than_days": older_than_days})
    return {"deleted": deleted, "older_than": cutoff}
