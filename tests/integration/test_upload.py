"""Resumable upload, completion, the storage-event path and direct creation, through the gateway
against the emulators; the workflow runner is a recording fake (the pipeline is not under test)."""
from __future__ import annotations

import base64
import hashlib
import io
import json
from pathlib import Path

import pytest
import requests

from avp.domain import audit, tenancy, uploads
from avp.domain.aggregates import Upload
from avp.local.events import finalized_event, ingest_function
from avp.media.ffmpeg import run
from tests.helpers import API, ROBOT, assert_exact_records, bearer, token_for
from tests.integration.workflow_fake import FakeRunner, install

pytestmark = pytest.mark.slow  # real media made with ffmpeg, real resumable sessions
CHUNK = 256 * 1024


def make_media(path: Path, seconds: float = 3) -> Path:
    """A small real MP4 (testsrc2 + a tone), lossless so that it spans several 256 KiB chunks."""
    run(["-f", "lavfi", "-i", f"testsrc2=size=320x240:rate=25:duration={seconds}", "-f", "lavfi", "-i",
         f"sine=frequency=440:duration={seconds}", "-c:v", "libx264", "-qp", "0", "-preset", "ultrafast", "-c:a", "aac",
         "-shortest", "-movflags", "+faststart", "-y", str(path)])
    return path


