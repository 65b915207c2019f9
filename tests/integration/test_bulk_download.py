"""Bulk download, built outside the request: POST answers 202 at once, the `bundle` workflow runs
the real `avp-media bundle` step as a child process through the local executor, and the owner
follows it on the job-status channel (a listener token from GET /ws/status, read through the
Firestore emulator's REST API under the security rules) until a signed link to the ZIP appears."""
from __future__ import annotations

import datetime as dt
import io
import time
import urllib.parse
import zipfile

import pytest
import requests

from avp.domain import audit, jobs, tracks
from avp.domain.aggregates import BulkDownload, DownloadStatus
from avp.pipeline.runner import LocalRunner
from tests.helpers import API, assert_exact_records
from tests.integration.test_jobs_actions import seed, team  # noqa: F401 - team is a fixture
from tests.integration.workflow_fake import FakeRunner, install

pytestmark = pytest.mark.slow


def _status(emulators, container, channel: dict, document: str, headers: dict | None = None) -> requests.Response:
    url = (f"http://{emulators['firestore'].host}/v1/projects/{container.settings.project_id}"
           f"/databases/(default)/documents/{document}")
    return requests.get(url, headers=headers if headers is not None else {"Authorization": f"Bearer {channel['custom_token']}"},
                        timeout=10)


def _deliverables(container, job: dict) -> None:
    """Final captions for en and fr, uploaded as production does (each with its QC report)."""
    for lang, text in (("en", "Hello"), ("fr", "Bonjour")):
        tracks.save_version(container.store, container.storage, audit.SYSTEM, job["id"], lang, "captions",
                            f"WEBVTT\n\n00:00.000 --> 00:01.000\n{text}\n", source="upload")


def test_the_zip_is_built_by_a_workflow_and_its_link_arrives_on_the_status_channel(client, container, emulators, team):
    runner = install(container, LocalRunner(container.settings.project_id, container.settings.region,
                                            env=container.settings.to_env()))
    job = seed(container, "pending_qc")
    _deliverables(container, job)
    owner, other = team["client"][0], team["production"][0]

    resp = client.post(f"{API}/jobs/bulk/download", json={"job_ids": [job["id"]]}, headers=owner)
    answered_at = dt.datetime.now(dt.timezone.utc)
    assert resp.status_code == 202, resp.json
    body = resp.json
    assert body["status"] == "queued" and body["job_ids"] == [job["id"]] and body["size_bytes"] > 0
    assert body["status_document"] == f"job_status/bulk-{body['download_id']}"

    channel = client.get(f"{API}/ws/status", headers=owner).json
    deadline = time.monotonic() + 180
    while True:
        seen = _status(emulators, container, channel, body["status_document"])
        assert seen.status_code == 200, seen.text
        fields = seen.json()["fields"]
        if fields["status"]["stringValue"] in ("complete", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    execution = runner.wait(body["workflow_execution"], 60)
    assert execution["state"] == "SUCCEEDED" and execution["result"] == "complete", execution
    assert fields["status"]["stringValue"] == "complete", fields
    assert answered_at < runner.manager.get(body["workflow_execution"]).end_time, "the request waited for the ZIP"

    link = fields["download_url"]["stringValue"]
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)
    assert "X-Goog-Signature" in query and query["X-Goog-Expires"] == ["3600"]
    path = urllib.parse.unquote(urllib.parse.urlsplit(link).path).split("/", 2)[2]
    with zipfile.ZipFile(io.BytesIO(container.storage.read_bytes(path))) as archive:
        assert sorted(archive.namelist()) == [f"{job['id']}/{lang}/{kind}" for lang in ("en", "fr")
                                              for kind in ("captions_vtt.vtt", "qc_report.json")]
        assert b"Bonjour" in archive.read(f"{job['id']}/fr/captions_vtt.vtt")

    # Only the owner's listener reads the download's status.
    stranger = client.get(f"{API}/ws/status", headers=other).json
    assert _status(emulators, container, stranger, body["status_document"]).status_code == 403
    assert _status(emulators, container, channel, body["status_document"], headers={}).status_code == 403
    assert_exact_records(container.store.of(BulkDownload))
    assert_exact_records(container.store.of(DownloadStatus), ("kind", "==", "bulk_download"))


def test_a_download_that_cannot_start_answers_503_and_says_so_on_its_status(client, container, team):
    install(container, FakeRunner(fail=ConnectionError("workflowexecutions unreachable")))
    job = seed(container, "pending_qc")
    _deliverables(container, job)
    resp = client.post(f"{API}/jobs/bulk/download", json={"job_ids": [job["id"]]}, headers=team["client"][0])
    assert resp.status_code == 503 and "try again" in resp.json["detail"]
    (status,) = container.store.find("job_status", [("kind", "==", "bulk_download")])
    assert status["status"] == "failed" and "could not be started" in status["failure_reason"]


def test_a_download_whose_files_vanished_fails_with_a_reason(client, container, team):
    from avp.pipeline.__main__ import main as pipeline_main

    runner = install(container, FakeRunner())
    job = seed(container, "pending_qc")
    _deliverables(container, job)
    body = client.post(f"{API}/jobs/bulk/download", json={"job_ids": [job["id"]]}, headers=team["client"][0]).json
    gone = jobs.get_job(container.store, job["id"]).outputs["fr"].asset("captions_vtt").path
    container.storage.delete(gone)  # gone between the request and the build
    assert runner.bundles == [body["download_id"]]
    assert pipeline_main(["bundle", "--job-id", body["download_id"]]) != 0
    status = container.store.get(body["status_document"])
    assert status["status"] == "failed" and status["failure_reason"] and status["download_url"] is None
