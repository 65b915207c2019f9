"""Job listing at scale: 500 jobs in 3 organizations, every role sees exactly what DOMAIN.md says,
pages are complete and disjoint, and each sequential page reads at most size+1 documents."""
from __future__ import annotations

import datetime as dt

import pytest

from avp.auth.tokens import Principal
from avp.domain import access, audit, jobs, tenancy
from avp.domain.aggregates import Client, Organization
from tests.helpers import API, ROBOT, bearer, login, make_user

pytestmark = pytest.mark.slow  # 500 jobs and seven accounts per test: a few seconds each

ORGS = ("org-a", "org-b", "org-c")
CLIENTS = {"cl-a1": "org-a", "cl-a2": "org-a", "cl-b1": "org-b", "cl-c1": "org-c"}
STATES = ("processing", "pending_qc", "language_qc", "complete")


@pytest.fixture
def world(client, container):
    store = container.store
    for org in ORGS:
        store.of(Organization).put(Organization(id=org, name=org, name_key=org))
    for cid, org in CLIENTS.items():
        store.of(Client).put(Client(id=cid, org_id=org, name=cid, name_key=cid))
    people = {
        "admin": make_user(container, "admin"),
        "production": make_user(container, "production"),
        "reviewer": make_user(container, "reviewer"),
        "project_manager": make_user(container, "project_manager"),
        "client": make_user(container, "client"),
        "linguist": make_user(container, "linguist"),
        "outsider": make_user(container, "production"),
    }
    memberships = {"production": ["org-a"], "reviewer": ["org-b", "org-c"], "project_manager": ["org-a"],
                   "client": ["org-b"], "linguist": ["org-b"], "outsider": []}
    for who, orgs in memberships.items():
        for org in orgs:
            tenancy.add_member(store, audit.SYSTEM, ROBOT, org, role=people[who]["role"], user_id=people[who]["id"])
    tenancy.add_pm(store, audit.SYSTEM, "cl-a1", people["project_manager"]["id"])
    tenancy.create_team(store, audit.SYSTEM, "cl-b1", name="Editors", member_ids=[people["client"]["id"]])
    client_ids = list(CLIENTS)
    base = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    created = []
    batch = store.client.batch()
    for i in range(500):
        org = ORGS[i % 3]
        in_org = [c for c in client_ids if CLIENTS[c] == org]
        client_id = in_org[i % len(in_org)] if i % 4 else None
        creator = people["client"]["id"] if i % 37 == 0 else "seed-account"
        job = jobs.new_job(Principal(creator, "production"), org_id=org, client_id=client_id, project_id=None,
                           title=f"job {i:03d}", filename="a.mp4", content_type="video/mp4", size_bytes=1,
                           source_language="en", requested_outputs={"languages": ["fr"]})
        # Kept raw on purpose: a bulk seed of what listing reads. Walking 500 jobs through the state
        # machine (helpers.make_job) takes ~0.2 s a job on the emulator, minutes per test.
        job.update(status=STATES[i % len(STATES)], created_at=base + dt.timedelta(minutes=i), deleted=i % 50 == 7)
        if i % 25 == 3:
            job["languages"] = {"fr": {"state": "assigned", "linguist_id": people["linguist"]["id"]}}
        job["access_keys"] = access.job_keys(job)
        batch.set(store.ref(f"jobs/{job['id']}"), {k: v for k, v in job.items() if k != "id"})
        created.append(job)
        if len(created) % 250 == 0:
            batch.commit()
            batch = store.client.batch()
    return people, created


def expected_ids(role: str, people: dict, created: list[dict]) -> set[str]:
    """DOMAIN.md's visibility table, computed from the jobs' fields (not from access keys)."""
    rules = {
        "admin": lambda j: True,
        "production": lambda j: j["org_id"] == "org-a",
        "reviewer": lambda j: j["org_id"] in ("org-b", "org-c"),
        "project_manager": lambda j: j["client_id"] == "cl-a1",
        "client": lambda j: j["client_id"] == "cl-b1" or j["created_by"] == people["client"]["id"],
        "linguist": lambda j: any(v.get("linguist_id") == people["linguist"]["id"] for v in j["languages"].values()),
        "outsider": lambda j: False,
    }
    return {j["id"] for j in created if not j["deleted"] and rules[role](j)}


@pytest.mark.parametrize("role", ["admin", "production", "reviewer", "project_manager", "client", "linguist", "outsider"])
def test_every_role_sees_exactly_its_jobs_in_complete_disjoint_pages(client, container, world, role):
    people, created = world
    resp = login(client, people[role]["email"])
    headers = bearer(resp.json["access_token"])
    want = expected_ids(role, people, created)
    size, seen, page, stamps, cursor = 40, [], 1, [], ""
    while True:
        before = container.store.reads
        body = client.get(f"{API}/jobs?size={size}{cursor}", headers=headers).json
        assert container.store.reads - before <= size + 1  # at any depth, following cursors
        assert body["total"] == len(want) and body["size"] == size and body["page"] == page
        seen += [item["id"] for item in body["items"]]
        stamps += [item["created_at"] for item in body["items"]]
        if "next_cursor" not in body:
            break
        page, cursor = page + 1, f"&cursor={body['next_cursor']}"
    assert len(seen) == len(set(seen)) and set(seen) == want
    assert stamps == sorted(stamps, reverse=True)  # default sort: newest first


def test_filters_sorts_and_cursors(client, container, world):
    people, created = world
    headers = bearer(login(client, people["admin"]["email"]).json["access_token"])
    live = [j for j in created if not j["deleted"]]
    pending = client.get(f"{API}/jobs?status=pending_qc&org_id=org-b&size=100", headers=headers).json
    assert {i["id"] for i in pending["items"]} == {j["id"] for j in live if j["status"] == "pending_qc" and j["org_id"] == "org-b"}
    two = client.get(f"{API}/jobs?status=complete,processing&client_id=cl-a2&size=100", headers=headers).json
    assert two["total"] == len([j for j in live if j["status"] in ("complete", "processing") and j["client_id"] == "cl-a2"])
    first = client.get(f"{API}/jobs?sort=title&size=30", headers=headers).json
    assert [i["title"] for i in first["items"]] == sorted(j["title"] for j in live)[:30]
    second = client.get(f"{API}/jobs?sort=title&size=30&cursor={first['next_cursor']}", headers=headers).json
    assert [i["title"] for i in second["items"]] == sorted(j["title"] for j in live)[30:60]
    assert client.get(f"{API}/jobs?sort=colour", headers=headers).status_code == 422
    assert client.get(f"{API}/jobs?status=asleep", headers=headers).status_code == 422
    assert client.get(f"{API}/jobs?size=101", headers=headers).status_code == 422
    mine = client.get(f"{API}/jobs?created_by={people['client']['id']}&size=100", headers=headers).json
    assert mine["total"] == len([j for j in live if j["created_by"] == people["client"]["id"]])
