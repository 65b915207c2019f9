"""The audit log: who did what to which thing, when, from where."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from avp.domain.ports import AuditEntry
from avp.store import Store, new_id, now

SECURITY_ACTIONS = ("auth.", "user.password", "user.role", "member.role", "invitation.")
RETENTION_DAYS_MIN = 30


@dataclass(frozen=True)
class AuditMeta:
    """Where a change came from; built by the HTTP layer (or a step) and passed into the domain."""

    actor_id: str | None = None
    actor_role: str | None = None
    request_id: str | None = None
    ip: str | None = None


SYSTEM = AuditMeta(actor_id="system", actor_role="system")


def _small(value: Any) -> Any:
    # Keep entries small: large before/after images (VTT bodies...) are summarised.
    if value is None:
        return None
    text = repr(value)
    return value if len(text) <= 4000 else {"summary": text[:200] + "…", "size": len(text)}


def entry(meta: AuditMeta, action: str, target: str, *, before: Any = None, after: Any = None,
          reason: str | None = None, extra: dict[str, Any] | None = None) -> AuditEntry:
    """An audit entry for a unit of work to append (`uow.audit.append`)."""
    return AuditEntry(action=action, target=target, actor_id=meta.actor_id, actor_role=meta.actor_role,
                      request_id=meta.request_id, ip=meta.ip, before=_small(before), after=_small(after), reason=reason,
                      security=action.startswith(SECURITY_ACTIONS), at=now(), extra=extra)


def record(store: Store, meta: AuditMeta, action: str, target: str, *, before: Any = None, after: Any = None,
           reason: str | None = None, transaction=None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Append an audit entry (inside `transaction` when given, so it commits with the change)."""
    doc = entry(meta, action, target, before=before, after=after, reason=reason, extra=extra).to_doc()
    ref = store.collection("audit_logs").document(new_id())
    if transaction is not None:
        transaction.set(ref, doc)
    else:
        ref.set(doc)
    return {**doc, "id": ref.id}


def list_entries(store: Store, *, page: int, size: int, actor_id: str | None = None, security: bool | None = None,
                 action: str | None = None):
    """Audit entries, newest first, optionally for one actor or only security events."""
    filters = []
    if actor_id:
        filters.append(("actor_id", "==", actor_id))
    if security is not None:
        filters.append(("security", "==", security))
    if action:
        filters.append(("action", "==", action))
    return store.paginate("audit_logs", filters, ("at", "desc"), page, size)


def cleanup(store: Store, meta: AuditMeta, older_than_days: int) -> int:
    """Delete entries older than `older_than_days` (at least the retention minimum); returns how many."""
    days = max(RETENTION_DAYS_MIN, older_than_days)
    cutoff = now() - dt.timedelta(days=days)
    deleted = store.delete_where("audit_logs", [("at", "<", cutoff)])
    record(store, meta, "audit.cleanup", "audit_logs", after={"deleted": deleted, "older_than_days": days})
    return deleted
