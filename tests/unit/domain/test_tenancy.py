"""Tenancy's rules on in-memory units of work (milliseconds, no emulator): names unique per scope,
memberships mirrored on the user record in the same unit of work, and a client or project that goes
away taking its jobs' placement with it through the job repository (keys and status mirror too).
The HTTP behaviour is tested in tests/integration/test_organizations.py and test_clients.py."""
from __future__ import annotations

import pytest

from avp.auth.tokens import Principal
from avp.domain import jobs, tenancy
from avp.domain.aggregates import (AuditEntry, Client, ClientName, Member, Organization, OrganizationName, Project,
                                   Team, User)
from avp.domain.audit import SYSTEM
from avp.errors import Conflict, NotFound, Unprocessable
from avp.store.memory import MemoryUnits

ADMIN = Principal("admin", "admin")
KINDS = {"organizations": Organization, "members": Member, "clients": Client, "teams": Team, "projects": Project,
         "organization_names": OrganizationName, "client_names": ClientName}


@pytest.fixture
def db() -> MemoryUnits:
    return MemoryUnits()


def person(db: MemoryUnits, user_id: str, role: str) -> None:
    # Accounts are made by avp.domain.users over Firestore; here only the record tenancy reads matters.
    db.of(User).add(User(id=user_id, email=f"{user_id}@example.com", role=role))


def user(db: MemoryUnits, user_id: str) -> User:
    return db.of(User).get(user_id)


def world(db: MemoryUnits) -> tuple[str, str]:
    org = tenancy.create_organization(db, SYSTEM, name="Harbour Films")["id"]
    client = tenancy.create_client(db, SYSTEM, org_id=org, name="Acme")["id"]
    for user_id, role in (("pm", "project_manager"), ("cu", "client"), ("cu2", "client")):
        person(db, user_id, role)
        tenancy.add_member(db, SYSTEM, ADMIN, org, role=role, user_id=user_id)
    return org, client


def test_names_are_unique_in_their_scope_and_a_rename_frees_the_old_one(db):
    org = tenancy.create_organization(db, SYSTEM, name="Acme  Corp")
    assert org["slug"] == "acme-corp" and org["member_count"] == 0
    with pytest.raises(Conflict, match="already taken"):
        tenancy.create_organization(db, SYSTEM, name="ACME corp")
    other = tenancy.create_organization(db, SYSTEM, name="Other")["id"]
    tenancy.create_client(db, SYSTEM, org_id=org["id"], name="Pixel")
    tenancy.create_client(db, SYSTEM, org_id=other, name="pixel")  # another organization: another scope
    with pytest.raises(Conflict):
        tenancy.create_client(db, SYSTEM, org_id=org["id"], name=" PIXEL ")
    renamed = tenancy.update_organization(db, SYSTEM, org["id"], {"name": "Beta"})
    assert renamed["name"] == "Beta" and db.of(Organization).get(org["id"]).name_key == "beta"
    assert tenancy.create_organization(db, SYSTEM, name="acme corp")["name"] == "acme corp"
    with pytest.raises(NotFound, match="organization not found"):
        tenancy.create_client(db, SYSTEM, org_id="missing", name="X")


