"""Tenancy: organizations and their members, clients with their PMs, teams and projects.

The user record carries denormalised copies of memberships (`org_ids`, `pm_client_ids`,
`team_client_ids`) that `access.principal_keys` reads on every request; every change of a
membership rewrites them in the same unit of work, so they can never disagree. The other side
is mirrored too, for lists that must be one query a page: an organization's `member_ids` and a
client's `viewer_ids` (its PMs and its teams' members), written in those same units of work.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from avp.auth.tokens import Principal, secret_hash
from avp.domain import access, audit, jobs as job_rules, users
from avp.domain.aggregates import (Client, ClientName, Member, NameClaim, Organization, OrganizationName, Project,
                                   Team, User)
from avp.domain.audit import AuditMeta
from avp.domain.model import Job
from avp.domain.paging import Page
from avp.domain.ports import Database, UnitOfWork
from avp.domain.records import ArrayRemove, ArrayUnion, Filter, Increment, Record, new_id, now, page_any
from avp.errors import Conflict, NotFound, Unprocessable

MEMBERSHIP_FIELDS = ("org_ids", "pm_client_ids", "team_client_ids")
R = TypeVar("R", bound=Record)


# -- small helpers -----------------------------------------------------------
def name_key(name: str) -> str:
    """Names compare case- and space-insensitively: "ACME  Corp" and "acme corp" are one name."""
    return " ".join(name.casefold().split())


def _claim_id(scope: str, name: str) -> str:
    # Hashed so any name (slashes, dots...) makes a valid id; one claim per name makes "the name is
    # unique" a transactional fact.
    return secret_hash(scope + chr(10) + name_key(name))


def _claim_name(uow: UnitOfWork, kind: type[NameClaim], scope: str, name: str, owner_id: str) -> None:
    """Take `name` within `scope` for `owner_id` (409 when someone else holds it). Reads, then
    writes: call it after the unit of work's other reads."""
    claims = uow.of(kind)
    held = claims.lookup(_claim_id(scope, name))
    if held is not None and held.owner_id != owner_id:
        raise Conflict(f"the name {name!r} is already taken")
    claims.put(kind(id=_claim_id(scope, name), owner_id=owner_id, name=name_key(name)))


def _release_name(uow: UnitOfWork, kind: type[NameClaim], scope: str, name: str) -> None:
    uow.of(kind).delete(_claim_id(scope, name))


def _with(values: Iterable[str] | None, value: str) -> list[str]:
    current = list(values or [])
    return current if value in current else [*current, value]


def _without(values: Iterable[str] | None, *removed: str) -> list[str]:
    return [v for v in values or [] if v not in removed]


def _live(records: Database | UnitOfWork, kind: type[R], record_id: str, **parent: str) -> R:
    """The record unless it is missing or deleted (404 "<noun> not found" alike)."""
    found = records.of(kind, **parent).lookup(record_id)
    if found is None or getattr(found, "deleted", False):
        raise NotFound(f"{kind.NOUN} not found")
    return found


def require_fitting_member(org_id: str, user: User, role: str, field: str = "user_id") -> None:
    """422 unless `user` belongs to the organization `org_id` with `role`: a team or PM seat must never
    hand a client's jobs to someone of another organization or of a role that should not see them."""
    if org_id not in user.org_ids:
        raise Unprocessable({field: ["the user must be a member of the client's organization"]})
    if user.role != role:
        raise Unprocessable({field: [f"the user must have the {role} role"]})


def _prefix_filters(field: str, q: str | None) -> list[Filter]:
    if not q:
        return []
    key = name_key(q)
    return [(field, ">=", key), (field, "<", key + "\uf8ff")]


def _viewers(pm_ids: Iterable[str], teams: Iterable[Team]) -> list[str]:
    """A client's `viewer_ids` as its seats stand: its PMs and the members of every one of its teams,
    so someone in two of its teams (or PM and team member at once) stays while any seat holds them."""
    return sorted({*pm_ids, *(m for t in teams for m in t.member_ids)})


def _backfill(store: Database, kind: type[R], field: str, derive: Callable[[UnitOfWork, R], list[str]]) -> tuple[int, int]:
    """`avp migrate`: set `field` of every `kind` record to what `derive` finds for it (records written
    before the field existed have none). Idempotent; one unit of work per record. Returns (records,
    records changed)."""
    seen = changed = 0
    for found in store.of(kind).where():
        def work(uow: UnitOfWork, record_id: str = found.id) -> bool:
            record = uow.of(kind).get(record_id)
            wanted = derive(uow, record)
            if sorted(getattr(record, field)) == wanted:
                return False
            uow.of(kind).update(record_id, {field: wanted})
            return True

        changed += store.atomically(work)
        seen += 1
    return seen, changed


