import pytest

from avp.auth.tokens import Principal
from avp.domain import access
from tests.helpers import API, PASSWORD, bearer, login, make_job, token_for


@pytest.fixture
def world(client, container):
    """An admin, one organization with a client, and a token factory for members of that organization."""
    token, admin = token_for(client, container, "admin")
    h = bearer(token)
    org = client.post(f"{API}/organizations", json={"name": "Org"}, headers=h).json
    acme = client.post(f"{API}/clients", json={"org_id": org["id"], "name": "Acme"}, headers=h)
    assert acme.status_code == 201, acme.json

    def member(role: str) -> tuple[dict, dict]:
        tok, user = token_for(client, container, role)
        assert client.post(f"{API}/organizations/{org['id']}/members", json={"user_id": user["id"], "role": role},
                           headers=h).status_code == 201
        return bearer(tok), user

    return {"h": h, "org": org, "client": acme.json, "member": member, "store": container.store}


def test_client_crud_names_and_visibility(client, world):
    h, org, acme = world["h"], world["org"], world["client"]
    assert acme["org_id"] == org["id"] and acme["pm_ids"] == [] and acme["team_count"] == 0
    assert client.post(f"{API}/clients", json={"org_id": org["id"], "name": "ACME"}, headers=h).status_code == 409
    assert client.post(f"{API}/clients", json={"org_id": "nope", "name": "Acme"}, headers=h).status_code == 404
    other_org = client.post(f"{API}/organizations", json={"name": "Other"}, headers=h).json
    assert client.post(f"{API}/clients", json={"org_id": other_org["id"], "name": "Acme"}, headers=h).status_code == 201
    assert client.post(f"{API}/clients", json={"org_id": org["id"], "name": "Beta"}, headers=h).status_code == 201
    assert client.get(f"{API}/clients?org_id={org['id']}", headers=h).json["total"] == 2
    assert [c["name"] for c in client.get(f"{API}/clients?q=acm", headers=h).json["items"]] == ["Acme", "Acme"]
    renamed = client.patch(f"{API}/clients/{acme['id']}", json={"name": "Acme Studios"}, headers=h)
    assert renamed.status_code == 200 and renamed.json["name"] == "Acme Studios"
    assert client.patch(f"{API}/clients/{acme['id']}", json={"name": "beta"}, headers=h).status_code == 409

    production, _ = world["member"]("production")
    linguist, _ = world["member"]("linguist")
    listed = client.get(f"{API}/clients", headers=production).json
    assert listed["total"] == 2 and {c["name"] for c in listed["items"]} == {"Acme Studios", "Beta"}
    assert client.get(f"{API}/clients/{acme['id']}", headers=production).status_code == 200
    assert client.patch(f"{API}/clients/{acme['id']}", json={"name": "X"}, headers=production).status_code == 403
    assert client.get(f"{API}/clients", headers=linguist).json["total"] == 0
    assert client.get(f"{API}/clients/{acme['id']}", headers=linguist).status_code == 404


def test_pm_assignment(client, world):
    h, acme, store = world["h"], world["client"], world["store"]
    pm_h, pm = world["member"]("project_manager")
    _, reviewer = world["member"]("reviewer")
    wrong = client.post(f"{API}/clients/{acme['id']}/pm", json={"user_id": reviewer["id"]}, headers=h)
    assert wrong.status_code == 422 and "project_manager" in str(wrong.json["detail"])
    assert client.post(f"{API}/clients/{acme['id']}/pm", json={"user_id": "nobody"}, headers=h).status_code == 404
    assert client.get(f"{API}/clients/{acme['id']}", headers=pm_h).status_code == 404
    added = client.post(f"{API}/clients/{acme['id']}/pm", json={"user_id": pm["id"]}, headers=h)
    assert added.status_code == 200 and [p["id"] for p in added.json["items"]] == [pm["id"]]
    assert store.get(f"users/{pm['id']}")["pm_client_ids"] == [acme["id"]]
    assert client.get(f"{API}/clients/{acme['id']}", headers=pm_h).json["pm_ids"] == [pm["id"]]
    assert [p["email"] for p in client.get(f"{API}/clients/{acme['id']}/pm", headers=pm_h).json["items"]] == [pm["email"]]
    assert client.post(f"{API}/clients/{acme['id']}/pm", json={"user_id": pm["id"]}, headers=pm_h).status_code == 403
    assert client.delete(f"{API}/clients/{acme['id']}/pm/{pm['id']}", headers=h).status_code == 204
    assert client.delete(f"{API}/clients/{acme['id']}/pm/{pm['id']}", headers=h).status_code == 404
    assert store.get(f"users/{pm['id']}")["pm_client_ids"] == []
    assert client.get(f"{API}/clients/{acme['id']}", headers=pm_h).status_code == 404
    assert {e["action"] for e in store.find("audit_logs", [])} >= {"client.pm.add", "client.pm.remove"}


