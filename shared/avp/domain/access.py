"""The one authorization module: may this caller see / do this?

Visibility of jobs follows DOMAIN.md. It is decided by *access keys*: every job carries the
keys of everyone who may see it (`org:O`, `client:C`, `user:U` for its creator, `linguist:U` and
`reviewer:U` for people assigned to its languages), and every caller has keys from their role
and memberships. A job is visible when the two sets meet, which Firestore answers with one
`array-contains-any` query — so listing stays a single indexed query per page while the caller
has at most 30 keys, and a few merged queries beyond (`page_by_keys`): no key is ever dropped.

Not visible -> 404 (existence is not leaked). Visible but not allowed -> 403.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from avp.auth.tokens import Principal
from avp.domain.aggregates import Client, Organization, User
from avp.domain.model import Job
from avp.domain.paging import Page
from avp.domain.ports import Database
from avp.domain.records import MAX_ANY, Filter, Record, Repository, page_any
from avp.errors import Forbidden, NotFound

R = TypeVar("R", bound=Record)

# Every job that is not deleted carries it (`job_keys`): what an administrator's job lists ask for.
LIVE_KEY = "live"
# Keys naming the caller: a record may hold them beside its one organization or client key.
PERSONAL_KEYS = ("user:", "reviewer:", "linguist:")

# What each role may do to a job it can see (admin may do everything).
JOB_ACTIONS: dict[str, set[str]] = {
    "view": {"client", "linguist", "reviewer", "production", "project_manager"},
    "edit": {"client", "production", "project_manager"},
    "delete": {"production", "project_manager"},
    "cancel": {"client", "production", "project_manager"},
    "retry": {"production", "project_manager"},
    "clone": {"client", "production", "project_manager"},
    "approve_source": {"reviewer", "production"},
    "approve_english": {"reviewer", "production"},
    "reject": {"reviewer", "production"},
    "complete": {"project_manager"},
    "reject_final": {"project_manager"},
    "return_to_qc": {"project_manager"},
    "blocked_on_source": {"production"},
    "promote_to_qc": {"production"},
    "retry_tts": {"production"},
    "edit_vtt": {"linguist", "reviewer", "production", "project_manager"},
    "assign": {"production", "project_manager"},
    "language_work": {"linguist"},
    "language_review": {"reviewer"},
    "comment": {"linguist", "reviewer", "production", "project_manager", "client"},
    "download": {"client", "linguist", "reviewer", "production", "project_manager"},
    "share": {"client", "production", "project_manager"},
    "review_note": {"client", "linguist", "reviewer", "production", "project_manager"},
    "upload_final_vtt": {"production"},
}


def user_record(store: Database, principal: Principal) -> User:
    """The caller's account as stored now (404 when it is gone, deleted or disabled)."""
    user = store.of(User).lookup(principal.user_id)
    if user is None or not user.active:
        raise NotFound("user not found")
    return user


def principal_keys(store: Database, principal: Principal) -> list[str] | None:
    """The caller's access keys; None means everything (admin). Read fresh from the user record,
    so a membership change applies at once, not at the next token."""
    if principal.is_admin:
        return None
    user = user_record(store, principal)
    uid = principal.user_id
    keys = [f"user:{uid}"]
    role = user.role
    if role in ("production", "reviewer"):
        keys += [f"org:{o}" for o in user.org_ids]
    if role == "reviewer":
        keys.append(f"reviewer:{uid}")
    if role == "project_manager":
        keys += [f"client:{c}" for c in user.pm_client_ids]
    if role == "client":
        keys += [f"client:{c}" for c in user.team_client_ids]
    if role == "linguist":
        keys.append(f"linguist:{uid}")
    return sorted(set(keys))


def job_keys(job: Mapping[str, Any]) -> list[str]:
    """The access keys a job must carry; every writer of org/client/creator/assignees or of its
    deletion recomputes them. A deleted job carries none (no list, listener or member finds it);
    a live one also carries LIVE_KEY, which an administrator's lists ask for, so their queries and
    everyone else's share one set of indexes (Firestore holds 200) and none filters `deleted`."""
    if job.get("deleted"):
        return []
    keys = {f"org:{job['org_id']}", LIVE_KEY}
    if job.get("client_id"):
        keys.add(f"client:{job['client_id']}")
    if job.get("created_by"):
        keys.add(f"user:{job['created_by']}")
    for lang in (job.get("languages") or {}).values():
        if lang.get("linguist_id"):
            keys.add(f"linguist:{lang['linguist_id']}")
        if lang.get("reviewer_id"):
            keys.add(f"reviewer:{lang['reviewer_id']}")
    return sorted(keys)


