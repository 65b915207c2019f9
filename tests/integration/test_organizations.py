from avp.local.gateway import load_function
from tests.helpers import API, PASSWORD, bearer, login, make_user, token_for


def _org(client, h, name: str) -> dict:
    resp = client.post(f"{API}/organizations", json={"name": name}, headers=h)
    assert resp.status_code == 201, resp.json
    return resp.json


def _actions(container, action: str) -> list[dict]:
    return container.store.find("audit_logs", [("action", "==", action)])


def test_create_update_and_unique_names(client, container):
    token, admin = token_for(client, container, "admin")
    h = bearer(token)
    acme = _org(client, h, "Acme Corp")
    assert acme["slug"] == "acme-corp" and acme["member_count"] == 0
    assert client.post(f"{API}/organizations", json={"name": "  ACME   corp "}, headers=h).status_code == 409
    other = _org(client, h, "Globex")
    assert client.post(f"{API}/organizations", json={"name": ""}, headers=h).status_code == 422
    assert client.patch(f"{API}/organizations/{other['id']}", json={"name": "acme CORP"}, headers=h).status_code == 409
    renamed = client.patch(f"{API}/organizations/{other['id']}", json={"name": "Globex Ltd", "settings": {"retention_days": 30}},
                           headers=h)
    assert renamed.status_code == 200 and renamed.json["name"] == "Globex Ltd" and renamed.json["settings"] == {"retention_days": 30}
    # The old name is free again once renamed.
    assert client.post(f"{API}/organizations", json={"name": "globex"}, headers=h).status_code == 201
    assert client.patch(f"{API}/organizations/{other['id']}", json={}, headers=h).status_code == 422
    page = client.get(f"{API}/organizations?size=2", headers=h).json
    assert page["total"] == 3 and [o["name"] for o in page["items"]] == ["Acme Corp", "globex"] and page["next_cursor"]
    assert [o["name"] for o in client.get(f"{API}/organizations?size=2&page=2", headers=h).json["items"]] == ["Globex Ltd"]
    assert [o["name"] for o in client.get(f"{API}/organizations?q=GLOB", headers=h).json["items"]] == ["globex", "Globex Ltd"]
    created = _actions(container, "organization.create")
    assert len(created) == 3 and created[0]["actor_id"] == admin["id"] and created[0]["request_id"] and created[0]["ip"]
    assert _actions(container, "organization.update")[0]["before"] == {"name": "Globex", "settings": {}}


def test_members_are_added_reroled_and_removed_with_denormalised_org_ids(client, container):
    token, _ = token_for(client, container, "admin")
    h = bearer(token)
    org = _org(client, h, "Tenant")
    user = make_user(container, "reviewer", name="Rita")
    added = client.post(f"{API}/organizations/{org['id']}/members", json={"user_id": user["id"], "role": "reviewer"}, headers=h)
    assert added.status_code == 201 and added.json["email"] == user["email"] and added.json["display_name"] == "Rita"
    assert container.store.get(f"users/{user['id']}")["org_ids"] == [org["id"]]
    assert client.post(f"{API}/organizations/{org['id']}/members", json={"email": user["email"], "role": "reviewer"},
                       headers=h).status_code == 409
    by_email = make_user(container, "linguist")
    assert client.post(f"{API}/organizations/{org['id']}/members", json={"email": by_email["email"], "role": "linguist"},
                       headers=h).status_code == 201
    assert client.post(f"{API}/organizations/{org['id']}/members", json={"email": "ghost@example.com", "role": "client"},
                       headers=h).status_code == 404
    assert client.post(f"{API}/organizations/{org['id']}/members", json={"role": "client"}, headers=h).status_code == 422
    assert client.get(f"{API}/organizations/{org['id']}", headers=h).json["member_count"] == 2
    only = client.get(f"{API}/organizations/{org['id']}/members?role=linguist", headers=h).json
    assert only["total"] == 1 and only["items"][0]["user_id"] == by_email["id"]

    rerole = client.patch(f"{API}/organizations/{org['id']}/members/{user['id']}", json={"role": "production"}, headers=h)
    assert rerole.status_code == 200 and rerole.json["role"] == "production"
    entry = _actions(container, "member.role")[0]
    assert entry["security"] and entry["before"] == {"role": "reviewer"} and entry["after"] == {"role": "production"}

    member_token, member = token_for(client, container, "production")
    client.post(f"{API}/organizations/{org['id']}/members", json={"user_id": member["id"], "role": "production"}, headers=h)
    mh = bearer(member_token)
    assert client.get(f"{API}/organizations/{org['id']}/members", headers=mh).json["total"] == 3
    assert client.post(f"{API}/organizations/{org['id']}/members", json={"user_id": user["id"], "role": "client"},
                       headers=mh).status_code == 403
    assert client.patch(f"{API}/organizations/{org['id']}/members/{user['id']}", json={"role": "client"}, headers=mh).status_code == 403
    assert client.delete(f"{API}/organizations/{org['id']}/members/{user['id']}", headers=mh).status_code == 403

    assert client.delete(f"{API}/organizations/{org['id']}/members/{user['id']}", headers=h).status_code == 204
    assert container.store.get(f"users/{user['id']}")["org_ids"] == []
    assert client.delete(f"{API}/organizations/{org['id']}/members/{user['id']}", headers=h).status_code == 404
    assert client.get(f"{API}/organizations/{org['id']}", headers=h).json["member_count"] == 2
    assert {e["action"] for e in container.store.find("audit_logs", [])} >= {"member.add", "member.role", "member.remove"}