def test_teams_and_their_members(client, world):
    h, acme, store = world["h"], world["client"], world["store"]
    cid = acme["id"]
    pm_h, pm = world["member"]("project_manager")
    client.post(f"{API}/clients/{cid}/pm", json={"user_id": pm["id"]}, headers=h)
    other_pm_h, _ = world["member"]("project_manager")
    production, _ = world["member"]("production")
    user_h, user = world["member"]("client")

    assert client.get(f"{API}/clients/{cid}", headers=user_h).status_code == 404
    team = client.post(f"{API}/clients/{cid}/teams", json={"name": "Editors", "member_ids": [user["id"]]}, headers=h)
    assert team.status_code == 201 and team.json["member_ids"] == [user["id"]]
    tid = team.json["id"]
    assert store.get(f"users/{user['id']}")["team_client_ids"] == [cid]
    assert client.get(f"{API}/clients/{cid}", headers=user_h).json["team_count"] == 1
    assert client.post(f"{API}/clients/{cid}/teams", json={"name": "X", "member_ids": ["ghost"]}, headers=h).status_code == 404
    second = client.post(f"{API}/clients/{cid}/teams", json={"name": "Viewers"}, headers=h).json
    assert client.patch(f"{API}/clients/{cid}/teams/{tid}", json={"name": "Editing"}, headers=h).json["name"] == "Editing"
    assert [t["name"] for t in client.get(f"{API}/clients/{cid}/teams", headers=user_h).json["items"]] == ["Editing", "Viewers"]

    # Team members: admin or the client's PM; a PM of another client does not even see it; production may not.
    url = f"{API}/clients/{cid}/teams/{second['id']}/members"
    assert client.post(url, json={"user_id": user["id"]}, headers=other_pm_h).status_code == 404
    assert client.post(url, json={"user_id": user["id"]}, headers=production).status_code == 403
    assert client.post(url, json={"user_id": user["id"]}, headers=user_h).status_code == 403
    added = client.post(url, json={"user_id": user["id"]}, headers=pm_h)
    assert added.status_code == 200 and added.json["member_ids"] == [user["id"]]
    assert client.post(url, json={"user_id": user["id"]}, headers=pm_h).status_code == 409
    # Leaving one team keeps access through the other.
    assert client.delete(f"{url}/{user['id']}", headers=pm_h).status_code == 204
    assert client.delete(f"{url}/{user['id']}", headers=pm_h).status_code == 404
    assert store.get(f"users/{user['id']}")["team_client_ids"] == [cid]
    assert client.delete(f"{API}/clients/{cid}/teams/{tid}", headers=production).status_code == 403
    assert client.delete(f"{API}/clients/{cid}/teams/{tid}", headers=h).status_code == 204
    assert store.get(f"users/{user['id']}")["team_client_ids"] == []
    assert client.get(f"{API}/clients/{cid}", headers=user_h).status_code == 404
    assert {e["action"] for e in store.find("audit_logs", [])} >= {"team.create", "team.update", "team.delete",
                                                                    "team.member.add", "team.member.remove"}


