"""Downloads and the accessible video's pause points through the gateway."""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from tests.helpers import API



def test_downloads_sign_every_existing_deliverable(world, client, accessible_render):
    creator = world.person("client")
    job = world.job(creator=creator, duration=accessible_render.duration)
    world.with_accessible_video(job["id"], accessible_render)
    resp = client.get(f"{API}/jobs/{job['id']}/downloads", headers=creator.headers)
    assert resp.status_code == 200, resp.json
    got = {(i["language"], i["kind"]) for i in resp.json["items"]}
    assert got == {("en", "captions_vtt"), ("en", "qc_report"), ("fr", "captions_vtt"), ("fr", "qc_report"),
                   ("fr", "description_vtt"), ("fr", "accessible_mp4"), ("de", "captions_vtt"), ("de", "qc_report")}
    link = next(i for i in resp.json["items"] if i["kind"] == "accessible_mp4")
    assert link["filename"] == "The-Test-Film.fr.accessible.mp4"
    assert link["size_bytes"] == accessible_render.outputs.asset("accessible_mp4").size > 1000
    query = parse_qs(urlparse(link["url"]).query)
    assert query["X-Goog-Expires"] == ["900"] and "X-Goog-Signature" in query
    assert "The-Test-Film.fr.accessible.mp4" in query["response-content-disposition"][0]
    only_de = client.get(f"{API}/jobs/{job['id']}/downloads?lang=de", headers=creator.headers).json["items"]
    assert {i["language"] for i in only_de} == {"de"}
    assert client.get(f"{API}/jobs/{job['id']}/downloads?lang=it", headers=creator.headers).status_code == 404


def test_downloads_respect_visibility(world, client):
    linguist, outsider = world.person("linguist"), world.person("client")
    job = world.job()
    assert client.get(f"{API}/jobs/{job['id']}/downloads", headers=linguist.headers).status_code == 404
    assert client.get(f"{API}/jobs/{job['id']}/downloads", headers=outsider.headers).status_code == 404
    world.language(job["id"], "fr", "assigned", linguist=linguist)
    items = client.get(f"{API}/jobs/{job['id']}/downloads", headers=linguist.headers).json["items"]
    assert {i["language"] for i in items} == {"en", "fr"}  # their language and the source, not German
    assert client.get(f"{API}/jobs/{job['id']}/downloads?lang=de", headers=linguist.headers).status_code == 403


def test_edit_state_and_moving_a_pause_point_rerenders(world, client, runner, accessible_render):
    production = world.person("production")
    job = world.job(duration=accessible_render.duration)
    world.with_accessible_video(job["id"], accessible_render)
    base = f"{API}/jobs/{job['id']}/accessible-video/fr"
    state = client.get(f"{base}/edit-state", headers=production.headers)
    assert state.status_code == 200, state.json
    assert state.json["render_status"] == "current" and state.json["media_duration"] == accessible_render.duration
    assert state.json["description_version"] == 1
    made = accessible_render.pause_points
    assert state.json["pause_points"] == [{"cue_index": p["cue_index"], "at": p["at"], "pause_duration": p["duration"],
                                           "description_text": p["text"]} for p in made]
    assert [c["text"] for c in state.json["description_cues"]] == accessible_render.description_texts

    second = made[1]["cue_index"]
    moved = client.patch(f"{base}/pause-points/{second}", json={"at": 6.4}, headers=production.headers)
    assert moved.status_code == 200, moved.json
    assert moved.json["pause_points"][1]["at"] == 6.4 and moved.json["render_status"] == "rendering"
    assert runner.languages == [(job["id"], ["fr"], ["render"])]
    saved = world.storage.read_json(f"jobs/{job['id']}/outputs/fr/pause_points.json")
    assert saved[1]["at"] == 6.4 and saved[0]["at"] == made[0]["at"]
    runner.state = "SUCCEEDED"
    assert client.get(f"{base}/edit-state", headers=production.headers).json["render_status"] == "current"
    runner.state = "FAILED"
    assert client.get(f"{base}/edit-state", headers=production.headers).json["render_status"] == "failed"
    audit = world.store.find("audit_logs", [("action", "==", "accessible_video.pause_point")])
    assert audit[0]["after"] == {"cue_index": second, "from": made[1]["at"], "to": 6.4}


def test_pause_point_validation(world, client, runner, accessible_render):
    production, client_user = world.person("production"), world.person("client")
    job = world.job(creator=client_user, duration=accessible_render.duration)
    world.with_accessible_video(job["id"], accessible_render)
    base = f"{API}/jobs/{job['id']}/accessible-video/fr/pause-points"
    first = accessible_render.pause_points[0]["cue_index"]
    unvoiced = max(p["cue_index"] for p in accessible_render.pause_points) + 1
    beyond = accessible_render.duration + 0.5
    assert client.patch(f"{base}/{first}", json={"at": beyond}, headers=production.headers).status_code == 422
    assert client.patch(f"{base}/{first}", json={"at": -1}, headers=production.headers).status_code == 422
    assert client.patch(f"{base}/{first}", json={}, headers=production.headers).status_code == 422
    assert client.patch(f"{base}/{unvoiced}", json={"at": 1.0}, headers=production.headers).status_code == 404
    assert client.patch(f"{base}/x", json={"at": 1.0}, headers=production.headers).status_code == 404
    assert client.patch(f"{base}/{first}", json={"at": 1.0}, headers=client_user.headers).status_code == 403
    no_video = f"{API}/jobs/{job['id']}/accessible-video/de"
    assert client.get(f"{no_video}/edit-state", headers=production.headers).status_code == 404
    world.advance(job["id"], "languages_approved", "complete")
    assert client.patch(f"{base}/{first}", json={"at": 1.0}, headers=production.headers).status_code == 409
    assert runner.started == [] and runner.languages == []


def test_editing_descriptions_marks_the_video_stale(world, client, runner, accessible_render):
    production = world.person("production")
    job = world.job(duration=accessible_render.duration)
    world.with_accessible_video(job["id"], accessible_render)
    current = client.get(f"{API}/jobs/{job['id']}/vtt?lang=fr&kind=descriptions", headers=production.headers).json
    last = accessible_render.description_texts[-1]
    edited = current["content"].replace(last, "Elle sourit.")
    resp = client.patch(f"{API}/jobs/{job['id']}/vtt", json={"lang": "fr", "kind": "descriptions", "content": edited,
                                                             "base_version": 1}, headers=production.headers)
    assert resp.status_code == 200 and resp.json["qc"] is None
    state = client.get(f"{API}/jobs/{job['id']}/accessible-video/fr/edit-state", headers=production.headers).json
    assert state["render_status"] == "stale" and state["description_version"] == 2
    assert state["description_cues"][-1]["text"] == "Elle sourit."
