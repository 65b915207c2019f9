"""Job API beyond uploads: view, edit, soft delete and restore, cancel, review actions with their
roles and states, retry_tts, clone, validate, bulk operations and the bulk ZIP."""
from __future__ import annotations

import io
import zipfile

import pytest

from avp.auth.tokens import Principal
from avp.domain import audit, jobs, tenancy
from avp.domain.aggregates import Client, Organization, Project
from avp.pipeline.__main__ import main as pipeline_main
from avp.pipeline.__main__ import run_step
from tests.helpers import API, ROBOT, bearer, make_job, token_for
from tests.integration.test_upload import make_media


@pytest.fixture
def team(client, container):
    """An organization with a client, and one signed-in user per role that can see its jobs."""
    store = container.store
    # Fixed ids the seeded jobs name; typed records, so the documents have the shape tenancy writes.
    store.of(Organization).put(Organization(id="org-1", name="Org", name_key="org"))
    store.of(Client).put(Client(id="cl-1", org_id="org-1", name="Client", name_key="client"))
    store.of(Project, client_id="cl-1").put(Project(id="pr-1", client_id="cl-1", org_id="org-1", name="P"))
    people = {}
    for role in ("admin", "production", "reviewer", "project_manager", "client", "linguist"):
        token, user = token_for(client, container, role)
        if role != "admin":
            tenancy.add_member(store, audit.SYSTEM, ROBOT, "org-1", role=role, user_id=user["id"])
        people[role] = (bearer(token), user)
    tenancy.add_pm(store, audit.SYSTEM, "cl-1", people["project_manager"][1]["id"])
    tenancy.create_team(store, audit.SYSTEM, "cl-1", name="Editors", member_ids=[people["client"][1]["id"]])
    return people


def seed(container, status_: str = "pending_qc", source: str = "en", languages=("fr",), requested_outputs=None,
         **extra) -> dict:
    return make_job(container.store, "org-1", "cl-1", status=status_, creator=Principal("someone", "production"),
                    title="Seeded", source_language=source, **extra,
                    requested_outputs=requested_outputs or {"languages": list(languages), "audio_description_vtt": True})


def test_view_edit_delete_and_admin_restore(client, container, runner, team):
    job = seed(container, "processing", execution_id="exec-9")
    prod, _ = team["production"]
    view = client.get(f"{API}/jobs/{job['id']}", headers=prod).json
    assert view["outputs"]["fr"]["captions_vtt"]["status"] == "pending" and view["outputs"]["en"]["is_source"]
    renamed = client.patch(f"{API}/jobs/{job['id']}", json={"title": "Renamed", "notes": "n"}, headers=prod)
    assert renamed.status_code == 200 and renamed.json["title"] == "Renamed"
    assert container.store.get(f"job_status/{job['id']}")["title"] == "Renamed"
    late = client.patch(f"{API}/jobs/{job['id']}", json={"requested_outputs": {"languages": ["de"]}}, headers=prod)
    assert late.status_code == 409 and "processing" in late.json["detail"]
    moved = client.patch(f"{API}/jobs/{job['id']}", json={"project_id": "pr-1"}, headers=prod)
    assert moved.status_code == 200 and moved.json["project_id"] == "pr-1"
    assert client.patch(f"{API}/jobs/{job['id']}", json={}, headers=prod).status_code == 422
    assert client.patch(f"{API}/jobs/{job['id']}", json={"title": "x"}, headers=team["linguist"][0]).status_code == 404
    assert client.patch(f"{API}/jobs/{job['id']}", json={"title": "x"}, headers=team["reviewer"][0]).status_code == 403

    assert client.delete(f"{API}/jobs/{job['id']}", headers=prod).status_code == 409  # processing: cancel first
    cancelled = client.post(f"{API}/jobs/{job['id']}/cancel", json={"note": "wrong file"}, headers=prod)
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled" and runner.cancelled == ["exec-9"]
    assert client.delete(f"{API}/jobs/{job['id']}", headers=prod).status_code == 204
    assert client.get(f"{API}/jobs/{job['id']}", headers=prod).status_code == 404
    assert client.get(f"{API}/jobs", headers=prod).json["total"] == 0
    admin, _ = team["admin"]
    assert client.patch(f"{API}/jobs/{job['id']}", json={"deleted": False}, headers=prod).status_code == 404
    assert client.get(f"{API}/jobs/{job['id']}", headers=admin).json["deleted"] is True
    assert client.get(f"{API}/jobs", headers=admin).json["total"] == 0, "lists never show a deleted job"
    assert container.store.get(f"job_status/{job['id']}")["access_keys"] == [], "no listener finds it"
    assert client.patch(f"{API}/jobs/{job['id']}", json={"deleted": False}, headers=admin).status_code == 200
    assert client.get(f"{API}/jobs", headers=prod).json["total"] == 1
    assert [j["id"] for j in client.get(f"{API}/jobs", headers=admin).json["items"]] == [job["id"]]
    assert "live" in container.store.get(f"job_status/{job['id']}")["access_keys"]


