"""Tenancy: organizations and their members, clients with their PMs, teams and projects.

The user record carries denormalised copies of memberships (`org_ids`, `pm_client_ids`,
`team_client_ids`) that `access.principal_keys` reads on every request; every change of a
membership rewrites them in the same transaction, so they can never disagree.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from avp.auth.tokens import Principal, secret_hash
from avp.domain import access, audit, users
from avp.domain.audit import AuditMeta
from avp.errors import Conflict, NotFound, Unprocessable
from avp.store import Increment, Page, Store, now, page_of

MEMBERSHIP_FIELDS = ("org_ids", "pm_client_ids", "team_client_ids")


# -- small helpers -----------------------------------------------------------
def name_key(name: str) -> str:
    """Names compare case- and space-insensitively: "ACME  Corp" and "acme corp" are one name."""
    return " ".join(name.casefold().split())


def _name_index(store: Store, collection: str, scope: str, name: str):
    # Hashed so any name (slashes, dots...) makes a valid document id; one document per name makes
    # "the name is unique" a transactional fact.
    return store.ref(f"{collection}/{secret_hash(scope + chr(10) + name_key(name))}")


def _claim_name(store: Store, txn, collection: str, scope: str, name: str, owner_id: str) -> None:
    ref = _name_index(store, collection, scope, name)
    snap = ref.get(transaction=txn)
    if snap.exists and snap.get("owner_id") != owner_id:
        raise Conflict(f"the name {name!r} is already taken")
    txn.set(ref, {"owner_id": owner_id, "name": name_key(name)})


def _with(values: Iterable[str] | None, value: str) -> list[str]:
    current = list(values or [])
    return current if value in current else [*current, value]


def _without(values: Iterable[str] | None, *removed: str) -> list[str]:
    return [v for v in values or [] if v not in removed]


def _live(store: Store, path: str, what: str, txn=None) -> dict[str, Any]:
    doc = store.get(path, txn)
    if doc is None or doc.get("deleted"):
        raise NotFound(f"{what} not found")
    return doc


def _live_user(store: Store, user_id: str, txn=None) -> dict[str, Any]:
    return _live(store, f"users/{user_id}", "user", txn)


def require_fitting_member(client: dict[str, Any], user: dict[str, Any], role: str, field: str = "user_id") -> None:
    """422 unless `user` belongs to the client's organization with `role`: a team or PM seat must never
    hand a client's jobs to someone of another organization or of a role that should not see them."""
    if client["org_id"] not in (user.get("org_ids") or []):
        raise Unprocessable({field: ["the user must be a member of the client's organization"]})
    if user["role"] != role:
        raise Unprocessable({field: [f"the user must have the {role} role"]})


def _find_in_txn(store: Store, txn, collection: str, filters, group: bool = False) -> list[dict[str, Any]]:
    return [{**s.to_dict(), "id": s.id, "path": s.reference.path}
            for s in store.query(collection, filters, group=group).stream(transaction=txn)]


def _by_name(items: list[dict[str, Any]], page: int, size: int, cursor: str | None, *query: Any) -> Page:
    """One page of a list sorted by name (used where the caller's scope is a set of ids)."""
    ordered = sorted(items, key=lambda d: (d["name_key"], d["id"]))
    return page_of(ordered, lambda d: [d["name_key"], d["id"]], page, size, cursor, *query)


def _prefix_filters(field: str, q: str | None) -> list[tuple[str, str, Any]]:
    if not q:
        return []
    key = name_key(q)
    return [(field, ">=", key), (field, "<", key + "\uf8ff")]


def _matches(doc: dict[str, Any], q: str | None) -> bool:
    return not q or doc.get("name_key", "").startswith(name_key(q))


def _users_summary(store: Store, user_ids: Iterable[str]) -> list[dict[str, Any]]:
    found = store.get_many(f"users/{u}" for u in user_ids)
    return [{"id": u["id"], "email": u["email"], "display_name": u.get("name") or None, "role": u["role"]}
            for u in found if not u.get("deleted")]


# -- organizations -----------------------------------------------------------
def organization_view(org: dict[str, Any]) -> dict[str, Any]:
    return {k: org.get(k) for k in ("id", "name", "slug", "settings", "member_count", "created_at", "updated_at")}


