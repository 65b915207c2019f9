"""Admin statistics, health and maintenance through the gateway."""
import datetime as dt

import pytest

from avp.domain.records import now
from tests.helpers import API, make_job
from tests.integration.ops_world import build
from tests.integration.workflow_fake import FakeRunner, install

ALL = {"captions_vtt": True, "audio_description_vtt": True, "audio_description_mp3": True, "accessible_video_mp4": True}


@pytest.fixture
def world(client, container, runner):
    runner.allow_languages = False
    return build(container)


def test_platform_stats(client, world, container):
    store = container.store
    make_job(store, world.org["id"], status="processing", stage="transcribe", size_bytes=1000)
    make_job(store, world.org["id"], status="failed", size_bytes=500)
    make_job(store, world.org["id"], status="complete", size_bytes=250, deleted=True)
    resp = client.get(f"{API}/admin/stats", headers=world.h("admin"))
    assert resp.status_code == 200, resp.json
    s = resp.json
    assert s["users"] == len(world.users) and s["users_by_role"]["client"] == 2 and s["users_by_role"]["admin"] == 1
    assert s["organizations"] == 2 and s["clients"] == 1
    assert s["jobs"] == 2 and s["jobs_by_status"]["processing"] == 1 and s["jobs_by_status"]["complete"] == 0
    assert s["storage_bytes"] == 1500 and s["generated_at"]
    assert client.get(f"{API}/admin/stats", headers=world.h("production")).status_code == 403


def test_job_stats(client, world, container):
    store = container.store
    recent = now() - dt.timedelta(days=1)
    make_job(store, world.org["id"], status="complete", created_at=recent, step_seconds={"ingest": 2.0, "transcribe": 10.0})
    make_job(store, world.org["id"], status="complete", created_at=recent, step_seconds={"ingest": 4.0})
    make_job(store, world.org["id"], status="failed", failed_step="render", created_at=recent)
    make_job(store, world.org["id"], status="processing", stage="describe", created_at=recent)
    make_job(store, world.other_org["id"], status="failed", failed_step="ingest", created_at=recent)
    make_job(store, world.org["id"], status="complete", created_at=now() - dt.timedelta(days=90))
    resp = client.get(f"{API}/admin/jobs/stats?org_id={world.org['id']}", headers=world.h("admin"))
    assert resp.status_code == 200, resp.json
    s = resp.json
    assert s["created"] == 4 and s["completed"] == 2 and s["failed"] == 1
    assert s["by_status"]["complete"] == 2 and s["processing_by_stage"] == {"describe": 1}
    assert s["failures_by_step"] == {"render": 1}
    assert s["mean_step_seconds"] == {"ingest": 3.0, "transcribe": 10.0}
    everywhere = client.get(f"{API}/admin/jobs/stats", headers=world.h("admin")).json
    assert everywhere["failures_by_step"] == {"render": 1, "ingest": 1}
    since = (now() - dt.timedelta(days=120)).isoformat().replace("+00:00", "Z")
    assert client.get(f"{API}/admin/jobs/stats?from={since}", headers=world.h("admin")).json["completed"] == 3
    assert client.get(f"{API}/admin/jobs/stats?from=yesterday", headers=world.h("admin")).status_code == 422


def test_health_detailed(client, world, container, settings):
    from avp.pipeline.runner import LocalRunner

    install(container, LocalRunner(settings.project_id, settings.region, env=settings.to_env()))
    resp = client.get(f"{API}/admin/health/detailed", headers=world.h("admin"))
    assert resp.status_code == 200, resp.json
    body = resp.json
    checks = body["checks"]
    # Only what exists: no queue broker, each check a real call with its latency.
    assert set(checks) == {"firestore", "storage", "signing", "ffmpeg", "workflows", "model_cache"}
    assert all(c["status"] == "ok" for name, c in checks.items() if name != "model_cache"), checks
    assert all(isinstance(c["latency_ms"], float) and c["latency_ms"] >= 0 for c in checks.values())
    assert "ffmpeg version" in checks["ffmpeg"]["detail"]
    assert checks["workflows"]["detail"].startswith("local executor: 0 active")
    assert body["mode"] == "local" and body["status"] in ("ok", "degraded")
    assert body["status"] == ("ok" if all(c["status"] == "ok" for c in checks.values()) else "degraded")
    assert client.get(f"{API}/admin/health/detailed", headers=world.h("production")).status_code == 403


def test_health_reports_an_unreachable_executor_as_down_with_the_reason(client, world, container):
    install(container, FakeRunner(fail=ConnectionError("workflowexecutions.googleapis.com unreachable")))
    body = client.get(f"{API}/admin/health/detailed", headers=world.h("admin")).json
    assert body["status"] == "degraded" and body["checks"]["firestore"]["status"] == "ok"
    workflows = body["checks"]["workflows"]
    assert workflows["status"] == "down" and "unreachable" in workflows["detail"] and workflows["latency_ms"] is not None


def test_reprocess_job(client, world, container):
    store, runner = container.store, container.workflows
    stuck = make_job(store, world.org["id"], status="processing", stage="describe", execution_id="exec-old",
                     requested_outputs=ALL, steps_done=["ingest", "transcribe", "shots", "captions"])
    resp = client.post(f"{API}/admin/maintenance/reprocess-job/{stuck['id']}", headers=world.h("admin"))
    assert resp.status_code == 202, resp.json
    assert resp.json["status"] == "processing" and resp.json["workflow_execution"] == "exec-1"
    assert runner.cancelled == ["exec-old"]
    assert runner.started == [(stuck["id"], ["ingest", "transcribe", "shots", "captions", "describe", "synthesize", "render"])]
    assert store.get(f"jobs/{stuck['id']}")["steps_done"] == []

    done = make_job(store, world.org["id"], status="complete", requested_outputs=ALL,
                    steps_done=["ingest", "transcribe", "shots", "captions", "describe", "synthesize", "render"])
    partial = client.post(f"{API}/admin/maintenance/reprocess-job/{done['id']}", json={"from_step": "describe"},
                          headers=world.h("admin"))
    assert partial.status_code == 202
    assert runner.started[-1] == (done["id"], ["describe", "synthesize", "render"])
    assert "job.reprocess" in {e["action"] for e in store.find("audit_logs", [("target", "==", f"jobs/{done['id']}")])}

    uploading = make_job(store, world.org["id"], status="uploading")
    assert client.post(f"{API}/admin/maintenance/reprocess-job/{uploading['id']}", headers=world.h("admin")).status_code == 409
    assert client.post(f"{API}/admin/maintenance/reprocess-job/nope", headers=world.h("admin")).status_code == 404
    assert client.post(f"{API}/admin/maintenance/reprocess-job/{done['id']}", json={"from_step": "translate"},
                       headers=world.h("admin")).status_code == 422
    assert client.post(f"{API}/admin/maintenance/reprocess-job/{done['id']}", headers=world.h("production")).status_code == 403