def test_review_actions_follow_roles_and_the_state_machine(client, container, runner, team):
    job = seed(container, source="es", languages=("en", "fr"))
    url = f"{API}/jobs/{job['id']}/actions"
    assert client.post(f"{url}/approve_source", headers=team["client"][0]).status_code == 403
    assert client.post(f"{url}/approve_source", headers=team["linguist"][0]).status_code == 404
    assert client.post(f"{url}/reject", json={}, headers=team["reviewer"][0]).status_code == 422
    early = client.post(f"{url}/complete", headers=team["project_manager"][0])
    assert early.status_code == 409 and "pending_qc" in early.json["detail"]
    # No English track yet: approving it answers why, and starts making it (once).
    for _ in range(2):
        missing = client.post(f"{url}/approve_english", headers=team["reviewer"][0])
        assert missing.status_code == 409 and "no English track" in missing.json["detail"]
    assert runner.languages == [(job["id"], ["en"], ["translate"])]
    assert run_step("translate", job["id"], "en", 0) == 0  # what that run does: the real step
    runner.languages.clear()
    english = client.post(f"{url}/approve_english", headers=team["reviewer"][0])
    assert english.status_code == 200 and english.json["status"] == "language_qc"
    assert english.json["outputs"]["en"]["captions_vtt"]["status"] == "ready"
    assert english.json["outputs"]["en"]["qc_status"] == "approved" and english.json["outputs"]["fr"]["qc_status"] == "unassigned"
    assert container.store.get(f"job_status/{job['id']}")["languages"] == {"en": "approved", "fr": "unassigned"}
    # Approving the English pivot starts the languages workflow for what is still open.
    assert runner.languages == [(job["id"], ["fr"], ["translate"])]
    jobs.transition(container.store, audit.SYSTEM, job["id"], "languages_approved")
    bad = client.post(f"{url}/reject_final", json={"languages": ["de"], "reason": "r"}, headers=team["project_manager"][0])
    assert bad.status_code == 422
    reopened = client.post(f"{url}/reject_final", json={"languages": ["fr"], "reason": "typos"}, headers=team["project_manager"][0])
    assert reopened.status_code == 200 and reopened.json["status"] == "language_qc"
    assert reopened.json["outputs"]["fr"]["qc_status"] == "in_progress"
    jobs.transition(container.store, audit.SYSTEM, job["id"], "languages_approved")
    back = client.post(f"{url}/return_to_qc", json={"reason": "source timing"}, headers=team["admin"][0])
    assert back.status_code == 200 and back.json["status"] == "pending_qc"
    rejected = client.post(f"{url}/reject", json={"reason": "wrong video"}, headers=team["production"][0])
    assert rejected.json["status"] == "rejected" and rejected.json["rejection_reason"] == "wrong video"
    english_source = seed(container)
    assert client.post(f"{API}/jobs/{english_source['id']}/actions/approve_english", headers=team["reviewer"][0]).status_code == 409
    entries = container.store.find("audit_logs", [("target", "==", f"jobs/{job['id']}")])
    assert {"job.approve_english", "job.reject_final", "job.return_to_qc", "job.reject"} <= {e["action"] for e in entries}


def test_blocked_promote_and_retry_tts(client, container, runner, team):
    job = seed(container, "processing", execution_id="exec-3")
    url = f"{API}/jobs/{job['id']}/actions"
    prod = team["production"][0]
    assert client.post(f"{url}/blocked_on_source", json={"reason": "audio missing"}, headers=prod).json["status"] == "blocked_on_source"
    assert client.post(f"{url}/promote_to_qc", headers=prod).json["status"] == "pending_qc"
    # Voicing again needs the language's description track (test_job_outputs voices one for real).
    tts = client.post(f"{url}/retry_tts", json={"language": "fr", "tts_preferences": {"provider": "local"}}, headers=prod)
    assert tts.status_code == 409 and "no description track" in tts.json["detail"] and runner.languages == []
    plain = seed(container, "pending_qc", requested_outputs={"languages": ["fr"], "captions_vtt": True})
    refused = client.post(f"{API}/jobs/{plain['id']}/actions/retry_tts", json={"language": "fr"}, headers=prod)
    assert refused.status_code == 409 and "no audio description" in refused.json["detail"]
    assert client.post(f"{url}/retry_tts", json={"language": "ja"}, headers=prod).status_code == 422
    assert client.post(f"{url}/retry_tts", json={"language": "fr", "tts_preferences": {"provider": "acme"}},
                       headers=prod).status_code == 422
    assert client.post(f"{url}/retry_tts", json={"language": "fr"}, headers=team["reviewer"][0]).status_code == 403
    assert client.post(f"{API}/jobs/{job['id']}/retry", headers=prod).status_code == 409  # only from failed