def test_projects_and_all_projects(client, world):
    h, org, acme, store = world["h"], world["org"], world["client"], world["store"]
    cid = acme["id"]
    beta = client.post(f"{API}/clients", json={"org_id": org["id"], "name": "Beta"}, headers=h).json
    p1 = client.post(f"{API}/clients/{cid}/projects", json={"name": "Season 1", "description": "first"}, headers=h)
    assert p1.status_code == 201 and p1.json["archived"] is False and p1.json["org_id"] == org["id"]
    p2 = client.post(f"{API}/clients/{cid}/projects", json={"name": "Season 2"}, headers=h).json
    client.post(f"{API}/clients/{beta['id']}/projects", json={"name": "Beta project"}, headers=h)
    assert client.patch(f"{API}/clients/{cid}/projects/{p2['id']}", json={"archived": True}, headers=h).json["archived"] is True
    assert client.patch(f"{API}/clients/{cid}/projects/{p2['id']}", json={}, headers=h).status_code == 422
    assert [p["name"] for p in client.get(f"{API}/clients/{cid}/projects", headers=h).json["items"]] == ["Season 1"]
    assert client.get(f"{API}/clients/{cid}/projects?archived=true", headers=h).json["total"] == 2

    # /clients/all-projects is its own route, not /clients/{client_id} with id "all-projects".
    everything = client.get(f"{API}/clients/all-projects", headers=h)
    assert everything.status_code == 200 and everything.json["total"] == 2
    second_page = client.get(f"{API}/clients/all-projects?archived=true&size=2&page=2", headers=h).json
    assert second_page["total"] == 3 and len(second_page["items"]) == 1 and second_page["page"] == 2
    pm_h, pm = world["member"]("project_manager")
    client.post(f"{API}/clients/{cid}/pm", json={"user_id": pm["id"]}, headers=h)
    assert [p["name"] for p in client.get(f"{API}/clients/all-projects", headers=pm_h).json["items"]] == ["Season 1"]
    linguist, _ = world["member"]("linguist")
    assert client.get(f"{API}/clients/all-projects", headers=linguist).json["total"] == 0

    job = make_job(store, org["id"], cid, project_id=p1.json["id"], creator=Principal(pm["id"], "project_manager"))
    assert client.delete(f"{API}/clients/{cid}/projects/{p1.json['id']}", headers=h).status_code == 409
    assert client.delete(f"{API}/clients/{cid}/projects/{p1.json['id']}?force=true", headers=h).status_code == 204
    detached = store.get(f"jobs/{job['id']}")
    assert detached["project_id"] is None and detached["client_id"] == cid and detached["access_keys"] == access.job_keys(detached)
    assert client.get(f"{API}/clients/{cid}/projects?archived=true", headers=h).json["total"] == 1
    assert client.delete(f"{API}/clients/{cid}/projects/{p1.json['id']}", headers=h).status_code == 404


def test_delete_client_with_jobs_needs_force_and_detaches_them(client, world):
    h, org, acme, store = world["h"], world["org"], world["client"], world["store"]
    cid = acme["id"]
    pm_h, pm = world["member"]("project_manager")
    user_h, user = world["member"]("client")
    client.post(f"{API}/clients/{cid}/pm", json={"user_id": pm["id"]}, headers=h)
    client.post(f"{API}/clients/{cid}/teams", json={"name": "T", "member_ids": [user["id"]]}, headers=h)
    project = client.post(f"{API}/clients/{cid}/projects", json={"name": "P"}, headers=h).json
    job = make_job(store, org["id"], cid, project_id=project["id"], creator=Principal(user["id"], "client"))
    gone = make_job(store, org["id"], cid, deleted=True)
    assert client.delete(f"{API}/clients/{cid}", headers=pm_h).status_code == 403
    refused = client.delete(f"{API}/clients/{cid}", headers=h)
    assert refused.status_code == 409 and "1 job" in refused.json["detail"]
    assert client.delete(f"{API}/clients/{cid}?force=true", headers=h).status_code == 204
    detached = store.get(f"jobs/{job['id']}")
    assert detached["client_id"] is None and detached["project_id"] is None
    assert detached["access_keys"] == sorted(["live", f"org:{org['id']}", f"user:{user['id']}"])  # no client key left
    assert store.get(f"jobs/{gone['id']}")["client_id"] == cid  # deleted jobs are left alone
    assert client.get(f"{API}/clients/{cid}", headers=h).status_code == 404
    assert store.get(f"users/{pm['id']}")["pm_client_ids"] == [] and store.get(f"users/{user['id']}")["team_client_ids"] == []
    assert client.get(f"{API}/clients/all-projects", headers=h).json["total"] == 0
    entry = store.find("audit_logs", [("action", "==", "client.delete")])[0]
    assert entry["detached_jobs"] == [job["id"]] and entry["forced"] is True
    # The name is free again.
    assert client.post(f"{API}/clients", json={"org_id": org["id"], "name": "Acme"}, headers=h).status_code == 201