def page_by_keys(repo: Repository[R], keys: list[str] | None, filters: Sequence[Filter], order_by: tuple[str, str],
                 page: int, size: int, cursor: str | None, *query: Any, per_query: int = MAX_ANY) -> Page[R]:
    """One page of the records (jobs, briefs, glossaries) whose `access_keys` share one of the caller's
    `keys` (None: all, for admin), however many keys the caller has: one query while they fit in
    one `array_contains_any`, several merged beyond (`avp.domain.records.page_any`)."""
    if keys is None:
        return repo.page(filters, order_by, page, size, cursor)
    if not keys:
        return Page([], 0, page, size)
    personal = [k for k in keys if k.startswith(PERSONAL_KEYS)]
    scope = [k for k in keys if not k.startswith(PERSONAL_KEYS)]
    return page_any(repo, filters, "access_keys", "array_contains_any", scope, order_by, page, size, cursor,
                    *query, sorted(map(repr, filters)), order_by, keys, personal=personal, per_query=per_query)


def job_list_keys(store: Database, principal: Principal) -> list[str]:
    """The keys a job list asks for: the caller's, or every live job's for an administrator."""
    keys = principal_keys(store, principal)
    return [LIVE_KEY] if keys is None else keys


def can_see_job(store: Database, principal: Principal, job: Mapping[str, Any]) -> bool:
    if job.get("deleted") and not principal.is_admin:
        return False
    keys = principal_keys(store, principal)
    return keys is None or bool(set(keys) & set(job.get("access_keys") or job_keys(job)))


def require_job(store: Database, principal: Principal, job_id: str, action: str = "view") -> Job:
    """The job if the caller may see it (else 404) and may take `action` on it (else 403)."""
    job = store.of(Job).lookup(job_id)
    if job is None or not can_see_job(store, principal, job):
        raise NotFound("job not found")
    check_job_action(principal, job, action)
    return job


def check_job_action(principal: Principal, job: Mapping[str, Any], action: str) -> None:
    if principal.is_admin:
        return
    if principal.role not in JOB_ACTIONS[action]:
        raise Forbidden(f"your role may not {action.replace('_', ' ')} this job")


def require_role(principal: Principal, roles: Iterable[str]) -> None:
    if not principal.is_admin and principal.role not in set(roles):
        raise Forbidden(f"requires role: {', '.join(sorted(set(roles)))}")


def member_org_ids(store: Database, principal: Principal) -> list[str] | None:
    """Organizations the caller belongs to (None: all, for admin)."""
    if principal.is_admin:
        return None
    return list(user_record(store, principal).org_ids)


def require_org(store: Database, principal: Principal, org_id: str, action: str = "view") -> Organization:
    """The organization if the caller is a member (else 404); changes are admin-only (else 403)."""
    org = store.of(Organization).lookup(org_id)
    orgs = member_org_ids(store, principal)
    if org is None or org.deleted or (orgs is not None and org_id not in orgs):
        raise NotFound("organization not found")
    if action != "view" and not principal.is_admin:
        raise Forbidden("only an administrator may change an organization")
    return org


def visible_client_ids(store: Database, principal: Principal) -> set[str] | None:
    """The clients a caller sees through seats: PMs the clients they manage, client users those of
    their teams; None for admin (all). Empty for everyone else: production and reviewers see their
    organizations' clients (`client_list_orgs`), linguists none by listing."""
    if principal.is_admin:
        return None
    user = user_record(store, principal)
    if user.role == "project_manager":
        return set(user.pm_client_ids)
    if user.role == "client":
        return set(user.team_client_ids)
    return set()


def can_see_client(store: Database, principal: Principal, client: Client) -> bool:
    """Whether the caller may see `client`: by organization (production, reviewers), by seat (PMs,
    client users), everything (admin). One read of the caller's record, whatever their number of
    organizations or clients."""
    if principal.is_admin:
        return True
    user = user_record(store, principal)
    if user.role in ("production", "reviewer"):
        return client.org_id in user.org_ids
    seats = {"project_manager": user.pm_client_ids, "client": user.team_client_ids}.get(user.role, [])
    return client.id in seats


def client_list_orgs(store: Database, principal: Principal) -> list[str] | None:
    """The organizations whose clients the caller sees as a whole (production and reviewers), so
    their client list can be one query by organization; None for everyone else."""
    if principal.is_admin:
        return None
    user = user_record(store, principal)
    return list(user.org_ids) if user.role in ("production", "reviewer") else None


def require_client(store: Database, principal: Principal, client_id: str, action: str = "view") -> Client:
    """The client if visible (else 404). `manage` (teams' members) is for admins and the client's PMs;
    anything else that changes is admin-only (403)."""
    client = store.of(Client).lookup(client_id)
    if client is None or client.deleted or not can_see_client(store, principal, client):
        raise NotFound("client not found")
    if action == "view" or principal.is_admin:
        return client
    if action == "manage" and principal.role == "project_manager" and principal.user_id in client.pm_ids:
        return client
    raise Forbidden("not allowed to change this client")


def require_inviter(principal: Principal, role: str, client: Client | None) -> None:
    """Admins may invite anyone; a PM may invite client users into a client they manage (never a
    wider role, so an invitation cannot raise anyone above the PM's own reach)."""
    if principal.is_admin:
        return
    if (principal.role == "project_manager" and role == "client" and client is not None
            and principal.user_id in client.pm_ids):
        return
    raise Forbidden("only an administrator, or a client's PM inviting client users, may invite")
