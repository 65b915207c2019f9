"""The authorization matrix framework: one shared world (users of every role in organization A, a user
of organization B, a client with its PM, team, project and job) and a table saying, for every
implemented route, what each kind of caller must get.

Outcomes: `OK` means the authorization check let the caller through — any status but 401, 403, 404
(and not a 5xx): a 422 for an empty body still proves it. Otherwise the exact status.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask

from avp.auth.tokens import ROLES, Principal, issue_access_token
from avp.domain import audit, tenancy, tracks
from avp.domain.aggregates import User
from tests.helpers import API, make_job, make_user
from tests.rendered import Rendered, install

OK = "allowed"
Outcome = int | str
CALLERS = (*ROLES, "other_org", "anonymous")
_ids = itertools.count()
CAPTIONS = "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\nBonjour.\n"


@dataclass(frozen=True)
class Expect:
    """What each caller must get: a role of organization A, a production user of organization B, or nobody."""

    roles: dict[str, Outcome]
    anonymous: Outcome = 401
    other_org: Outcome = 404

    def for_caller(self, caller: str) -> Outcome:
        if caller == "anonymous":
            return self.anonymous
        if caller == "other_org":
            return self.other_org
        return self.roles[caller]


def expect(default: Outcome, *, anonymous: Outcome = 401, other_org: Outcome = 404, **per_role: Outcome) -> Expect:
    unknown = set(per_role) - set(ROLES)
    assert not unknown, f"unknown roles {unknown}"
    return Expect({r: per_role.get(r, default) for r in ROLES}, anonymous, other_org)


# Presets: most rows are one of these.
EVERYONE = expect(OK, other_org=OK)                       # any signed-in user; not about one resource
MEMBERS = expect(OK)                                      # any member of the resource's organization
ADMIN_ONLY = expect(403, admin=OK, other_org=403)         # the role check answers before any lookup
PUBLIC = expect(OK, anonymous=OK, other_org=OK)
CLIENT_VIEWERS = expect(OK, linguist=404)                 # DOMAIN.md: linguists see no clients by listing
CLIENT_MANAGERS = expect(403, admin=OK, project_manager=OK, linguist=404)


@dataclass(frozen=True)
class Row:
    method: str
    template: str
    expect: Expect
    body: dict[str, Any] | None = None
    query: str = ""
    # For routes that change or delete what they name: called before every request, returns the path
    # parameters of a resource made for that request alone, so callers never see each other's effects.
    fresh: Callable[[World], dict[str, str]] | None = None

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.template


def row(route: str, outcome: Expect, body: dict[str, Any] | None = None, fresh: Callable[[World], dict[str, str]] | None = None) -> Row:
    """`row("GET /clients/{client_id}", CLIENT_VIEWERS)`: the path is relative to /api/v1 and may end in a
    query string (`?lang={lang}`), which is sent but is not part of the route's key."""
    method, path = route.split(" ", 1)
    template, _, query = path.partition("?")
    return Row(method, API + template, outcome, body, query, fresh)


@dataclass
class World:
    container: Any
    params: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    _epochs: dict[str, int] = field(default_factory=dict)

    @property
    def store(self):
        return self.container.store

    def admin(self) -> Principal:
        return Principal(self.users["admin"]["id"], "admin")

    def user(self, role: str, org_id: str | None = None) -> dict[str, Any]:
        user = make_user(self.container, role, email=f"matrix-{role}-{next(_ids)}@example.com")
        if org_id:
            tenancy.add_member(self.store, audit.SYSTEM, self.admin(), org_id, user_id=user["id"], role=role)
        return user

    def token(self, user: dict[str, Any]) -> str:
        fresh = self.store.of(User).get(user["id"])
        return issue_access_token(self.container.jwt_key, fresh, fresh.org_ids, 900)[0]

    def current_token(self, caller: str) -> str:
        """A token of `caller` valid now: rows such as logout end the caller's earlier tokens."""
        user = self.store.get(f"users/{self.users[caller]['id']}")
        if user.get("session_epoch", 0) != self._epochs.get(caller, 0):
            self._epochs[caller] = user.get("session_epoch", 0)
            self.tokens[caller] = self.token(user)
        return self.tokens[caller]

    def job(self, status: str = "pending_qc", duration: float | None = None) -> dict[str, str]:
        """A job of the client's project in organization A, created by the client user, with French
        assigned to the linguist and reviewer, in `status`: made by the writers (helpers.make_job)."""
        creator = self.users["client"]
        job = make_job(self.store, self.params["org_id"], self.params["client_id"], status=status,
                       project_id=self.params["project_id"], creator=Principal(creator["id"], "client"),
                       title="Matrix film", filename="film.mp4", source_language="en",
                       requested_outputs={"languages": ["fr"], "accessible_video_mp4": True},
                       media={"duration": duration} if duration else None,
                       assignments=None if status == "uploading" else
                       {"fr": {"linguist": self.users["linguist"]["id"], "reviewer": self.users["reviewer"]["id"]}})
        return {"job_id": job["id"]}

    # -- fresh resources (see Row.fresh) --
    def fresh_user(self) -> dict[str, str]:
        return {"user_id": self.user("linguist")["id"]}

    def fresh_member(self) -> dict[str, str]:
        return {"user_id": self.user("linguist", self.params["org_id"])["id"]}

    def fresh_pm(self) -> dict[str, str]:
        pm = self.user("project_manager", self.params["org_id"])
        tenancy.add_pm(self.store, audit.SYSTEM, self.params["client_id"], pm["id"])
        return {"user_id": pm["id"]}

    def fresh_team(self) -> dict[str, str]:
        return {"team_id": tenancy.create_team(self.store, audit.SYSTEM, self.params["client_id"], name="spare", member_ids=[])["id"]}

    def fresh_team_member(self) -> dict[str, str]:
        user = self.user("client", self.params["org_id"])
        tenancy.add_team_member(self.store, audit.SYSTEM, self.admin(), self.params["client_id"], self.params["team_id"], user["id"])
        return {"user_id": user["id"]}