def test_non_admins_see_only_their_organizations(client, container):
    token, _ = token_for(client, container, "admin")
    h = bearer(token)
    mine, theirs = _org(client, h, "Mine"), _org(client, h, "Theirs")
    user_token, user = token_for(client, container, "production")
    uh = bearer(user_token)
    client.post(f"{API}/organizations/{mine['id']}/members", json={"user_id": user["id"], "role": "production"}, headers=h)
    listed = client.get(f"{API}/organizations", headers=uh).json
    assert [o["id"] for o in listed["items"]] == [mine["id"]] and listed["total"] == 1
    assert client.get(f"{API}/organizations/{mine['id']}", headers=uh).status_code == 200
    assert client.get(f"{API}/organizations/{theirs['id']}", headers=uh).status_code == 404
    assert client.get(f"{API}/organizations/{theirs['id']}/members", headers=uh).status_code == 404
    assert client.get(f"{API}/organizations/no-such-org", headers=uh).status_code == 404
    assert client.post(f"{API}/organizations", json={"name": "Mine too"}, headers=uh).status_code == 403


def test_my_memberships_is_not_captured_by_org_id(client, container):
    token, _ = token_for(client, container, "admin")
    h = bearer(token)
    first, second = _org(client, h, "Beta Org"), _org(client, h, "Alpha Org")
    user_token, user = token_for(client, container, "linguist")
    client.post(f"{API}/organizations/{first['id']}/members", json={"user_id": user["id"], "role": "linguist"}, headers=h)
    client.post(f"{API}/organizations/{second['id']}/members", json={"user_id": user["id"], "role": "reviewer"}, headers=h)
    resp = client.get(f"{API}/organizations/me/memberships", headers=bearer(user_token))
    assert resp.status_code == 200
    assert [(m["org_name"], m["role"]) for m in resp.json["items"]] == [("Alpha Org", "reviewer"), ("Beta Org", "linguist")]
    assert client.get(f"{API}/organizations/me/memberships").status_code == 401
    rule, _ = _organizations_app().url_map.bind("localhost").match(f"{API}/organizations/me/memberships", method="GET", return_rule=True)
    assert rule.endpoint == "organizations.my_memberships"


def _organizations_app():
    from avp.local.gateway import project_root

    return load_function(project_root() / "functions", "organizations")


def test_invite_through_members_route_mails_a_link(client, container):
    token, _ = token_for(client, container, "admin")
    h = bearer(token)
    org = _org(client, h, "Inviting")
    resp = client.post(f"{API}/organizations/{org['id']}/members", json={"email": "New.Person@Example.com", "role": "reviewer",
                                                                          "invite": True}, headers=h)
    assert resp.status_code == 202, resp.json
    assert resp.json["status"] == "pending" and resp.json["email"] == "new.person@example.com" and "secret_hash" not in resp.json
    mail = next((container.settings.data_dir / "outbox").glob("*.eml")).read_text()
    assert "new.person@example.com" in mail and "Inviting" in mail and "accept-invitation#token=" in mail
    assert client.post(f"{API}/organizations/{org['id']}/members", json={"user_id": "x", "role": "client", "invite": True},
                       headers=h).status_code == 422