def test_every_membership_change_rewrites_the_users_own_copy(db):
    org, client = world(db)
    assert db.of(Organization).get(org).member_count == 3 and user(db, "cu").org_ids == [org]
    assert db.of(Organization).get(org).member_ids == ["pm", "cu", "cu2"]
    with pytest.raises(Conflict):
        tenancy.add_member(db, SYSTEM, ADMIN, org, role="client", user_id="cu")
    with pytest.raises(Unprocessable):
        tenancy.add_pm(db, SYSTEM, client, "cu")  # not a project manager
    tenancy.add_pm(db, SYSTEM, client, "pm")
    team = tenancy.create_team(db, SYSTEM, client, name="Edit", member_ids=["cu", "cu2"])
    second = tenancy.create_team(db, SYSTEM, client, name="Review", member_ids=["cu2"])
    assert user(db, "pm").pm_client_ids == [client] and user(db, "cu").team_client_ids == [client]
    assert db.of(Client).get(client).team_count == 2

    def viewers() -> list[str]:
        return sorted(db.of(Client).get(client).viewer_ids)

    assert viewers() == ["cu", "cu2", "pm"]

    tenancy.remove_team_member(db, SYSTEM, ADMIN, client, team["id"], "cu2")
    assert user(db, "cu2").team_client_ids == [client], "still in the client's other team"
    assert viewers() == ["cu", "cu2", "pm"], "a viewer while any seat holds them"
    tenancy.delete_team(db, SYSTEM, client, second["id"])
    assert user(db, "cu2").team_client_ids == [] and db.of(Client).get(client).team_count == 1
    assert viewers() == ["cu", "pm"]

    tenancy.remove_member(db, SYSTEM, ADMIN, org, "cu")
    assert db.of(Team, client_id=client).get(team["id"]).member_ids == []
    assert (user(db, "cu").org_ids, user(db, "cu").team_client_ids) == ([], []) and viewers() == ["pm"]
    tenancy.remove_member(db, SYSTEM, ADMIN, org, "pm")
    assert db.of(Client).get(client).pm_ids == [] and user(db, "pm").pm_client_ids == [] and viewers() == []
    assert db.of(Organization).get(org).member_count == 1 and db.of(Organization).get(org).member_ids == ["cu2"]
    assert [m["user_id"] for m in tenancy.list_members(db, ADMIN, org, page=1, size=10).items] == ["cu2"]
    mine = tenancy.list_organizations(db, Principal("cu2", "client", (org,)), page=1, size=10)
    assert [o["id"] for o in mine.items] == [org] and "member_ids" not in mine.items[0]
    assert tenancy.list_organizations(db, Principal("cu", "client"), page=1, size=10).items == []
    tenancy.add_team_member(db, SYSTEM, ADMIN, client, team["id"], "cu2")
    assert viewers() == ["cu2"]
    theirs = tenancy.list_clients(db, Principal("cu2", "client", (org,)), page=1, size=10)
    assert [c["id"] for c in theirs.items] == [client] and "viewer_ids" not in theirs.items[0]
    assert tenancy.list_clients(db, Principal("cu", "client"), page=1, size=10).items == []


def test_a_deleted_client_takes_its_jobs_placement_with_it_through_the_job_repository(db):
    org, client = world(db)
    project = tenancy.create_project(db, SYSTEM, client, name="Spring")["id"]
    tenancy.create_team(db, SYSTEM, client, name="Edit", member_ids=["cu"])
    job = jobs.new_job(Principal("cu", "client"), org_id=org, client_id=client, project_id=project, title="t",
                       filename="a.mp4", content_type="video/mp4", size_bytes=1, source_language="en",
                       requested_outputs={})
    jobs.store_new_job(db, SYSTEM, job)
    assert f"client:{client}" in db.docs[f"job_status/{job['id']}"]["access_keys"]
    with pytest.raises(Conflict, match="1 job"):
        tenancy.delete_project(db, SYSTEM, client, project)
    with pytest.raises(Conflict, match="1 job"):
        tenancy.delete_client(db, SYSTEM, client)

    tenancy.delete_client(db, SYSTEM, client, force=True)
    stored = db.read_job(job["id"])
    assert (stored.org_id, stored.client_id, stored.project_id) == (org, None, None)
    assert stored.access_keys == ["live", f"org:{org}", "user:cu"]
    assert db.docs[f"job_status/{job['id']}"]["access_keys"] == stored.access_keys, "the mirror moved with it"
    assert db.of(Project, client_id=client).get(project).deleted and db.of(Team, client_id=client).where() == []
    assert user(db, "cu").team_client_ids == []
    deleted = db.of(AuditEntry).first(("action", "==", "client.delete"))
    assert deleted.extra["detached_jobs"] == [job["id"]] and deleted.extra["forced"] is True
    assert tenancy.create_client(db, SYSTEM, org_id=org, name="acme")["name"] == "acme", "the name is free again"


def test_what_tenancy_writes_is_exactly_its_records(db):
    org, client = world(db)
    tenancy.add_pm(db, SYSTEM, client, "pm")
    project = tenancy.create_project(db, SYSTEM, client, name="Spring", description="launch")["id"]
    tenancy.update_project(db, SYSTEM, client, project, {"archived": True})
    tenancy.create_team(db, SYSTEM, client, name="Edit", member_ids=["cu"])
    tenancy.update_client(db, SYSTEM, client, "Acme Ltd")
    seen = set()
    for path, doc in db.docs.items():
        parts = path.split("/")
        kind = KINDS.get(parts[-2])
        if kind is None:
            continue
        seen.add(kind)
        assert kind.from_doc(parts[-1], doc).extra == {}, f"{path} holds fields its record does not name"
    assert seen == set(KINDS.values())
