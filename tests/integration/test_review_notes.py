"""Review notes through the gateway: timestamped notes, who may change and delete them."""
from __future__ import annotations

from tests.helpers import API



def notes_url(job_id: str, suffix: str = "") -> str:
    return f"{API}/jobs/{job_id}/review-notes{suffix}"


def test_create_list_and_filter(world, client):
    reviewer, creator = world.person("reviewer"), world.person("client")
    job = world.job(creator=creator, duration=30.0)
    url = notes_url(job["id"])
    late = client.post(url, json={"timestamp": 20.5, "text": "Caption lingers", "asset": "captions", "language": "fr"},
                       headers=reviewer.headers)
    assert late.status_code == 201, late.json
    assert late.json["status"] == "open" and late.json["author_id"] == reviewer.id and late.json["language"] == "fr"
    early = client.post(url, json={"timestamp": 2.0, "text": "Jump cut"}, headers=creator.headers)
    assert early.status_code == 201 and early.json["asset"] == "source_video" and early.json["language"] is None
    listed = client.get(url, headers=reviewer.headers).json
    assert [n["timestamp"] for n in listed["items"]] == [2.0, 20.5] and listed["total"] == 2
    assert [n["text"] for n in client.get(f"{url}?asset=captions", headers=reviewer.headers).json["items"]] == \
        ["Caption lingers"]
    assert client.get(f"{url}?language=fr", headers=reviewer.headers).json["total"] == 1
    assert client.get(f"{url}?status=resolved", headers=reviewer.headers).json["total"] == 0
    got = client.get(notes_url(job["id"], f"/{late.json['id']}"), headers=creator.headers)
    assert got.status_code == 200 and got.json["text"] == "Caption lingers"


def test_validation_and_visibility(world, client):
    reviewer, outsider = world.person("reviewer"), world.person("reviewer", member=False)
    job = world.job(duration=30.0)
    url = notes_url(job["id"])
    assert client.post(url, json={"timestamp": 31, "text": "after the end"}, headers=reviewer.headers).status_code == 422
    assert client.post(url, json={"timestamp": -1, "text": "before"}, headers=reviewer.headers).status_code == 422
    assert client.post(url, json={"timestamp": 1, "text": ""}, headers=reviewer.headers).status_code == 422
    assert client.post(url, json={"timestamp": 1, "text": "x", "language": "it"}, headers=reviewer.headers).status_code == 422
    assert client.post(url, json={"timestamp": 1, "text": "x", "asset": "poster"}, headers=reviewer.headers).status_code == 422
    assert client.post(url, json={"timestamp": 1, "text": "x"}, headers=outsider.headers).status_code == 404
    assert client.get(url, headers=outsider.headers).status_code == 404
    assert client.get(notes_url(job["id"], "/missing"), headers=reviewer.headers).status_code == 404
    assert client.post(url, json={"timestamp": 1, "text": "x"}).status_code == 401


def test_who_may_change_and_delete(world, client):
    author, other = world.person("reviewer"), world.person("reviewer")
    production, admin = world.person("production"), world.person("admin")
    job = world.job(duration=30.0)
    note = client.post(notes_url(job["id"]), json={"timestamp": 5, "text": "Too fast"}, headers=author.headers).json
    one = notes_url(job["id"], f"/{note['id']}")
    assert client.patch(one, json={"text": "Mine now"}, headers=other.headers).status_code == 403
    assert client.patch(one, json={}, headers=author.headers).status_code == 422
    assert client.patch(one, json={"timestamp": 99}, headers=author.headers).status_code == 422
    edited = client.patch(one, json={"text": "Far too fast", "timestamp": 6.5}, headers=author.headers)
    assert edited.status_code == 200 and edited.json["text"] == "Far too fast" and edited.json["timestamp"] == 6.5
    # Anyone reviewing the job may resolve; production may also reword.
    assert client.patch(one, json={"status": "resolved"}, headers=other.headers).json["status"] == "resolved"
    assert client.patch(one, json={"text": "Reworded"}, headers=production.headers).status_code == 200
    now = client.get(one, headers=author.headers).json
    assert (now["status"], now["text"], now["timestamp"], now["author_id"]) == ("resolved", "Reworded", 6.5, author.id)
    assert client.delete(one, headers=other.headers).status_code == 403
    assert client.delete(one, headers=production.headers).status_code == 403
    assert client.delete(one, headers=author.headers).status_code == 204
    assert client.get(one, headers=author.headers).status_code == 404
    second = client.post(notes_url(job["id"]), json={"timestamp": 1, "text": "x"}, headers=author.headers).json
    assert client.delete(notes_url(job["id"], f"/{second['id']}"), headers=admin.headers).status_code == 204
    actions = {e["action"] for e in world.store.find("audit_logs", [("actor_id", "==", author.id)])}
    assert {"review_note.create", "review_note.update", "review_note.delete"} <= actions