def test_default_outputs_are_checked_as_a_jobs_are(client, container):
    """An organization's default requested outputs become its jobs' defaults: the same rules hold
    (found by the stateful fuzz: a voice keyed by "" was stored as given and Firestore answered 500)."""
    token, _ = token_for(client, container, "admin")
    h = bearer(token)
    good = {"languages": ["fr", "de-CH"], "tts_preferences": {"voices": {"fr": "fr-voice"}}}
    made = client.post(f"{API}/organizations", json={"name": "Defaults", "settings": {"default_requested_outputs": good}},
                       headers=h)
    assert made.status_code == 201 and made.json["settings"]["default_requested_outputs"] == good
    for bad in ({"tts_preferences": {"voices": {"": "x"}}}, {"languages": ["not a tag"]}, {"nonsense": True}):
        for resp in (client.post(f"{API}/organizations", json={"name": "Bad", "settings": {"default_requested_outputs": bad}},
                                 headers=h),
                     client.patch(f"{API}/organizations/{made.json['id']}",
                                  json={"settings": {"default_requested_outputs": bad}}, headers=h)):
            assert resp.status_code == 422 and "default_requested_outputs" in resp.json["detail"]["settings"], resp.json


def test_a_member_of_many_organizations_pages_them_one_query_a_page(client, container, monkeypatch):
    """A member of 35 organizations (past Firestore's 30 `in` values) follows cursors through all of
    them in name order, with or without a name search, each page costing at most size + 1 reads of
    organizations; leaving one takes it out of their list at once, and others never see it."""
    from tests.integration.test_pagination import DocumentReads, ids, walk

    token, _ = token_for(client, container, "admin")
    h = bearer(token)
    theirs = [_org(client, h, f"Studio {i:02d}") for i in range(20)] + [_org(client, h, f"Lab {i:02d}") for i in range(15)]
    others = [_org(client, h, name) for name in ("Aardvark", "Lab 07b", "Studio 03b", "studio 15b", "Zed")]
    made = client.post(f"{API}/admin/users", json={"email": "many@example.com", "role": "production",
                                                   "password": PASSWORD, "org_ids": [o["id"] for o in theirs]}, headers=h)
    assert made.status_code == 201, made.json
    member = made.json["id"]
    mh = bearer(login(client, "many@example.com").json["access_token"])
    reads = DocumentReads(container.store, monkeypatch, "organizations")

    pages = walk(client, f"{API}/organizations", mh, 5, reads)
    listed = ids(pages, "")
    assert len(pages) == 7 and all(p["total"] == 35 and len(p["items"]) == 5 for p in pages)
    assert [o["name"] for o in listed] == sorted(o["name"] for o in theirs), "complete, disjoint, in name order"
    assert all("member_ids" not in o for o in listed), "who belongs is not the Organization view's business"

    found = ids(walk(client, f"{API}/organizations?q=STUDIO", mh, 5, reads), "")
    assert [o["name"] for o in found] == [f"Studio {i:02d}" for i in range(20)]
    found = ids(walk(client, f"{API}/organizations?q=lab%200", mh, 5, reads), "")
    assert [o["name"] for o in found] == [f"Lab {i:02d}" for i in range(10)]

    left = theirs[3]
    assert client.delete(f"{API}/organizations/{left['id']}/members/{member}", headers=h).status_code == 204
    now_listed = ids(walk(client, f"{API}/organizations", mh, 5, reads), "")
    assert len(now_listed) == 34 and left["id"] not in {o["id"] for o in now_listed}
    assert left["id"] not in {o["id"] for o in ids(walk(client, f"{API}/organizations?q=studio", mh, 5, reads), "")}
    assert client.get(f"{API}/organizations/{left['id']}", headers=mh).status_code == 404
    memberships = client.get(f"{API}/organizations/me/memberships", headers=mh).json["items"]
    assert [(m["org_id"], m["role"]) for m in memberships] == [(o["id"], "production") for o in now_listed]

    outsider_token, outsider = token_for(client, container, "production")
    assert client.post(f"{API}/organizations/{others[1]['id']}/members", json={"user_id": outsider["id"],
                                                                                "role": "production"},
                       headers=h).status_code == 201
    oh = bearer(outsider_token)
    for query in ("", "?q=lab", "?q=studio"):
        seen = ids(walk(client, f"{API}/organizations{query}", oh, 5, reads), "")
        assert [o["name"] for o in seen] == (["Lab 07b"] if query != "?q=studio" else [])
    assert not {o["id"] for o in others} & {o["id"] for o in listed}, "a member never sees what they are not in"
    everything = ids(walk(client, f"{API}/organizations", h, 5, reads), "")
    assert len(everything) == 40, "an administrator sees them all"
