"""Pagination is right on any number of instances: cursors carry everything (nothing is cached
in a process), survive inserts, cost at most size + 1 document reads per page at any depth, and
every paged list route honours them."""
from __future__ import annotations

from urllib.parse import quote

from avp.domain.paging import decode_cursor, encode_cursor
from tests.helpers import API, bearer, login, make_user, token_for


class DocumentReads:
    """Documents of one top-level collection read, however they are read: a page's query
    (`store.reads`) and any fetch of them by id (what paging a caller's few in memory did)."""

    def __init__(self, store, monkeypatch, collection: str) -> None:
        self._store, self._fetched = store, 0
        fetch = store.get_many

        def counted(paths):
            paths = list(paths)
            docs = fetch(paths)
            if all(p.startswith(f"{collection}/") and p.count("/") == 1 for p in paths):
                self._fetched += len(docs)
            return docs

        monkeypatch.setattr(store, "get_many", counted)

    @property
    def reads(self) -> int:
        return self._store.reads + self._fetched


def walk(client, url: str, headers: dict, size: int, reads=None) -> list[dict]:
    """Every page of `url` by following `next_cursor`; checks page numbers and the read budget."""
    pages, cursor, page, cost = [], "", 1, []
    sep = "&" if "?" in url else "?"
    while True:
        before = reads.reads if reads else 0
        resp = client.get(f"{url}{sep}size={size}{cursor}", headers=headers)
        assert resp.status_code == 200, resp.json
        if reads:
            cost.append(reads.reads - before)
            assert cost[-1] <= size + 1, f"page {page} read {cost[-1]} documents"
        body = resp.json
        assert body["page"] == page and len(body["items"]) <= size
        pages.append(body)
        if "next_cursor" not in body:
            print(f"{url.removeprefix(API)} size {size}: documents read per page {cost}")
            return pages
        page, cursor = page + 1, f"&cursor={quote(body['next_cursor'])}"


def by_page_number(client, url: str, headers: dict, size: int, pages: int) -> list[dict]:
    sep = "&" if "?" in url else "?"
    return [client.get(f"{url}{sep}size={size}&page={n}", headers=headers).json for n in range(1, pages + 1)]


def ids(pages: list[dict], key: str = "id") -> list:
    return [item[key] if key else item for page in pages for item in page["items"]]


def test_cursors_are_stable_under_inserts_cheap_at_depth_and_shared_by_nothing(client, container):
    token, admin = token_for(client, container, "admin", email="a-admin@example.com")
    h = bearer(token)
    for i in range(10):
        make_user(container, "client", email=f"u{i:02d}@example.com")
    url = f"{API}/admin/users"
    pages = walk(client, url, h, 3, container.store)
    everyone = ids(pages, "email")
    assert everyone == sorted(everyone) and len(everyone) == 11 and len(pages) == 4
    # Page numbers and cursors agree, and a cursor request leaves no state behind for page=N.
    assert ids(by_page_number(client, url, h, 3, 4), "email") == everyone
    # An insert before the cursor's position does not shift the next page.
    first = client.get(f"{url}?size=3", headers=h).json
    make_user(container, "client", email="aa-early@example.com")
    second = client.get(f"{url}?size=3&cursor={quote(first['next_cursor'])}", headers=h).json
    assert [u["email"] for u in second["items"]] == everyone[3:6] and second["page"] == 2
    # A cursor belongs to its list and filters.
    assert client.get(f"{url}?size=3&role=client&cursor={quote(first['next_cursor'])}", headers=h).status_code == 400
    assert client.get(f"{url}?cursor=not-a-cursor", headers=h).status_code == 400