def test_bulk_operations_report_each_id(client, container, runner, team):
    ready, other = seed(container), seed(container)
    busy = seed(container, "processing")
    hidden = jobs.new_job(Principal("x", "production"), org_id="org-2", client_id=None, project_id=None, title="h",
                          filename="a.mp4", content_type="video/mp4", size_bytes=1, source_language="en", requested_outputs={})
    jobs.store_new_job(container.store, audit.SYSTEM, hidden)
    rev = team["reviewer"][0]
    result = client.post(f"{API}/jobs/bulk/approve", json={"job_ids": [ready["id"], busy["id"], hidden["id"], other["id"]]},
                         headers=rev).json
    assert result["succeeded"] == [ready["id"], other["id"]]
    assert {(f["job_id"], f["status"]) for f in result["failed"]} == {(busy["id"], 409), (hidden["id"], 404)}
    back = client.post(f"{API}/jobs/bulk/return-to-qc", json={"job_ids": [ready["id"]]}, headers=team["project_manager"][0]).json
    assert back["failed"][0]["status"] == 422  # a reason is required
    gone = client.delete(f"{API}/jobs/bulk?job_ids={ready['id']},{busy['id']},nope", headers=team["production"][0]).json
    assert gone["succeeded"] == [ready["id"]] and {f["status"] for f in gone["failed"]} == {409, 404}


@pytest.mark.slow  # a real MP4 made with ffmpeg goes into the ZIP
def test_validate_bulk_download_and_clone_of_an_unprocessed_job(client, container, runner, team, tmp_path):
    """Before the pipeline has made anything only the upload is there (test_job_outputs covers a real run)."""
    storage = container.storage
    video = make_media(tmp_path / "v.mp4", seconds=1).read_bytes()
    job = seed(container, "pending_qc", size_bytes=len(video), uploaded=(storage, video))
    prod = team["production"][0]
    report = client.get(f"{API}/jobs/{job['id']}/validate", headers=prod).json
    assert report == {"job_id": job["id"], "ok": True, "checked": 0, "missing": []}

    zipped = client.post(f"{API}/jobs/bulk/download", json={"job_ids": [job["id"], "nope"]}, headers=team["client"][0])
    assert zipped.status_code == 202, zipped.json
    assert zipped.json["job_ids"] == [job["id"]] and runner.bundles == [zipped.json["download_id"]]
    # What the bundle workflow runs (avp-media bundle); tests/integration/test_bulk_download.py runs the workflow.
    assert pipeline_main(["bundle", "--job-id", zipped.json["download_id"]]) == 0
    assert "X-Goog-Signature" in container.store.get(zipped.json["status_document"])["download_url"]
    archives = storage.list("downloads/")
    with zipfile.ZipFile(io.BytesIO(storage.read_bytes(archives[0]))) as archive:
        assert archive.namelist() == [f"{job['id']}/en/source_video.mp4"]
        assert archive.read(f"{job['id']}/en/source_video.mp4") == video
    only = client.post(f"{API}/jobs/bulk/download", json={"job_ids": [job["id"]], "kinds": ["qc_report"]}, headers=prod)
    assert only.status_code == 422

    reused = client.post(f"{API}/jobs/{job['id']}/clone", json={"title": "Again"}, headers=prod)
    assert reused.status_code == 201 and "upload" not in reused.json
    assert reused.json["job"]["status"] == "processing" and reused.json["job"]["source_gcs_uri"] == storage.uri(job["source_path"])
    fresh = client.post(f"{API}/jobs/{job['id']}/clone", json={"upload": {"filename": "new.mov", "content_type": "video/quicktime",
                                                                         "size_bytes": 1000}}, headers=prod)
    assert fresh.status_code == 201 and fresh.json["job"]["status"] == "uploading"
    assert fresh.json["upload"]["gcs_uri"].endswith("/source.mov") and fresh.json["job"]["languages"] == ["fr"]