def build_world(container, rendered: Rendered) -> World:
    """Organization A with a member of every role, a client (PM: the project_manager; team: the client user),
    a project and a job with a French track assigned to the linguist and reviewer; organization B with one
    production user. Path parameters point at A's resources."""
    world = World(container)
    world.users["admin"] = make_user(container, "admin", email=f"matrix-admin-{next(_ids)}@example.com")
    store = world.store
    org_a = tenancy.create_organization(store, audit.SYSTEM, name=f"Org A {next(_ids)}")
    org_b = tenancy.create_organization(store, audit.SYSTEM, name=f"Org B {next(_ids)}")
    for role in ROLES:
        if role != "admin":
            world.users[role] = world.user(role, org_a["id"])
    world.users["other_org"] = world.user("production", org_b["id"])
    acme = tenancy.create_client(store, audit.SYSTEM, org_id=org_a["id"], name="Acme")
    tenancy.add_pm(store, audit.SYSTEM, acme["id"], world.users["project_manager"]["id"])
    team = tenancy.create_team(store, audit.SYSTEM, acme["id"], name="Editors", member_ids=[world.users["client"]["id"]])
    project = tenancy.create_project(store, audit.SYSTEM, acme["id"], name="Season 1")
    world.params = {"org_id": org_a["id"], "client_id": acme["id"], "team_id": team["id"], "project_id": project["id"]}
    job_id = world.job(duration=rendered.duration)["job_id"]
    # A French captions track, and the descriptions, pause points and accessible video of the
    # session's real run (tests/rendered.py).
    tracks.save_version(store, container.storage, audit.SYSTEM, job_id, "fr", "captions", CAPTIONS, source="edit")
    install(store, container.storage, job_id, rendered)
    subject = world.user("linguist", org_a["id"])
    world.params |= {"job_id": job_id, "user_id": subject["id"], "lang": "fr", "language": "fr", "version": "1",
                      "cue_index": str(rendered.pause_points[0]["cue_index"]), "vtt": CAPTIONS}
    world.tokens = {caller: world.token(store.get(f"users/{user['id']}")) for caller, user in world.users.items()}
    return world


def outcome_matches(expected: Outcome, status: int) -> bool:
    if expected == OK:
        return status not in (401, 403, 404) and status < 500
    return status == expected


def check_row(client, world: World, r: Row) -> list[str]:
    """Call the route as every caller; the mismatches, as readable lines."""
    problems = []
    for caller in CALLERS:
        params = {**world.params, **(r.fresh(world) if r.fresh else {})}
        headers = {} if caller == "anonymous" else {"Authorization": f"Bearer {world.current_token(caller)}"}
        # String values of the body may name path parameters too: {"user_id": "{user_id}"}.
        kwargs = {"json": {k: v.format(**params) if isinstance(v, str) else v for k, v in r.body.items()}} if r.body else {}
        url = r.template.format(**params) + (f"?{r.query.format(**params)}" if r.query else "")
        resp = client.open(url, method=r.method, headers=headers, **kwargs)
        expected = r.expect.for_caller(caller)
        if not outcome_matches(expected, resp.status_code):
            problems.append(f"{r.method} {r.template} as {caller}: expected {expected}, got {resp.status_code} {resp.get_data(as_text=True)[:200]}")
    return problems


def missing_rows(gateway, rows: Iterable[Row]) -> list[str]:
    """Implemented routes without a row, and rows naming no route of openapi.yaml."""
    keys = {r.key for r in rows}
    spec = {(route.method, route.template) for route in gateway.routes}
    implemented = {(route.method, route.template) for route in gateway.routes if gateway.implemented(route)}
    return ([f"no row for implemented route {m} {t}" for m, t in sorted(implemented - keys)]
            + [f"row for a route not in openapi.yaml: {m} {t}" for m, t in sorted(keys - spec)])


def unguarded_views(apps: dict[str, Flask]) -> list[str]:
    """Views of the functions' Flask apps that neither `authenticated` nor `public` marked."""
    return [f"{name}: {endpoint}" for name, app in sorted(apps.items()) for endpoint, view in sorted(app.view_functions.items())
            if endpoint != "static" and not getattr(view, "avp_auth", None)]
