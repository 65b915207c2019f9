"""Production routes through the gateway: failures, bulk retry, queue figures, final VTT upload."""
import io

import pytest

from tests.helpers import API, make_job
from tests.integration.ops_world import build

ALL = {"captions_vtt": True, "audio_description_vtt": True, "audio_description_mp3": True, "accessible_video_mp4": True}
VTT = "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\nThe harbour at dawn.\n\n00:00:04.000 --> 00:00:06.000\nA bell rings.\n"


@pytest.fixture
def world(client, container, runner):
    runner.allow_languages = False
    return build(container)


def _failed(store, world, step="describe", **extra):
    return make_job(store, world.org["id"], world.acme["id"], status="failed", failed_step=step,
                    failure_reason=f"{step} broke", requested_outputs=ALL,
                    steps_done=["ingest", "transcribe", "shots", "captions"], **extra)


def test_failures_visible_filtered_and_paginated(client, world, container):
    store = container.store
    a = _failed(store, world)
    b = _failed(store, world, step="render")
    other = make_job(store, world.other_org["id"], status="failed", failed_step="ingest", failure_reason="x")
    make_job(store, world.org["id"], status="pending_qc")

    def ids(who, query=""):
        resp = client.get(f"{API}/production/failures{query}", headers=world.h(who))
        assert resp.status_code == 200, resp.json
        return [i["job_id"] for i in resp.json["items"]]

    assert ids("production") == [b["id"], a["id"]]  # most recent first
    assert set(ids("admin")) == {a["id"], b["id"], other["id"]}
    assert ids("other_production") == [other["id"]]
    assert ids("production", "?step=describe") == [a["id"]]
    assert ids("admin", f"?org_id={world.org['id']}&size=1") == [b["id"]]
    item = client.get(f"{API}/production/failures?step=render", headers=world.h("production")).json["items"][0]
    assert item["failed_step"] == "render" and item["failure_reason"] == "render broke" and item["failed_at"]
    assert client.get(f"{API}/production/failures", headers=world.h("project_manager")).status_code == 403
    assert client.get(f"{API}/production/failures?step=nope", headers=world.h("production")).status_code == 422


def test_bulk_retry_per_job_results(client, world, container):
    store, runner = container.store, container.workflows
    failed = _failed(store, world)
    waiting = make_job(store, world.org["id"], status="pending_qc")
    hidden = make_job(store, world.other_org["id"], status="failed", failed_step="describe")  # out of sight
    resp = client.post(f"{API}/production/bulk-retry", json={"job_ids": [failed["id"], waiting["id"], hidden["id"], "nope"],
                                                              "note": "provider back"}, headers=world.h("production"))
    assert resp.status_code == 200, resp.json
    assert resp.json["succeeded"] == [failed["id"]]
    assert {(f["job_id"], f["status"]) for f in resp.json["failed"]} == {(waiting["id"], 409), (hidden["id"], 404), ("nope", 404)}
    # Resumed at the failed step: the steps already done are not run again.
    assert runner.started == [(failed["id"], ["describe", "synthesize", "render"])]
    job = store.get(f"jobs/{failed['id']}")
    assert job["status"] == "processing" and job["execution_id"] == "exec-1" and job["failed_step"] is None
    actions = [e["action"] for e in store.find("audit_logs", [("target", "==", f"jobs/{failed['id']}")])]
    assert "job.retry" in actions and "job.start_processing" in actions
    dup = client.post(f"{API}/production/bulk-retry", json={"job_ids": ["a", "a"]}, headers=world.h("production"))
    assert dup.status_code == 422
    assert client.post(f"{API}/production/bulk-retry", json={"job_ids": [failed["id"]]},
                       headers=world.h("reviewer")).status_code == 403


def test_queue_stats(client, world, container):
    store = container.store
    for stage in ("transcribe", "transcribe", "render"):
        make_job(store, world.org["id"], status="processing", stage=stage)
    make_job(store, world.org["id"], status="queued")
    _failed(store, world)
    stats = client.get(f"{API}/production/queue-stats", headers=world.h("production"))
    assert stats.status_code == 200
    body = stats.json
    assert body["executions_running"] == 3 and body["steps_running"] == {"transcribe": 2, "render": 1}
    assert body["jobs_queued"] == 1 and body["oldest_queued_at"] and body["failed_last_24h"] == 1
    assert "no Celery" in body["note"] and body["broker"] is None
    assert client.get(f"{API}/production/queue-stats", headers=world.h("client")).status_code == 403


def test_upload_final_vtt(client, world, container):
    store = container.store
    job = make_job(store, world.org["id"], world.acme["id"], status="pending_qc", source_language="en",
                   requested_outputs={"languages": ["fr"]})
    url = f"{API}/production/jobs/{job['id']}/upload-final-vtt"
    as_json = client.post(url, json={"lang": "en", "kind": "captions", "content": VTT, "comment": "fixed names"},
                          headers=world.h("production"))
    assert as_json.status_code == 201, as_json.json
    assert as_json.json["version"] == 1 and as_json.json["cue_count"] == 2 and as_json.json["content"] == VTT
    form = {"lang": "fr", "kind": "descriptions", "file": (io.BytesIO(VTT.encode()), "final.vtt", "text/vtt")}
    as_form = client.post(url, data=form, headers=world.h("admin"), content_type="multipart/form-data")
    assert as_form.status_code == 201 and as_form.json["language"] == "fr" and as_form.json["kind"] == "descriptions"
    again = client.post(url, json={"lang": "en", "kind": "captions", "content": VTT}, headers=world.h("production"))
    assert again.json["version"] == 2
    versions = store.find(f"jobs/{job['id']}/tracks/en_captions/versions")
    assert {v["source"] for v in versions} == {"upload"}
    current = client.get(f"{API}/jobs/{job['id']}", headers=world.h("production")).json["outputs"]["en"]["captions_vtt"]
    assert current["version"] == 2 and container.storage.read_text(container.storage.path_of(current["gcs_uri"])) == VTT

    backwards = "WEBVTT\n\n00:00:05.000 --> 00:00:01.000\nx\n"
    broken = client.post(url, json={"lang": "en", "kind": "captions", "content": backwards}, headers=world.h("production"))
    assert broken.status_code == 422 and "line 3" in str(broken.json["detail"])
    german = {"lang": "de", "kind": "captions", "content": VTT}
    assert client.post(url, json=german, headers=world.h("production")).status_code == 422  # not a language of the job
    png = {"lang": "en", "kind": "captions", "file": (io.BytesIO(b"x"), "a.png", "image/png")}
    wrong_type = client.post(url, data=png, headers=world.h("production"), content_type="multipart/form-data")
    assert wrong_type.status_code == 415
    assert client.post(url, data="WEBVTT", headers={**world.h("production"), "Content-Type": "text/csv"}).status_code == 415
    english = {"lang": "en", "kind": "captions", "content": VTT}
    assert client.post(url, json=english, headers=world.h("reviewer")).status_code == 403
    assert client.post(url, json=english,
                       headers=world.h("other_production")).status_code == 404
    busy = make_job(store, world.org["id"], status="processing", source_language="en")
    busy_url = f"{API}/production/jobs/{busy['id']}/upload-final-vtt"
    assert client.post(busy_url, json={"lang": "en", "kind": "captions", "content": VTT},
                       headers=world.h("production")).status_code == 409
