"""Platform figures for admins and production: counts, pipeline timings, queue state and health.

Every count is a Firestore aggregation (count / sum / avg run by the database), never a read of
every document, so the cost does not grow with the data. There is no Celery, Redis or worker
pool in this system: work runs as Cloud Workflows executions whose steps are Cloud Run Job
executions (the local executor on one machine), and job state lives in Firestore.
"""
from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from avp.auth.tokens import ROLES
from avp.domain import jobs
from avp.domain.aggregates import Client, HealthProbe, Organization, User
from avp.domain.model import Job
from avp.domain.ports import Database
from avp.domain.records import Filter, new_id, now
from avp.storage import Storage

NO_QUEUE_BROKER = ("avp has no Celery, Redis or worker pool: each job's pipeline is one Cloud Workflows execution "
                   "(the local executor on one machine) running its steps as Cloud Run Job executions; "
                   "the figures come from the jobs in Firestore.")
STAGES = (*jobs.PIPELINE_STEPS, "translate")


def _live(filters: Sequence[Filter] = ()) -> list[Filter]:
    return [("deleted", "==", False), *filters]


def platform_stats(store: Database) -> dict[str, Any]:
    """Users (and per role), organizations, clients, jobs (and per status), and the bytes of the
    uploaded source videos (a sum over jobs' `size_bytes`; deliverables are not included)."""
    by_role = {role: store.of(User).count(*_live([("role", "==", role)])) for role in ROLES}
    by_status = {s: store.of(Job).count(*_live([("status", "==", s)])) for s in jobs.STATES}
    storage_bytes = store.of(Job).sum("size_bytes", *_live())
    return {"users": sum(by_role.values()), "users_by_role": by_role,
            "organizations": store.of(Organization).count(*_live()), "clients": store.of(Client).count(*_live()),
            "jobs": sum(by_status.values()), "jobs_by_status": by_status,
            "storage_bytes": int(storage_bytes or 0), "storage_bytes_scope": "uploaded source videos",
            "generated_at": now()}


def job_stats(store: Database, *, start: dt.datetime | None = None, end: dt.datetime | None = None,
              org_id: str | None = None) -> dict[str, Any]:
    """For jobs created in [start, end) (default: the last 30 days), optionally of one organization:
    counts per status, processing jobs per stage, failures per step, and the mean seconds of each
    pipeline step (from `step_seconds`, which the steps record)."""
    end = end or now()
    start = start or end - dt.timedelta(days=30)
    scope: list[Filter] = _live([("created_at", ">=", start), ("created_at", "<", end)])
    if org_id:
        scope.append(("org_id", "==", org_id))
    by_status = {s: store.of(Job).count(*scope, ("status", "==", s)) for s in jobs.STATES}
    by_stage = {s: store.of(Job).count(*scope, ("status", "==", "processing"), ("stage", "==", s)) for s in STAGES}
    failures = {s: store.of(Job).count(*scope, ("status", "==", "failed"), ("failed_step", "==", s)) for s in STAGES}
    step_means = {s: store.of(Job).average(f"step_seconds.{s}", *scope) for s in jobs.PIPELINE_STEPS}
    return {"from": start, "to": end, "org_id": org_id, "by_status": by_status,
            "processing_by_stage": {s: n for s, n in by_stage.items() if n},
            "created": sum(by_status.values()), "completed": by_status["complete"], "failed": by_status["failed"],
            "failures_by_step": {s: n for s, n in failures.items() if n},
            # No step takes 0 s: a 0 mean is "no job ran it" (the emulator answers 0 where Firestore answers null).
            "mean_step_seconds": {s: round(v, 3) for s, v in step_means.items() if v},
            # Firestore aggregates sums and means, not medians; a median would mean reading every job.
            "median_processing_seconds": None}


