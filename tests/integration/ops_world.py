"""A small tenancy for the briefs / glossaries / production / admin tests, built through the domain
(fast) rather than the API: organization A with a client (its PM, its team's client user) and
members of every role, and organization B with a production user."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from avp.auth.tokens import Principal, issue_access_token
from avp.domain import audit, tenancy
from avp.domain.aggregates import User
from tests.helpers import bearer, make_user


@dataclass
class OpsWorld:
    org: dict[str, Any]
    other_org: dict[str, Any]
    acme: dict[str, Any]
    project: dict[str, Any]
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)

    def h(self, who: str) -> dict[str, str]:
        return self.headers[who]


def build(container) -> OpsWorld:
    store = container.store
    admin = make_user(container, "admin", password=None)
    root = Principal(admin["id"], "admin")
    org = tenancy.create_organization(store, audit.SYSTEM, name="Org A")
    other_org = tenancy.create_organization(store, audit.SYSTEM, name="Org B")
    acme = tenancy.create_client(store, audit.SYSTEM, org_id=org["id"], name="Acme")
    project = tenancy.create_project(store, audit.SYSTEM, acme["id"], name="Season 1")
    world = OpsWorld(org, other_org, acme, project, {"admin": admin})

    def member(role: str, org_id: str) -> dict[str, Any]:
        user = make_user(container, role, password=None)
        tenancy.add_member(store, audit.SYSTEM, root, org_id, role=role, user_id=user["id"])
        return user

    for role in ("production", "project_manager", "reviewer", "linguist", "client"):
        world.users[role] = member(role, org["id"])
    world.users["outsider_client"] = member("client", org["id"])  # in the org, in no team
    world.users["other_production"] = member("production", other_org["id"])
    tenancy.add_pm(store, audit.SYSTEM, acme["id"], world.users["project_manager"]["id"])
    tenancy.create_team(store, audit.SYSTEM, acme["id"], name="Editors", member_ids=[world.users["client"]["id"]])
    # Tokens straight from the signing key: signing in is tested elsewhere, and hashing passwords is slow.
    for name, user in world.users.items():
        fresh = store.of(User).get(user["id"])
        world.headers[name] = bearer(issue_access_token(container.jwt_key, fresh, fresh.org_ids, 900)[0])
    return world

