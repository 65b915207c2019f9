"""What a real run leaves, as a client sees it: the bundled sample uploaded through the upload routes,
the real pipeline and language workflows (local executor, a child process per step), then the job
view, /validate, the bulk ZIP, retry and retry_tts, all through HTTP. Nothing here writes a document
the pipeline writes."""
from __future__ import annotations

import io
import threading
import time
import zipfile
from pathlib import Path

import pytest

import avp
from avp.domain import tenancy
from avp.domain.audit import SYSTEM
from avp.domain.model import requested_kinds
from avp.pipeline.runner import LocalRunner
from tests.helpers import API, bearer, token_for
from tests.integration.test_upload import complete, init, put_chunks
from tests.integration.workflow_fake import install

pytestmark = pytest.mark.slow
SAMPLE = Path(avp.__file__).parent / "demo_media" / "sample.mp4"
# `zz` has no voice in eSpeak: its synthesize step fails for good, which a person fixes with retry_tts.
REQUESTED = {"captions_vtt": True, "audio_description_vtt": True, "audio_description_mp3": True,
             "accessible_video_mp4": True, "languages": ["fr", "de", "zz"]}
KINDS = requested_kinds(REQUESTED)


@pytest.fixture
def runner(container):
    real = LocalRunner(container.settings.project_id, container.settings.region, env=container.settings.to_env())
    install(container, real)
    yield real
    real.shutdown()


def _watch_progress(container, job_id: str, stop: threading.Event, seen: list[float]) -> None:
    while not stop.is_set():
        mirror = container.store.get(f"job_status/{job_id}") or {}
        if mirror.get("status") == "processing" and mirror.get("progress") is not None:
            seen.append(mirror["progress"])
        stop.wait(0.1)


def _assert_made(container, view: dict, lang: str) -> None:
    for kind in KINDS:
        asset = view["outputs"][lang][kind]
        assert asset["status"] == "ready", (lang, kind, asset)
        stored = container.storage.stat(container.storage.path_of(asset["gcs_uri"]))
        assert stored and asset["size_bytes"] == stored["size"] > 0 and asset["checksum"].startswith("sha256:")


def _zip_names(client, container, headers: dict, body: dict, known: set[str]) -> set[str]:
    """Ask for a bulk download, wait for the bundle workflow to publish it, and list the ZIP."""
    resp = client.post(f"{API}/jobs/bulk/download", json=body, headers=headers)
    assert resp.status_code == 202, resp.json
    deadline = time.monotonic() + 300
    while (container.store.get(resp.json["status_document"]) or {}).get("status") not in ("complete", "failed"):
        assert time.monotonic() < deadline, "the bulk download was not built in time"
        time.sleep(0.5)
    assert container.store.get(resp.json["status_document"])["status"] == "complete"
    (path,) = set(container.storage.list("downloads/")) - known
    known.add(path)
    with zipfile.ZipFile(io.BytesIO(container.storage.read_bytes(path))) as archive:
        return set(archive.namelist())