def test_a_pm_and_a_client_user_page_exactly_their_clients_one_query_a_page(client, container, monkeypatch):
    """A PM of 12 clients (in two organizations) and a client user in teams of 7 (one through two
    teams) follow cursors through exactly theirs, by name, each page costing at most size + 1 reads
    of clients, with or without a name search or organization; losing a seat (PM, one of two teams,
    the other, a deleted team, the organization) changes their list at once."""
    from tests.integration.test_pagination import DocumentReads, walk

    h = bearer(token_for(client, container, "admin")[0])
    harbour, other = (client.post(f"{API}/organizations", json={"name": name}, headers=h).json["id"]
                      for name in ("Harbour", "Other"))
    ids: dict[str, str] = {}
    for org, names in ((harbour, [f"{side} {n:02d}" for side in ("North", "South") for n in range(10)]),
                       (other, ["North 10", "South 10", "West"])):
        for name in names:
            made = client.post(f"{API}/clients", json={"org_id": org, "name": name}, headers=h)
            assert made.status_code == 201, made.json
            ids[name] = made.json["id"]

    def person(email: str, role: str, orgs: list[str]) -> tuple[dict, str]:
        made = client.post(f"{API}/admin/users", json={"email": email, "role": role, "password": PASSWORD,
                                                       "org_ids": orgs}, headers=h)
        assert made.status_code == 201, made.json
        return bearer(login(client, email).json["access_token"]), made.json["id"]

    pm_h, pm = person("pm@example.com", "project_manager", [harbour, other])
    cu_h, cu = person("cu@example.com", "client", [harbour])
    pm_of = [f"{side} {n:02d}" for side in ("North", "South") for n in (*range(5), 10)]
    for name in pm_of:
        assert client.post(f"{API}/clients/{ids[name]}/pm", json={"user_id": pm}, headers=h).status_code == 200
    teams = {}
    for name in [f"North {n:02d}" for n in range(3, 10)]:
        teams[name] = client.post(f"{API}/clients/{ids[name]}/teams", json={"name": "Edit", "member_ids": [cu]},
                                  headers=h).json["id"]
    review = client.post(f"{API}/clients/{ids['North 05']}/teams", json={"name": "Review", "member_ids": [cu]},
                         headers=h).json["id"]
    assert client.post(f"{API}/clients/{ids['South 09']}/teams", json={"name": "Empty"}, headers=h).status_code == 201
    reads = DocumentReads(container.store, monkeypatch, "clients")

    def listed(headers: dict, query: str = "") -> list[str]:
        pages = walk(client, f"{API}/clients{query}", headers, 3, reads)
        found = [c["name"] for page in pages for c in page["items"]]
        assert all(p["total"] == len(found) for p in pages) and len(pages) == max(1, -(-len(found) // 3))
        assert all("viewer_ids" not in c for page in pages for c in page["items"]), "seats are not the view's"
        return found

    assert listed(pm_h) == sorted(pm_of), "complete, disjoint, by name"
    assert listed(cu_h) == [f"North {n:02d}" for n in range(3, 10)], "North 05 once, though two teams hold them"
    assert listed(pm_h, "?q=north%200") == [f"North {n:02d}" for n in range(5)]
    assert listed(pm_h, "?q=SOUTH") == [f"South {n:02d}" for n in (*range(5), 10)]
    assert listed(pm_h, f"?org_id={other}") == ["North 10", "South 10"]
    assert listed(pm_h, f"?org_id={harbour}&q=south") == [f"South {n:02d}" for n in range(5)]
    assert listed(cu_h, "?q=north%200") == [f"North {n:02d}" for n in range(3, 10)]
    assert listed(cu_h, "?q=south") == [] and listed(cu_h, f"?org_id={other}") == []

    assert client.delete(f"{API}/clients/{ids['North 00']}/pm/{pm}", headers=h).status_code == 204
    pm_of.remove("North 00")
    assert listed(pm_h) == sorted(pm_of) and listed(pm_h, "?q=north") == ["North 01", "North 02", "North 03",
                                                                            "North 04", "North 10"]
    yours = [f"North {n:02d}" for n in range(3, 10)]
    team_members = f"{API}/clients/{ids['North 05']}/teams"
    assert client.delete(f"{team_members}/{teams['North 05']}/members/{cu}", headers=h).status_code == 204
    assert listed(cu_h) == yours, "still in the client's other team"
    assert client.get(f"{API}/clients/{ids['North 05']}", headers=cu_h).status_code == 200
    assert client.delete(f"{team_members}/{review}/members/{cu}", headers=h).status_code == 204
    yours.remove("North 05")
    assert listed(cu_h) == yours and listed(cu_h, "?q=north%200") == yours
    assert client.get(f"{API}/clients/{ids['North 05']}", headers=cu_h).status_code == 404
    assert client.delete(f"{API}/clients/{ids['North 06']}/teams/{teams['North 06']}", headers=h).status_code == 204
    yours.remove("North 06")
    assert listed(cu_h) == yours

    assert client.delete(f"{API}/organizations/{other}/members/{pm}", headers=h).status_code == 204
    assert listed(pm_h) == [n for n in sorted(pm_of) if not n.endswith("10")] and listed(pm_h, f"?org_id={other}") == []
    assert client.delete(f"{API}/organizations/{harbour}/members/{cu}", headers=h).status_code == 204
    assert listed(cu_h) == [] and listed(cu_h, "?q=north") == []
    assert len(listed(h)) == 23, "an administrator sees them all"


def test_a_role_change_ends_the_seats_the_new_role_cannot_hold(client, world, container):
    """A client user made project manager leaves their teams; a PM made production stops being PM:
    the seat lists, the clients' PMs, teams and viewers change with the role, in one commit."""
    from avp.domain.aggregates import Client, Team, User

    h, acme = world["h"], world["client"]
    team = client.post(f"{API}/clients/{acme['id']}/teams", json={"name": "Editors"}, headers=h).json
    _, member = world["member"]("client")
    assert client.post(f"{API}/clients/{acme['id']}/teams/{team['id']}/members", json={"user_id": member["id"]},
                       headers=h).status_code == 200
    _, pm = world["member"]("project_manager")
    assert client.post(f"{API}/clients/{acme['id']}/pm", json={"user_id": pm["id"]}, headers=h).status_code == 200
    stored = container.store.of(Client).get(acme["id"])
    assert sorted(stored.viewer_ids) == sorted([member["id"], pm["id"]])

    promoted = client.patch(f"{API}/admin/users/{member['id']}", json={"role": "project_manager"}, headers=h)
    assert promoted.status_code == 200, promoted.json
    moved = client.patch(f"{API}/admin/users/{pm['id']}", json={"role": "production"}, headers=h)
    assert moved.status_code == 200, moved.json

    stored = container.store.of(Client).get(acme["id"])
    assert stored.pm_ids == [] and stored.viewer_ids == []
    assert container.store.of(Team, client_id=acme["id"]).get(team["id"]).member_ids == []
    assert container.store.of(User).get(member["id"]).team_client_ids == []
    assert container.store.of(User).get(pm["id"]).pm_client_ids == []
    # What they see follows their new role: the new PM manages no client yet; production sees the organization's.
    new_pm = bearer(login(client, member["email"]).json["access_token"])
    assert client.get(f"{API}/clients", headers=new_pm).json["total"] == 0
    assert client.get(f"{API}/clients/{acme['id']}", headers=new_pm).status_code == 404
    now_production = bearer(login(client, pm["email"]).json["access_token"])
    assert [c["id"] for c in client.get(f"{API}/clients", headers=now_production).json["items"]] == [acme["id"]]
    actions = [e["action"] for e in client.get(f"{API}/admin/audit-logs?size=100", headers=h).json["items"]]
    assert actions.count("user.seats.drop") == 2 and actions.count("user.role") == 2