def queue_stats(store: Database, runner: Any) -> dict[str, Any]:
    """What is waiting and what runs: queued jobs (and the oldest), processing jobs per stage (each
    is one running workflow execution), failures of the last 24 hours, and the local executor's
    own count of active executions when this process runs it."""
    queued = store.of(Job).count(*_live([("status", "==", "queued")]))
    oldest = store.of(Job).where(*_live([("status", "==", "queued")]), order_by=[("updated_at", "asc")], limit=1)
    running = {s: store.of(Job).count(*_live([("status", "==", "processing"), ("stage", "==", s)])) for s in STAGES}
    processing = store.of(Job).count(*_live([("status", "==", "processing")]))
    failed_24h = store.of(Job).count(*_live([("status", "==", "failed"), ("updated_at", ">=", now() - dt.timedelta(hours=24))]))
    return {"executions_running": processing, "jobs_queued": queued, "steps_running": {s: n for s, n in running.items() if n},
            "failed_last_24h": failed_24h, "oldest_queued_at": oldest[0].updated_at if oldest else None,
            "executor": executor_state(runner), "broker": None, "note": NO_QUEUE_BROKER, "generated_at": now()}


def executor_state(runner: Any) -> dict[str, Any]:
    """The workflow executor: local (with its active executions) or Cloud Workflows."""
    describe = getattr(runner, "executor_state", None)
    return describe() if describe else {"kind": "cloud-workflows", "active_executions": None}


# -- health ------------------------------------------------------------------------------
def _timed(check: Callable[[], str | None]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        detail = check()
        status = "ok"
    except Exception as exc:  # a health check reports every failure, whatever it is
        detail, status = f"{type(exc).__name__}: {exc}"[:300], "down"
    return {"status": status, "latency_ms": round((time.perf_counter() - started) * 1000, 1), "detail": detail}


def _firestore_round_trip(store: Database) -> str:
    probes = store.of(HealthProbe)
    probe = probes.add(HealthProbe(id=new_id(), at=now()))
    try:
        if probes.lookup(probe.id) is None:
            raise RuntimeError("written document not read back")
    finally:
        probes.delete(probe.id)
    return "write, read and delete of one document"


def _storage_round_trip(storage: Storage) -> str:
    path = f"health/{new_id()}.txt"
    payload = new_id().encode()
    storage.write_bytes(path, payload, "text/plain")
    try:
        if storage.read_bytes(path) != payload:
            raise RuntimeError("object read back differs from what was written")
    finally:
        storage.delete(path)
    return f"write, read and delete of one object in {storage.bucket_name}"


def _ffmpeg() -> str:
    from avp.media.ffmpeg import describe

    return describe()


def _model_cache(needed: bool) -> Callable[[], str]:
    def check() -> str:
        from avp.providers.asr.model_store import MODEL_SHA256, default_cache_dir, packaged_model_source

        folder: Path = default_cache_dir() / f"whisper-base-{MODEL_SHA256[:16]}"
        if (folder / "model.bin").is_file():
            return f"Whisper base model assembled in {folder}"
        if not needed:
            return "the local recognizer is not configured; no model needed"
        packaged_model_source()  # raises when the model packages are missing
        return "Whisper base model packages installed; assembled on first transcription"

    return check


def _signing(storage: Storage) -> str:
    storage.signed_url(f"health/{new_id()}", expires=60)
    return "a V4 signed URL (IAM signBlob in the cloud, the local key on one machine)"


def _workflows(runner_factory: Callable[[], Any]) -> str:
    return runner_factory().probe()


def health(store: Database, storage: Storage, runner_factory: Callable[[], Any], *, asr_local: bool, mode: str) -> dict[str, Any]:
    """Each real dependency of the API, with the latency of a real call to it: Firestore and Cloud
    Storage round trips, URL signing, ffmpeg (TTS previews), the workflow executor (the Workflows
    API in the cloud) and, on one machine where the steps run beside the API, the speech model.
    Nothing is reported that does not exist (there is no queue broker: see NO_QUEUE_BROKER).
    `status` is ok, degraded (something down but the database is up) or down (the database is down)."""
    checks = {
        "firestore": _timed(lambda: _firestore_round_trip(store)),
        "storage": _timed(lambda: _storage_round_trip(storage)),
        "signing": _timed(lambda: _signing(storage)),
        "ffmpeg": _timed(_ffmpeg),
        "workflows": _timed(lambda: _workflows(runner_factory)),
    }
    if mode == "local":  # in the cloud the model lives in the media job's image, not beside the API
        checks["model_cache"] = _timed(_model_cache(asr_local))
    if checks["firestore"]["status"] == "down":
        overall = "down"
    else:
        overall = "degraded" if any(c["status"] != "ok" for c in checks.values()) else "ok"
    return {"status": overall, "checks": checks, "mode": mode}
