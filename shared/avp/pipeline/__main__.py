"""`avp-media STEP --job-id ID [--language L]`: the Cloud Run Job contract.

Exit 0: done. Exit PERMANENT_FAILURE_EXIT_CODE: the job failed for a reason no retry can fix (the
reason is recorded on the job; the workflow does not retry). Any other non-zero exit: a transient
failure, retried by the workflow with backoff.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from avp import logs
from avp.bootstrap import container
from avp.domain import jobs
from avp.domain.audit import SYSTEM
from avp.errors import Conflict
from avp.pipeline.context import PermanentStepError, StepContext
from avp.store import ArrayUnion

PERMANENT_FAILURE_EXIT_CODE = 3
log = logs.get("pipeline")


def finalize(store, job_id: str) -> None:
    """processing -> pending_qc, with a QC entry for every target language."""
    job = jobs.get_job(store, job_id)
    targets = (job.get("requested_outputs") or {}).get("languages") or []
    languages = {lang: (job.get("languages") or {}).get(lang) or
                 {"state": "unassigned", "linguist_id": None, "reviewer_id": None, "cues_total": 0, "cues_reviewed": [],
                  "machine_translated": False} for lang in targets}
    try:
        jobs.transition(store, SYSTEM, job_id, "finish_processing", changes={"progress": 1.0, "languages": languages})
    except Conflict as exc:
        log.warning("not moved to pending_qc: %s", exc.detail)


def mark_failed(store, job_id: str, step: str, reason: str) -> None:
    try:
        jobs.transition(store, SYSTEM, job_id, "fail", reason=reason, changes={"failed_step": step, "failure_reason": reason})
    except Conflict as exc:
        log.warning("not marked failed: %s", exc.detail)


def run_step(step: str, job_id: str, language: str | None, attempt: int) -> int:
    from avp.pipeline.steps import STEPS

    c = container()
    store = c.store
    if step == "finalize":
        finalize(store, job_id)
        return 0
    job = jobs.get_job(store, job_id)
    if job["status"] in ("cancelled", "failed") and step != "render":
        logs.event(log, f"job is {job['status']}; {step} not run", job_id=job_id, step=step)
        return 0
    started = time.monotonic()
    logs.event(log, f"{step} started", job_id=job_id, step=step, attempt=attempt, language=language)
    with tempfile.TemporaryDirectory(prefix=f"avp-{step}-") as tmp:
        ctx = StepContext(step, job_id, c, Path(tmp), language=language, attempt=attempt)
        try:
            ctx.progress(0.0)
            changes = STEPS[step](ctx)
        except PermanentStepError as exc:
            logs.event(log, f"{step} failed permanently: {exc}", severity=40, job_id=job_id, step=step)
            mark_failed(store, job_id, step, str(exc))
            return PERMANENT_FAILURE_EXIT_CODE
        except Exception as exc:  # a transient failure: the workflow retries the step
            log.exception("%s failed (attempt %s): %s", step, attempt, exc, extra={"fields": {"job_id": job_id, "step": step}})
            return 1
    elapsed = round(time.monotonic() - started, 3)
    done = step if not language else f"{step}:{language}"
    jobs.update_progress(store, job_id, stage=step, progress=1.0,
                         changes={**changes, "steps_done": ArrayUnion([done]), f"step_seconds.{done.replace(':', '_')}": elapsed})
    logs.event(log, f"{step} done in {elapsed} s", job_id=job_id, step=step, seconds=elapsed)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="avp-media", description="run one media step of a job")
    parser.add_argument("step")
    parser.add_argument("--job-id", required=True)
    parser.add_argument("--language", default=None)
    parser.add_argument("--failed-step", default=None, help="with `fail`: the step that failed")
    parser.add_argument("--reason", default=None, help="with `fail`: why")
    args = parser.parse_args(argv)
    logs.configure(os.environ.get("AVP_LOG_LEVEL", "INFO"), stream=sys.stdout)
    attempt = int(os.environ.get("CLOUD_RUN_TASK_ATTEMPT", "0"))
    if args.step == "fail":
        mark_failed(container().store, args.job_id, args.failed_step or "unknown", args.reason or "the step kept failing")
        return 0
    from avp.pipeline.steps import STEPS

    if args.step not in STEPS and args.step != "finalize":
        print(f"unknown step {args.step!r}; expected one of {', '.join([*STEPS, 'finalize', 'fail'])}", file=sys.stderr)
        return 2
    return run_step(args.step, args.job_id, args.language, attempt)


if __name__ == "__main__":
    sys.exit(main())