def test_a_real_run_makes_every_asset_of_every_language_and_the_job_follows_it(client, container, runner):
    org = tenancy.create_organization(container.store, SYSTEM, name="Harbour Films")
    token, user = token_for(client, container, "admin")
    headers = bearer(token)
    video = SAMPLE.read_bytes()
    session = init(client, headers, len(video), title="Harbour", org_id=org["id"])
    put_chunks(session["upload_url"], video)
    started = complete(client, headers, session, requested_outputs=REQUESTED)
    assert started.status_code == 202, started.json
    job_id, execution = session["job_id"], started.json["workflow_execution"]

    seen: list[float] = []
    stop = threading.Event()
    watcher = threading.Thread(target=_watch_progress, args=(container, job_id, stop, seen))
    watcher.start()
    try:
        assert runner.wait(execution, 900)["state"] == "SUCCEEDED"
    finally:
        stop.set()
        watcher.join()
    view = client.get(f"{API}/jobs/{job_id}", headers=headers).json
    assert view["status"] == "pending_qc" and view["progress"] == 1.0
    # Whole-job progress rose without falling back as stages changed.
    assert seen == sorted(seen) and len(set(seen)) >= 5, sorted(set(seen))
    assert container.store.get(f"job_status/{job_id}")["progress"] == 1.0
    _assert_made(container, view, "en")
    assert view["outputs"]["en"]["fit_report"]["overlaps_speech"] == 0 and view["outputs"]["en"]["render_stats"]
    assert all(view["outputs"][lang]["captions_vtt"]["status"] == "pending" for lang in ("fr", "de", "zz"))

    # The source approved, the three languages run at once; zz fails for want of a voice.
    approved = client.post(f"{API}/jobs/{job_id}/actions/approve_source", headers=headers)
    assert approved.status_code == 200 and approved.json["status"] == "language_qc", approved.json
    languages_run = container.store.get(f"jobs/{job_id}")["languages_execution_id"]
    assert runner.wait(languages_run, 900)["state"] == "FAILED"
    failed = client.get(f"{API}/jobs/{job_id}", headers=headers).json
    assert failed["status"] == "failed" and failed["failed_step"] == "synthesize" and failed["failed_language"] == "zz"
    assert "no voice" in failed["failure_reason"]
    mirror = container.store.get(f"job_status/{job_id}")
    assert mirror["status"] == "failed" and mirror["failed_language"] == "zz" and "no voice" in mirror["failure_reason"]
    assert container.store.find("audit_logs", [("action", "==", "job.fail_language")])

    # retry resumes at the failed language step (not at translation, not at the source pipeline).
    retried = client.post(f"{API}/jobs/{job_id}/retry", headers=headers)
    assert retried.status_code == 202 and retried.json["status"] == "language_qc", retried.json
    resumed = container.store.get(f"jobs/{job_id}")["languages_execution_id"]
    assert resumed != languages_run and runner.wait(resumed, 900)["state"] == "FAILED"
    log = "\n".join(runner.manager.get(resumed).log)
    assert "synthesize --job-id" in log and "translate --job-id" not in log and "ingest" not in log

    # retry_tts with a voice for zz resumes it with that voice; every language is then whole.
    fixed = client.post(f"{API}/jobs/{job_id}/actions/retry_tts", headers=headers,
                        json={"language": "zz", "tts_preferences": {"voices": {"zz": "en-us"}}})
    assert fixed.status_code == 202 and fixed.json["status"] == "language_qc", fixed.json
    assert runner.wait(container.store.get(f"jobs/{job_id}")["languages_execution_id"], 900)["state"] == "SUCCEEDED"
    view = client.get(f"{API}/jobs/{job_id}", headers=headers).json
    assert view["status"] == "language_qc"
    for lang in ("en", "fr", "de", "zz"):
        _assert_made(container, view, lang)
    voices = {lang: view["outputs"][lang]["fit_report"]["voice"] for lang in ("fr", "de", "zz")}
    assert voices == {"fr": "fr-fr", "de": "de", "zz": "en-us"}  # each language kept its own report
    assert all(view["outputs"][lang]["render_stats"] for lang in ("fr", "de", "zz"))

    report = client.get(f"{API}/jobs/{job_id}/validate", headers=headers).json
    assert report["ok"] and report["checked"] == 4 * len(KINDS)

    # The ZIP holds every deliverable of every language, and `kinds` filters it.
    zips: set[str] = set()
    names = _zip_names(client, container, headers, {"job_ids": [job_id]}, zips)
    expected = {f"{job_id}/{lang}/{kind}" for lang in ("en", "fr", "de", "zz") for kind in KINDS}
    assert {n.rsplit(".", 1)[0] for n in names} == expected | {f"{job_id}/en/source_video"}
    only = _zip_names(client, container, headers, {"job_ids": [job_id], "kinds": ["qc_report"]}, zips)
    assert only == {f"{job_id}/{lang}/qc_report.json" for lang in ("en", "fr", "de", "zz")}

    # An object gone from storage is reported missing.
    gone = container.storage.path_of(view["outputs"]["de"]["description_mp3"]["gcs_uri"])
    container.storage.delete(gone)
    report = client.get(f"{API}/jobs/{job_id}/validate", headers=headers).json
    assert not report["ok"] and [(m["language"], m["kind"], m["reason"]) for m in report["missing"]] == [
        ("de", "description_mp3", "missing")]