def put_chunks(url: str, data: bytes, chunk: int = CHUNK, drop_after: int | None = None) -> requests.Response:
    """Send `data` to a resumable session in `chunk`-sized pieces; with `drop_after`, the piece of that
    index is cut short (a dropped connection) and the client asks where to resume (`bytes */N`)."""
    total, offset, index = len(data), 0, 0
    resp = None
    while offset < total:
        end = min(offset + chunk, total)
        piece = data[offset:end]
        if index == drop_after:
            piece = piece[: len(piece) // 3]  # the connection broke mid-chunk
            sent = requests.put(url, data=piece, headers={"Content-Range": f"bytes {offset}-{offset + len(piece) - 1}/*"}, timeout=30)
            assert sent.status_code == 308
            status = requests.put(url, headers={"Content-Range": f"bytes */{total}"}, timeout=30)
            assert status.status_code == 308, status.text
            offset = int(status.headers["Range"].split("-")[1]) + 1
            index += 1
            continue
        resp = requests.put(url, data=piece, headers={"Content-Range": f"bytes {offset}-{end - 1}/{total}"}, timeout=30)
        assert resp.status_code == (308 if end < total else 200), (resp.status_code, resp.text)
        offset, index = end, index + 1
    return resp


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> bytes:
    return make_media(tmp_path_factory.mktemp("media") / "clip.mp4").read_bytes()


@pytest.fixture
def org(container) -> dict:
    return tenancy.create_organization(container.store, audit.SYSTEM, name="Acme")


@pytest.fixture
def producer(client, container, org):
    """A production user of `org` and their auth header."""
    token, user = token_for(client, container, "production")
    tenancy.add_member(container.store, audit.SYSTEM, ROBOT, org["id"], role="production", user_id=user["id"])
    return bearer(token), user


OUTPUTS = {"captions_vtt": True, "audio_description_vtt": True, "audio_description_mp3": False, "languages": ["fr", "de"]}


def init(client, headers, size: int, **extra) -> dict:
    resp = client.post(f"{API}/jobs/upload/init", json={"filename": "clip.mp4", "content_type": "video/mp4",
                                                        "size_bytes": size, **extra}, headers=headers)
    assert resp.status_code == 201, resp.json
    return resp.json


def complete(client, headers, session: dict, **extra):
    body = {"job_id": session["job_id"], "gcs_uri": session["gcs_uri"], "filename": "clip.mp4", "source_language": "en",
            "requested_outputs": OUTPUTS, **extra}
    return client.post(f"{API}/jobs/upload/complete", json=body, headers=headers)


def test_resumable_upload_with_a_drop_then_complete_starts_the_pipeline_once(client, container, runner, producer, video):
    headers, _ = producer
    session = init(client, headers, len(video), title="Trailer")
    assert session["gcs_uri"].endswith(f"/jobs/{session['job_id']}/source.mp4") and session["method"] == "PUT"
    assert client.get(f"{API}/jobs/{session['job_id']}", headers=headers).json["status"] == "uploading"
    early = complete(client, headers, session)
    assert early.status_code == 409 and "not complete" in early.json["detail"]

    put_chunks(session["upload_url"], video, drop_after=1)
    md5 = base64.b64encode(hashlib.md5(video).digest()).decode()
    done = complete(client, headers, session, md5=md5)
    assert done.status_code == 202, done.json
    job = done.json
    assert job["status"] == "processing" and job["workflow_execution"] == "exec-1"
    assert job["languages"] == ["fr", "de"] and set(job["outputs"]) == {"en", "fr", "de"}
    assert runner.started == [(session["job_id"], ["ingest", "transcribe", "shots", "captions", "describe", "synthesize"])]
    stored = container.storage.stat(f"jobs/{session['job_id']}/source.mp4")
    assert stored["size"] == len(video) and stored["md5"] == md5
    mirror = container.store.get(f"job_status/{session['job_id']}")
    assert mirror["status"] == "processing" and mirror["stage"] == "ingest" and mirror["title"] == "Trailer"

    again = complete(client, headers, session)  # refused, and no second execution
    assert again.status_code == 409 and "already completed" in again.json["detail"] and len(runner.started) == 1


def test_refusals_leave_no_broken_job(client, container, runner, producer, video):
    headers, _ = producer
    wrong_type = client.post(f"{API}/jobs/upload/init", json={"filename": "a.pdf", "content_type": "application/pdf",
                                                              "size_bytes": 10}, headers=headers)
    assert wrong_type.status_code == 415 and "application/pdf" in wrong_type.json["detail"]
    empty = client.post(f"{API}/jobs/upload/init", json={"filename": "a.mp4", "content_type": "video/mp4", "size_bytes": 0},
                        headers=headers)
    assert empty.status_code == 422 and "empty" in str(empty.json["detail"])
    limit = container.settings.max_upload_bytes
    huge = client.post(f"{API}/jobs/upload/init", json={"filename": "a.mp4", "content_type": "video/mp4",
                                                        "size_bytes": limit + 1}, headers=headers)
    assert huge.status_code == 413 and str(limit) in huge.json["detail"]
    bad_langs = client.post(f"{API}/jobs/upload/init", json={"filename": "a.mp4", "content_type": "video/mp4", "size_bytes": 9,
                                                             "requested_outputs": {"languages": ["fr", "not a tag!"]}},
                            headers=headers)
    assert bad_langs.status_code == 422 and "not a tag!" in str(bad_langs.json["detail"])
    listed = client.get(f"{API}/jobs", headers=headers).json
    assert listed["total"] == 0  # nothing refused at init was stored

    text = b"WEBVTT? no - just a plain text file renamed to .mp4\n" * 20
    session = init(client, headers, len(text))
    put_chunks(session["upload_url"], text)
    refused = complete(client, headers, session)
    assert refused.status_code == 415 and "not a video or audio container" in refused.json["detail"]
    job = client.get(f"{API}/jobs/{session['job_id']}", headers=headers).json
    assert job["status"] == "uploading" and "not a video or audio container" in job["failure_reason"]

    short = init(client, headers, len(video))
    put_chunks(short["upload_url"], video[:-1000])  # the client sent a file smaller than it declared
    wrong_size = complete(client, headers, short)
    assert wrong_size.status_code == 422 and f"{len(video) - 1000} bytes" in str(wrong_size.json["detail"])
    assert client.get(f"{API}/jobs/{short['job_id']}", headers=headers).json["status"] == "uploading"

    ok_session = init(client, headers, len(video))
    put_chunks(ok_session["upload_url"], video)
    garbage = complete(client, headers, ok_session, requested_outputs={"languages": ["english please"]})
    assert garbage.status_code == 422
    bad_md5 = complete(client, headers, ok_session, md5=base64.b64encode(b"0" * 16).decode())
    assert bad_md5.status_code == 422 and "md5" in bad_md5.json["detail"]
    assert runner.started == []


def test_the_finalize_event_completes_the_upload_and_complete_is_then_a_no_op(client, container, runner, producer, video):
    headers, _ = producer
    session = init(client, headers, len(video), source_language="en", requested_outputs={"audio_description_vtt": False,
                                                                                         "audio_description_mp3": False})
    put_chunks(session["upload_url"], video)
    name = f"jobs/{session['job_id']}/source.mp4"
    obj = {"contentType": "video/mp4", "size": str(len(video))}
    ingest_function()(finalized_event(container.settings.bucket, name, obj))
    job = client.get(f"{API}/jobs/{session['job_id']}", headers=headers).json
    assert job["status"] == "processing" and runner.started == [(session["job_id"], ["ingest", "transcribe", "captions"])]
    assert complete(client, headers, session).status_code == 202 and len(runner.started) == 1
    ingest_function()(finalized_event(container.settings.bucket, name, obj))  # a redelivered event changes nothing
    ingest_function()(finalized_event(container.settings.bucket, "elsewhere/file.mp4", obj))
    assert len(runner.started) == 1


def test_an_inbox_object_becomes_a_job_of_the_ingest_account(container, runner, org, video):
    storage = container.storage
    blob = storage.bucket.blob("inbox/drop/clip.mp4")
    blob.metadata = {"org": org["id"], "title": "From the inbox", "requested-outputs": json.dumps({"languages": ["es"]})}
    blob.upload_from_string(video, content_type="video/mp4")
    obj = {"contentType": "video/mp4", "size": str(len(video)), "metadata": blob.metadata}
    job = uploads.handle_finalized(container.store, storage, runner, container.settings.max_upload_bytes,
                                   container.settings.bucket, "inbox/drop/clip.mp4", obj)
    assert job["status"] == "processing" and job["title"] == "From the inbox" and job["org_id"] == org["id"]
    account = container.store.get(f"users/{job['created_by']}")
    assert account["role"] == "production" and account["name"] == "ingest service account"
    assert storage.stat(job["source_path"])["size"] == len(video) and not storage.exists("inbox/drop/clip.mp4")
    blob = storage.bucket.blob("inbox/nowhere.mp4")
    blob.metadata = {"org": "no-such-org"}
    blob.upload_from_string(video, content_type="video/mp4")
    assert uploads.handle_finalized(container.store, storage, runner, container.settings.max_upload_bytes,
                                    container.settings.bucket, "inbox/nowhere.mp4",
                                    {"contentType": "video/mp4", "size": str(len(video)), "metadata": blob.metadata}) is None
    assert len(runner.started) == 1


def test_direct_create_streams_the_file_and_queues_the_job(client, container, runner, producer, video):
    headers, _ = producer
    form = {"file": (io.BytesIO(video), "clip.mp4", "video/mp4"), "source_language": "en",
            "title": "Direct", "requested_outputs": json.dumps({"languages": ["fr"]})}
    resp = client.post(f"{API}/jobs", data=form, headers=headers, content_type="multipart/form-data")
    assert resp.status_code == 202, resp.json
    assert resp.json["status"] == "processing" and resp.json["title"] == "Direct"
    assert container.storage.stat(f"jobs/{resp.json['id']}/source.mp4")["size"] == len(video)
    text = {"file": (io.BytesIO(b"hello " * 100), "notes.mp4", "video/mp4"), "source_language": "en",
            "requested_outputs": "{}"}
    refused = client.post(f"{API}/jobs", data=text, headers=headers, content_type="multipart/form-data")
    assert refused.status_code == 415
    assert client.get(f"{API}/jobs", headers=headers).json["total"] == 1


def test_a_direct_upload_fits_behind_api_gateway_and_a_larger_one_is_refused(client, container, producer, video):
    from avp.config import GATEWAY_MAX_REQUEST_BYTES

    headers, _ = producer
    limit = container.settings.max_direct_upload_bytes  # the default, as deployed
    assert container.settings.max_request_bytes <= GATEWAY_MAX_REQUEST_BYTES
    over = {"file": (io.BytesIO(video + b"\0" * (limit + 1 - len(video))), "big.mp4", "video/mp4"), "source_language": "en",
            "requested_outputs": "{}"}
    resp = client.post(f"{API}/jobs", data=over, headers=headers, content_type="multipart/form-data")
    assert resp.status_code == 413 and str(limit) in resp.json["detail"]
    assert client.get(f"{API}/jobs", headers=headers).json["total"] == 0


def test_a_runner_that_cannot_start_leaves_the_job_failed_and_retryable(client, container, producer, video):
    install(container, FakeRunner(fail=RuntimeError("workflows unreachable")))
    headers, _ = producer
    session = init(client, headers, len(video))
    put_chunks(session["upload_url"], video)
    job = complete(client, headers, session).json
    assert job["status"] == "failed" and "workflows unreachable" in job["failure_reason"] and job["failed_step"] == "ingest"
    fixed = install(container)
    retried = client.post(f"{API}/jobs/{job['id']}/retry", headers=headers)
    assert retried.status_code == 202 and retried.json["status"] == "processing" and len(fixed.started) == 1


def test_signed_upload_for_auxiliary_files(client, container, producer):
    headers, _ = producer
    ok = client.post(f"{API}/files/signed-upload", json={"filename": "terms.xlsx", "purpose": "glossary", "size_bytes": 2048,
                                                         "content_type": uploads.SPREADSHEET}, headers=headers)
    assert ok.status_code == 201 and ok.json["gcs_uri"].endswith("/terms.xlsx") and "X-Goog-Signature" in ok.json["upload_url"]
    wrong = client.post(f"{API}/files/signed-upload", json={"filename": "t.exe", "purpose": "glossary", "size_bytes": 20,
                                                            "content_type": "application/x-msdownload"}, headers=headers)
    assert wrong.status_code == 415
    big = client.post(f"{API}/files/signed-upload", json={"filename": "f.vtt", "purpose": "final_vtt", "size_bytes": 10**9,
                                                          "content_type": "text/vtt", "job_id": "x"}, headers=headers)
    assert big.status_code == 413
    no_job = client.post(f"{API}/files/signed-upload", json={"filename": "f.vtt", "purpose": "final_vtt", "size_bytes": 10,
                                                             "content_type": "text/vtt", "job_id": "missing"}, headers=headers)
    assert no_job.status_code == 404
    assert_exact_records(container.store.of(Upload), ("kind", "==", "glossary"))


def test_jobs_are_found_by_the_start_of_their_title(client, container, producer):
    headers, _ = producer
    for title in ("Trailer one", "trailer TWO", "Teaser"):
        init(client, headers, 1000, title=title)
    found = client.get(f"{API}/jobs?q=TRAIL&sort=title", headers=headers).json
    assert [j["title"] for j in found["items"]] == ["Trailer one", "trailer TWO"] and found["total"] == 2
    assert [j["title"] for j in client.get(f"{API}/jobs?q=t&sort=-title", headers=headers).json["items"]] == \
        ["trailer TWO", "Trailer one", "Teaser"]