def create_organization(store: Store, meta: AuditMeta, *, name: str, slug: str | None = None,
                        settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """Create an organization; 409 when another has the same name (case-insensitive)."""
    ref = store.collection("organizations").document()
    data = {"name": name.strip(), "name_key": name_key(name),
            "slug": slug or re.sub(r"[^a-z0-9]+", "-", name_key(name)).strip("-")[:63] or ref.id,
            "settings": settings or {}, "member_count": 0, "deleted": False, "created_at": now(), "updated_at": now()}

    def txn_fn(txn):
        _claim_name(store, txn, "organization_names", "", name, ref.id)
        txn.create(ref, data)
        audit.record(store, meta, "organization.create", ref.path, after={"name": data["name"]}, transaction=txn)

    store.transaction(txn_fn)
    return organization_view({**data, "id": ref.id})


def list_organizations(store: Store, principal: Principal, *, page: int, size: int, cursor: str | None = None,
                       q: str | None = None) -> Page:
    """Organizations the caller belongs to (all for admin), by name."""
    org_ids = access.member_org_ids(store, principal)
    if org_ids == []:
        return Page([], 0, page, size)
    if org_ids is None or (len(org_ids) <= access.MAX_KEYS and not q):
        # A member's organizations are named by id in the query itself, so a page costs size + 1 reads.
        # (Firestore refuses ids `in` a list beside a name range: a search reads the few memberships.)
        mine = [] if org_ids is None else [("__name__", "in", [store.ref(f"organizations/{o}") for o in sorted(org_ids)])]
        result = store.paginate("organizations", [("deleted", "==", False), *mine, *_prefix_filters("name_key", q)],
                                ("name_key", "asc"), page, size, cursor)
    else:
        orgs = [o for o in store.get_many(f"organizations/{o}" for o in org_ids) if not o.get("deleted") and _matches(o, q)]
        result = _by_name(orgs, page, size, cursor, "organizations", q)
    result.items = [organization_view(o) for o in result.items]
    return result


def get_organization(store: Store, principal: Principal, org_id: str) -> dict[str, Any]:
    return organization_view(access.require_org(store, principal, org_id))


def update_organization(store: Store, meta: AuditMeta, org_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Rename (keeping names unique) or replace the settings of an organization."""

    def txn_fn(txn):
        org = _live(store, f"organizations/{org_id}", "organization", txn)
        update: dict[str, Any] = {"updated_at": now()}
        if "name" in changes and name_key(changes["name"]) != org["name_key"]:
            _claim_name(store, txn, "organization_names", "", changes["name"], org_id)
            txn.delete(_name_index(store, "organization_names", "", org["name"]))
            update |= {"name": changes["name"].strip(), "name_key": name_key(changes["name"])}
        if "settings" in changes:
            update["settings"] = changes["settings"]
        txn.update(store.ref(f"organizations/{org_id}"), update)
        audit.record(store, meta, "organization.update", f"organizations/{org_id}",
                     before={k: org.get(k) for k in changes}, after=changes, transaction=txn)
        return {**org, **update}

    return organization_view(store.transaction(txn_fn))


# -- members -----------------------------------------------------------------
def member_view(member: dict[str, Any], user: dict[str, Any]) -> dict[str, Any]:
    return {"user_id": member["user_id"], "org_id": member["org_id"], "email": user.get("email"),
            "display_name": user.get("name") or None, "role": member["role"], "joined_at": member.get("added_at")}


def list_members(store: Store, principal: Principal, org_id: str, *, page: int, size: int, cursor: str | None = None,
                 role: str | None = None) -> Page:
    """Members of an organization the caller belongs to, oldest first."""
    access.require_org(store, principal, org_id)
    filters = [("role", "==", role)] if role else []
    result = store.paginate(f"organizations/{org_id}/members", filters, ("added_at", "asc"), page, size, cursor)
    people = {u["id"]: u for u in store.get_many(f"users/{m['user_id']}" for m in result.items)}
    result.items = [member_view(m, people.get(m["user_id"], {})) for m in result.items]
    return result


def join_organization(store: Store, txn, meta: AuditMeta, org_id: str, user: dict[str, Any], role: str) -> dict[str, Any]:
    """Make `user` a member, inside `txn`, after the caller has done all its reads. Returns the member
    document; `user` gets its new `org_ids` (the caller writes the user record once)."""
    member = {"user_id": user["id"], "org_id": org_id, "role": role, "added_at": now()}
    txn.create(store.ref(f"organizations/{org_id}/members/{user['id']}"), member)
    txn.update(store.ref(f"organizations/{org_id}"), {"member_count": Increment(1), "updated_at": now()})
    user["org_ids"] = _with(user.get("org_ids"), org_id)
    audit.record(store, meta, "member.add", f"organizations/{org_id}/members/{user['id']}", after={"role": role},
                 transaction=txn)
    return member


def write_memberships(store: Store, txn, user: dict[str, Any]) -> None:
    """Write the user record's denormalised membership fields as they now stand."""
    txn.update(store.ref(f"users/{user['id']}"), {**{f: user.get(f) or [] for f in MEMBERSHIP_FIELDS}, "updated_at": now()})


def add_member(store: Store, meta: AuditMeta, principal: Principal, org_id: str, *, role: str,
               user_id: str | None = None, email: str | None = None) -> dict[str, Any]:
    """Add an existing user (by id or email) to an organization with `role`; 409 when already a member."""
    access.require_org(store, principal, org_id, "change")
    if user_id is None:
        found = users.find_by_email(store, email or "")
        if found is None:
            raise NotFound("no user has this email; send `invite: true` to invite them")
        user_id = found.id

    def txn_fn(txn):
        _live(store, f"organizations/{org_id}", "organization", txn)
        user = _live_user(store, user_id, txn)
        if store.get(f"organizations/{org_id}/members/{user_id}", txn):
            raise Conflict("this user is already a member of the organization")
        member = join_organization(store, txn, meta, org_id, user, role)
        write_memberships(store, txn, user)
        return member_view(member, user)

    return store.transaction(txn_fn)


def update_member(store: Store, meta: AuditMeta, principal: Principal, org_id: str, user_id: str, role: str) -> dict[str, Any]:
    """Change a member's role in the organization (a security event in the audit log)."""
    access.require_org(store, principal, org_id, "change")
    path = f"organizations/{org_id}/members/{user_id}"

    def txn_fn(txn):
        member = _live(store, path, "member", txn)
        user = store.get(f"users/{user_id}", txn) or {}
        txn.update(store.ref(path), {"role": role})
        audit.record(store, meta, "member.role", path, before={"role": member["role"]}, after={"role": role}, transaction=txn)
        return member_view({**member, "role": role}, user)

    return store.transaction(txn_fn)


def remove_member(store: Store, meta: AuditMeta, principal: Principal, org_id: str, user_id: str) -> None:
    """Remove a member; they also stop being PM of, or in a team of, any client of that organization."""
    access.require_org(store, principal, org_id, "change")
    path = f"organizations/{org_id}/members/{user_id}"

    def txn_fn(txn):
        member = _live(store, path, "member", txn)
        user = store.get(f"users/{user_id}", txn)
        pm_of = _find_in_txn(store, txn, "clients", [("org_id", "==", org_id), ("pm_ids", "array_contains", user_id)])
        teams = [t for t in _find_in_txn(store, txn, "teams", [("member_ids", "array_contains", user_id)], group=True)
                 if t.get("org_id") == org_id]
        for client in pm_of:
            txn.update(store.ref(client["path"]), {"pm_ids": _without(client["pm_ids"], user_id)})
        for team in teams:
            txn.update(store.ref(team["path"]), {"member_ids": _without(team["member_ids"], user_id)})
        txn.delete(store.ref(path))
        txn.update(store.ref(f"organizations/{org_id}"), {"member_count": Increment(-1), "updated_at": now()})
        if user:
            user["org_ids"] = _without(user.get("org_ids"), org_id)
            user["pm_client_ids"] = _without(user.get("pm_client_ids"), *(c["id"] for c in pm_of))
            user["team_client_ids"] = _without(user.get("team_client_ids"), *(t["client_id"] for t in teams))
            write_memberships(store, txn, user)
        audit.record(store, meta, "member.remove", path, before={"role": member["role"]}, transaction=txn)

    store.transaction(txn_fn)


def my_memberships(store: Store, principal: Principal) -> list[dict[str, Any]]:
    """The caller's organizations with their role in each."""
    org_ids = access.user_record(store, principal).get("org_ids", [])
    orgs = {o["id"]: o for o in store.get_many(f"organizations/{o}" for o in org_ids) if not o.get("deleted")}
    members = store.get_many(f"organizations/{o}/members/{principal.user_id}" for o in orgs)
    return sorted(({"org_id": m["org_id"], "org_name": orgs[m["org_id"]]["name"], "role": m["role"],
                    "joined_at": m.get("added_at")} for m in members), key=lambda m: name_key(m["org_name"]))


# -- clients -----------------------------------------------------------------
def client_view(client: dict[str, Any]) -> dict[str, Any]:
    return {k: client.get(k) for k in ("id", "org_id", "name", "pm_ids", "team_count", "project_count", "created_at",
                                       "updated_at")}


def create_client(store: Store, meta: AuditMeta, *, org_id: str, name: str) -> dict[str, Any]:
    """Create a client in an organization; names are unique within the organization."""
    ref = store.collection("clients").document()
    data = {"org_id": org_id, "name": name.strip(), "name_key": name_key(name), "pm_ids": [], "team_count": 0,
            "project_count": 0, "deleted": False, "created_at": now(), "updated_at": now()}

    def txn_fn(txn):
        _live(store, f"organizations/{org_id}", "organization", txn)
        _claim_name(store, txn, "client_names", org_id, name, ref.id)
        txn.create(ref, data)
        audit.record(store, meta, "client.create", ref.path, after={"org_id": org_id, "name": data["name"]}, transaction=txn)

    store.transaction(txn_fn)
    return client_view({**data, "id": ref.id})


def list_clients(store: Store, principal: Principal, *, page: int, size: int, cursor: str | None = None,
                 org_id: str | None = None, q: str | None = None) -> Page:
    """Clients the caller may see, by name."""
    orgs = access.client_list_orgs(store, principal)
    if orgs is not None and org_id:
        orgs = [org_id] if org_id in orgs else []
    if orgs == []:
        return Page([], 0, page, size)
    if orgs is not None and len(orgs) <= access.MAX_KEYS:
        # Production and reviewers see their organizations' clients: one indexed query per page
        # (`in` is served by the same index as `==`), so a page costs size + 1 reads at any depth.
        org_filter = [("org_id", "==", orgs[0])] if len(orgs) == 1 else [("org_id", "in", sorted(orgs))]
        filters = [("deleted", "==", False), *org_filter, *_prefix_filters("name_key", q)]
        result = store.paginate("clients", filters, ("name_key", "asc"), page, size, cursor)
        result.items = [client_view(c) for c in result.items]
        return result
    visible = access.visible_client_ids(store, principal)
    if visible is None:
        filters = [("deleted", "==", False), *([("org_id", "==", org_id)] if org_id else []), *_prefix_filters("name_key", q)]
        result = store.paginate("clients", filters, ("name_key", "asc"), page, size, cursor)
    else:
        found = [c for c in store.get_many(f"clients/{c}" for c in visible)
                 if not c.get("deleted") and (not org_id or c["org_id"] == org_id) and _matches(c, q)]
        result = _by_name(found, page, size, cursor, "clients", org_id, q)
    result.items = [client_view(c) for c in result.items]
    return result


def get_client(store: Store, principal: Principal, client_id: str) -> dict[str, Any]:
    return client_view(access.require_client(store, principal, client_id))


def update_client(store: Store, meta: AuditMeta, client_id: str, name: str) -> dict[str, Any]:
    """Rename a client (unique within its organization)."""

    def txn_fn(txn):
        client = _live(store, f"clients/{client_id}", "client", txn)
        if name_key(name) != client["name_key"]:
            _claim_name(store, txn, "client_names", client["org_id"], name, client_id)
            txn.delete(_name_index(store, "client_names", client["org_id"], client["name"]))
        update = {"name": name.strip(), "name_key": name_key(name), "updated_at": now()}
        txn.update(store.ref(f"clients/{client_id}"), update)
        audit.record(store, meta, "client.update", f"clients/{client_id}", before={"name": client["name"]},
                     after={"name": update["name"]}, transaction=txn)
        return {**client, **update}

    return client_view(store.transaction(txn_fn))


def _live_jobs(store: Store, txn, field: str, value: str) -> list[dict[str, Any]]:
    # Older jobs may lack a `deleted` field, so the filter is applied here rather than in the query.
    return [j for j in _find_in_txn(store, txn, "jobs", [(field, "==", value)]) if not j.get("deleted")]


def _detach_jobs(store: Store, txn, jobs: list[dict[str, Any]], fields: tuple[str, ...]) -> None:
    for job in jobs:
        detached = {**job, **{f: None for f in fields}}
        txn.update(store.ref(f"jobs/{job['id']}"), {**{f: None for f in fields}, "access_keys": access.job_keys(detached),
                                                    "updated_at": now()})


def _check_jobs(jobs: list[dict[str, Any]], what: str, force: bool) -> None:
    if jobs and not force:
        raise Conflict(f"the {what} still has {len(jobs)} job(s); delete them first or pass force=true to detach them")


def delete_client(store: Store, meta: AuditMeta, client_id: str, *, force: bool = False) -> None:
    """Delete a client with its teams and projects. 409 while it has jobs unless `force`: then the jobs
    are detached from it (kept, still visible to their organization), not lost."""

    def txn_fn(txn):
        client = _live(store, f"clients/{client_id}", "client", txn)
        jobs = _live_jobs(store, txn, "client_id", client_id)
        _check_jobs(jobs, "client", force)
        teams = _find_in_txn(store, txn, f"clients/{client_id}/teams", [])
        projects = _find_in_txn(store, txn, f"clients/{client_id}/projects", [("deleted", "==", False)])
        people = _read_users(store, txn, {*client["pm_ids"], *(m for t in teams for m in t["member_ids"])})
        _detach_jobs(store, txn, jobs, ("client_id", "project_id"))
        for user in people:
            user["pm_client_ids"] = _without(user.get("pm_client_ids"), client_id)
            user["team_client_ids"] = _without(user.get("team_client_ids"), client_id)
            write_memberships(store, txn, user)
        for team in teams:
            txn.delete(store.ref(team["path"]))
        for project in projects:
            txn.update(store.ref(project["path"]), {"deleted": True, "deleted_at": now()})
        txn.delete(_name_index(store, "client_names", client["org_id"], client["name"]))
        txn.update(store.ref(f"clients/{client_id}"), {"deleted": True, "pm_ids": [], "deleted_at": now(), "updated_at": now()})
        audit.record(store, meta, "client.delete", f"clients/{client_id}", before={"name": client["name"]},
                     extra={"detached_jobs": [j["id"] for j in jobs], "forced": force}, transaction=txn)

    store.transaction(txn_fn)


def _read_users(store: Store, txn, user_ids: Iterable[str]) -> list[dict[str, Any]]:
    return [u for u in (store.get(f"users/{uid}", txn) for uid in sorted(set(user_ids))) if u]


# -- project managers ----------------------------------------------------------
def list_pms(store: Store, principal: Principal, client_id: str) -> list[dict[str, Any]]:
    return _users_summary(store, access.require_client(store, principal, client_id)["pm_ids"])


def add_pm(store: Store, meta: AuditMeta, client_id: str, user_id: str) -> list[dict[str, Any]]:
    """Make a project_manager user PM of the client (422 for any other role); returns the client's PMs."""

    def txn_fn(txn):
        client = _live(store, f"clients/{client_id}", "client", txn)
        user = _live_user(store, user_id, txn)
        require_fitting_member(client, user, "project_manager")
        grant_pm(store, txn, meta, client, user)
        write_memberships(store, txn, user)
        return client["pm_ids"]

    return _users_summary(store, store.transaction(txn_fn))


def grant_pm(store: Store, txn, meta: AuditMeta, client: dict[str, Any], user: dict[str, Any]) -> None:
    """Make `user` PM of `client` inside `txn` (after all reads); the caller writes the user record."""
    client["pm_ids"] = _with(client.get("pm_ids"), user["id"])
    user["pm_client_ids"] = _with(user.get("pm_client_ids"), client["id"])
    txn.update(store.ref(f"clients/{client['id']}"), {"pm_ids": client["pm_ids"], "updated_at": now()})
    audit.record(store, meta, "client.pm.add", f"clients/{client['id']}", after={"user_id": user["id"]}, transaction=txn)


def remove_pm(store: Store, meta: AuditMeta, client_id: str, user_id: str) -> None:
    def txn_fn(txn):
        client = _live(store, f"clients/{client_id}", "client", txn)
        if user_id not in client["pm_ids"]:
            raise NotFound("this user is not a PM of the client")
        user = store.get(f"users/{user_id}", txn)
        txn.update(store.ref(f"clients/{client_id}"), {"pm_ids": _without(client["pm_ids"], user_id), "updated_at": now()})
        if user:
            user["pm_client_ids"] = _without(user.get("pm_client_ids"), client_id)
            write_memberships(store, txn, user)
        audit.record(store, meta, "client.pm.remove", f"clients/{client_id}", before={"user_id": user_id}, transaction=txn)

    store.transaction(txn_fn)


# -- teams -------------------------------------------------------------------
def team_view(team: dict[str, Any]) -> dict[str, Any]:
    return {k: team.get(k) for k in ("id", "client_id", "name", "member_ids", "created_at")}


def list_teams(store: Store, principal: Principal, client_id: str) -> list[dict[str, Any]]:
    access.require_client(store, principal, client_id)
    return [team_view(t) for t in store.find(f"clients/{client_id}/teams", order_by=[("created_at", "asc")])]


def create_team(store: Store, meta: AuditMeta, client_id: str, *, name: str, member_ids: list[str]) -> dict[str, Any]:
    """Create a team of existing users; its members see the client's jobs."""
    ref = store.collection(f"clients/{client_id}/teams").document()

    def txn_fn(txn):
        client = _live(store, f"clients/{client_id}", "client", txn)
        people = [_live_user(store, uid, txn) for uid in dict.fromkeys(member_ids)]
        for user in people:
            require_fitting_member(client, user, "client", "member_ids")
        team = {"client_id": client_id, "org_id": client["org_id"], "name": name.strip(), "member_ids": [u["id"] for u in people],
                "created_at": now()}
        txn.create(ref, team)
        txn.update(store.ref(f"clients/{client_id}"), {"team_count": Increment(1), "updated_at": now()})
        for user in people:
            user["team_client_ids"] = _with(user.get("team_client_ids"), client_id)
            write_memberships(store, txn, user)
        audit.record(store, meta, "team.create", ref.path, after={"name": team["name"], "member_ids": team["member_ids"]},
                     transaction=txn)
        return {**team, "id": ref.id}

    return team_view(store.transaction(txn_fn))


def update_team(store: Store, meta: AuditMeta, client_id: str, team_id: str, *, name: str) -> dict[str, Any]:
    path = f"clients/{client_id}/teams/{team_id}"

    def txn_fn(txn):
        _live(store, f"clients/{client_id}", "client", txn)
        team = _live(store, path, "team", txn)
        txn.update(store.ref(path), {"name": name.strip()})
        audit.record(store, meta, "team.update", path, before={"name": team["name"]}, after={"name": name.strip()}, transaction=txn)
        return {**team, "name": name.strip()}

    return team_view(store.transaction(txn_fn))


def _leave_team(store: Store, txn, client_id: str, team_id: str, users_leaving: list[dict[str, Any]]) -> None:
    """Drop the client from each leaving user's `team_client_ids` unless another team of it still has them.
    Reads the client's teams, so call it before any write of the transaction."""
    others = [t for t in _find_in_txn(store, txn, f"clients/{client_id}/teams", []) if t["id"] != team_id]
    for user in users_leaving:
        if not any(user["id"] in t["member_ids"] for t in others):
            user["team_client_ids"] = _without(user.get("team_client_ids"), client_id)


def delete_team(store: Store, meta: AuditMeta, client_id: str, team_id: str) -> None:
    path = f"clients/{client_id}/teams/{team_id}"

    def txn_fn(txn):
        _live(store, f"clients/{client_id}", "client", txn)
        team = _live(store, path, "team", txn)
        people = _read_users(store, txn, team["member_ids"])
        _leave_team(store, txn, client_id, team_id, people)
        for user in people:
            write_memberships(store, txn, user)
        txn.delete(store.ref(path))
        txn.update(store.ref(f"clients/{client_id}"), {"team_count": Increment(-1), "updated_at": now()})
        audit.record(store, meta, "team.delete", path, before={"name": team["name"], "member_ids": team["member_ids"]},
                     transaction=txn)

    store.transaction(txn_fn)


def join_team(store: Store, txn, meta: AuditMeta, team: dict[str, Any], user: dict[str, Any]) -> None:
    """Add `user` to `team` inside `txn` (after all reads); the caller writes the user record."""
    team["member_ids"] = _with(team.get("member_ids"), user["id"])
    user["team_client_ids"] = _with(user.get("team_client_ids"), team["client_id"])
    path = f"clients/{team['client_id']}/teams/{team['id']}"
    txn.update(store.ref(path), {"member_ids": team["member_ids"]})
    audit.record(store, meta, "team.member.add", path, after={"user_id": user["id"]}, transaction=txn)


def add_team_member(store: Store, meta: AuditMeta, principal: Principal, client_id: str, team_id: str,
                    user_id: str) -> dict[str, Any]:
    """Add a user to a team (admins and the client's PMs); 409 when already in it."""
    access.require_client(store, principal, client_id, "manage")
    path = f"clients/{client_id}/teams/{team_id}"

    def txn_fn(txn):
        client = _live(store, f"clients/{client_id}", "client", txn)
        team = _live(store, path, "team", txn)
        user = _live_user(store, user_id, txn)
        require_fitting_member(client, user, "client")
        if user_id in team["member_ids"]:
            raise Conflict("this user is already in the team")
        join_team(store, txn, meta, team, user)
        write_memberships(store, txn, user)
        return team

    return team_view(store.transaction(txn_fn))


def remove_team_member(store: Store, meta: AuditMeta, principal: Principal, client_id: str, team_id: str,
                       user_id: str) -> None:
    """Remove a user from a team (admins and the client's PMs)."""
    access.require_client(store, principal, client_id, "manage")
    path = f"clients/{client_id}/teams/{team_id}"

    def txn_fn(txn):
        team = _live(store, path, "team", txn)
        if user_id not in team["member_ids"]:
            raise NotFound("this user is not in the team")
        people = _read_users(store, txn, [user_id])
        _leave_team(store, txn, client_id, team_id, people)
        txn.update(store.ref(path), {"member_ids": _without(team["member_ids"], user_id)})
        for user in people:
            write_memberships(store, txn, user)
        audit.record(store, meta, "team.member.remove", path, before={"user_id": user_id}, transaction=txn)

    store.transaction(txn_fn)


# -- projects ----------------------------------------------------------------
def project_view(project: dict[str, Any]) -> dict[str, Any]:
    return {k: project.get(k) for k in ("id", "client_id", "org_id", "name", "description", "archived", "created_at",
                                        "updated_at")}


def _project_filters(archived: bool) -> list[tuple[str, str, Any]]:
    return [("deleted", "==", False)] + ([] if archived else [("archived", "==", False)])


def list_projects(store: Store, principal: Principal, client_id: str, *, page: int, size: int, cursor: str | None = None,
                  archived: bool = False) -> Page:
    """A client's projects, oldest first (archived ones only when asked)."""
    access.require_client(store, principal, client_id)
    result = store.paginate(f"clients/{client_id}/projects", _project_filters(archived), ("created_at", "asc"), page, size,
                            cursor)
    result.items = [project_view(p) for p in result.items]
    return result


def _project_scope(store: Store, principal: Principal,
                   org_id: str | None) -> list[tuple[str, str, Any]] | set[str] | None:
    """What limits a project query to the caller's clients: None for admin; a filter (by their
    organizations, or by client id); or, past Firestore's MAX_KEYS `in` values, the client ids."""
    orgs = access.client_list_orgs(store, principal)
    if orgs is not None:
        if org_id:  # the query already filters on it
            return [] if org_id in orgs else set()
        return [("org_id", "in", sorted(orgs))] if orgs else set()
    visible = access.visible_client_ids(store, principal)
    if visible is None or len(visible) > access.MAX_KEYS:
        return visible
    return [("client_id", "in", sorted(visible))] if visible else set()


def list_all_projects(store: Store, principal: Principal, *, page: int, size: int, cursor: str | None = None,
                      org_id: str | None = None, archived: bool = False) -> Page:
    """Projects of every client the caller may see, oldest first: one collection-group query per
    page (limited by organization or client id), so a page costs size + 1 reads at any depth."""
    filters = _project_filters(archived) + ([("org_id", "==", org_id)] if org_id else [])
    scope = _project_scope(store, principal, org_id)
    if scope is None or isinstance(scope, list):
        result = store.paginate("projects", filters + (scope or []), ("created_at", "asc"), page, size, cursor,
                                group=True)
    else:  # no scope, or more clients than one query can name: read them and page in memory
        found = [p for p in store.find("projects", filters, group=True) if p["client_id"] in scope] if scope else []
        found.sort(key=lambda p: (p["created_at"], p["id"]))
        result = page_of(found, lambda p: [p["created_at"], p["id"]], page, size, cursor, "projects", org_id, archived)
    result.items = [project_view(p) for p in result.items]
    return result


def create_project(store: Store, meta: AuditMeta, client_id: str, *, name: str, description: str | None = None) -> dict[str, Any]:
    ref = store.collection(f"clients/{client_id}/projects").document()

    def txn_fn(txn):
        client = _live(store, f"clients/{client_id}", "client", txn)
        project = {"client_id": client_id, "org_id": client["org_id"], "name": name.strip(), "description": description,
                   "archived": False, "deleted": False, "created_at": now(), "updated_at": now()}
        txn.create(ref, project)
        txn.update(store.ref(f"clients/{client_id}"), {"project_count": Increment(1), "updated_at": now()})
        audit.record(store, meta, "project.create", ref.path, after={"name": project["name"]}, transaction=txn)
        return {**project, "id": ref.id}

    return project_view(store.transaction(txn_fn))


def update_project(store: Store, meta: AuditMeta, client_id: str, project_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Change name, description or archived."""
    path = f"clients/{client_id}/projects/{project_id}"

    def txn_fn(txn):
        _live(store, f"clients/{client_id}", "client", txn)
        project = _live(store, path, "project", txn)
        update = {k: (v.strip() if k == "name" else v) for k, v in changes.items() if k in ("name", "description", "archived")}
        txn.update(store.ref(path), {**update, "updated_at": now()})
        audit.record(store, meta, "project.update", path, before={k: project.get(k) for k in update}, after=update,
                     transaction=txn)
        return {**project, **update}

    return project_view(store.transaction(txn_fn))


def delete_project(store: Store, meta: AuditMeta, client_id: str, project_id: str, *, force: bool = False) -> None:
    """Delete a project. 409 while jobs use it unless `force`: then they are detached from it."""
    path = f"clients/{client_id}/projects/{project_id}"

    def txn_fn(txn):
        _live(store, f"clients/{client_id}", "client", txn)
        project = _live(store, path, "project", txn)
        jobs = _live_jobs(store, txn, "project_id", project_id)
        _check_jobs(jobs, "project", force)
        _detach_jobs(store, txn, jobs, ("project_id",))
        txn.update(store.ref(path), {"deleted": True, "deleted_at": now(), "updated_at": now()})
        txn.update(store.ref(f"clients/{client_id}"), {"project_count": Increment(-1), "updated_at": now()})
        audit.record(store, meta, "project.delete", path, before={"name": project["name"]},
                     extra={"detached_jobs": [j["id"] for j in jobs], "forced": force}, transaction=txn)

    store.transaction(txn_fn)
