"""Uploads over real HTTP through `avp up`: a resumable upload in three chunks with a dropped
connection, completed by the API and, separately, by the storage finalize event alone; and the
refusals (not media, empty, too large, wrong type) leaving no job in a broken state. The local
pipeline runs for real behind it, so only states up to queued/processing are asserted."""
from __future__ import annotations

import time

import pytest
import requests

from tests.e2e.stack import StackProcess
from tests.integration.test_upload import make_media, put_chunks

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
LIMIT = 5 * 1024 * 1024
STARTED = ("queued", "processing")


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    stack = StackProcess(tmp_path_factory.mktemp("stack"), env={"AVP_MAX_UPLOAD_BYTES": str(LIMIT)}).start()
    base = f"{stack.url}/api/v1"
    token = requests.post(f"{base}/auth/login", json={"email": "admin@example.com", "password": "admin password 1234"},
                          timeout=10).json()["access_token"]
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    org = session.post(f"{base}/organizations", json={"name": "E2E Org"}, timeout=10)
    assert org.status_code == 201, org.text
    yield base, session, org.json()["id"]
    assert stack.stop() == 0


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> bytes:
    data = make_media(tmp_path_factory.mktemp("media") / "clip.mp4").read_bytes()
    assert len(data) > 2 * 256 * 1024  # three chunks
    return data


def _init(api, size: int, **extra) -> requests.Response:
    base, session, org_id = api
    return session.post(f"{base}/jobs/upload/init", timeout=10, json={
        "filename": "clip.mp4", "content_type": "video/mp4", "size_bytes": size, "org_id": org_id,
        "requested_outputs": {"languages": ["fr"]}, "source_language": "en", **extra})


def _complete(api, upload: dict) -> requests.Response:
    base, session, _ = api
    return session.post(f"{base}/jobs/upload/complete", timeout=30, json={
        "job_id": upload["job_id"], "gcs_uri": upload["gcs_uri"], "filename": "clip.mp4", "source_language": "en",
        "requested_outputs": {"languages": ["fr"], "audio_description_mp3": False}})


def _status_doc(api, job_id: str) -> dict:
    base, session, _ = api
    grant = session.get(f"{base}/ws/status", params={"job_id": job_id}, timeout=10).json()
    url = (f"http://{grant['emulator_host']}/v1/projects/{grant['project_id']}/databases/(default)/documents/"
           f"{grant['documents'][0]}")
    doc = requests.get(url, headers={"Authorization": f"Bearer {grant['custom_token']}"}, timeout=10)
    assert doc.status_code == 200, doc.text
    return {k: next(iter(v.values())) for k, v in doc.json()["fields"].items()}


def test_resumable_upload_with_a_drop_then_complete(api, video):
    upload = _init(api, len(video)).json()
    put_chunks(upload["upload_url"], video, drop_after=1)
    done = _complete(api, upload)
    assert done.status_code == 202, done.text
    assert done.json()["status"] in STARTED and done.json()["workflow_execution"]
    assert _status_doc(api, upload["job_id"])["status"] != "uploading"


def test_the_finalize_event_alone_starts_the_job(api, video):
    base, session, _ = api
    upload = _init(api, len(video)).json()
    put_chunks(upload["upload_url"], video)
    deadline, job = time.monotonic() + 30, {}
    while time.monotonic() < deadline:
        job = session.get(f"{base}/jobs/{upload['job_id']}", timeout=10).json()
        if job["status"] not in ("uploading", "queued"):  # queued: the run is being started
            break
        time.sleep(0.2)
    assert job["status"] not in ("uploading", "queued") and job["workflow_execution"], job
    assert _status_doc(api, upload["job_id"])["status"] != "uploading"


def test_refusals_are_clear_and_leave_jobs_uploading(api):
    text = b"just some notes, renamed to clip.mp4\n" * 50
    upload = _init(api, len(text)).json()
    put_chunks(upload["upload_url"], text)
    refused = _complete(api, upload)
    assert refused.status_code == 415 and "not a video or audio container" in refused.json()["detail"]
    base, session, _ = api
    job = session.get(f"{base}/jobs/{upload['job_id']}", timeout=10).json()
    assert job["status"] == "uploading" and "not a video or audio container" in job["failure_reason"]
    empty = _init(api, 0)
    assert empty.status_code == 422 and "empty" in empty.text
    huge = _init(api, LIMIT + 1)
    assert huge.status_code == 413 and str(LIMIT) in huge.json()["detail"]
    wrong = _init(api, 100, content_type="text/plain")
    assert wrong.status_code == 415 and "text/plain" in wrong.json()["detail"]


def test_outputs_given_only_at_complete_are_not_lost_to_the_finalize_event(api, video):
    base, session, org_id = api
    upload = session.post(f"{base}/jobs/upload/init", timeout=10, json={
        "filename": "clip.mp4", "content_type": "video/mp4", "size_bytes": len(video), "org_id": org_id}).json()
    put_chunks(upload["upload_url"], video)
    time.sleep(1.0)  # the finalize event has been delivered by now
    job = session.get(f"{base}/jobs/{upload['job_id']}", timeout=10).json()
    assert job["status"] == "uploading"  # it waits for the outputs that complete carries
    done = session.post(f"{base}/jobs/upload/complete", timeout=30, json={
        "gcs_uri": upload["gcs_uri"], "filename": "clip.mp4", "source_language": "en",
        "requested_outputs": {"accessible_video_mp4": True}})
    assert done.status_code == 202, done.text
    assert done.json()["requested_outputs"]["accessible_video_mp4"] is True