def test_every_named_list_route_honours_cursor(client, container):
    token, admin = token_for(client, container, "admin")
    h = bearer(token)
    org = client.post(f"{API}/organizations", json={"name": "Org 0"}, headers=h).json
    for i in range(1, 5):
        client.post(f"{API}/organizations", json={"name": f"Org {i}"}, headers=h)
    for i in range(5):
        user = make_user(container, "linguist")
        assert client.post(f"{API}/organizations/{org['id']}/members", json={"user_id": user["id"], "role": "linguist"},
                           headers=h).status_code == 201
        login(client, user["email"])  # security audit entries
    cl = client.post(f"{API}/clients", json={"org_id": org["id"], "name": "Client 0"}, headers=h).json
    for i in range(1, 5):
        client.post(f"{API}/clients", json={"org_id": org["id"], "name": f"Client {i}"}, headers=h)
    for i in range(5):
        assert client.post(f"{API}/clients/{cl['id']}/projects", json={"name": f"P{i}"}, headers=h).status_code == 201

    for url, key in ((f"{API}/organizations", "id"), (f"{API}/organizations/{org['id']}/members", "user_id"),
                     (f"{API}/clients", "id"), (f"{API}/clients/{cl['id']}/projects", "id"),
                     (f"{API}/clients/all-projects", "id"), (f"{API}/admin/users", "id"),
                     (f"{API}/admin/audit-logs", "id"), (f"{API}/admin/audit-logs/user/{admin['id']}", "id"),
                     (f"{API}/admin/audit-logs/security", "id")):
        pages = walk(client, url, h, 2, container.store)
        followed = ids(pages, key)
        assert len(pages) >= 3, url
        assert len(followed) == len(set(followed)) == pages[0]["total"], url
        assert ids(by_page_number(client, url, h, 2, len(pages)), key) == followed, url


def test_scoped_lists_page_by_query_for_non_admin_callers(client, container):
    """A production user's clients and projects (those of their organizations) and a PM's projects
    (those of their clients) are one query per page, not their whole scope read on every page."""
    token, _ = token_for(client, container, "admin")
    h = bearer(token)
    orgs = [client.post(f"{API}/organizations", json={"name": f"Scope {i}"}, headers=h).json for i in range(3)]
    staff, pm = make_user(container, "production"), make_user(container, "project_manager")
    for org in orgs[:2]:
        assert client.post(f"{API}/organizations/{org['id']}/members", json={"user_id": staff["id"], "role": "production"},
                           headers=h).status_code == 201
    assert client.post(f"{API}/organizations/{orgs[0]['id']}/members",
                       json={"user_id": pm["id"], "role": "project_manager"}, headers=h).status_code == 201
    clients = {}
    for i, org in enumerate(orgs):
        for j in range(3):
            made = client.post(f"{API}/clients", json={"org_id": org["id"], "name": f"C{j}{i}"}, headers=h)
            assert made.status_code == 201
            clients[made.json["name"]] = made.json["id"]
            for k in range(2):
                assert client.post(f"{API}/clients/{made.json['id']}/projects", json={"name": f"P{j}{i}{k}"},
                                   headers=h).status_code == 201
    for name in ("C00", "C10"):
        assert client.post(f"{API}/clients/{clients[name]}/pm", json={"user_id": pm["id"]}, headers=h).status_code == 200
    mine = bearer(login(client, staff["email"]).json["access_token"])
    for query in ("", "?q=scope"):
        theirs = walk(client, f"{API}/organizations{query}", mine, 1, container.store)
        assert [o["name"] for o in ids(theirs, "")] == ["Scope 0", "Scope 1"] and theirs[0]["total"] == 2
    pages = walk(client, f"{API}/clients", mine, 2, container.store)
    assert [c["name"] for c in ids(pages, "")] == sorted(f"C{j}{i}" for i in range(2) for j in range(3))
    assert pages[0]["total"] == 6
    one = walk(client, f"{API}/clients?org_id={orgs[0]['id']}", mine, 2, container.store)
    assert [c["name"] for c in ids(one, "")] == ["C00", "C10", "C20"]
    assert client.get(f"{API}/clients?org_id={orgs[2]['id']}", headers=mine).json["items"] == []

    url = f"{API}/clients/all-projects"
    projects = ids(walk(client, url, mine, 5, container.store), "")
    assert [p["name"] for p in projects] == [f"P{j}{i}{k}" for i in range(2) for j in range(3) for k in range(2)]
    assert ids(by_page_number(client, url, mine, 5, 3), "") == projects
    forged = decode_cursor(client.get(f"{url}?size=5", headers=mine).json["next_cursor"])
    forged[1] = "projects/.."  # a group cursor's anchor is a path: one outside the group is refused
    assert client.get(f"{url}?size=5&cursor={quote(encode_cursor(forged))}", headers=mine).status_code == 400
    pm_h = bearer(login(client, pm["email"]).json["access_token"])
    for query in ("", f"?org_id={orgs[0]['id']}"):
        theirs = ids(walk(client, url + query, pm_h, 3, container.store), "")
        assert [p["name"] for p in theirs] == ["P000", "P001", "P100", "P101"]