def _users_summary(store: Database, user_ids: Sequence[str]) -> list[dict[str, Any]]:
    return [{"id": u.id, "email": u.email, "display_name": u.name or None, "role": u.role}
            for u in store.of(User).get_many(list(user_ids)) if not u.deleted]


# -- organizations -----------------------------------------------------------
ORGANIZATION_FIELDS = ("id", "name", "slug", "settings", "member_count", "created_at", "updated_at")


def organization_view(org: Organization) -> dict[str, Any]:
    """An organization as the API's Organization."""
    return {k: getattr(org, k) for k in ORGANIZATION_FIELDS}


def create_organization(store: Database, meta: AuditMeta, *, name: str, slug: str | None = None,
                        settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """Create an organization; 409 when another has the same name (case-insensitive)."""
    org_id, stamp = new_id(), now()
    org = Organization(id=org_id, name=name.strip(), name_key=name_key(name),
                       slug=slug or re.sub(r"[^a-z0-9]+", "-", name_key(name)).strip("-")[:63] or org_id,
                       settings=settings or {}, created_at=stamp, updated_at=stamp)

    def work(uow: UnitOfWork) -> None:
        _claim_name(uow, OrganizationName, "", name, org_id)
        uow.of(Organization).add(org)
        uow.audit.append(audit.entry(meta, "organization.create", f"organizations/{org_id}", after={"name": org.name}))

    store.atomically(work)
    return organization_view(org)


def list_organizations(store: Database, principal: Principal, *, page: int, size: int, cursor: str | None = None,
                       q: str | None = None) -> Page:
    """Organizations the caller belongs to (all for admin), by name. One query a page for anyone:
    a member's are those whose `member_ids` hold them, so a page costs size + 1 reads at any depth,
    with or without a name search, however many organizations they belong to."""
    org_ids = access.member_org_ids(store, principal)  # also: 404 for an account gone or disabled
    if org_ids == []:
        return Page([], 0, page, size)
    mine: list[Filter] = [] if org_ids is None else [("member_ids", "array_contains", principal.user_id)]
    return store.of(Organization).page([("deleted", "==", False), *mine, *_prefix_filters("name_key", q)],
                                       ("name_key", "asc"), page, size, cursor).map(organization_view)


def get_organization(store: Database, principal: Principal, org_id: str) -> dict[str, Any]:
    """An organization the caller belongs to (any, for admin)."""
    return organization_view(access.require_org(store, principal, org_id))


def update_organization(store: Database, meta: AuditMeta, org_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Rename (keeping names unique) or replace the settings of an organization."""

    def work(uow: UnitOfWork) -> Organization:
        org = _live(uow, Organization, org_id)
        before = {k: getattr(org, k, None) for k in changes}
        update: dict[str, Any] = {"updated_at": now()}
        if "name" in changes and name_key(changes["name"]) != org.name_key:
            _claim_name(uow, OrganizationName, "", changes["name"], org_id)
            _release_name(uow, OrganizationName, "", org.name)
            update |= {"name": changes["name"].strip(), "name_key": name_key(changes["name"])}
        if "settings" in changes:
            update["settings"] = changes["settings"]
        uow.of(Organization).update(org_id, update)
        uow.audit.append(audit.entry(meta, "organization.update", f"organizations/{org_id}", before=before,
                                     after=changes))
        return replace(org, **update)

    return organization_view(store.atomically(work))


# -- members -----------------------------------------------------------------
def member_view(member: Member, user: User | None) -> dict[str, Any]:
    """A membership as the API's Member (with the user's email and name)."""
    return {"user_id": member.user_id, "org_id": member.org_id, "email": user.email if user else None,
            "display_name": (user.name or None) if user else None, "role": member.role, "joined_at": member.added_at}


def list_members(store: Database, principal: Principal, org_id: str, *, page: int, size: int, cursor: str | None = None,
                 role: str | None = None) -> Page:
    """Members of an organization the caller belongs to, oldest first."""
    access.require_org(store, principal, org_id)
    filters: list[Filter] = [("role", "==", role)] if role else []
    result = store.of(Member, org_id=org_id).page(filters, ("added_at", "asc"), page, size, cursor)
    people = {u.id: u for u in store.of(User).get_many([m.user_id for m in result.items])}
    return result.map(lambda m: member_view(m, people.get(m.user_id)))


def join_organization(uow: UnitOfWork, meta: AuditMeta, org_id: str, user: User, role: str) -> Member:
    """Make `user` a member, in `uow`, after the caller has done all its reads. Returns the membership;
    `user` gets its new `org_ids` (the caller writes the user record once: `write_memberships`)."""
    member = Member(id=user.id, user_id=user.id, org_id=org_id, role=role, added_at=now())
    uow.of(Member, org_id=org_id).add(member)
    uow.of(Organization).update(org_id, {"member_count": Increment(1), "member_ids": ArrayUnion([user.id]),
                                         "updated_at": now()})
    user.org_ids = _with(user.org_ids, org_id)
    uow.audit.append(audit.entry(meta, "member.add", f"organizations/{org_id}/members/{user.id}", after={"role": role}))
    return member


def write_memberships(uow: UnitOfWork, user: User) -> None:
    """Write the user record's denormalised membership fields as they now stand."""
    uow.of(User).update(user.id, {**{f: list(getattr(user, f)) for f in MEMBERSHIP_FIELDS}, "updated_at": now()})


def add_member(store: Database, meta: AuditMeta, principal: Principal, org_id: str, *, role: str,
               user_id: str | None = None, email: str | None = None) -> dict[str, Any]:
    """Add an existing user (by id or email) to an organization with `role`; 409 when already a member."""
    access.require_org(store, principal, org_id, "change")
    if user_id is None:
        found = users.find_by_email(store, email or "")
        if found is None:
            raise NotFound("no user has this email; send `invite: true` to invite them")
        user_id = found.id

    def work(uow: UnitOfWork) -> dict[str, Any]:
        _live(uow, Organization, org_id)
        user = _live(uow, User, user_id)
        if uow.of(Member, org_id=org_id).lookup(user_id) is not None:
            raise Conflict("this user is already a member of the organization")
        member = join_organization(uow, meta, org_id, user, role)
        write_memberships(uow, user)
        return member_view(member, user)

    return store.atomically(work)


def update_member(store: Database, meta: AuditMeta, principal: Principal, org_id: str, user_id: str, role: str) -> dict[str, Any]:
    """Change a member's role in the organization (a security event in the audit log)."""
    access.require_org(store, principal, org_id, "change")

    def work(uow: UnitOfWork) -> dict[str, Any]:
        member = _live(uow, Member, user_id, org_id=org_id)
        user = uow.of(User).lookup(user_id)
        uow.of(Member, org_id=org_id).update(user_id, {"role": role})
        uow.audit.append(audit.entry(meta, "member.role", f"organizations/{org_id}/members/{user_id}",
                                     before={"role": member.role}, after={"role": role}))
        return member_view(replace(member, role=role), user)

    return store.atomically(work)


def remove_member(store: Database, meta: AuditMeta, principal: Principal, org_id: str, user_id: str) -> None:
    """Remove a member; they also stop being PM of, or in a team of, any client of that organization."""
    access.require_org(store, principal, org_id, "change")

    def work(uow: UnitOfWork) -> None:
        member = _live(uow, Member, user_id, org_id=org_id)
        user = uow.of(User).lookup(user_id)
        pm_of = uow.of(Client).where(("org_id", "==", org_id), ("pm_ids", "array_contains", user_id))
        teams = [t for t in uow.group(Team).where(("member_ids", "array_contains", user_id)) if t.org_id == org_id]
        for team in teams:
            uow.of(Team, client_id=team.client_id).update(team.id, {"member_ids": _without(team.member_ids, user_id)})
        # They leave every seat at this organization's clients, so removing them from those clients'
        # viewers is exact (no other seat of theirs can remain there to keep them).
        pm_seats = {c.id: c for c in pm_of}
        for client_id in sorted({*pm_seats, *(t.client_id for t in teams)}):
            seat = pm_seats.get(client_id)
            uow.of(Client).update(client_id, {"viewer_ids": ArrayRemove([user_id]),
                                              **({"pm_ids": _without(seat.pm_ids, user_id)} if seat else {})})
        uow.of(Member, org_id=org_id).delete(user_id)
        uow.of(Organization).update(org_id, {"member_count": Increment(-1), "member_ids": ArrayRemove([user_id]),
                                             "updated_at": now()})
        if user:
            user.org_ids = _without(user.org_ids, org_id)
            user.pm_client_ids = _without(user.pm_client_ids, *(c.id for c in pm_of))
            user.team_client_ids = _without(user.team_client_ids, *(t.client_id for t in teams))
            write_memberships(uow, user)
        uow.audit.append(audit.entry(meta, "member.remove", f"organizations/{org_id}/members/{user_id}",
                                     before={"role": member.role}))

    store.atomically(work)


def my_memberships(store: Database, principal: Principal) -> list[dict[str, Any]]:
    """The caller's organizations with their role in each: one query of their memberships (across
    organizations) and one read of those organizations, however many they are."""
    access.user_record(store, principal)  # 404 for an account gone or disabled
    members = store.group(Member).where(("user_id", "==", principal.user_id))
    orgs = {o.id: o for o in store.of(Organization).get_many([m.org_id for m in members]) if not o.deleted}
    return sorted(({"org_id": m.org_id, "org_name": orgs[m.org_id].name, "role": m.role, "joined_at": m.added_at}
                   for m in members if m.org_id in orgs), key=lambda m: name_key(m["org_name"]))


def backfill_member_ids(store: Database) -> tuple[int, int]:
    """`avp migrate`: set every organization's `member_ids` from its `Member` records (list_organizations
    finds a member's by it). Idempotent. Returns (organizations, organizations changed)."""
    return _backfill(store, Organization, "member_ids", _member_ids)


def _member_ids(uow: UnitOfWork, org: Organization) -> list[str]:
    return sorted(m.user_id for m in uow.of(Member, org_id=org.id).where())


# -- clients -----------------------------------------------------------------
CLIENT_FIELDS = ("id", "org_id", "name", "pm_ids", "team_count", "project_count", "created_at", "updated_at")


def client_view(client: Client) -> dict[str, Any]:
    """A client as the API's Client."""
    return {k: getattr(client, k) for k in CLIENT_FIELDS}


def create_client(store: Database, meta: AuditMeta, *, org_id: str, name: str) -> dict[str, Any]:
    """Create a client in an organization; names are unique within the organization."""
    stamp = now()
    client = Client(id=new_id(), org_id=org_id, name=name.strip(), name_key=name_key(name), created_at=stamp,
                    updated_at=stamp)

    def work(uow: UnitOfWork) -> None:
        _live(uow, Organization, org_id)
        _claim_name(uow, ClientName, org_id, name, client.id)
        uow.of(Client).add(client)
        uow.audit.append(audit.entry(meta, "client.create", f"clients/{client.id}",
                                     after={"org_id": org_id, "name": client.name}))

    store.atomically(work)
    return client_view(client)


def list_clients(store: Database, principal: Principal, *, page: int, size: int, cursor: str | None = None,
                 org_id: str | None = None, q: str | None = None) -> Page:
    """Clients the caller may see, by name: one query a page for anyone (a few merged ones for
    production and reviewers past 30 organizations), so a page costs size + 1 reads at any depth."""
    orgs = access.client_list_orgs(store, principal)
    if orgs is not None and org_id:
        orgs = [org_id] if org_id in orgs else []
    if orgs == []:
        return Page([], 0, page, size)
    if orgs is not None:
        # Production and reviewers see their organizations' clients: one indexed query per page
        # (`in` is served by the same index as `==`), so a page costs size + 1 reads at any depth
        # (a few merged queries past Firestore's 30 values in one `in`).
        return page_any(store.of(Client), [("deleted", "==", False), *_prefix_filters("name_key", q)], "org_id", "in",
                        orgs, ("name_key", "asc"), page, size, cursor, "clients", org_id, q).map(client_view)
    visible = access.visible_client_ids(store, principal)
    if visible == set():  # linguists, and PMs or client users without a seat yet
        return Page([], 0, page, size)
    # PMs and client users: the clients whose `viewer_ids` hold them, one query a page however many
    # clients they have, with or without a name search.
    mine: list[Filter] = [] if visible is None else [("viewer_ids", "array_contains", principal.user_id)]
    filters = [("deleted", "==", False), *([("org_id", "==", org_id)] if org_id else []), *mine,
               *_prefix_filters("name_key", q)]
    return store.of(Client).page(filters, ("name_key", "asc"), page, size, cursor).map(client_view)


def get_client(store: Database, principal: Principal, client_id: str) -> dict[str, Any]:
    """A client the caller may see."""
    return client_view(access.require_client(store, principal, client_id))


def update_client(store: Database, meta: AuditMeta, client_id: str, name: str) -> dict[str, Any]:
    """Rename a client (unique within its organization)."""

    def work(uow: UnitOfWork) -> Client:
        client = _live(uow, Client, client_id)
        if name_key(name) != client.name_key:
            _claim_name(uow, ClientName, client.org_id, name, client_id)
            _release_name(uow, ClientName, client.org_id, client.name)
        update = {"name": name.strip(), "name_key": name_key(name), "updated_at": now()}
        uow.of(Client).update(client_id, update)
        uow.audit.append(audit.entry(meta, "client.update", f"clients/{client_id}", before={"name": client.name},
                                     after={"name": update["name"]}))
        return replace(client, **update)

    return client_view(store.atomically(work))


def _live_jobs(uow: UnitOfWork, field: str, value: str) -> list[Job]:
    # Older jobs may lack a `deleted` field, so the filter is applied here rather than in the query.
    return [j for j in uow.jobs.where((field, "==", value)) if not j.get("deleted")]


def _detach_jobs(uow: UnitOfWork, found: list[Job], fields: tuple[str, ...]) -> None:
    """Take jobs out of a deleted client or project (they stay with their organization) through the
    job repository, so their access keys and status mirrors change with them."""
    for job in found:
        job_rules.apply_changes(job, dict.fromkeys(fields))
        job.access_keys = access.job_keys(job)
        job.updated_at = now()
        uow.jobs.save(job)


def _check_jobs(found: list[Job], what: str, force: bool) -> None:
    if found and not force:
        raise Conflict(f"the {what} still has {len(found)} job(s); delete them first or pass force=true to detach them")


def delete_client(store: Database, meta: AuditMeta, client_id: str, *, force: bool = False) -> None:
    """Delete a client with its teams and projects. 409 while it has jobs unless `force`: then the jobs
    are detached from it (kept, still visible to their organization), not lost."""

    def work(uow: UnitOfWork) -> None:
        client = _live(uow, Client, client_id)
        found = _live_jobs(uow, "client_id", client_id)
        _check_jobs(found, "client", force)
        teams = uow.of(Team, client_id=client_id).where()
        projects = uow.of(Project, client_id=client_id).where(("deleted", "==", False))
        people = _read_users(uow, {*client.pm_ids, *(m for t in teams for m in t.member_ids)})
        _detach_jobs(uow, found, ("client_id", "project_id"))
        for user in people:
            user.pm_client_ids = _without(user.pm_client_ids, client_id)
            user.team_client_ids = _without(user.team_client_ids, client_id)
            write_memberships(uow, user)
        for team in teams:
            uow.of(Team, client_id=client_id).delete(team.id)
        for project in projects:
            uow.of(Project, client_id=client_id).update(project.id, {"deleted": True, "deleted_at": now()})
        _release_name(uow, ClientName, client.org_id, client.name)
        uow.of(Client).update(client_id, {"deleted": True, "pm_ids": [], "viewer_ids": [], "deleted_at": now(),
                                          "updated_at": now()})
        uow.audit.append(audit.entry(meta, "client.delete", f"clients/{client_id}", before={"name": client.name},
                                     extra={"detached_jobs": [j.id for j in found], "forced": force}))

    store.atomically(work)


def _read_users(uow: UnitOfWork, user_ids: Iterable[str]) -> list[User]:
    return uow.of(User).get_many(sorted(set(user_ids)))


def backfill_viewer_ids(store: Database) -> tuple[int, int]:
    """`avp migrate`: set every client's `viewer_ids` from its PMs and teams (list_clients finds a
    PM's or client user's clients by it). Idempotent. Returns (clients, clients changed)."""
    return _backfill(store, Client, "viewer_ids", _viewer_ids)


def _viewer_ids(uow: UnitOfWork, client: Client) -> list[str]:
    return _viewers(client.pm_ids, uow.of(Team, client_id=client.id).where())


# -- project managers ----------------------------------------------------------
def list_pms(store: Database, principal: Principal, client_id: str) -> list[dict[str, Any]]:
    """The PMs of a client the caller may see."""
    return _users_summary(store, access.require_client(store, principal, client_id).pm_ids)


def add_pm(store: Database, meta: AuditMeta, client_id: str, user_id: str) -> list[dict[str, Any]]:
    """Make a project_manager user PM of the client (422 for any other role); returns the client's PMs."""

    def work(uow: UnitOfWork) -> list[str]:
        client = _live(uow, Client, client_id)
        user = _live(uow, User, user_id)
        require_fitting_member(client.org_id, user, "project_manager")
        grant_pm(uow, meta, client, user)
        write_memberships(uow, user)
        return client.pm_ids

    return _users_summary(store, store.atomically(work))


def grant_pm(uow: UnitOfWork, meta: AuditMeta, client: Client, user: User) -> None:
    """Make `user` PM of `client` in `uow` (after all reads); the caller writes the user record."""
    client.pm_ids = _with(client.pm_ids, user.id)
    user.pm_client_ids = _with(user.pm_client_ids, client.id)
    uow.of(Client).update(client.id, {"pm_ids": client.pm_ids, "viewer_ids": ArrayUnion([user.id]), "updated_at": now()})
    uow.audit.append(audit.entry(meta, "client.pm.add", f"clients/{client.id}", after={"user_id": user.id}))


def remove_pm(store: Database, meta: AuditMeta, client_id: str, user_id: str) -> None:
    """Stop a user being PM of the client."""

    def work(uow: UnitOfWork) -> None:
        client = _live(uow, Client, client_id)
        if user_id not in client.pm_ids:
            raise NotFound("this user is not a PM of the client")
        user = uow.of(User).lookup(user_id)
        pm_ids = _without(client.pm_ids, user_id)
        viewers = _viewers(pm_ids, uow.of(Team, client_id=client_id).where())
        uow.of(Client).update(client_id, {"pm_ids": pm_ids, "viewer_ids": viewers, "updated_at": now()})
        if user:
            user.pm_client_ids = _without(user.pm_client_ids, client_id)
            write_memberships(uow, user)
        uow.audit.append(audit.entry(meta, "client.pm.remove", f"clients/{client_id}", before={"user_id": user_id}))

    store.atomically(work)


# -- teams -------------------------------------------------------------------
TEAM_FIELDS = ("id", "client_id", "name", "member_ids", "created_at")


def team_view(team: Team) -> dict[str, Any]:
    """A team as the API's Team."""
    return {k: getattr(team, k) for k in TEAM_FIELDS}


def list_teams(store: Database, principal: Principal, client_id: str) -> list[dict[str, Any]]:
    """The teams of a client the caller may see, oldest first."""
    access.require_client(store, principal, client_id)
    return [team_view(t) for t in store.of(Team, client_id=client_id).where(order_by=[("created_at", "asc")])]


def create_team(store: Database, meta: AuditMeta, client_id: str, *, name: str, member_ids: list[str]) -> dict[str, Any]:
    """Create a team of existing users; its members see the client's jobs."""
    team_id = new_id()

    def work(uow: UnitOfWork) -> Team:
        client = _live(uow, Client, client_id)
        people = [_live(uow, User, uid) for uid in dict.fromkeys(member_ids)]
        for user in people:
            require_fitting_member(client.org_id, user, "client", "member_ids")
        team = Team(id=team_id, client_id=client_id, org_id=client.org_id, name=name.strip(),
                    member_ids=[u.id for u in people], created_at=now())
        uow.of(Team, client_id=client_id).add(team)
        joined: dict[str, Any] = {"viewer_ids": ArrayUnion(team.member_ids)} if team.member_ids else {}
        uow.of(Client).update(client_id, {"team_count": Increment(1), **joined, "updated_at": now()})
        for user in people:
            user.team_client_ids = _with(user.team_client_ids, client_id)
            write_memberships(uow, user)
        uow.audit.append(audit.entry(meta, "team.create", f"clients/{client_id}/teams/{team_id}",
                                     after={"name": team.name, "member_ids": team.member_ids}))
        return team

    return team_view(store.atomically(work))


def update_team(store: Database, meta: AuditMeta, client_id: str, team_id: str, *, name: str) -> dict[str, Any]:
    """Rename a team."""

    def work(uow: UnitOfWork) -> Team:
        _live(uow, Client, client_id)
        team = _live(uow, Team, team_id, client_id=client_id)
        uow.of(Team, client_id=client_id).update(team_id, {"name": name.strip()})
        uow.audit.append(audit.entry(meta, "team.update", f"clients/{client_id}/teams/{team_id}",
                                     before={"name": team.name}, after={"name": name.strip()}))
        return replace(team, name=name.strip())

    return team_view(store.atomically(work))


def _leave_team(uow: UnitOfWork, client: Client, team: Team, user_ids: list[str]) -> tuple[list[User], list[str]]:
    """`user_ids` leave `team`: their records, each without the client in `team_client_ids` unless
    another team of it still has them, and the client's `viewer_ids` once they have left. Only reads
    (the client's teams, the users), so call it before any write of the unit of work."""
    others = [t for t in uow.of(Team, client_id=client.id).where() if t.id != team.id]
    people = _read_users(uow, user_ids)
    for user in people:
        if not any(user.id in t.member_ids for t in others):
            user.team_client_ids = _without(user.team_client_ids, client.id)
    return people, _viewers(client.pm_ids, [*others, replace(team, member_ids=_without(team.member_ids, *user_ids))])


def delete_team(store: Database, meta: AuditMeta, client_id: str, team_id: str) -> None:
    """Delete a team; its members stop seeing the client's jobs unless another team of it has them."""

    def work(uow: UnitOfWork) -> None:
        client = _live(uow, Client, client_id)
        team = _live(uow, Team, team_id, client_id=client_id)
        people, viewers = _leave_team(uow, client, team, team.member_ids)
        for user in people:
            write_memberships(uow, user)
        uow.of(Team, client_id=client_id).delete(team_id)
        uow.of(Client).update(client_id, {"team_count": Increment(-1), "viewer_ids": viewers, "updated_at": now()})
        uow.audit.append(audit.entry(meta, "team.delete", f"clients/{client_id}/teams/{team_id}",
                                     before={"name": team.name, "member_ids": team.member_ids}))

    store.atomically(work)


def join_team(uow: UnitOfWork, meta: AuditMeta, team: Team, user: User) -> None:
    """Add `user` to `team` in `uow` (after all reads); the caller writes the user record."""
    team.member_ids = _with(team.member_ids, user.id)
    user.team_client_ids = _with(user.team_client_ids, team.client_id)
    uow.of(Team, client_id=team.client_id).update(team.id, {"member_ids": team.member_ids})
    uow.of(Client).update(team.client_id, {"viewer_ids": ArrayUnion([user.id])})
    uow.audit.append(audit.entry(meta, "team.member.add", f"clients/{team.client_id}/teams/{team.id}",
                                 after={"user_id": user.id}))


def add_team_member(store: Database, meta: AuditMeta, principal: Principal, client_id: str, team_id: str,
                    user_id: str) -> dict[str, Any]:
    """Add a user to a team (admins and the client's PMs); 409 when already in it."""
    access.require_client(store, principal, client_id, "manage")

    def work(uow: UnitOfWork) -> Team:
        client = _live(uow, Client, client_id)
        team = _live(uow, Team, team_id, client_id=client_id)
        user = _live(uow, User, user_id)
        require_fitting_member(client.org_id, user, "client")
        if user_id in team.member_ids:
            raise Conflict("this user is already in the team")
        join_team(uow, meta, team, user)
        write_memberships(uow, user)
        return team

    return team_view(store.atomically(work))


def remove_team_member(store: Database, meta: AuditMeta, principal: Principal, client_id: str, team_id: str,
                       user_id: str) -> None:
    """Remove a user from a team (admins and the client's PMs)."""
    access.require_client(store, principal, client_id, "manage")

    def work(uow: UnitOfWork) -> None:
        client = _live(uow, Client, client_id)
        team = _live(uow, Team, team_id, client_id=client_id)
        if user_id not in team.member_ids:
            raise NotFound("this user is not in the team")
        people, viewers = _leave_team(uow, client, team, [user_id])
        uow.of(Team, client_id=client_id).update(team_id, {"member_ids": _without(team.member_ids, user_id)})
        uow.of(Client).update(client_id, {"viewer_ids": viewers})
        for user in people:
            write_memberships(uow, user)
        uow.audit.append(audit.entry(meta, "team.member.remove", f"clients/{client_id}/teams/{team_id}",
                                     before={"user_id": user_id}))

    store.atomically(work)


def drop_unfitting_seats(uow: UnitOfWork, meta: AuditMeta, user: User, role: str) -> None:
    """A role change ends the seats the new role cannot hold, in the unit of work of the change:
    PM of clients (unless they stay a project manager) and team member (unless they stay a client
    user), as `require_fitting_member` would refuse them now. Clients' `pm_ids`, teams' members and
    `viewer_ids` follow; `user` gets its new seat lists (the caller writes the user record). Reads
    first (the clients and their teams), then writes."""
    pm_of = [] if role == "project_manager" else list(user.pm_client_ids)
    in_teams_of = [] if role == "client" else list(user.team_client_ids)
    clients = {c.id: c for c in uow.of(Client).get_many(sorted({*pm_of, *in_teams_of}))}
    teams = {cid: uow.of(Team, client_id=cid).where() for cid in clients}
    for cid, client in clients.items():
        pm_ids = _without(client.pm_ids, user.id) if cid in pm_of else client.pm_ids
        kept = [t if cid not in in_teams_of or user.id not in t.member_ids
                else replace(t, member_ids=_without(t.member_ids, user.id)) for t in teams[cid]]
        for before, after in zip(teams[cid], kept):
            if after.member_ids != before.member_ids:
                uow.of(Team, client_id=cid).update(after.id, {"member_ids": after.member_ids})
        uow.of(Client).update(cid, {"pm_ids": pm_ids, "viewer_ids": _viewers(pm_ids, kept), "updated_at": now()})
    if pm_of or in_teams_of:
        user.pm_client_ids = _without(user.pm_client_ids, *pm_of)
        user.team_client_ids = _without(user.team_client_ids, *in_teams_of)
        uow.audit.append(audit.entry(meta, "user.seats.drop", f"users/{user.id}",
                                     before={"pm_client_ids": pm_of, "team_client_ids": in_teams_of}, after={"role": role}))


# -- projects ----------------------------------------------------------------
PROJECT_FIELDS = ("id", "client_id", "org_id", "name", "description", "archived", "created_at", "updated_at")


def project_view(project: Project) -> dict[str, Any]:
    """A project as the API's Project."""
    return {k: getattr(project, k) for k in PROJECT_FIELDS}


def _project_filters(archived: bool) -> list[Filter]:
    return [("deleted", "==", False)] + ([] if archived else [("archived", "==", False)])


def list_projects(store: Database, principal: Principal, client_id: str, *, page: int, size: int, cursor: str | None = None,
                  archived: bool = False) -> Page:
    """A client's projects, oldest first (archived ones only when asked)."""
    access.require_client(store, principal, client_id)
    return store.of(Project, client_id=client_id).page(_project_filters(archived), ("created_at", "asc"), page, size,
                                                        cursor).map(project_view)


def list_all_projects(store: Database, principal: Principal, *, page: int, size: int, cursor: str | None = None,
                      org_id: str | None = None, archived: bool = False) -> Page:
    """Projects of every client the caller may see, oldest first: one collection-group query per
    page limited by organization (production, reviewers) or client id (PMs, client users), so a
    page costs size + 1 reads at any depth (a few merged queries past 30 organizations or clients)."""
    filters = _project_filters(archived) + ([("org_id", "==", org_id)] if org_id else [])
    projects = store.group(Project)
    order = ("created_at", "asc")
    orgs = access.client_list_orgs(store, principal)
    if orgs is not None and org_id:  # the query already filters on it
        result = projects.page(filters, order, page, size, cursor) if org_id in orgs else Page([], 0, page, size)
    elif orgs is not None:
        result = page_any(projects, filters, "org_id", "in", orgs, order, page, size, cursor, "projects", archived) \
            if orgs else Page([], 0, page, size)
    else:
        visible = access.visible_client_ids(store, principal)
        if visible is None:
            result = projects.page(filters, order, page, size, cursor)
        elif visible:
            result = page_any(projects, filters, "client_id", "in", sorted(visible), order, page, size, cursor,
                              "projects", org_id, archived)
        else:
            result = Page([], 0, page, size)
    return result.map(project_view)


def create_project(store: Database, meta: AuditMeta, client_id: str, *, name: str, description: str | None = None) -> dict[str, Any]:
    """Create a project of a client."""
    project_id = new_id()

    def work(uow: UnitOfWork) -> Project:
        client = _live(uow, Client, client_id)
        stamp = now()
        project = Project(id=project_id, client_id=client_id, org_id=client.org_id, name=name.strip(),
                          description=description, created_at=stamp, updated_at=stamp)
        uow.of(Project, client_id=client_id).add(project)
        uow.of(Client).update(client_id, {"project_count": Increment(1), "updated_at": now()})
        uow.audit.append(audit.entry(meta, "project.create", f"clients/{client_id}/projects/{project_id}",
                                     after={"name": project.name}))
        return project

    return project_view(store.atomically(work))


def update_project(store: Database, meta: AuditMeta, client_id: str, project_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Change name, description or archived."""

    def work(uow: UnitOfWork) -> Project:
        _live(uow, Client, client_id)
        project = _live(uow, Project, project_id, client_id=client_id)
        update = {k: (v.strip() if k == "name" else v) for k, v in changes.items() if k in ("name", "description", "archived")}
        stamp = now()
        uow.of(Project, client_id=client_id).update(project_id, {**update, "updated_at": stamp})
        uow.audit.append(audit.entry(meta, "project.update", f"clients/{client_id}/projects/{project_id}",
                                     before={k: getattr(project, k) for k in update}, after=update))
        return replace(project, **update, updated_at=stamp)

    return project_view(store.atomically(work))


def delete_project(store: Database, meta: AuditMeta, client_id: str, project_id: str, *, force: bool = False) -> None:
    """Delete a project. 409 while jobs use it unless `force`: then they are detached from it."""

    def work(uow: UnitOfWork) -> None:
        _live(uow, Client, client_id)
        project = _live(uow, Project, project_id, client_id=client_id)
        found = _live_jobs(uow, "project_id", project_id)
        _check_jobs(found, "project", force)
        _detach_jobs(uow, found, ("project_id",))
        uow.of(Project, client_id=client_id).update(project_id, {"deleted": True, "deleted_at": now(), "updated_at": now()})
        uow.of(Client).update(client_id, {"project_count": Increment(-1), "updated_at": now()})
        uow.audit.append(audit.entry(meta, "project.delete", f"clients/{client_id}/projects/{project_id}",
                                     before={"name": project.name},
                                     extra={"detached_jobs": [j.id for j in found], "forced": force}))

    store.atomically(work)
