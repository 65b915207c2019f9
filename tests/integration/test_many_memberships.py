"""A caller with more organizations or clients than one Firestore query can name (30 values in an
`in` or `array_contains_any`), through the API as a client would: organizations, clients, projects,
users and briefs made by their routes, jobs by the real writers. Every list still holds all they may
see, once each, in order, following cursors; a page costs one query's size + 1 reads per 30 keys;
a job of their 33rd organization opens. (Before, the caller's keys were cut to 30: every job, brief
and glossary of the rest vanished from lists and answered 404.)"""
from __future__ import annotations

import datetime as dt

import pytest

from avp.auth.tokens import Principal
from avp.domain.aggregates import User
from tests.helpers import API, bearer, login, make_job, token_for
from tests.integration.test_pagination import ids, walk

pytestmark = pytest.mark.slow  # 33 organizations made through the API

ORGS = 33
T0 = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)


@pytest.fixture
def world(client, container):
    token, _ = token_for(client, container, "admin")
    admin = bearer(token)
    orgs = []
    for n in range(ORGS):
        made = client.post(f"{API}/organizations", json={"name": f"Agency {n:02d}"}, headers=admin)
        assert made.status_code == 201, made.json
        orgs.append(made.json["id"])
    outside = client.post(f"{API}/organizations", json={"name": "Not theirs"}, headers=admin).json["id"]
    person = client.post(f"{API}/admin/users", json={"email": "many@example.com", "role": "production",
                                                     "password": "correct horse battery staple", "org_ids": orgs},
                         headers=admin)
    assert person.status_code == 201, person.json
    clients = [client.post(f"{API}/clients", json={"org_id": org, "name": f"Client {n:02d}"}, headers=admin).json["id"]
               for n, org in enumerate(orgs)]
    for n, cid in enumerate(clients):
        made = client.post(f"{API}/clients/{cid}/projects", json={"name": f"Project {n:02d}"}, headers=admin)
        assert made.status_code == 201, made.json
    user = container.store.of(User).get(person.json["id"])
    me = Principal(user.id, "production", tuple(orgs))
    jobs = [make_job(container.store, org, clients[n], title=f"Job {n:02d}", created_at=T0 + dt.timedelta(minutes=n))
            for n, org in enumerate(orgs)]
    # Their own upload in an organization they have left counts once, through their own key.
    mine = make_job(container.store, outside, creator=me, title="Mine", created_at=T0 + dt.timedelta(hours=2))
    not_theirs = make_job(container.store, outside, title="Not theirs", created_at=T0 + dt.timedelta(hours=3))
    signed_in = login(client, "many@example.com")
    assert signed_in.status_code == 200, signed_in.json
    return {"admin": admin, "h": bearer(signed_in.json["access_token"]), "orgs": orgs, "clients": clients,
            "jobs": [j["id"] for j in jobs], "mine": mine["id"], "not_theirs": not_theirs["id"], "outside": outside,
            "me": user.id}


def _pages(client, container, url, headers, size, queries):
    """Every page of `url`, each costing at most `queries` x (size + 1) reads after the first."""
    pages, cursor, cost = [], "", []
    while True:
        before = container.store.reads
        resp = client.get(f"{url}{'&' if '?' in url else '?'}size={size}{cursor}", headers=headers)
        assert resp.status_code == 200, resp.json
        cost.append(container.store.reads - before)
        assert cost[-1] <= queries * (size + 1), f"page {len(pages) + 1} read {cost[-1]} documents"
        pages.append(resp.json)
        if "next_cursor" not in resp.json:
            print(f"{url.removeprefix(API)} size {size}: documents read per page {cost}")
            return pages
        cursor = f"&cursor={resp.json['next_cursor']}"


def test_every_job_of_every_organization_is_listed_once_in_order_and_opens(client, container, world):
    pages = _pages(client, container, f"{API}/jobs?sort=-created_at", world["h"], 5, queries=2)
    want = [world["mine"], *reversed(world["jobs"])]
    assert ids(pages) == want, "all 33 organizations' jobs and their own, newest first, none twice"
    assert {p["total"] for p in pages} == {ORGS + 1} and [p["page"] for p in pages] == list(range(1, 8))
    assert client.get(f"{API}/jobs?size=5&page=3", headers=world["h"]).json["items"] == pages[2]["items"]
    last_org = max(world["orgs"])  # its key sorts past the first 30 (once, cut away)
    last_org_job = world["jobs"][world["orgs"].index(last_org)]
    assert client.get(f"{API}/jobs/{last_org_job}", headers=world["h"]).status_code == 200
    assert client.get(f"{API}/jobs/{world['not_theirs']}", headers=world["h"]).status_code == 404
    # Statuses multiply the disjunctions: 2 statuses leave 15 keys a query, so 3 queries.
    both = _pages(client, container, f"{API}/jobs?status=pending_qc,complete", world["h"], 10, queries=3)
    assert sorted(ids(both)) == sorted(want)
    by_org = client.get(f"{API}/jobs?org_id={last_org}", headers=world["h"]).json
    assert [j["id"] for j in by_org["items"]] == [last_org_job] and by_org["total"] == 1


def test_clients_projects_and_briefs_of_every_organization(client, container, world):
    clients = _pages(client, container, f"{API}/clients", world["h"], 7, queries=2)
    assert ids(clients) == world["clients"] and clients[0]["total"] == ORGS, "by name, all 33"
    found = client.get(f"{API}/clients?q=client 32", headers=world["h"]).json
    assert [c["id"] for c in found["items"]] == [world["clients"][-1]]
    projects = _pages(client, container, f"{API}/clients/all-projects", world["h"], 10, queries=2)
    assert len(ids(projects)) == ORGS and projects[0]["total"] == ORGS
    for n in (0, ORGS - 1):
        made = client.post(f"{API}/briefs", json={"title": f"Brief {n}", "org_id": world["orgs"][n]}, headers=world["h"])
        assert made.status_code == 201, made.json
    briefs = client.get(f"{API}/briefs?sort=title", headers=world["h"]).json
    assert [b["title"] for b in briefs["items"]] == ["Brief 0", f"Brief {ORGS - 1}"] and briefs["total"] == 2
    # Leaving an organization takes its jobs and clients out at once.
    gone = client.delete(f"{API}/organizations/{world['orgs'][-1]}/members/{world['me']}", headers=world["admin"])
    assert gone.status_code == 204, gone.json
    assert client.get(f"{API}/jobs/{world['jobs'][-1]}", headers=world["h"]).status_code == 404
    assert client.get(f"{API}/clients?size=100", headers=world["h"]).json["total"] == ORGS - 1