def test_language_qc_queue_is_one_query_a_page(world, client, container):
    """A linguist's work queue is one query of the queue documents their assignments wrote with the
    job: size + 1 reads a page at any depth, oldest assignment first, and it follows the job's and
    the language's state without any other writer."""
    prod, ling, rev, other = (world.person(role) for role in ("production", "linguist", "reviewer", "linguist"))
    qc = f"{API}/language-qc"
    made = []
    for n in range(4):
        job = world.job(targets=("fr", "de", "it"))
        for lang in ("it", "fr", "de"):
            assert client.post(f"{qc}/jobs/{job['id']}/languages/{lang}/assign", json={"user_id": ling.id},
                               headers=prod.headers).status_code == 200
            made.append((job["id"], lang))
        assert client.post(f"{qc}/jobs/{job['id']}/languages/fr/assign-reviewer", json={"user_id": rev.id},
                           headers=prod.headers).status_code == 200
    theirs = world.job(targets=("fr",))
    assert client.post(f"{qc}/jobs/{theirs['id']}/languages/fr/assign", json={"user_id": other.id},
                       headers=prod.headers).status_code == 200

    url = f"{qc}/me/language-qc-queue"
    for size in (1, 5):
        pages = walk(client, url, ling.headers, size, container.store)
        assert [(i["job_id"], i["language"]) for i in ids(pages, "")] == made and pages[0]["total"] == 12
        assert ids(by_page_number(client, url, ling.headers, size, len(pages)), "") == ids(pages, "")
    # The reviewer's default queue is what is submitted to them; everything assigned on request.
    assert client.get(url, headers=rev.headers).json["items"] == []
    assigned = walk(client, f"{url}?status=assigned", rev.headers, 2, container.store)
    assert [(i["job_id"], i["as_role"]) for i in ids(assigned, "")] == [(j, "reviewer") for j, lang in made
                                                                         if lang == "fr"]

    # Work moves an item between states; a deleted job leaves the queue.
    first_job, lang = made[0]
    assert client.post(f"{qc}/jobs/{first_job}/languages/{lang}/start-work", headers=ling.headers).status_code == 200
    assert client.post(f"{qc}/jobs/{first_job}/languages/{lang}/submit", headers=ling.headers).status_code == 200
    admin = world.person("admin")
    assert client.delete(f"{API}/jobs/{made[-1][0]}", headers=admin.headers).status_code == 204
    left = ids(walk(client, url, ling.headers, 4, container.store), "")
    assert [(i["job_id"], i["language"]) for i in left] == [m for m in made[1:] if m[0] != made[-1][0]]
    submitted = client.get(f"{url}?status=submitted", headers=ling.headers).json["items"]
    assert [(i["job_id"], i["language"], i["status"]) for i in submitted] == [(first_job, lang, "submitted")]
    assert [i["job_id"] for i in client.get(url, headers=other.headers).json["items"]] == [theirs["id"]]
